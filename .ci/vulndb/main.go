// Command vulndb turns the OSV entries of the golang.org/x/vulndb module
// (fetched through the Go module proxy like any module) into the
// directory layout govulncheck reads with -db file:///DIR, for machines
// that cannot reach vuln.go.dev. Usage: go run ./.ci/vulndb SRC/data/osv OUT
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

type osv struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []struct {
			Events []map[string]string `json:"events"`
		} `json:"ranges"`
	} `json:"affected"`
}

type modVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type vulnEntry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: vulndb SRC/data/osv OUT")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

func run(src, out string) error {
	files, err := filepath.Glob(filepath.Join(src, "GO-*.json"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no GO-*.json entries in %s", src)
	}
	if err := os.MkdirAll(filepath.Join(out, "ID"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, "index"), 0o755); err != nil {
		return err
	}
	st, _ := os.Stat(src)
	fallback := st.ModTime().UTC()
	mods := map[string][]modVuln{}
	var vulns []vulnEntry
	newest := time.Time{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var e osv
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if e.Modified.Year() < 2000 {
			e.Modified = fallback
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				return err
			}
			m["modified"] = fallback.Format(time.RFC3339)
			if p, ok := m["published"].(string); ok && p[:4] == "0001" {
				m["published"] = m["modified"]
			}
			if raw, err = json.Marshal(m); err != nil {
				return err
			}
		}
		if e.Modified.After(newest) {
			newest = e.Modified
		}
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), raw, 0o644); err != nil {
			return err
		}
		vulns = append(vulns, vulnEntry{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		for _, a := range e.Affected {
			fixed := ""
			for _, r := range a.Ranges {
				for _, ev := range r.Events {
					if v := ev["fixed"]; v != "" {
						fixed = v
					}
				}
			}
			mods[a.Package.Name] = append(mods[a.Package.Name], modVuln{ID: e.ID, Modified: e.Modified, Fixed: fixed})
		}
	}
	type module struct {
		Path  string    `json:"path"`
		Vulns []modVuln `json:"vulns"`
	}
	var ml []module
	for p, v := range mods {
		ml = append(ml, module{Path: p, Vulns: v})
	}
	sort.Slice(ml, func(i, j int) bool { return ml[i].Path < ml[j].Path })
	sort.Slice(vulns, func(i, j int) bool { return vulns[i].ID < vulns[j].ID })
	for name, v := range map[string]any{"db.json": map[string]any{"modified": newest}, "modules.json": ml, "vulns.json": vulns} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, "index", name), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("vulndb: %d entries, %d modules, newest %s\n", len(vulns), len(ml), newest.Format("2006-01-02"))
	return nil
}
