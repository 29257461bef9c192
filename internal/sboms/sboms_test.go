package sboms

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/nvd"
	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/sbom/cpematch"
	"github.com/medwarden/medwarden/internal/sbom/osv"
	"github.com/medwarden/medwarden/internal/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

func testMatchers(t testing.TB) Matchers {
	t.Helper()
	var cves []*nvd.CVE
	files, _ := filepath.Glob("testdata/nvd/*.json")
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		feed, err := nvd.Parse(fh, f, 0)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		cves = append(cves, feed.CVEs...)
	}
	var recs []*osv.Record
	files, _ = filepath.Glob("testdata/osv/*.json")
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := osv.Parse(fh, f)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return Matchers{OSV: osv.NewIndex(recs), NVD: cpematch.NewIndex(cves)}
}

func analyze(t testing.TB, file string, m Matchers) *store.SBOMAttach {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	in, _, err := Analyze(raw, file, sbom.Options{}, m)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

type vrow struct {
	Component, ID, Source, Method, Status, Confidence string
	Suppressed, Review                                bool
}

func rows(in *store.SBOMAttach) []vrow {
	var out []vrow
	for _, v := range in.Vulns {
		out = append(out, vrow{in.Components[v.Index].Name, v.ID, v.Source, v.Method, v.Status, v.Confidence, v.Suppressed, v.NeedsReview})
	}
	return out
}

func TestAnalyzeMatchesEveryWay(t *testing.T) {
	t.Parallel()
	in := analyze(t, "pump-v1.cdx.json", testMatchers(t))
	if !in.Valid || in.Format != "cyclonedx-json" || in.SpecVersion != "1.5" || len(in.Components) != 7 {
		t.Fatalf("summary: valid=%v format=%s spec=%s components=%d", in.Valid, in.Format, in.SpecVersion, len(in.Components))
	}
	want := []vrow{
		{"Sigma Spectrum Infusion System firmware", "CVE-2020-12039", "nvd", "cpe", "affected", "high", false, false},
		{"Express Logic ThreadX", "CVE-2024-2212", "nvd", "name", "affected", "medium", false, false},
		{"dcmtk", "CVE-2022-2119", "nvd", "cpe", "affected", "high", false, false},
		{"lodash", "GHSA-35jh-r3h4-6jhm", "osv", "purl", "affected", "high", false, false},
		{"log4j-core", "GHSA-jfh8-c2jp-5v3q", "osv", "purl", "affected", "high", false, false},
	}
	if d := cmp.Diff(want, rows(in)); d != "" {
		t.Errorf("vulnerabilities (-want +got):\n%s", d)
	}
}

func TestNameMatchConfidence(t *testing.T) {
	t.Parallel()
	m := testMatchers(t)
	tests := []struct {
		name, comp, version string
		want                []vrow
	}{
		{"exact_alias", "Azure RTOS ThreadX", "6.1.9", []vrow{{"Azure RTOS ThreadX", "CVE-2024-2212", "nvd", "name", "affected", "medium", false, false}}},
		{"alias_inside_name_is_low", "ThreadX kernel for STM32", "6.1.9", []vrow{{"ThreadX kernel for STM32", "CVE-2024-2212", "nvd", "name", "affected", "low", false, true}}},
		{"no_version_is_unknown_low", "threadx", "", []vrow{{"threadx", "CVE-2024-2212", "nvd", "name", "unknown", "low", false, true}}},
		{"fixed_version", "Eclipse ThreadX", "6.4.0", nil},
		{"not_an_alias", "ThreadSafe utils", "1.0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := &sbom.Document{Components: []sbom.Component{{Name: tt.comp, Version: tt.version, Type: "operating-system"}}}
			comps, vulns := Match(doc, m)
			got := rows(&store.SBOMAttach{Components: comps, Vulns: vulns})
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Match(%q %q) (-want +got):\n%s", tt.comp, tt.version, d)
			}
		})
	}
}

