package cpematch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/advisory/nvd"
	"github.com/medwarden/medwarden/internal/sbom"
)

func loadCVEs(t testing.TB) []*nvd.CVE {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "CVE-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	var out []*nvd.CVE
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
		out = append(out, feed.CVEs...)
	}
	return out
}

func TestMatch(t *testing.T) {
	t.Parallel()
	cves := loadCVEs(t)
	baxterHW := sbom.Component{Ref: "hw", Type: "device", Name: "Sigma Spectrum", CPEs: []string{"cpe:2.3:h:baxter:sigma_spectrum_infusion_system:-:*:*:*:*:*:*:*"}}
	fw := func(v string) sbom.Component {
		return sbom.Component{Ref: "fw", Type: "firmware", Name: "Sigma Spectrum firmware", Version: v,
			CPEs: []string{"cpe:2.3:o:baxter:sigma_spectrum_infusion_system_firmware:" + v + ":*:*:*:*:*:*:*"}}
	}
	tests := []struct {
		name string
		doc  sbom.Document
		want []Finding
	}{
		{
			name: "firmware_in_range_on_listed_hardware",
			doc:  sbom.Document{Primary: &baxterHW, Components: []sbom.Component{fw("6.02")}},
			want: []Finding{{Component: "Sigma Spectrum firmware@6.02", Ref: "fw", CPE: "cpe:2.3:o:baxter:sigma_spectrum_infusion_system_firmware:6.02:*:*:*:*:*:*:*",
				ID: "CVE-2020-12039", Status: "affected", Matched: []string{"cpe:2.3:o:baxter:sigma_spectrum_infusion_system_firmware:*:*:*:*:*:*:*:*"}}},
		},
		{
			name: "firmware_out_of_range",
			doc:  sbom.Document{Primary: &baxterHW, Components: []sbom.Component{fw("6.06")}},
		},
		{
			name: "firmware_without_the_hardware_is_not_this_cve",
			doc:  sbom.Document{Components: []sbom.Component{fw("6.02")}},
		},
		{
			name: "library_version_range_dcmtk",
			doc: sbom.Document{Components: []sbom.Component{
				{Ref: "d1", Name: "dcmtk", Version: "3.6.6", CPEs: []string{"cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*"}},
				{Ref: "d2", Name: "dcmtk", Version: "3.6.7", CPEs: []string{"cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*"}},
			}},
			want: []Finding{{Component: "dcmtk@3.6.6", Ref: "d1", CPE: "cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*", ID: "CVE-2022-2119",
				Status: "affected", Matched: []string{"cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*"}}},
		},
		{
			name: "unknown_version_is_reported_as_unknown",
			doc: sbom.Document{Components: []sbom.Component{
				{Ref: "d", Name: "dcmtk", CPEs: []string{"cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*"}},
			}},
			want: []Finding{{Component: "dcmtk", Ref: "d", CPE: "cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*", ID: "CVE-2022-2119", Status: "unknown",
				Detail:  "the NVD configuration depends on something the SBOM's CPEs do not say (typically the version)",
				Matched: []string{"cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*"}}},
		},
		{
			name: "vex_not_affected_applies",
			doc: sbom.Document{Primary: &baxterHW, Components: []sbom.Component{fw("8.0")},
				VEX: []sbom.VEXStatement{{ID: "CVE-2020-12039", Affects: []string{"fw"}, Status: "not_affected", Justification: "vulnerable_code_not_in_execute_path"}}},
			want: []Finding{{Component: "Sigma Spectrum firmware@8.0", Ref: "fw", CPE: "cpe:2.3:o:baxter:sigma_spectrum_infusion_system_firmware:8.0:*:*:*:*:*:*:*",
				ID: "CVE-2020-12039", Status: "not_affected", Suppressed: true, Justification: "vulnerable_code_not_in_execute_path",
				Matched: []string{"cpe:2.3:o:baxter:sigma_spectrum_infusion_system_firmware:8.0:*:*:*:*:*:*:*"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Match(&tt.doc, cves)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Match(%s) (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

// FuzzMatch: component CPE strings come from SBOMs (outside input).
func FuzzMatch(f *testing.F) {
	cves := loadCVEs(f)
	f.Add("cpe:2.3:o:baxter:sigma_spectrum_infusion_system_firmware:6.02:*:*:*:*:*:*:*", "cpe:2.3:h:baxter:sigma_spectrum_infusion_system:-:*:*:*:*:*:*:*")
	f.Add("cpe:/a:offis:dcmtk:3.6.6", "cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*")
	f.Add("cpe:2.3:a:\\*:dcmtk:3.6.?:*:*:*:*:*:*:*", "")
	f.Fuzz(func(t *testing.T, a, b string) {
		doc := &sbom.Document{Components: []sbom.Component{{Ref: "a", Name: "a", CPEs: []string{a}}, {Ref: "b", Name: "b", CPEs: []string{b}}}}
		for _, f := range Match(doc, cves) {
			if f.ID == "" || f.Status == "" {
				t.Fatalf("incomplete finding %+v", f)
			}
		}
	})
}

// BenchmarkMatch: one device SBOM of 200 CPE components (firmware, OS,
// libraries, hardware) against the test CVEs.
func BenchmarkMatch(b *testing.B) {
	cves := loadCVEs(b)
	doc := &sbom.Document{Primary: &sbom.Component{Ref: "hw", Name: "pump", CPEs: []string{"cpe:2.3:h:baxter:sigma_spectrum_infusion_system:-:*:*:*:*:*:*:*"}}}
	for i := range 200 {
		v := "6.0" + string(rune('0'+i%10))
		doc.Components = append(doc.Components,
			sbom.Component{Ref: "c" + v + string(rune('a'+i%26)), Name: "c", Version: v,
				CPEs: []string{"cpe:2.3:a:offis:dcmtk:3.6." + string(rune('0'+i%10)) + ":*:*:*:*:*:*:*"}},
		)
	}
	doc.Components = append(doc.Components, sbom.Component{Ref: "fw", Name: "fw", CPEs: []string{"cpe:2.3:o:baxter:sigma_spectrum_infusion_system_firmware:6.02:*:*:*:*:*:*:*"}})
	ix := NewIndex(cves)
	b.ReportAllocs()
	for b.Loop() {
		ix.Match(doc)
	}
}
