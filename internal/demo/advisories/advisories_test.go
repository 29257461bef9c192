package advisories

import (
	"bytes"
	"testing"

	"github.com/medwarden/medwarden/internal/advisory/csaf"
)

// TestFilesParse: every embedded advisory is a CSAF document with a
// tracking id and products.
func TestFilesParse(t *testing.T) {
	fs, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) < 90 {
		t.Fatalf("%d advisories embedded, want the 96 ICSMA ones", len(fs))
	}
	v, err := csaf.NewValidator(csaf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		a, _, err := v.ParseAdvisory(bytes.NewReader(f.Data), f.Name)
		if err != nil || a == nil || a.ID == "" || len(a.Products) == 0 {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
}
