package match

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/epss"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/inventory"
)

// prod is a product of a test advisory: vendor > name > version (branch path).
type prod struct {
	id, vendor, name, version, rng, status string
}

// testAdvisory builds a normalised advisory with one vulnerability per
// distinct status and the products in the given statuses.
func testAdvisory(id string, ps ...prod) *advisory.Advisory {
	a := &advisory.Advisory{ID: id, Title: id + " title", CurrentRelease: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
	v := advisory.Vulnerability{CVE: "CVE-2024-0001", Statuses: map[string][]string{}}
	for _, p := range ps {
		path := []string{p.vendor, p.name}
		cats := []string{"vendor", "product_name"}
		full := p.vendor + " " + p.name
		switch {
		case p.version != "":
			path = append(path, p.version)
			cats = append(cats, "product_version")
			full += " " + p.version
		case p.rng != "":
			path = append(path, p.rng)
			cats = append(cats, "product_version_range")
			full += " " + p.rng
		}
		a.Products = append(a.Products, advisory.Product{ID: p.id, Name: full, BranchPath: path, BranchCategories: cats,
			Vendor: p.vendor, ProductName: p.name, Version: p.version, VersionRange: p.rng})
		st := p.status
		if st == "" {
			st = advisory.StatusKnownAffected
		}
		v.Statuses[st] = append(v.Statuses[st], p.id)
	}
	a.Vulnerabilities = []advisory.Vulnerability{v}
	return a
}

func matchOne(t *testing.T, advs []*advisory.Advisory, opts Options, devs ...inventory.Device) []Finding {
	t.Helper()
	ix, err := Compile(advs, opts)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFleet(opts.Aliases)
	for i := range devs {
		f.Add(&devs[i])
	}
	fs, err := ix.Match(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// outcome summarises a finding for table tests.
type outcome struct {
	Advisory, Product, Status, Method string
}

func outcomes(fs []Finding) []outcome {
	var out []outcome
	for _, f := range fs {
		out = append(out, outcome{f.AdvisoryID, f.ProductID, f.Status, f.Method})
	}
	return out
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	advs := []*advisory.Advisory{
		testAdvisory("PW", prod{id: "pw", vendor: "Philips", name: "PageWriter TC10 TC20 TC30 TC50 TC70 Cardiographs", rng: "<= B.03"}),
		testAdvisory("BR",
			prod{id: "b64", vendor: "Philips", name: "Brilliance 64", rng: "<=2.6.2"},
			prod{id: "bict", vendor: "Philips", name: "Brilliance iCT", rng: "<=4.1.6"}),
		testAdvisory("MX", prod{id: "mx40", vendor: "Philips", name: "IntelliVue MX40 Patient Worn Monitor (WLAN only)", rng: "< B.06.18"}),
		testAdvisory("SP", prod{id: "sp", vendor: "Baxter", name: "Spectrum IQ", rng: "<= 9.0"}),
		testAdvisory("AL", prod{id: "al", vendor: "Becton, Dickinson and Company (BD)", name: "Alaris PC Unit models 8015", rng: "<= 9.33.1"}),
		testAdvisory("GE", prod{id: "ge", vendor: "GE Healthcare", name: "Optima CT520", version: "vers:all/*"}),
	}
	tests := []struct {
		name string
		dev  inventory.Device
		want []outcome
	}{
		{"listed_model", inventory.Device{Vendor: "Philips", Model: "PageWriter TC30", Version: "B.02"}, []outcome{{"PW", "pw", "known_affected", "model+range"}}},
		{"unlisted_model_tc35", inventory.Device{Vendor: "Philips", Model: "PageWriter TC35", Version: "B.02"}, nil},
		{"family_only_is_review", inventory.Device{Vendor: "Philips", Model: "PageWriter", Version: "B.02"}, []outcome{{"PW", "pw", "needs_review", "model+range"}}},
		{"brilliance_64", inventory.Device{Vendor: "Philips Healthcare", Model: "Brilliance 64", Version: "2.6.1"}, []outcome{{"BR", "b64", "known_affected", "alias"}}},
		{"brilliance_ict_not_64", inventory.Device{Vendor: "Philips", Model: "Brilliance iCT", Version: "2.6.1"}, []outcome{{"BR", "bict", "known_affected", "model+range"}}},
		{"brilliance_64_outside", inventory.Device{Vendor: "Philips", Model: "Brilliance 64", Version: "3.0"}, nil},
		{"mx40_register_spelling", inventory.Device{Vendor: "PHILIPS", Model: "philips intellivue mx-40", Version: "B.05.10"}, []outcome{{"MX", "mx40", "known_affected", "model+range"}}},
		{"mx450_is_not_mx40", inventory.Device{Vendor: "Philips", Model: "IntelliVue MX450", Version: "B.05.10"}, nil},
		{"glued_name", inventory.Device{Vendor: "Baxter", Model: "SpectrumIQ", Version: "8.1"}, []outcome{{"SP", "sp", "known_affected", "model+range"}}},
		{"carefusion_alias", inventory.Device{Vendor: "CareFusion", Model: "Alaris 8015 PC Unit", Version: "V9.19"}, []outcome{{"AL", "al", "known_affected", "alias"}}},
		{"empty_version_is_review", inventory.Device{Vendor: "BD", Model: "Alaris PC Unit 8015"}, []outcome{{"AL", "al", "needs_review", "alias"}}},
		{"bad_version_is_review", inventory.Device{Vendor: "BD", Model: "Alaris PC Unit 8015", Version: "unknown ??"}, []outcome{{"AL", "al", "needs_review", "alias"}}},
		{"other_vendor", inventory.Device{Vendor: "Siemens", Model: "PageWriter TC30", Version: "B.02"}, nil},
		{"ct520_all_versions", inventory.Device{Vendor: "GE Medical Systems", Model: "Optima CT 520"}, []outcome{{"GE", "ge", "known_affected", "alias"}}},
		{"optima_520_is_not_ct520", inventory.Device{Vendor: "GE Healthcare", Model: "Optima 520"}, nil},
		{"empty_model", inventory.Device{Vendor: "Philips", Model: "", Version: "1.0"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := tt.dev
			d.AssetID = "A-1"
			got := outcomes(matchOne(t, advs, Options{}, d))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Match(%q %q %q) (-want +got):\n%s", d.Vendor, d.Model, d.Version, diff)
			}
		})
	}
}

func TestStatuses(t *testing.T) {
	t.Parallel()
	a := testAdvisory("ST",
		prod{id: "old", vendor: "Acme Medical", name: "Infuser 9000", rng: "< 2.0"},
		prod{id: "new", vendor: "Acme Medical", name: "Infuser 9000", version: "2.0", status: advisory.StatusFixed},
		prod{id: "na", vendor: "Acme Medical", name: "Infuser 7000", version: "vers:all/*", status: advisory.StatusKnownNotAffected},
		prod{id: "ui", vendor: "Acme Medical", name: "Infuser 5000", version: "vers:all/*", status: advisory.StatusUnderInvestigation},
	)
	tests := []struct {
		name string
		dev  inventory.Device
		want []outcome
	}{
		{"affected_version", inventory.Device{Vendor: "Acme", Model: "Infuser 9000", Version: "1.9"}, []outcome{{"ST", "old", "known_affected", "model+range"}}},
		{"fixed_version", inventory.Device{Vendor: "Acme", Model: "Infuser 9000", Version: "2.0"}, nil},
		{"not_affected_product", inventory.Device{Vendor: "Acme", Model: "Infuser 7000", Version: "1.0"}, nil},
		{"under_investigation_only", inventory.Device{Vendor: "Acme", Model: "Infuser 5000", Version: "1.0"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := tt.dev
			d.AssetID = "A-1"
			got := outcomes(matchOne(t, []*advisory.Advisory{a}, Options{}, d))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindingEnrichment(t *testing.T) {
	t.Parallel()
	a := testAdvisory("EN", prod{id: "p1", vendor: "Acme", name: "Scanner X1", rng: "<= 3.0"}, prod{id: "p2", vendor: "Acme", name: "Scanner X2", rng: "<= 3.0"})
	v2 := advisory.Vulnerability{CVE: "CVE-2023-9999", Statuses: map[string][]string{advisory.StatusKnownAffected: {"p1"}}}
	a.Vulnerabilities[0].Scores = []advisory.Score{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", BaseScore: 5.3, ProductIDs: []string{"p1", "p2"}}}
	v2.Scores = []advisory.Score{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", BaseScore: 9.8, ProductIDs: []string{"p1"}}}
	a.Vulnerabilities[0].Remediations = []advisory.Remediation{
		{Category: "vendor_fix", Details: "update to 3.1", URL: "https://example.com/fix", ProductIDs: []string{"p1", "p2"}},
		{Category: "mitigation", Details: "only for X2", ProductIDs: []string{"p2"}},
	}
	a.Vulnerabilities = append(a.Vulnerabilities, v2)
	due := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	opts := Options{
		KEV:  map[string]*kev.Entry{"CVE-2023-9999": {CVEID: "CVE-2023-9999", DueDate: due}},
		EPSS: map[string]epss.Score{"CVE-2024-0001": {CVE: "CVE-2024-0001", EPSS: 0.2, Percentile: 0.9}, "CVE-2023-9999": {CVE: "CVE-2023-9999", EPSS: 0.5, Percentile: 0.97}},
	}
	got := matchOne(t, []*advisory.Advisory{a}, opts, inventory.Device{AssetID: "A-1", Vendor: "Acme", Model: "Scanner X1", Version: "2.9"})
	dueText := "2024-06-01"
	want := []Finding{{
		AssetID: "A-1", DeviceVendor: "Acme", DeviceModel: "Scanner X1", DeviceVersion: "2.9",
		AdvisoryID: "EN", AdvisoryTitle: "EN title", CVEs: []string{"CVE-2023-9999", "CVE-2024-0001"},
		Status: "known_affected", ProductID: "p1", ProductName: "Acme Scanner X1 <= 3.0", BranchPath: []string{"Acme", "Scanner X1", "<= 3.0"},
		Method: "model+range", Confidence: 1,
		CVSS: &CVSS{BaseScore: 9.8, Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Version: "3.1", CVE: "CVE-2023-9999"},
		KEV:  true, KEVDueDate: &dueText,
		EPSS:         &EPSS{CVE: "CVE-2023-9999", Score: 0.5, Percentile: 0.97},
		Remediations: []Remediation{{Category: "vendor_fix", Details: "update to 3.1", URL: "https://example.com/fix"}},
	}}
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Reasons" }, cmp.Ignore())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(got) == 1 && len(got[0].Reasons) < 2 {
		t.Errorf("reasons should say how vendor, model and version matched: %q", got[0].Reasons)
	}
}

func TestUDIAndCPE(t *testing.T) {
	t.Parallel()
	a := testAdvisory("ID", prod{id: "p", vendor: "Acme", name: "Widget", rng: "<= 2.0"})
	a.Products[0].SKUs = []string{"(01)00614141000012"}
	a.Products[0].CPE = "cpe:2.3:h:acme:widget_pro:-:*:*:*:*:*:*:*"
	got := outcomes(matchOne(t, []*advisory.Advisory{a}, Options{},
		inventory.Device{AssetID: "U", Vendor: "Other Name", Model: "WGT", Version: "1.0", UDIDI: "00614141000012"},
		inventory.Device{AssetID: "V", Vendor: "", Model: "cpe:2.3:h:acme:widget_pro:1.5:*:*:*:*:*:*:*"},
	))
	want := []outcome{{"ID", "p", "known_affected", "udi"}, {"ID", "p", "known_affected", "cpe"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestAliases(t *testing.T) {
	t.Parallel()
	al := DefaultAliases()
	tests := []struct {
		a, b           string
		same, viaAlias bool
	}{
		{"GE Healthcare", "GE HealthCare", true, false},
		{"GE Healthcare", "GE Medical Systems", true, true},
		{"General Electric (GE)", "GE Healthcare", true, true},
		{"Becton, Dickinson and Company (BD)", "BD", true, true},
		{"CareFusion", "Becton, Dickinson and Company", true, true},
		{"Koninklijke Philips N.V.", "Philips", true, true},
		{"Philips Healthcare Inc.", "PHILIPS HEALTHCARE", true, false},
		{"Dräger", "Draeger", true, true},
		{"Dräger", "DRAGER", true, false},
		{"Siemens Healthcare", "Siemens Healthineers", true, true},
		{"B. Braun Melsungen AG", "B. Braun", true, true},
		{"Innokas YhtymÃ¤ Oy", "Innokas Yhtymä Oy", true, false},
		{"ENEA, Green Hills Software, ITRON, IP Infusion, and Wind River", "Wind River Systems", true, true},
		{"Silex Technology and GE Healthcare", "GE Healthcare", true, false},
		{"Philips", "Siemens Healthineers", false, false},
		{"Baxter", "BD", false, false},
		{"", "Philips", false, false},
	}
	for _, tt := range tests {
		same, via := al.Same(tt.a, tt.b)
		if same != tt.same || via != tt.viaAlias {
			t.Errorf("Same(%q, %q) = %v, %v; want %v, %v", tt.a, tt.b, same, via, tt.same, tt.viaAlias)
		}
	}
}

func TestParseAliases(t *testing.T) {
	t.Parallel()
	if _, err := ParseAliases(strings.NewReader(defaultAliasesText), "embedded", nil); err != nil {
		t.Fatalf("embedded alias table: %v", err)
	}
	al, err := ParseAliases(strings.NewReader("# local names\nAcme Medical = ACME Med = Acme Devices Europe\n"), "local.txt", DefaultAliases())
	if err != nil {
		t.Fatal(err)
	}
	if same, _ := al.Same("Acme Devices Europe", "ACME MED"); !same {
		t.Error("user alias line not applied")
	}
	if same, _ := al.Same("GE Medical Systems", "GE Healthcare"); !same {
		t.Error("default aliases lost when adding a user table")
	}
	_, err = ParseAliases(strings.NewReader("Philips = Philips Healthcare\nSiemens = Philips Healthcare = Other\n"), "bad.txt", nil)
	if err == nil || !strings.Contains(err.Error(), "bad.txt line 2") {
		t.Errorf("conflicting spelling: err = %v, want one naming bad.txt line 2", err)
	}
	if _, err := ParseAliases(strings.NewReader("Philips = = X\n"), "empty.txt", nil); err == nil {
		t.Error("empty spelling accepted")
	}
}

func TestIncremental(t *testing.T) {
	t.Parallel()
	a1 := testAdvisory("A1", prod{id: "p", vendor: "Acme", name: "Scanner X1", rng: "<= 3.0"})
	a2 := testAdvisory("A2", prod{id: "q", vendor: "Acme", name: "Scanner X1", rng: "<= 5.0"})
	ix, err := Compile([]*advisory.Advisory{a1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := NewFleet(nil)
	f.Add(&inventory.Device{AssetID: "D1", Vendor: "Acme", Model: "Scanner X1", Version: "4.0"})
	f.Add(&inventory.Device{AssetID: "D2", Vendor: "Acme", Model: "Scanner X1", Version: "2.0"})
	f.Add(&inventory.Device{AssetID: "D3", Vendor: "Other", Model: "Scanner X1", Version: "2.0"})
	ctx := context.Background()
	inc, err := ix.MatchAdvisory(ctx, a2, f)
	if err != nil {
		t.Fatal(err)
	}
	full, err := ix.Match(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	var fullA2 []Finding
	for _, x := range full {
		if x.AdvisoryID == "A2" {
			fullA2 = append(fullA2, x)
		}
	}
	if diff := cmp.Diff(fullA2, inc); diff != "" {
		t.Errorf("MatchAdvisory differs from the full match (-full +incremental):\n%s", diff)
	}
	if len(inc) != 2 {
		t.Errorf("A2 findings = %d, want 2 (D1, D2)", len(inc))
	}
	// A new revision of A1 replaces the old one.
	a1b := testAdvisory("A1", prod{id: "p", vendor: "Acme", name: "Scanner X1", rng: "<= 1.0"})
	if err := ix.Add(a1b); err != nil {
		t.Fatal(err)
	}
	full, _ = ix.Match(ctx, f)
	for _, x := range full {
		if x.AdvisoryID == "A1" {
			t.Errorf("finding of the replaced revision: %+v", x)
		}
	}
	// Removing a device removes its findings.
	f.Remove("D2")
	full, _ = ix.Match(ctx, f)
	for _, x := range full {
		if x.AssetID == "D2" {
			t.Errorf("finding for a removed device: %+v", x)
		}
	}
	if got := ix.MatchDevice(&inventory.Device{AssetID: "D9", Vendor: "Acme", Model: "Scanner X1", Version: "4.5"}); len(got) != 1 || got[0].AdvisoryID != "A2" {
		t.Errorf("MatchDevice = %+v, want one A2 finding", outcomes(got))
	}
	if err := ix.Add(nil); err == nil {
		t.Error("Add(nil) accepted")
	}
}

func TestMatchCancelled(t *testing.T) {
	t.Parallel()
	ix, _ := Compile([]*advisory.Advisory{testAdvisory("A", prod{id: "p", vendor: "Acme", name: "X1"})}, Options{})
	f := NewFleet(nil)
	f.Add(&inventory.Device{AssetID: "1", Vendor: "Acme", Model: "X1"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Match(ctx, f); err == nil {
		t.Error("Match on a cancelled context returned no error")
	}
}

func TestFamilyOnlyProduct(t *testing.T) {
	t.Parallel()
	a := &advisory.Advisory{ID: "FAM", Products: []advisory.Product{{
		ID: "f1", Name: "Acme Flowmax 3.1", Vendor: "Acme", ProductFamily: "Flowmax", Version: "3.1",
		BranchPath: []string{"Acme", "Flowmax", "3.1"}, BranchCategories: []string{"vendor", "product_family", "product_version"},
	}}, Vulnerabilities: []advisory.Vulnerability{{CVE: "CVE-2025-0001", Statuses: map[string][]string{advisory.StatusKnownAffected: {"f1"}}}}}
	got := outcomes(matchOne(t, []*advisory.Advisory{a}, Options{},
		inventory.Device{AssetID: "1", Vendor: "Acme Inc.", Model: "FlowMax", Version: "3.1"},
		inventory.Device{AssetID: "2", Vendor: "Acme", Model: "Flowmax", Version: "3.2"},
	))
	want := []outcome{{"FAM", "f1", "known_affected", "model+version"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestVendorInModel(t *testing.T) {
	t.Parallel()
	a := testAdvisory("VM", prod{id: "p", vendor: "Philips", name: "IntelliVue MX40", rng: "< B.06.18"})
	got := matchOne(t, []*advisory.Advisory{a}, Options{},
		inventory.Device{AssetID: "1", Model: "Philips IntelliVue MX40", Version: "B.05.10"},
		inventory.Device{AssetID: "2", Model: "IntelliVue MX40", Version: "B.05.10"},
	)
	if diff := cmp.Diff([]outcome{{"VM", "p", "known_affected", "alias"}}, outcomes(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(got) == 1 && got[0].DeviceVendor != "" {
		t.Errorf("device vendor reported as %q, want the register's empty value", got[0].DeviceVendor)
	}
}