func TestSBOMVEXSuppressesWithReason(t *testing.T) {
	t.Parallel()
	in := analyze(t, "pump-v2.cdx.json", testMatchers(t))
	var found bool
	for _, v := range in.Vulns {
		if v.ID == "CVE-2022-2119" {
			found = true
			if !v.Suppressed || v.Status != "not_affected" || v.Justification != "code_not_reachable" || !strings.Contains(v.Detail, "no storage SCP") {
				t.Errorf("CVE-2022-2119 = %+v, want suppressed not_affected code_not_reachable with the SBOM's detail", v)
			}
		}
	}
	if !found {
		t.Error("CVE-2022-2119 not reported (a suppressed finding must still be listed)")
	}
}

func TestCSAFVEXSuppresses(t *testing.T) {
	t.Parallel()
	m := testMatchers(t)
	a := &advisory.Advisory{
		ID: "PUMP-VEX-2026-001", Category: "csaf_vex",
		Products: []advisory.Product{
			{ID: "P-FW", Name: "Sigma Spectrum 8.0", ProductName: "Sigma Spectrum", Version: "8.0"},
			{ID: "P-TX", Name: "Express Logic ThreadX 5.8", ProductName: "Express Logic ThreadX", Version: "5.8"},
			{ID: "P-FW-TX", Name: "ThreadX 5.8 in Sigma Spectrum 8.0", Relationship: &advisory.Relationship{Category: "default_component_of", ProductRef: "P-TX", RelatesTo: "P-FW"}},
			{ID: "P-LODASH", Name: "lodash 4.17.15", PURLs: []string{"pkg:npm/lodash@4.17.15"}},
		},
		Vulnerabilities: []advisory.Vulnerability{
			{CVE: "CVE-2024-2212",
				Statuses: map[string][]string{advisory.StatusKnownNotAffected: {"P-FW-TX"}},
				Flags:    []advisory.Flag{{Label: "vulnerable_code_not_in_execute_path", ProductIDs: []string{"P-FW-TX"}}},
				Threats:  []advisory.Threat{{Category: "impact", Details: "The FreeRTOS compatibility layer is not compiled in.", ProductIDs: []string{"P-FW-TX"}}}},
			{CVE: "CVE-2021-23337", Statuses: map[string][]string{advisory.StatusKnownAffected: {"P-LODASH"}}},
		},
	}
	m.VEX = VEXFromAdvisory(a)
	in := analyze(t, "pump-v1.cdx.json", m)
	for _, v := range in.Vulns {
		switch v.ID {
		case "CVE-2024-2212":
			if !v.Suppressed || v.Status != "not_affected" || v.Justification != "vulnerable_code_not_in_execute_path" ||
				v.Detail != "CSAF VEX PUMP-VEX-2026-001: The FreeRTOS compatibility layer is not compiled in." {
				t.Errorf("ThreadX finding = %+v, want suppressed by the CSAF VEX with its flag and impact", v)
			}
		case "GHSA-35jh-r3h4-6jhm": // alias CVE-2021-23337, known_affected
			if v.Suppressed || v.Status != "affected" || !strings.HasPrefix(v.Detail, "CSAF VEX PUMP-VEX-2026-001") {
				t.Errorf("lodash finding = %+v, want affected, attributed to the CSAF VEX", v)
			}
		}
	}
	a.Category = "csaf_security_advisory"
	if got := VEXFromAdvisory(a); got != nil {
		t.Errorf("a csaf_security_advisory gave %d VEX statements, want none", len(got))
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s (-want +got):\n%s", name, d)
	}
}

