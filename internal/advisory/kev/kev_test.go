package kev

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseSubset(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "kev_subset.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := Parse(f, "kev_subset.json", 0)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.CatalogVersion != "2025.08.25" || c.Count != 5 || len(c.Entries) != 5 {
		t.Fatalf("catalog = version %q count %d entries %d", c.CatalogVersion, c.Count, len(c.Entries))
	}
	want := Entry{
		CVEID: "CVE-2024-8068", VendorProject: "Citrix", Product: "Session Recording",
		VulnerabilityName:          "Citrix Session Recording Improper Privilege Management Vulnerability",
		DateAdded:                  time.Date(2025, 8, 25, 0, 0, 0, 0, time.UTC),
		ShortDescription:           "Citrix Session Recording contains an improper privilege management vulnerability that could allow for privilege escalation to NetworkService Account access. An attacker must be an authenticated user in the same Windows Active Directory domain as the session recording server domain.",
		RequiredAction:             "Apply mitigations per vendor instructions, follow applicable BOD 22-01 guidance for cloud services, or discontinue use of the product if mitigations are unavailable.",
		DueDate:                    time.Date(2025, 9, 15, 0, 0, 0, 0, time.UTC),
		KnownRansomwareCampaignUse: "Unknown",
		Notes:                      "https://support.citrix.com/external/article/691941/citrix-session-recording-security-bullet.html ; https://nvd.nist.gov/vuln/detail/CVE-2024-8068",
		CWEs:                       []string{"CWE-269"},
	}
	if diff := cmp.Diff(want, c.Entries[0]); diff != "" {
		t.Errorf("entry 0 (-want +got):\n%s", diff)
	}
	if got := c.DateReleased.Format(time.RFC3339Nano); got != "2025-08-25T17:04:19.9796Z" {
		t.Errorf("DateReleased = %s", got)
	}
}

const entryOK = `{"cveID":"CVE-2021-44228","vendorProject":"Apache","product":"Log4j2","vulnerabilityName":"Log4Shell","dateAdded":"2021-12-10","shortDescription":"JNDI.","requiredAction":"Apply updates.","dueDate":"2021-12-24","knownRansomwareCampaignUse":"Known","notes":"","cwes":["CWE-917"]}`

func TestParseProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []Problem
		entries int
	}{
		{name: "ok", in: `{"catalogVersion":"1","dateReleased":"2025-01-01T00:00:00Z","count":1,"vulnerabilities":[` + entryOK + `]}`, entries: 1},
		{
			name: "count_mismatch", in: `{"catalogVersion":"1","dateReleased":"2025-01-01T00:00:00Z","count":2,"vulnerabilities":[` + entryOK + `]}`, entries: 1,
			want: []Problem{{Index: -1, Pointer: "/count", Field: "count", Value: "2", Reason: "count does not match the 1 entries"}},
		},
		{
			name: "bad_entry_fields", entries: 1,
			in: `{"catalogVersion":"1","dateReleased":"2025-01-01T00:00:00Z","count":2,"vulnerabilities":[` + entryOK + `,` +
				strings.NewReplacer(`"CVE-2021-44228"`, `"CVE-21-1"`, `"2021-12-24"`, `"24/12/2021"`, `"Known"`, `"Maybe"`, `"Apache"`, `""`).Replace(entryOK) + `]}`,
			want: []Problem{
				{Index: 1, Pointer: "/vulnerabilities/1/vendorProject", Field: "vendorProject", Reason: "missing or empty"},
				{Index: 1, Pointer: "/vulnerabilities/1/dueDate", Field: "dueDate", Value: "24/12/2021", Reason: "not a YYYY-MM-DD date"},
				{Index: 1, Pointer: "/vulnerabilities/1/cveID", Field: "cveID", Value: "CVE-21-1", Reason: "not a CVE id (CVE-YYYY-NNNN)"},
				{Index: 1, Pointer: "/vulnerabilities/1/knownRansomwareCampaignUse", Field: "knownRansomwareCampaignUse", Value: "Maybe", Reason: `want "Known" or "Unknown"`},
			},
		},
		{
			name: "duplicate_cve", entries: 1,
			in:   `{"catalogVersion":"1","dateReleased":"2025-01-01T00:00:00Z","count":2,"vulnerabilities":[` + entryOK + `,` + entryOK + `]}`,
			want: []Problem{{Index: 1, Pointer: "/vulnerabilities/1/cveID", Field: "cveID", Value: "CVE-2021-44228", Reason: "duplicate of entry 0"}},
		},
		{
			name: "wrong_type", entries: 0,
			in:   `{"catalogVersion":"1","dateReleased":"2025-01-01T00:00:00Z","count":1,"vulnerabilities":[{"cveID":7}]}`,
			want: []Problem{{Index: 0, Pointer: "/vulnerabilities/0/cveID", Field: "cveID", Reason: "wrong type: got JSON number, want string"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tt.in), tt.name, 0)
			var got []Problem
			if err != nil {
				ke, ok := err.(*Error)
				if !ok {
					t.Fatalf("Parse error %T %v, want *Error", err, err)
				}
				got = ke.Problems
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%s) problems (-want +got):\n%s", tt.name, diff)
			}
			if c == nil || len(c.Entries) != tt.entries {
				t.Errorf("Parse(%s) catalog %v, want %d entries", tt.name, c, tt.entries)
			}
		})
	}
}

func TestParseNotJSON(t *testing.T) {
	t.Parallel()
	c, err := Parse(strings.NewReader("{\n\"count\": }"), "bad.json", 0)
	if c != nil || err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("Parse(bad) = %v, %v; want an error naming file and line", c, err)
	}
	if _, err := Parse(strings.NewReader(strings.Repeat(" ", 100)), "big.json", 10); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("Parse(too big) error = %v", err)
	}
}

func TestParseSharedCatalog(t *testing.T) {
	t.Parallel()
	root := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if root == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: skipping the full KEV catalog")
	}
	f, err := os.Open(filepath.Join(root, "kev", "known_exploited_vulnerabilities.json"))
	if err != nil {
		t.Skipf("no KEV catalog: %v", err)
	}
	defer f.Close()
	c, err := Parse(f, "known_exploited_vulnerabilities.json", 0)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(c.Entries) != c.Count || c.Count == 0 {
		t.Fatalf("entries %d, count %d", len(c.Entries), c.Count)
	}
}

func FuzzParse(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "kev_subset.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"catalogVersion":"1","dateReleased":"2025-01-01T00:00:00Z","count":1,"vulnerabilities":[` + entryOK + `]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Parse(bytes.NewReader(in), "fuzz.json", 1<<20)
		if err == nil && c == nil {
			t.Fatal("nil catalog without error")
		}
		if c != nil && err == nil && c.Count != len(c.Entries) {
			t.Fatalf("accepted count %d with %d entries", c.Count, len(c.Entries))
		}
	})
}

func BenchmarkParse(b *testing.B) {
	path := filepath.Join("testdata", "kev_subset.json")
	if root := os.Getenv("MEDWARDEN_TESTDATA_EXTRA"); root != "" {
		path = filepath.Join(root, "kev", "known_exploited_vulnerabilities.json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), "kev.json", 0); err != nil {
			b.Fatal(err)
		}
	}
}
