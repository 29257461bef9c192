package osv

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/medwarden/medwarden/internal/sbom"
)

func loadIndex(t testing.TB) *Index {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []*Record
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Parse(bytes.NewReader(data), f)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return NewIndex(recs)
}

func TestIndexDropsWithdrawn(t *testing.T) {
	t.Parallel()
	if got := loadIndex(t).Len(); got != 4 {
		t.Errorf("Len() = %d, want 4 (5 records, 1 withdrawn)", got)
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	ix := loadIndex(t)
	comp := func(ref, purl string) sbom.Component {
		// name@version from the purl for readability
		name := purl[strings.LastIndexByte(purl, '/')+1:]
		n, v, _ := strings.Cut(name, "@")
		return sbom.Component{Ref: ref, Name: n, Version: v, PURL: purl}
	}
	tests := []struct {
		name string
		doc  sbom.Document
		want []Finding
	}{
		{
			name: "semver_fixed_boundary",
			doc: sbom.Document{Components: []sbom.Component{
				comp("a", "pkg:npm/lodash@4.17.20"), comp("b", "pkg:npm/lodash@4.17.21"),
			}},
			want: []Finding{{Component: "lodash@4.17.20", Ref: "a", PURL: "pkg:npm/lodash@4.17.20", ID: "GHSA-35jh-r3h4-6jhm",
				Aliases: []string{"CVE-2021-23337"}, Summary: "Command Injection in lodash", Status: "affected", Fixed: "4.17.21"}},
		},
		{
			name: "maven_multiple_ranges_and_prerelease",
			doc: sbom.Document{Components: []sbom.Component{
				comp("l1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
				comp("l2", "pkg:maven/org.apache.logging.log4j/log4j-core@2.12.2"),
				comp("l3", "pkg:maven/org.apache.logging.log4j/log4j-core@2.0-beta9"),
				comp("l4", "pkg:maven/org.apache.logging.log4j/log4j-core@2.0-beta8"),
				comp("l5", "pkg:maven/org.apache.logging.log4j/log4j-core@2.16.0"),
				comp("l6", "pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1"),
			}},
			want: []Finding{
				{Component: "log4j-core@2.14.1", Ref: "l1", PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", ID: "GHSA-jfh8-c2jp-5v3q", Status: "affected", Fixed: "2.15.0"},
				{Component: "log4j-core@2.0-beta9", Ref: "l3", PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.0-beta9", ID: "GHSA-jfh8-c2jp-5v3q", Status: "affected", Fixed: "2.3.1"},
			},
		},
		{
			name: "pypi_name_normalised_and_versions_list",
			doc: sbom.Document{Components: []sbom.Component{
				comp("j1", "pkg:pypi/Jinja2@2.10"), comp("j2", "pkg:pypi/jinja2@2.10.1"), comp("j3", "pkg:pypi/jinja2@2.11.3"),
			}},
			want: []Finding{{Component: "Jinja2@2.10", Ref: "j1", PURL: "pkg:pypi/Jinja2@2.10", ID: "GHSA-462w-v97r-4m45", Status: "affected", Fixed: "2.10.1"}},
		},
		{
			name: "debian_release_suffix_and_last_affected",
			doc: sbom.Document{Components: []sbom.Component{
				comp("o1", "pkg:deb/debian/openssl@3.0.11-1~deb12u2?distro=debian-12"),
				comp("o2", "pkg:deb/debian/openssl@3.0.13-1~deb12u1?distro=debian-12"),
				// Same version from another distribution: not Debian's advisory.
				comp("u1", "pkg:deb/ubuntu/openssl@3.0.11-1~deb12u2"),
			}},
			want: []Finding{{Component: "openssl@3.0.11-1~deb12u2?distro=debian-12", Ref: "o1", PURL: "pkg:deb/debian/openssl@3.0.11-1~deb12u2?distro=debian-12", ID: "MW-TEST-0001", Status: "affected", NoFix: true}},
		},
		{
			name: "vex_not_affected_suppresses_by_alias",
			doc: sbom.Document{
				Primary: &sbom.Component{Ref: "pump", Name: "pump-fw", Version: "4.2"},
				Components: []sbom.Component{
					comp("l1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
				},
				VEX: []sbom.VEXStatement{{ID: "CVE-2021-44228", Affects: []string{"l1"}, Status: "not_affected",
					Justification: "code_not_reachable", Detail: "JNDI lookups disabled at build time"}},
			},
			want: []Finding{{Component: "log4j-core@2.14.1", Ref: "l1", PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
				ID: "GHSA-jfh8-c2jp-5v3q", Status: "not_affected", Suppressed: true,
				Justification: "code_not_reachable", Detail: "JNDI lookups disabled at build time", Fixed: "2.15.0"}},
		},
		{
			name: "vex_bom_link_and_fixed",
			doc: sbom.Document{
				Components: []sbom.Component{comp("lodash-ref", "pkg:npm/lodash@4.17.20")},
				VEX: []sbom.VEXStatement{{ID: "GHSA-35jh-r3h4-6jhm",
					Affects: []string{"urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#lodash-ref"}, Status: "fixed",
					Detail: "patched in our fork"}},
			},
			want: []Finding{{Component: "lodash@4.17.20", Ref: "lodash-ref", PURL: "pkg:npm/lodash@4.17.20",
				ID: "GHSA-35jh-r3h4-6jhm", Status: "fixed", Suppressed: true, Detail: "patched in our fork", Fixed: "4.17.21"}},
		},
		{
			name: "vex_for_another_component_does_not_apply",
			doc: sbom.Document{
				Components: []sbom.Component{comp("a", "pkg:npm/lodash@4.17.20")},
				VEX:        []sbom.VEXStatement{{ID: "CVE-2021-23337", Affects: []string{"b"}, Status: "not_affected", Justification: "code_not_present"}},
			},
			want: []Finding{{Component: "lodash@4.17.20", Ref: "a", PURL: "pkg:npm/lodash@4.17.20", ID: "GHSA-35jh-r3h4-6jhm", Status: "affected", Fixed: "4.17.21"}},
		},
		{
			name: "no_purl_or_unknown_type_or_no_version_skipped",
			doc: sbom.Document{Components: []sbom.Component{
				{Name: "FreeRTOS", Version: "10.0.1", CPEs: []string{"cpe:2.3:o:amazon:freertos:10.0.1:*:*:*:*:*:*:*"}},
				comp("g", "pkg:github/freertos/freertos@10.0.1"),
				{Name: "lodash", PURL: "pkg:npm/lodash"},
			}},
			want: nil,
		},
	}
	ignore := cmpopts.IgnoreFields(Finding{}, "Aliases", "Summary")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ix.Match(&tt.doc)
			opts := []cmp.Option{}
			if tt.name != "semver_fixed_boundary" {
				opts = append(opts, ignore)
			}
			if diff := cmp.Diff(tt.want, got, opts...); diff != "" {
				t.Errorf("Match(%s) (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

// TestFixedVersion: the fix reported for a component is the smallest
// fixed event above its version among the ranges that affect it, compared
// in the ecosystem's scheme (Maven orders 2.3.1 below 2.12.2 and 2.15.0,
// a string comparison would not); no fixed event is NoFix, never a guess.
func TestFixedVersion(t *testing.T) {
	t.Parallel()
	ix := loadIndex(t)
	tests := []struct {
		purl, id string
		fixed    string
		noFix    bool
	}{
		{"pkg:npm/lodash@4.17.20", "GHSA-35jh-r3h4-6jhm", "4.17.21", false},
		{"pkg:npm/lodash@1.0.0", "GHSA-35jh-r3h4-6jhm", "4.17.21", false},
		// three Maven ranges: each version gets the fix of its own range
		{"pkg:maven/org.apache.logging.log4j/log4j-core@2.0-beta9", "GHSA-jfh8-c2jp-5v3q", "2.3.1", false},
		{"pkg:maven/org.apache.logging.log4j/log4j-core@2.3", "GHSA-jfh8-c2jp-5v3q", "2.3.1", false},
		{"pkg:maven/org.apache.logging.log4j/log4j-core@2.4", "GHSA-jfh8-c2jp-5v3q", "2.12.2", false},
		{"pkg:maven/org.apache.logging.log4j/log4j-core@2.12.1", "GHSA-jfh8-c2jp-5v3q", "2.12.2", false},
		{"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "GHSA-jfh8-c2jp-5v3q", "2.15.0", false},
		// PyPI, affected through the range and the explicit versions list
		{"pkg:pypi/jinja2@2.9.6", "GHSA-462w-v97r-4m45", "2.10.1", false},
		{"pkg:pypi/jinja2@2.10", "GHSA-462w-v97r-4m45", "2.10.1", false},
		// Debian: a range closed by last_affected publishes no fix
		{"pkg:deb/debian/openssl@3.0.11-1~deb12u2", "MW-TEST-0001", "", true},
		{"pkg:deb/debian/openssl@3.0.0-1", "MW-TEST-0001", "", true},
	}
	for _, tt := range tests {
		got := ix.Match(&sbom.Document{Components: []sbom.Component{{Ref: "c", Name: "c", PURL: tt.purl}}})
		if len(got) != 1 || got[0].ID != tt.id {
			t.Errorf("Match(%s) = %+v, want one finding %s", tt.purl, got, tt.id)
			continue
		}
		if got[0].Fixed != tt.fixed || got[0].NoFix != tt.noFix {
			t.Errorf("Match(%s): Fixed %q NoFix %v, want %q %v", tt.purl, got[0].Fixed, got[0].NoFix, tt.fixed, tt.noFix)
		}
	}
	// an open-ended range (introduced, no fixed) publishes no fix either
	open := NewIndex([]*Record{{ID: "X-OPEN", Modified: "2026-01-01T00:00:00Z", Affected: []Affected{{
		Package: Package{Ecosystem: "npm", Name: "left-pad"},
		Ranges: []Range{{Type: "SEMVER", Events: []Event{{Introduced: "1.0.0"}}},
			{Type: "SEMVER", Events: []Event{{Introduced: "0"}, {Fixed: "0.9.0"}}}}}}}})
	got := open.Match(&sbom.Document{Components: []sbom.Component{{Ref: "c", Name: "left-pad", PURL: "pkg:npm/left-pad@1.3.0"}}})
	if len(got) != 1 || got[0].Fixed != "" || !got[0].NoFix {
		t.Errorf("open-ended range: got %+v, want one finding with NoFix and no Fixed (0.9.0 is below 1.3.0)", got)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"truncated", `{"id": "GHSA-x", "affected": [`, "osv truncated: unexpected end of JSON input"},
		{"no_id", `{"affected": []}`, `osv no_id: "/id" is missing`},
		{"no_package", `{"id": "X", "modified": "2026-01-01T00:00:00Z", "affected": [{"package": {}}]}`, `osv no_package: "/affected/0/package" has no ecosystem or purl`},
		{"no_modified_nvd_record", `{"id": "CVE-2022-2119", "published": "2022-06-24T15:15:10.687"}`, `osv no_modified_nvd_record: "/modified" is missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(tt.in), tt.name)
			if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Parse(%s) = %v, want prefix %q wrapping ErrInvalid", tt.name, err, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "pkg:npm/lodash@4.17.20")
	}
	f.Fuzz(func(t *testing.T, data []byte, purl string) {
		r, err := Parse(bytes.NewReader(data), "fuzz")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		ix := NewIndex([]*Record{r})
		ix.Match(&sbom.Document{Components: []sbom.Component{{Name: "x", PURL: purl}}})
	})
}

func BenchmarkMatch(b *testing.B) {
	ix := loadIndex(b)
	doc := &sbom.Document{}
	for i := range 500 {
		p := "pkg:npm/lodash@4.17." + string(rune('0'+i%10))
		if i%3 == 0 {
			p = "pkg:maven/org.apache.logging.log4j/log4j-core@2.1" + string(rune('0'+i%7)) + ".0"
		}
		doc.Components = append(doc.Components, sbom.Component{Name: "c", PURL: p})
	}
	b.ReportAllocs()
	for b.Loop() {
		ix.Match(doc)
	}
}