func withVulns(in *store.SBOMAttach) []store.SBOMComponent {
	cs := append([]store.SBOMComponent(nil), in.Components...)
	for _, v := range in.Vulns {
		cs[v.Index].Vulns = append(cs[v.Index].Vulns, v)
	}
	return cs
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	m := testMatchers(t)
	a := withVulns(analyze(t, "pump-v1.cdx.json", m))
	b := withVulns(analyze(t, "pump-v2.cdx.json", m))
	d := Compare(1, a, 2, b)
	got, _ := json.MarshalIndent(d, "", "  ")
	golden(t, "TestCompareVersions.golden", append(got, '\n'))
	if len(d.Added) != 1 || d.Added[0].Name != "zlib" || len(d.Removed) != 1 || d.Removed[0].Name != "log4j-core" {
		t.Errorf("added %v removed %v, want zlib added and log4j-core removed", d.Added, d.Removed)
	}
	if len(d.Changed) != 2 || d.Changed[0].Name != "Eclipse ThreadX" || d.Changed[0].FromVersion != "5.8" {
		t.Errorf("changed %v, want Express Logic ThreadX 5.8 -> Eclipse ThreadX 6.4.1 and lodash", d.Changed)
	}
	if len(d.VulnsAdded) != 0 || len(d.VulnsRemoved) != 4 {
		t.Errorf("vulnerabilities added %d removed %d, want 0 and 4", len(d.VulnsAdded), len(d.VulnsRemoved))
	}
	if same := Compare(1, a, 1, a); len(same.Added)+len(same.Removed)+len(same.Changed)+len(same.VulnsAdded)+len(same.VulnsRemoved) != 0 || same.Unchanged != len(a) {
		t.Errorf("a version against itself: %+v", same)
	}
}

func TestExportCycloneDXRoundTrip(t *testing.T) {
	t.Parallel()
	m := testMatchers(t)
	in := analyze(t, "pump-v2.cdx.json", m)
	v := &store.SBOMVersion{ID: 7, Version: 2, SHA256: in.SHA256, Format: in.Format, SpecVersion: in.SpecVersion,
		Subject: store.SBOMSubject{Vendor: "Baxter", Model: "Sigma Spectrum", FirmwareVersion: "8.0"}}
	out, err := ExportCycloneDX(v, withVulns(in), time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "TestExportCycloneDXRoundTrip.golden", append(out, '\n'))
	doc, err := sbom.ParseBytes(out, "export.cdx.json", sbom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !doc.Valid() {
		t.Fatalf("exported CycloneDX is not valid against the 1.6 schema: %v", doc.Problems)
	}
	if len(doc.Components) != len(in.Components) {
		t.Errorf("exported %d components, want %d", len(doc.Components), len(in.Components))
	}
	// Re-importing the export gives the same vulnerability states.
	again, _, err := Analyze(out, "export.cdx.json", sbom.Options{}, m)
	if err != nil {
		t.Fatal(err)
	}
	state := func(in *store.SBOMAttach) map[string]string {
		s := map[string]string{}
		for _, v := range in.Vulns {
			s[in.Components[v.Index].Name+" "+v.ID] = v.Status
		}
		return s
	}
	if d := cmp.Diff(state(in), state(again)); d != "" {
		t.Errorf("states after export and re-import (-want +got):\n%s", d)
	}
}

// TestAnalyzeFixedVersions: OSV matches carry the version that fixes the
// installed one (the record's ranges, compared in the ecosystem's scheme);
// NVD CPE and name matches the versionEndExcluding of the entry that
// matched, and never NoFix.
func TestAnalyzeFixedVersions(t *testing.T) {
	t.Parallel()
	in := analyze(t, "pump-v1.cdx.json", testMatchers(t))
	type fix struct {
		Component, Version, ID, Fixed string
		NoFix                         bool
	}
	var got []fix
	for _, v := range in.Vulns {
		c := in.Components[v.Index]
		got = append(got, fix{c.Name, c.Version, v.ID, v.Fixed, v.NoFix})
	}
	want := []fix{
		// exact-version criterion: NVD names no fixed version, which is not "no fix"
		{"Sigma Spectrum Infusion System firmware", "8.0", "CVE-2020-12039", "", false},
		{"Express Logic ThreadX", "5.8", "CVE-2024-2212", "6.4.0", false}, // name match, versionEndExcluding
		{"dcmtk", "3.6.5", "CVE-2022-2119", "3.6.7", false},
		{"lodash", "4.17.15", "GHSA-35jh-r3h4-6jhm", "4.17.21", false},
		{"log4j-core", "2.14.1", "GHSA-jfh8-c2jp-5v3q", "2.15.0", false},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("fixed versions (-want +got):\n%s", d)
	}
}
