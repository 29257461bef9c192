package match

import (
	"context"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/inventory"
)

// FuzzNormalize: the vendor and model normaliser never panics, is
// deterministic and returns only lower-case alphanumeric tokens.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"Becton, Dickinson and Company (BD)", "ENEA, Green Hills Software, ITRON, IP Infusion, and Wind River",
		"Innokas YhtymÃ¤ Oy", "Dräger", "PageWriter TC10 TC20 TC30", "IntelliVue MX (MX400-550)",
		"Assurity/Allure", "Alaris PC Unit (PCU) Model 8015", "", "((((", "a/b/c/", "\xff\xfe",
	} {
		f.Add(s, s)
	}
	al := DefaultAliases()
	f.Fuzz(func(t *testing.T, vendor, model string) {
		a := al.NormalizeModel(vendor, model)
		b := al.NormalizeModel(vendor, model)
		if a != b {
			t.Fatalf("NormalizeModel not deterministic: %q vs %q", a, b)
		}
		for _, tok := range strings.Fields(a) {
			if tok != strings.ToLower(tok) {
				t.Fatalf("token %q is not lower case", tok)
			}
		}
		r1, r2 := al.Resolve(vendor), al.Resolve(vendor)
		if !reflect.DeepEqual(r1, r2) {
			t.Fatalf("Resolve(%q) not deterministic", vendor)
		}
		if same, _ := al.Same(vendor, vendor); !same && len(r1) > 0 {
			t.Fatalf("Same(%q, itself) = false", vendor)
		}
		_ = modelRanges(model)
		_, _ = splitParens(model)
		_ = normUDI(model)
		_ = cpeVendorProduct(model)
	})
}

// FuzzMatchCombo: matching any device against real advisories never
// panics, is deterministic, and findings are well-formed.
func FuzzMatchCombo(f *testing.F) {
	f.Add("Philips", "PageWriter TC30", "B.02", "")
	f.Add("BD", "Alaris 8015 PC Unit", "9.19.2", "")
	f.Add("Baxter", "SpectrumIQ", "9.05.02", "")
	f.Add("GE Healthcare", "Optima CT520", "", "00614141000012")
	f.Add("", "cpe:2.3:h:acme:x:1:*:*:*:*:*:*:*", "1", "")
	f.Add("Medtronic", "MiniMed 670G", "MMT-1780", "")
	f.Add("\x00", "MX400-99999999999999999999", "vers:all/*", "(01)")
	files := []string{"icsma-18-228-01.json", "icsma-18-156-01.json", "icsma-20-170-04.json", "icsma-20-343-01.json",
		"icsma-23-194-01.json", "icsma-22-263-01.json", "icsma-19-274-01.json"}
	var dirFiles []string
	for _, n := range files {
		if _, err := os.Stat("testdata/icsma/" + n); err == nil {
			dirFiles = append(dirFiles, n)
		}
	}
	tmp := f.TempDir()
	for _, n := range dirFiles {
		b, err := os.ReadFile("testdata/icsma/" + n)
		if err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(tmp+"/"+n, b, 0o600); err != nil {
			f.Fatal(err)
		}
	}
	advs := loadAdvisories(f, tmp)
	ix, err := Compile(advs, Options{})
	if err != nil {
		f.Fatal(err)
	}
	valid := []string{"known_affected", "first_affected", "last_affected", StatusNeedsReview}
	f.Fuzz(func(t *testing.T, vendor, model, version, udi string) {
		d := &inventory.Device{AssetID: "F", Vendor: vendor, Model: model, Version: version, UDIDI: udi}
		fl := NewFleet(nil)
		fl.Add(d)
		a, err := ix.Match(context.Background(), fl)
		if err != nil {
			t.Fatal(err)
		}
		b := ix.MatchDevice(d)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("not deterministic:\n%+v\n%+v", a, b)
		}
		seen := map[string]bool{}
		for _, x := range a {
			if seen[x.AdvisoryID] {
				t.Fatalf("two findings for advisory %s", x.AdvisoryID)
			}
			seen[x.AdvisoryID] = true
			if x.Confidence < 0 || x.Confidence > 1 {
				t.Fatalf("confidence %v out of [0,1]", x.Confidence)
			}
			if !slices.Contains(valid, x.Status) {
				t.Fatalf("status %q", x.Status)
			}
			if x.Status != StatusNeedsReview && x.Confidence < DefaultReviewThreshold {
				t.Fatalf("affected finding below the review threshold: %+v", x)
			}
			if !slices.IsSorted(x.CVEs) {
				t.Fatalf("CVEs not sorted: %v", x.CVEs)
			}
		}
	})
}
