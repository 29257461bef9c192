package sbom

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runConformance runs every CycloneDX conformance file under root:
// valid-* must parse without problems, invalid-* must be rejected (an
// InputError or at least one Problem). informal-invalid-* files test rules
// outside the schemas and are reported, not enforced.
func runConformance(t *testing.T, root string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		base := d.Name()
		if d.IsDir() || !(strings.HasSuffix(base, ".json") || strings.HasSuffix(base, ".xml")) {
			return nil
		}
		wantValid := strings.HasPrefix(base, "valid-")
		if !wantValid && !strings.HasPrefix(base, "invalid-") {
			return nil
		}
		n++
		rel, _ := filepath.Rel(root, path)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Parse(bytes.NewReader(data), rel, Options{})
			var ie *InputError
			if err != nil && !errors.As(err, &ie) {
				t.Fatalf("Parse(%s): not an InputError: %v", rel, err)
			}
			switch {
			case wantValid && err != nil:
				t.Errorf("Parse(%s) = %v, want accepted", rel, err)
			case wantValid && !doc.Valid():
				t.Errorf("Parse(%s): problems %v, want none", rel, doc.Problems)
			case !wantValid && err == nil && doc.Valid():
				t.Errorf("Parse(%s) accepted an invalid document", rel)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no conformance files under %s", root)
	}
}

func TestCycloneDXConformance(t *testing.T) {
	t.Parallel()
	runConformance(t, filepath.Join("testdata", "spec-tests"))
}

func TestCycloneDXConformanceExtra(t *testing.T) {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: skipping the shared-corpus conformance run")
	}
	root := filepath.Join(dir, "sbom", "cyclonedx", "spec-tests")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("no spec-tests in MEDWARDEN_TESTDATA_EXTRA: %v", err)
	}
	runConformance(t, root)
}
