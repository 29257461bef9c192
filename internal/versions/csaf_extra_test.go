package versions

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestParseCSAFRangeCorpus runs every product_version_range and
// product_version string of the full CSAF corpus through ParseCSAFRange:
// each must either parse into a range whose canonical form parses again, or
// be reported as not understood. It logs the share understood.
func TestParseCSAFRangeCorpus(t *testing.T) {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: the full CSAF corpus is not available")
	}
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join(dir, "csaf_cisa", "*", "*.json"))
	type branch struct {
		Category string   `json:"category"`
		Name     string   `json:"name"`
		Branches []branch `json:"branches"`
	}
	seen := map[string]bool{}
	var walk func([]branch)
	walk = func(bs []branch) {
		for _, b := range bs {
			if b.Category == "product_version_range" || b.Category == "product_version" {
				seen[b.Name] = true
			}
			walk(b.Branches)
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			ProductTree struct {
				Branches []branch `json:"branches"`
			} `json:"product_tree"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		walk(doc.ProductTree.Branches)
	}
	understood := 0
	for s := range seen {
		r, err := ParseCSAFRange(s)
		if err != nil {
			if !errors.Is(err, ErrNotUnderstood) {
				t.Errorf("ParseCSAFRange(%q): error %v is not ErrNotUnderstood", s, err)
			}
			continue
		}
		understood++
		if _, err := ParseVers(r.String()); err != nil {
			t.Errorf("ParseCSAFRange(%q) = %q, which does not parse: %v", s, r, err)
		}
	}
	t.Logf("%d of %d distinct CSAF version strings understood", understood, len(seen))
}
