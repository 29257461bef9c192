package csaf

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes through parse, validate and convert: no
// panic, and a report for every input.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "oasis", "mandatory", "*.json"))
	cisa, _ := filepath.Glob(filepath.Join("testdata", "cisa", "*.json"))
	for _, s := range append(seeds, cisa...) {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(doc(nestedBranches(70)))
	f.Add([]byte(`{"document":{},"product_tree":{"relationships":[{"full_product_name":{"product_id":"A"},"product_reference":"A","relates_to_product_reference":"A"}]}}`))
	v, err := NewValidator(Options{MaxSize: 1 << 20, Optional: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := v.ParseBytes(data, "fuzz.json")
		if rep.Valid && len(rep.Errors) != 0 {
			t.Fatalf("valid report with findings: %v", rep.Errors)
		}
		if rep.Document != nil {
			_ = ToAdvisory(rep.Document, "fuzz.json", rep.SHA256, Options{})
		}
	})
}
