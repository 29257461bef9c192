package epss

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func readTestdata(t testing.TB) []byte {
	data, err := os.ReadFile(filepath.Join("testdata", "epss_scores-2025-08-25.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func gz(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParse(t *testing.T) {
	t.Parallel()
	plain := readTestdata(t)
	for _, tt := range []struct {
		name string
		in   []byte
	}{{"plain", plain}, {"gzip", gz(t, plain)}, {"crlf", bytes.ReplaceAll(plain, []byte("\n"), []byte("\r\n"))}} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(bytes.NewReader(tt.in), "epss.csv", 0)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if f.ModelVersion != "v2025.03.14" || !f.ScoreDate.Equal(time.Date(2025, 8, 25, 12, 55, 0, 0, time.UTC)) {
				t.Errorf("model %q date %v", f.ModelVersion, f.ScoreDate)
			}
			if len(f.Scores) != 12 {
				t.Fatalf("%d scores, want 12", len(f.Scores))
			}
			want := []Score{{CVE: "CVE-1999-0001", EPSS: 0.01297, Percentile: 0.79521}, {CVE: "CVE-2014-0160", EPSS: 0.94469, Percentile: 0.99986}}
			if diff := cmp.Diff(want, f.Scores[:2]); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
			if got := f.ByCVE()["CVE-2024-5176"].Percentile; got != 0.11102 {
				t.Errorf("ByCVE percentile = %v", got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	const head = "#model_version:v1,score_date:2025-08-25T12:55:00Z\ncve,epss,percentile\n"
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"bad_header", "#model_version:v1\ncve,score\n", `epss f.csv line 2: header must be "cve,epss,percentile" (value "cve,score")`},
		{"missing_field", head + "CVE-2020-0001,0.1\n", `epss f.csv line 3: want 3 comma-separated fields (value "CVE-2020-0001,0.1")`},
		{"extra_field", head + "CVE-2020-0001,0.1,0.2,0.3\n", `epss f.csv line 3: want 3 comma-separated fields (value "CVE-2020-0001,0.1,0.2,0.3")`},
		{"bad_cve", head + "CVE-2020-0001,0.1,0.2\nCVE-20X0-0001,0.1,0.2\n", `epss f.csv line 4 field cve: not a CVE id (value "CVE-20X0-0001")`},
		{"epss_out_of_range", head + "CVE-2020-0001,1.5,0.2\n", `epss f.csv line 3 field epss: not between 0 and 1 (value "1.5")`},
		{"percentile_nan", head + "CVE-2020-0001,0.5,NaN\n", `epss f.csv line 3 field percentile: not between 0 and 1 (value "NaN")`},
		{"bad_date", "#model_version:v1,score_date:yesterday\ncve,epss,percentile\n", `epss f.csv line 1 field score_date: not an RFC 3339 date-time (value "yesterday")`},
		{"empty", "", `epss f.csv line 0: no "cve,epss,percentile" header`},
		{"bad_gzip", "\x1f\x8bnot gzip", `epss f.csv line 0: bad gzip stream: gzip: invalid header`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in), "f.csv", 0)
			got := fmt.Sprint(err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%s) error (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func TestParseSizeLimit(t *testing.T) {
	t.Parallel()
	data := gz(t, append([]byte("cve,epss,percentile\n"), bytes.Repeat([]byte("CVE-2020-0001,0.1,0.2\n"), 10000)...))
	_, err := Parse(bytes.NewReader(data), "bomb.csv.gz", 1000)
	if err == nil || !strings.Contains(err.Error(), "larger than the 1000 byte limit") {
		t.Fatalf("Parse(bomb) error = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	plain := readTestdata(f)
	f.Add(plain)
	f.Add(gz(f, plain))
	f.Add([]byte("cve,epss,percentile\nCVE-2020-0001,0.1,0.2"))
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Parse(bytes.NewReader(in), "fuzz.csv", 1<<20)
		if err != nil {
			return
		}
		for _, s := range file.Scores {
			if s.EPSS < 0 || s.EPSS > 1 || s.Percentile < 0 || s.Percentile > 1 || !validCVE([]byte(s.CVE)) {
				t.Fatalf("accepted bad score %+v", s)
			}
		}
	})
}

// synthetic builds an EPSS file of n rows shaped like the real one.
func synthetic(n int) []byte {
	var b bytes.Buffer
	b.WriteString("#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z\ncve,epss,percentile\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "CVE-%d-%05d,0.%05d,0.%05d\n", 1999+i%27, i, (i*7919)%100000, (i*104729)%100000)
	}
	return b.Bytes()
}

// BenchmarkParse parses a 300 000-row file (the size of a real daily file);
// rows/s = 300000 / (ns/op / 1e9).
func BenchmarkParse(b *testing.B) {
	for _, tt := range []struct {
		name string
		data []byte
	}{{"rows-3e5", synthetic(300000)}, {"rows-3e5-gzip", gz(b, synthetic(300000))}} {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(tt.data)))
			b.ReportAllocs()
			for b.Loop() {
				f, err := Parse(bytes.NewReader(tt.data), "bench.csv", 0)
				if err != nil || len(f.Scores) != 300000 {
					b.Fatalf("Parse: %v", err)
				}
			}
			b.ReportMetric(float64(300000*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
