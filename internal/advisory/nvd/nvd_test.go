package nvd

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want CVE
		cfgs int
	}{
		{"CVE-2022-2119.json", CVE{ID: "CVE-2022-2119", SourceIdentifier: "ics-cert@hq.dhs.gov",
			Published:    time.Date(2022, 6, 24, 15, 15, 10, 687000000, time.UTC),
			LastModified: time.Date(2025, 11, 3, 20, 15, 53, 857000000, time.UTC), Status: "Modified",
			CWEs: []string{"CWE-22"}}, 1},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(bytes.NewReader(b), tt.file, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.CVEs) != 1 {
			t.Fatalf("%s: %d CVEs", tt.file, len(f.CVEs))
		}
		got := f.CVEs[0]
		if diff := cmp.Diff(tt.want, *got, cmpopts.IgnoreFields(CVE{}, "Description", "Scores", "Configurations", "References", "Raw")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.file, diff)
		}
		if len(got.Configurations) != tt.cfgs || !strings.Contains(got.Description, "DCMTK") || len(got.Scores) == 0 || !bytes.Equal(got.Raw, bytes.TrimSpace(b)) {
			t.Errorf("%s: configurations %d, description %q, scores %d, raw kept %v", tt.file, len(got.Configurations), got.Description, len(got.Scores), bytes.Equal(got.Raw, bytes.TrimSpace(b)))
		}
		if got.Scores[0].Vector != "CVSS:3.1/AV:A/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H" || got.Scores[0].BaseScore != 7.5 {
			t.Errorf("%s: first score %+v", tt.file, got.Scores[0])
		}
	}
}

func TestParseShapes(t *testing.T) {
	t.Parallel()
	rec, err := os.ReadFile(filepath.Join("testdata", "CVE-2020-12039.json"))
	if err != nil {
		t.Fatal(err)
	}
	page := []byte(`{"resultsPerPage":1,"startIndex":0,"totalResults":1,"format":"NVD_CVE","version":"2.0","timestamp":"2025-11-04T10:00:00.000","vulnerabilities":[{"cve":` + string(rec) + `}]}`)
	item := []byte(`{"cve":` + string(rec) + `}`)
	for _, in := range [][]byte{rec, page, item} {
		f, err := Parse(bytes.NewReader(in), "x", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.CVEs) != 1 || f.CVEs[0].ID != "CVE-2020-12039" {
			t.Errorf("Parse = %+v", f.CVEs)
		}
	}
	f, _ := Parse(bytes.NewReader(page), "page", 0)
	if !f.Timestamp.Equal(time.Date(2025, 11, 4, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("timestamp = %v", f.Timestamp)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"not_json", "CVE-2022-2119", "not a JSON object"},
		{"unknown_shape", `{"foo":1}`, "neither an API response"},
		{"bad_id", `{"id":"CVE-22-1","published":"2022-06-24T15:15:10.687","lastModified":"2022-06-24T15:15:10.687"}`, "nvd x at /id: \"CVE-22-1\" is not a CVE id"},
		{"missing_published", `{"id":"CVE-2022-2119","lastModified":"2022-06-24T15:15:10.687"}`, "at /published: missing"},
		{"bad_time", `{"id":"CVE-2022-2119","published":"yesterday","lastModified":"2022-06-24T15:15:10.687"}`, "at /published"},
		{"page_item_without_cve", `{"vulnerabilities":[{"x":1}]}`, "at /vulnerabilities/0/cve: missing"},
		{"bad_operator", `{"id":"CVE-2022-2119","published":"2022-06-24T15:15:10.687","lastModified":"2022-06-24T15:15:10.687","configurations":[{"operator":"XOR","nodes":[]}]}`, "configurations"},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.in), "x", 0)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Parse = %v, want ErrInvalid containing %q", tt.name, err, tt.want)
		}
	}
	if _, err := Parse(strings.NewReader(`{"id":"CVE-2022-2119"}`), "x", 5); err == nil || !strings.Contains(err.Error(), "larger than 5 bytes") {
		t.Errorf("size limit: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"CVE-2020-12039.json", "CVE-2022-2119.json", "CVE-2023-30559.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		feed, err := Parse(bytes.NewReader(data), "fuzz", 1<<20)
		if err != nil {
			return
		}
		for _, c := range feed.CVEs {
			if c.ID == "" || c.Raw == nil {
				t.Fatalf("accepted record without id or raw: %+v", c)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "CVE-2022-2119.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), "bench", 0); err != nil {
			b.Fatal(err)
		}
	}
}
