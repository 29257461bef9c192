package demo

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCatalogLoads(t *testing.T) {
	t.Parallel()
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Types) < 30 {
		t.Errorf("catalog has %d device types, want at least 30", len(c.Types))
	}
	advisories := map[string]bool{}
	for _, ty := range c.Types {
		for _, l := range ty.Lines {
			for _, a := range l.Advisories {
				advisories[a.ID] = true
			}
		}
	}
	if len(advisories) < 40 {
		t.Errorf("catalog cites %d ICSMA advisories, want at least 40", len(advisories))
	}
}

func TestParseCatalogErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Catalog)
		json string // used instead of edit when set
		want string // substring of the error
	}{
		{name: "not_json", json: "{", want: "unexpected EOF"},
		{name: "unknown_field", json: `{"gtin_company_prefix":"0614141","bogus":1}`, want: `unknown field "bogus"`},
		{name: "bad_prefix", edit: func(c *Catalog) { c.GTINCompanyPrefix = "61414" }, want: "'/gtin_company_prefix' must be 7 digits"},
		{name: "zone_overlap", edit: func(c *Catalog) { c.Zones[1].Octet = c.Zones[0].Octet + 1 }, want: "'/zones/1/octet' third octet"},
		{name: "unknown_zone", edit: func(c *Catalog) { c.Types[0].Zone = "dmz" }, want: `'/types/0/zone' "dmz" is not a zone`},
		{name: "bad_criticality", edit: func(c *Catalog) { c.Types[2].Criticality = "vital" }, want: "'/types/2/criticality'"},
		{name: "unknown_department", edit: func(c *Catalog) { c.Types[0].Departments["Morgue"] = 1 }, want: "'/types/0/departments/Morgue'"},
		{name: "repeated_host_code", edit: func(c *Catalog) { c.Types[1].Host = c.Types[0].Host }, want: "'/types/1/host'"},
		{name: "unknown_oui", edit: func(c *Catalog) { c.Types[0].Lines[0].OUIs = []string{"ABCDEF"} }, want: `'/types/0/lines/0/oui/0' "ABCDEF" is not in /ouis`},
		{name: "small_serial", edit: func(c *Catalog) { c.Types[0].Lines[0].Serial = "SN###" }, want: "'/types/0/lines/0/serial'"},
		{name: "affected_by_unknown_advisory", edit: func(c *Catalog) { c.Types[0].Lines[0].Versions[0].AffectedBy = []string{"ICSMA-99-999-99"} }, want: "'/types/0/lines/0/versions/0/affected_by'"},
		{name: "repeated_version", edit: func(c *Catalog) {
			l := &c.Types[0].Lines[0]
			l.Versions = append(l.Versions, l.Versions[0])
		}, want: "has an empty or repeated version"},
		{name: "eol_before_eos", edit: func(c *Catalog) {
			l := &c.Types[0].Lines[0]
			eos, eol := 10, 5
			l.EOSMonths, l.EOLMonths = &eos, &eol
		}, want: "'/types/0/lines/0/eol_months'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.json)
			if tt.edit != nil {
				var c Catalog
				if err := json.Unmarshal(catalogJSON, &c); err != nil {
					t.Fatal(err)
				}
				tt.edit(&c)
				var err error
				if b, err = json.Marshal(&c); err != nil {
					t.Fatal(err)
				}
			}
			_, err := ParseCatalog(b, "test.json")
			if err == nil || !errors.Is(err, ErrCatalog) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "test.json: ") {
				t.Errorf("ParseCatalog() error = %v, want ErrCatalog naming test.json and containing %q", err, tt.want)
			}
		})
	}
}

func TestKnownAffected(t *testing.T) {
	t.Parallel()
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		vendor, model, version string
		want                   []string
	}{
		{"Baxter", "Sigma Spectrum", "6.02.11", []string{"ICSMA-20-170-04"}},
		{"Baxter", "Baxter Spectrum", "8.00.01", []string{"ICSMA-20-170-04"}},
		{"Baxter", "Spectrum IQ", "9.05.02", nil},
		{"Becton, Dickinson and Company (BD)", "BD Alaris Point-of-Care Unit (PCU) Model 8015", "9.33.1", []string{"ICSMA-20-317-01", "ICSMA-23-194-01"}},
		{"Becton, Dickinson and Company (BD)", "BD Alaris Point-of-Care Unit (PCU) Model 8015", "12.3.0", nil},
		{"Philips", "IntelliVue MX40 Patient Worn Monitor (WLAN only)", "B.05.10", []string{"ICSMA-17-255-01"}},
		{"Philips", "IntelliVue MX40 Patient Worn Monitor (WLAN only)", "B.06.18", nil},
		{"Philips", "no such model", "1.0", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, c.KnownAffected(tt.vendor, tt.model, tt.version)); diff != "" {
			t.Errorf("KnownAffected(%q, %q, %q) (-want +got):\n%s", tt.vendor, tt.model, tt.version, diff)
		}
	}
}

