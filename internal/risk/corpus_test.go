package risk

import (
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/cvss"
	"github.com/medwarden/medwarden/internal/inventory"
)

// TestCorpusVectors adjusts every vector of the shared CVSS corpus
// (MEDWARDEN_TESTDATA_EXTRA/cvss/*.csv) for every device profile: the
// adjusted vector must parse, score in [0,10], and a more critical device
// (higher requirements) must never score lower; isolating a device must
// never score higher.
func TestCorpusVectors(t *testing.T) {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: skipping the CVSS corpus check")
	}
	files, err := filepath.Glob(filepath.Join(dir, "cvss", "*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CVSS corpus under %s/cvss: %v", dir, err)
	}
	// profiles in increasing criticality, as deviceProfile builds them
	var crit []profile
	for i := len(inventory.Criticalities) - 1; i >= 0; i-- {
		crit = append(crit, deviceProfile(&Device{Criticality: inventory.Criticalities[i], PHI: ptr(true)}))
	}
	n := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(f)
		r.FieldsPerRecord = -1
		for line := 1; ; line++ {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s line %d: %v", name, line, err)
			}
			vec := strings.TrimSpace(rec[0])
			if _, err := cvss.Parse(vec); err != nil {
				continue // header, invalid-vector test rows
			}
			n++
			prev := -1.0
			for _, p := range crit {
				for _, iso := range []bool{false, true} {
					p.adjacent = iso
					got := monotoneAdjust(vec, p, adjustVector)
					if !got.ok || got.score < 0 || got.score > 10 {
						t.Fatalf("%s line %d: adjustVector(%q, %+v) = %+v", filepath.Base(name), line, vec, p, got)
					}
					if _, err := cvss.Parse(got.vector); err != nil {
						t.Fatalf("%s line %d: adjusted vector %q does not parse: %v", filepath.Base(name), line, got.vector, err)
					}
				}
				p.adjacent = false
				open, iso := monotoneAdjust(vec, p, adjustVector), monotoneAdjust(vec, profile{cr: p.cr, ir: p.ir, ar: p.ar, adjacent: true}, adjustVector)
				if iso.score > open.score {
					t.Errorf("%s line %d: isolating raises %q from %.1f to %.1f", filepath.Base(name), line, vec, open.score, iso.score)
				}
				if open.score < prev {
					t.Errorf("%s line %d: higher criticality lowers %q to %.1f from %.1f (%+v)", filepath.Base(name), line, vec, open.score, prev, p)
				}
				prev = open.score
			}
		}
		f.Close()
	}
	t.Logf("%d vectors checked", n)
}
