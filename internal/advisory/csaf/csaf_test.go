package csaf

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/advisory"
)

// minimal is a valid csaf_base document; %s is spliced in after "document".
const minimal = `{
  "document": {
    "category": "csaf_base",
    "csaf_version": "2.0",
    "publisher": {"category": "vendor", "name": "Example Medical", "namespace": "https://example.com"},
    "title": "Test",
    "tracking": {
      "current_release_date": "2024-01-02T00:00:00Z",
      "id": "EX-2024-0001",
      "initial_release_date": "2024-01-01T00:00:00Z",
      "revision_history": [
        {"date": "2024-01-01T00:00:00Z", "number": "1", "summary": "Initial"},
        {"date": "2024-01-02T00:00:00Z", "number": "2", "summary": "Update"}
      ],
      "status": "final",
      "version": "2"
    }
  }%s
}`

func doc(extra string) []byte { return []byte(fmt.Sprintf(minimal, extra)) }

func nestedBranches(n int) string {
	var b strings.Builder
	b.WriteString(`,"product_tree":{"branches":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(`,"branches":[`)
		}
		fmt.Fprintf(&b, `{"category":"product_family","name":"f%d"`, i)
	}
	b.WriteString(`,"product":{"name":"deep","product_id":"P1"}`)
	for i := 0; i < n; i++ {
		b.WriteString(`}]`)
	}
	b.WriteString(`}`)
	return b.String()
}

func TestParseFindings(t *testing.T) {
	t.Parallel()
	v := newTestValidator(t)
	small, err := NewValidator(Options{MaxSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		v    *Validator
		in   []byte
		want []Error
	}{
		{name: "valid_minimal", v: v, in: doc(""), want: []Error{}},
		{name: "not_json", v: v, in: []byte("<html>oops</html>"), want: []Error{{Test: TestJSON, Message: "not well-formed JSON at line 1 column 1: invalid character '<' looking for beginning of value"}}},
		{name: "truncated_json", v: v, in: []byte("{\n \"document\": {"), want: []Error{{Test: TestJSON, Message: "not well-formed JSON: unexpected end of input at line 2 column 15"}}},
		{name: "top_level_array", v: v, in: []byte(`[1,2]`), want: []Error{{Test: TestSchema, Message: "document is not a JSON object"}}},
		{name: "too_large", v: small, in: doc(""), want: []Error{{Test: TestInput, Message: "document is larger than the 100 byte limit"}}},
		{name: "json_nesting_too_deep", v: v, in: []byte(strings.Repeat("[", 300) + strings.Repeat("]", 300)), want: []Error{{Test: TestInput, Message: "JSON nesting deeper than 256 levels at line 1 column 257"}}},
		{
			name: "branches_too_deep", v: v, in: doc(nestedBranches(66)),
			want: []Error{{Test: TestInput, Path: "/product_tree/branches/0" + strings.Repeat("/branches/0", 64), Message: "product tree branches nested deeper than 64 levels; deeper branches are not checked"}},
		},
		{
			name: "duplicate_product_id", v: v,
			in:   doc(`,"product_tree":{"full_product_names":[{"name":"A","product_id":"P1"},{"name":"B","product_id":"P1"}]}`),
			want: []Error{{Test: "6.1.2", Path: "/product_tree/full_product_names/1/product_id", Message: `product id "P1" is already defined at /product_tree/full_product_names/0/product_id`}},
		},
		{
			name: "circular_relationship", v: v,
			in: doc(`,"product_tree":{"full_product_names":[{"name":"A","product_id":"A"}],"relationships":[
				{"category":"installed_on","full_product_name":{"name":"B on C","product_id":"B"},"product_reference":"C","relates_to_product_reference":"A"},
				{"category":"installed_on","full_product_name":{"name":"C on B","product_id":"C"},"product_reference":"B","relates_to_product_reference":"A"}]}`),
			want: []Error{
				{Test: "6.1.3", Path: "/product_tree/relationships/0/product_reference", Message: `product id "B" is defined through itself (via "C"): circular relationship`},
				{Test: "6.1.3", Path: "/product_tree/relationships/1/product_reference", Message: `product id "C" is defined through itself (via "B"): circular relationship`},
			},
		},
		{
			// CSAF 2.0's schema allows unknown members, so "x_vendor" is accepted.
			name: "bad_cve_and_missing_product", v: v,
			in: doc(`,"vulnerabilities":[{"cve":"CVE-24-1","product_status":{"known_affected":["NOPE"]},"x_vendor":1}]`),
			want: []Error{
				{Test: TestSchema, Path: "/vulnerabilities/0/cve", Message: "'CVE-24-1' does not match pattern '^CVE-[0-9]{4}-[0-9]{4,}$'"},
				{Test: "6.1.1", Path: "/vulnerabilities/0/product_status/known_affected/0", Message: `product id "NOPE" is not defined in the product tree`},
			},
		},
		{
			name: "version_range_in_product_version", v: v,
			in:   doc(`,"product_tree":{"branches":[{"category":"vendor","name":"V","branches":[{"category":"product_version","name":"All versions before 4.2","product":{"name":"V 4.2","product_id":"P1"}}]}]}`),
			want: []Error{{Test: "6.1.31", Path: "/product_tree/branches/0/branches/0/name", Message: `product_version "All versions before 4.2" contains a version range; use category product_version_range`}},
		},
		{
			name: "inconsistent_cvss", v: v,
			in: doc(`,"product_tree":{"full_product_names":[{"name":"A","product_id":"P1"}]},"vulnerabilities":[{"scores":[{"products":["P1"],"cvss_v3":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","baseScore":9.1,"baseSeverity":"CRITICAL","attackVector":"LOCAL"}}]}]`),
			want: []Error{
				{Test: "6.1.9", Path: "/vulnerabilities/0/scores/0/cvss_v3/baseScore", Message: "baseScore is 9.1 but the vector computes to 9.8"},
				{Test: "6.1.10", Path: "/vulnerabilities/0/scores/0/cvss_v3/attackVector", Message: `attackVector is "LOCAL" but the vector says AV:N`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := tt.v.Parse(bytes.NewReader(tt.in), tt.name+".json")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, rep.Errors); diff != "" {
				t.Errorf("Parse(%s) findings (-want +got):\n%s", tt.name, diff)
			}
			if rep.Valid != (len(tt.want) == 0) {
				t.Errorf("Valid = %v with %d findings", rep.Valid, len(rep.Errors))
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, fmt.Errorf("disk on fire") }

func TestParseReadError(t *testing.T) {
	t.Parallel()
	_, err := newTestValidator(t).Parse(errReader{}, "x.json")
	if err == nil || !strings.Contains(err.Error(), "x.json") || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Parse(errReader) error = %v, want a read error naming the file", err)
	}
}

func TestToAdvisory(t *testing.T) {
	t.Parallel()
	in := doc(`,"product_tree":{
	  "branches":[{"category":"vendor","name":"Baxter","branches":[{"category":"product_family","name":"Infusion pumps","branches":[
	    {"category":"product_name","name":"Sigma Spectrum","branches":[
	      {"category":"product_version","name":"8.00.01","product":{"name":"Sigma Spectrum 8.00.01","product_id":"P1",
	        "product_identification_helper":{"cpe":"cpe:2.3:h:baxter:sigma_spectrum:8.00.01:*:*:*:*:*:*:*","model_numbers":["35700BAX"],"purl":"pkg:generic/baxter/sigma-spectrum@8.00.01"}}},
	      {"category":"product_version_range","name":"<8.00.01","product":{"name":"Sigma Spectrum <8.00.01","product_id":"P2"}}]}]}]}],
	  "full_product_names":[{"name":"Wireless Battery Module","product_id":"P3"}],
	  "product_groups":[{"group_id":"G1","product_ids":["P2","P4"]}],
	  "relationships":[{"category":"installed_on","full_product_name":{"name":"WBM on Sigma Spectrum","product_id":"P4"},"product_reference":"P3","relates_to_product_reference":"P2"}]
	},"vulnerabilities":[{"cve":"CVE-2020-12040","cwe":{"id":"CWE-319","name":"Cleartext Transmission of Sensitive Information"},
	  "notes":[{"category":"summary","text":"Cleartext."}],
	  "product_status":{"known_affected":["P2","P4"],"fixed":["P1"]},
	  "references":[{"url":"https://www.first.org/cvss/calculator/4.0#CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N","summary":"v4"}],
	  "remediations":[{"category":"vendor_fix","details":"Update to 8.00.01.","group_ids":["G1"],"url":"https://example.com/fix","date":"2024-01-02T00:00:00Z"}],
	  "scores":[{"products":["P2","P4"],"cvss_v3":{"version":"3.1","vectorString":"CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N","baseScore":6.5,"baseSeverity":"MEDIUM"}}]}]`)
	adv, rep, err := newTestValidator(t).ParseAdvisory(bytes.NewReader(in), "t.json")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid {
		t.Fatalf("document has findings: %v", rep.Errors)
	}
	d := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	want := &advisory.Advisory{
		ID: "EX-2024-0001", Title: "Test", Category: "csaf_base",
		Publisher:      advisory.Publisher{Name: "Example Medical", Namespace: "https://example.com", Category: "vendor"},
		InitialRelease: d("2024-01-01T00:00:00Z"), CurrentRelease: d("2024-01-02T00:00:00Z"),
		Version: "2", Status: "final",
		Revisions: []advisory.Revision{
			{Date: d("2024-01-01T00:00:00Z"), Number: "1", Summary: "Initial"},
			{Date: d("2024-01-02T00:00:00Z"), Number: "2", Summary: "Update"},
		},
		Products: []advisory.Product{
			{
				ID: "P1", Name: "Sigma Spectrum 8.00.01",
				BranchPath:       []string{"Baxter", "Infusion pumps", "Sigma Spectrum", "8.00.01"},
				BranchCategories: []string{"vendor", "product_family", "product_name", "product_version"},
				Vendor:           "Baxter", ProductFamily: "Infusion pumps", ProductName: "Sigma Spectrum", Version: "8.00.01",
				CPE: "cpe:2.3:h:baxter:sigma_spectrum:8.00.01:*:*:*:*:*:*:*", PURLs: []string{"pkg:generic/baxter/sigma-spectrum@8.00.01"},
				ModelNumbers: []string{"35700BAX"},
			},
			{
				ID: "P2", Name: "Sigma Spectrum <8.00.01",
				BranchPath:       []string{"Baxter", "Infusion pumps", "Sigma Spectrum", "<8.00.01"},
				BranchCategories: []string{"vendor", "product_family", "product_name", "product_version_range"},
				Vendor:           "Baxter", ProductFamily: "Infusion pumps", ProductName: "Sigma Spectrum", VersionRange: "<8.00.01",
			},
			{ID: "P3", Name: "Wireless Battery Module"},
			{ID: "P4", Name: "WBM on Sigma Spectrum", Relationship: &advisory.Relationship{Category: "installed_on", ProductRef: "P3", RelatesTo: "P2"}},
		},
		Groups: []advisory.ProductGroup{{ID: "G1", ProductIDs: []string{"P2", "P4"}}},
		Vulnerabilities: []advisory.Vulnerability{{
			CVE: "CVE-2020-12040", CWE: &advisory.CWE{ID: "CWE-319", Name: "Cleartext Transmission of Sensitive Information"},
			Summary: "Cleartext.", Notes: []advisory.Note{{Category: "summary", Text: "Cleartext."}},
			References: []advisory.Reference{{Category: "external", Summary: "v4", URL: "https://www.first.org/cvss/calculator/4.0#CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N"}},
			Scores: []advisory.Score{
				{Version: "3.1", Vector: "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", BaseScore: 6.5, BaseSeverity: "MEDIUM", ProductIDs: []string{"P2", "P4"}, Source: "cvss_v3"},
				{Version: "4.0", Vector: "CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N", ProductIDs: []string{"P2", "P4"}, Source: "reference"},
			},
			Statuses:      map[string][]string{"known_affected": {"P2", "P4"}, "fixed": {"P1"}},
			ProductStatus: map[string][]string{"P1": {"fixed"}, "P2": {"known_affected"}, "P4": {"known_affected"}},
			Remediations: []advisory.Remediation{{
				Category: "vendor_fix", Details: "Update to 8.00.01.", URL: "https://example.com/fix", Date: d("2024-01-02T00:00:00Z"),
				ProductIDs: []string{"P2", "P4"}, GroupIDs: []string{"G1"},
			}},
		}},
		Source: "t.json", SHA256: rep.SHA256,
	}
	if diff := cmp.Diff(want, adv); diff != "" {
		t.Errorf("ParseAdvisory (-want +got):\n%s", diff)
	}
}

func TestToAdvisoryCISA(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "cisa", "icsma-24-151-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	adv, rep, err := newTestValidator(t).ParseAdvisory(f, "icsma-24-151-01.json")
	if err != nil || !rep.Valid {
		t.Fatalf("ParseAdvisory: %v %v", err, rep.Errors)
	}
	want := advisory.Product{
		ID: "CSAFPID-0001", Name: "Baxter Welch Allyn Product Configuration Tool: <=1.9.4.1",
		BranchPath:       []string{"Baxter", "Welch Allyn Product Configuration Tool", "<=1.9.4.1"},
		BranchCategories: []string{"vendor", "product_name", "product_version_range"},
		Vendor:           "Baxter", ProductName: "Welch Allyn Product Configuration Tool", VersionRange: "<=1.9.4.1",
	}
	if diff := cmp.Diff([]advisory.Product{want}, adv.Products); diff != "" {
		t.Errorf("products (-want +got):\n%s", diff)
	}
	v := adv.Vulnerabilities[0]
	if diff := cmp.Diff([]string{"CSAFPID-0001"}, v.Affected()); diff != "" {
		t.Errorf("Affected (-want +got):\n%s", diff)
	}
	if got := len(v.RemediationsFor("CSAFPID-0001")); got != 6 {
		t.Errorf("RemediationsFor = %d remediations, want 6", got)
	}
	if diff := cmp.Diff([]string{"3.1", "4.0"}, []string{v.Scores[0].Version, v.Scores[1].Version}); diff != "" {
		t.Errorf("score versions (-want +got):\n%s", diff)
	}
}
