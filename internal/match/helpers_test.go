package match

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/csaf"
)

var (
	validatorOnce sync.Once
	validator     *csaf.Validator
	validatorErr  error
)

// loadAdvisories parses every *.json under dir (sorted by name).
func loadAdvisories(t testing.TB, dir string) []*advisory.Advisory {
	t.Helper()
	validatorOnce.Do(func() { validator, validatorErr = csaf.NewValidator(csaf.Options{}) })
	if validatorErr != nil {
		t.Fatal(validatorErr)
	}
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Ext(p) == ".json" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	var out []*advisory.Advisory
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		a, _, err := validator.ParseAdvisory(f, name)
		f.Close()
		if err != nil || a == nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		out = append(out, a)
	}
	return out
}

// extraDir returns $MEDWARDEN_TESTDATA_EXTRA/sub or skips the test.
func extraDir(t testing.TB, sub string) string {
	t.Helper()
	root := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if root == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: skipping the test on the shared corpus")
	}
	d := filepath.Join(root, sub)
	if _, err := os.Stat(d); err != nil {
		t.Skipf("MEDWARDEN_TESTDATA_EXTRA has no %s: %v", sub, err)
	}
	return d
}