// TestCatalogOUIs checks every OUI against the IEEE registry when the
// Debian ieee-data package is installed.
func TestCatalogOUIs(t *testing.T) {
	t.Parallel()
	const path = "/usr/share/ieee-data/oui.csv"
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("IEEE registry not installed (%v): apt-get install ieee-data", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	registry := map[string]string{}
	for _, row := range rows {
		if len(row) >= 3 && row[0] == "MA-L" {
			registry[row[1]] = strings.TrimSpace(row[2])
		}
	}
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for oui, org := range c.OUIs {
		if got := registry[oui]; got != org {
			t.Errorf("OUI %s: catalog says %q, IEEE registry says %q", oui, org, got)
		}
	}
}

// TestCatalogAdvisoriesMatchSources checks that every cited advisory names
// the vendor, product and affected versions exactly as the catalog records
// them. It reads the shared data set.
func TestCatalogAdvisoriesMatchSources(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: the check reads csaf_cisa/ from the shared data set")
	}
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	summary := readSummary(t, filepath.Join(dir, "csaf_cisa/ics-advisory-project/icsma_summary.csv"))
	checked := 0
	for _, ty := range c.Types {
		for _, l := range ty.Lines {
			for _, a := range l.Advisories {
				if strings.HasSuffix(a.Source, ".csv") {
					row, ok := summary[a.ID]
					if !ok {
						t.Logf("%s not in this side of the summary; skipped", a.ID)
						continue
					}
					checked++
					if !strings.Contains(row[0], a.Vendor) {
						t.Errorf("%s: vendor %q not in summary vendor %q", a.ID, a.Vendor, row[0])
					}
					for _, part := range append(strings.Split(a.Affected, " | "), a.Product) {
						if !strings.Contains(row[1], part) {
							t.Errorf("%s: %q not in summary products %q", a.ID, part, row[1])
						}
					}
					continue
				}
				b, err := os.ReadFile(filepath.Join(dir, a.Source))
				if errors.Is(err, os.ErrNotExist) {
					t.Logf("%s not in this side of the data set; skipped", a.Source)
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				checked++
				versions, err := csafVersions(b, a.Vendor, a.Product)
				if err != nil {
					t.Errorf("%s (%s): %v", a.ID, a.Source, err)
					continue
				}
				if !slices.Contains(versions, a.Affected) {
					for _, part := range strings.Split(a.Affected, " | ") {
						if !slices.Contains(versions, part) {
							t.Errorf("%s %q: affected %q is not a version branch; branches are %q", a.ID, a.Product, a.Affected, versions)
						}
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Skipf("none of the cited advisories is in %s", dir)
	}
	t.Logf("checked %d advisory references against %s", checked, dir)
}

// readSummary maps tracking id to vendor and affected-products text.
func readSummary(t *testing.T, path string) map[string][2]string {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Logf("%s not found; summary-sourced references skipped", path)
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string][2]string{}
	for _, r := range rows[1:] {
		out[r[4]] = [2]string{r[6], r[8]}
	}
	return out
}

type csafBranch struct {
	Category string       `json:"category"`
	Name     string       `json:"name"`
	Branches []csafBranch `json:"branches"`
}

// csafVersions returns the version branch names under vendor → product.
func csafVersions(b []byte, vendor, product string) ([]string, error) {
	var doc struct {
		ProductTree struct {
			Branches []csafBranch `json:"branches"`
		} `json:"product_tree"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	var versions []string
	foundVendor, foundProduct := false, false
	for _, v := range doc.ProductTree.Branches {
		if v.Category != "vendor" || v.Name != vendor {
			continue
		}
		foundVendor = true
		for _, p := range v.Branches {
			if p.Name != product {
				continue
			}
			foundProduct = true
			for _, ver := range p.Branches {
				versions = append(versions, ver.Name)
			}
		}
	}
	switch {
	case !foundVendor:
		return nil, errors.New("vendor " + strconv.Quote(vendor) + " not in the product tree")
	case !foundProduct:
		return nil, errors.New("product " + strconv.Quote(product) + " not under the vendor")
	}
	return versions, nil
}

var rangeRE = regexp.MustCompile(`^(<=|<|>=|prior to)\s*(\S+)$`)

// TestCatalogVersionsAgainstRanges recomputes, for every advisory with a
// simple affected text (all versions, one bound, or a list of exact
// versions), which catalog versions it covers, and compares with the
// catalog's affected_by ground truth.
func TestCatalogVersionsAgainstRanges(t *testing.T) {
	t.Parallel()
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, ty := range c.Types {
		for _, l := range ty.Lines {
			for _, a := range l.Advisories {
				for _, v := range l.Versions {
					want, known := inAffected(v.Version, a.Affected)
					if !known {
						continue
					}
					checked++
					if got := slices.Contains(v.AffectedBy, a.ID); got != want {
						t.Errorf("%s %s %s: affected by %s (%q) is %v in the catalog, %v by the range", l.Vendor, l.Model, v.Version, a.ID, a.Affected, got, want)
					}
				}
			}
		}
	}
	if checked < 60 {
		t.Errorf("checked %d versions, want at least 60", checked)
	}
}

// inAffected reports whether version is in the affected text, and whether
// the text was simple enough to decide.
func inAffected(version, affected string) (in, known bool) {
	switch strings.ToLower(affected) {
	case "vers:all/*", "all versions":
		return true, true
	}
	if m := rangeRE.FindStringSubmatch(affected); m != nil {
		if strings.ContainsAny(m[2], "xX*") {
			return false, false
		}
		c := compareVersions(version, m[2])
		switch m[1] {
		case "<=":
			return c <= 0, true
		case "<", "prior to":
			return c < 0, true
		case ">=":
			return c >= 0, true
		}
	}
	parts := strings.Split(affected, " | ")
	for _, p := range parts {
		if strings.ContainsAny(p, "xX*<>") || strings.Contains(p, "-") {
			return false, false
		}
	}
	for _, p := range parts {
		// a bare major version ("8") covers its minor versions ("8.4.1")
		if p == version || (strings.Trim(p, "0123456789") == "" && strings.HasPrefix(version, p+".")) {
			return true, true
		}
	}
	return false, true
}

// compareVersions compares runs of digits numerically and runs of letters
// case-insensitively, ignoring separators.
func compareVersions(a, b string) int {
	ta, tb := versionTokens(a), versionTokens(b)
	for i := range min(len(ta), len(tb)) {
		x, y := ta[i], tb[i]
		nx, ex := strconv.Atoi(x)
		ny, ey := strconv.Atoi(y)
		switch {
		case ex == nil && ey == nil:
			if nx != ny {
				return nx - ny
			}
		default:
			if c := strings.Compare(strings.ToLower(x), strings.ToLower(y)); c != 0 {
				return c
			}
		}
	}
	return len(ta) - len(tb)
}

func versionTokens(s string) []string {
	var out []string
	cur, kind := "", 0
	for _, r := range s {
		k := 0
		switch {
		case r >= '0' && r <= '9':
			k = 1
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			k = 2
		}
		if k != kind && cur != "" {
			out = append(out, cur)
			cur = ""
		}
		kind = k
		if k != 0 {
			cur += string(r)
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"9.33.1", "12.1.3", -1}, {"12.1.3", "12.1.3", 0}, {"B.06.53", "B.06.18", 1}, {"1.002", "1.003", -1},
		{"VM10.0", "VM5.0", 1}, {"012U000071", "012U000061", 1}, {"3.3", "3.0 D15", 1}, {"12.3", "12.3.0", -1},
	}
	for _, tt := range tests {
		got := compareVersions(tt.a, tt.b)
		if (got > 0) != (tt.want > 0) || (got < 0) != (tt.want < 0) {
			t.Errorf("compareVersions(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func FuzzParseCatalog(f *testing.F) {
	f.Add(catalogJSON)
	f.Add([]byte(`{"gtin_company_prefix":"0614141","ouis":{},"zones":[],"types":[]}`))
	f.Add([]byte(`{"gtin_company_prefix":"0614141","ouis":{"00095C":"x"},"zones":[{"name":"z","vlan":1,"octet":1,"span":300}],"types":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCatalog(b, "fuzz.json")
		if err != nil {
			if !errors.Is(err, ErrCatalog) {
				t.Fatalf("error %v does not wrap ErrCatalog", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed catalog fails Validate: %v", err)
		}
	})
}

// TestCatalogVersionsOldestFirst: Generate puts older versions on older
// devices, so each line must list its versions oldest first.
func TestCatalogVersionsOldestFirst(t *testing.T) {
	t.Parallel()
	c, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, ty := range c.Types {
		for _, l := range ty.Lines {
			for k := 1; k < len(l.Versions); k++ {
				a, b := l.Versions[k-1].Version, l.Versions[k].Version
				if compareVersions(a, b) >= 0 {
					t.Errorf("%s %s: version %q is listed before %q", l.Vendor, l.Model, a, b)
				}
			}
		}
	}
}

// TestPureImports keeps the package pure: standard library (no os, net/http
// or database) plus the inventory model only.
func TestPureImports(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{"os", "os/exec", "net/http", "database/sql", "io/fs", "log", "path/filepath"}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case slices.Contains(forbidden, p):
				t.Errorf("%s imports %q: the demo package must not do I/O", f, p)
			case strings.Contains(p, ".") && p != "github.com/medwarden/medwarden/internal/inventory":
				t.Errorf("%s imports %q: only the standard library and internal/inventory are allowed", f, p)
			}
		}
	}
}
