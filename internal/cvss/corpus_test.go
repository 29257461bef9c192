package cvss

import (
	"encoding/csv"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// csvCase is one row of the CVSS test-vector CSV files.
type csvCase struct {
	file, vector                         string
	line                                 int
	base, temporal, environmental, score float64
	v4                                   bool
}

// readCases reads cvss_v30.csv / cvss_v31.csv (vector, base_score,
// temporal_score, environmental_score, source) and cvss_v40.csv (vector,
// score, macrovector, source) from dir.
func readCases(t testing.TB, dir string) []csvCase {
	t.Helper()
	var out []csvCase
	for _, name := range []string{"cvss_v30.csv", "cvss_v31.csv", "cvss_v40.csv"} {
		f, err := os.Open(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(f)
		r.FieldsPerRecord = -1
		header, err := r.Read()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		col := map[string]int{}
		for i, h := range header {
			col[h] = i
		}
		num := func(rec []string, field string, line int) float64 {
			i, ok := col[field]
			if !ok {
				t.Fatalf("%s: no column %q", name, field)
			}
			if rec[i] == "" {
				return math.NaN() // not given by the source: not checked
			}
			x, err := strconv.ParseFloat(rec[i], 64)
			if err != nil {
				t.Fatalf("%s line %d: column %q: %v", name, line, field, err)
			}
			return x
		}
		for line := 2; ; line++ {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s line %d: %v", name, line, err)
			}
			c := csvCase{file: name, line: line, vector: rec[col["vector"]]}
			if _, ok := col["score"]; ok {
				c.v4 = true
				c.score = num(rec, "score", line)
			} else {
				c.base = num(rec, "base_score", line)
				c.temporal = num(rec, "temporal_score", line)
				c.environmental = num(rec, "environmental_score", line)
			}
			out = append(out, c)
		}
		f.Close()
	}
	return out
}

func checkCases(t *testing.T, cases []csvCase) {
	t.Helper()
	fails := 0
	for _, c := range cases {
		v, err := Parse(c.vector)
		if err != nil {
			t.Errorf("%s line %d: Parse(%q): %v", c.file, c.line, c.vector, err)
			fails++
			continue
		}
		if c.v4 {
			if got := v.Score(); got != c.score {
				t.Errorf("%s line %d: %s: score = %v, want %v", c.file, c.line, c.vector, got, c.score)
				fails++
			}
		} else {
			got := [3]float64{v.BaseScore(), v.TemporalScore(), v.EnvironmentalScore()}
			want := [3]float64{c.base, c.temporal, c.environmental}
			for i := range want {
				if math.IsNaN(want[i]) {
					want[i] = got[i]
				}
			}
			if got != want {
				t.Errorf("%s line %d: %s: base/temporal/env = %v, want %v", c.file, c.line, c.vector, got, want)
				fails++
			}
		}
		if fails > 30 {
			t.Fatal("too many failures")
		}
	}
}

// TestCorpusShared scores every vector of the shared CVSS corpus.
func TestCorpusShared(t *testing.T) {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: skipping the shared CVSS corpus")
	}
	cases := readCases(t, filepath.Join(dir, "cvss"))
	if len(cases) == 0 {
		t.Fatalf("no CVSS CSV files under %s/cvss", dir)
	}
	checkCases(t, cases)
	t.Logf("%d vectors checked", len(cases))
}

// TestCorpusCISA checks the base scores and ratings published in CISA CSAF
// advisories (cvss_v3_real_world_cisa_csaf.csv: advisory_file, cve, vector,
// base_score, base_severity, n_products).
func TestCorpusCISA(t *testing.T) {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: skipping the CISA CSAF CVSS vectors")
	}
	f, err := os.Open(filepath.Join(dir, "cvss", "cvss_v3_real_world_cisa_csaf.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range rows[1:] {
		v, err := Parse(rec[2])
		if err != nil {
			t.Errorf("line %d: Parse(%q): %v", i+2, rec[2], err)
			continue
		}
		want, err := strconv.ParseFloat(rec[3], 64)
		if err != nil {
			t.Fatalf("line %d: %v", i+2, err)
		}
		if got := v.BaseScore(); got != want {
			t.Errorf("line %d: %s: base = %v, want %v", i+2, rec[2], got, want)
		}
		if got := strings.ToUpper(string(SeverityOf(v.BaseScore()))); got != rec[4] {
			t.Errorf("line %d: %s: severity = %s, want %s", i+2, rec[2], got, rec[4])
		}
	}
}

// TestCorpusLocal scores the redistributable subset kept in testdata.
func TestCorpusLocal(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"polycvss", "redhat"} {
		cases := readCases(t, filepath.Join("testdata", dir))
		if len(cases) < 40 {
			t.Fatalf("testdata/%s: only %d vectors", dir, len(cases))
		}
		checkCases(t, cases)
	}
}
