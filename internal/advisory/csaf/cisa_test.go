package csaf

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestCISACorpus parses every CISA advisory of the shared corpus into the
// model. Real advisories sometimes fail mandatory tests; those are logged
// (and listed in docs/ADVISORIES.md), not failed, but every file must
// decode and convert, and schema failures are errors.
func TestCISACorpus(t *testing.T) {
	t.Parallel()
	root := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if root == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: skipping the CISA CSAF corpus")
	}
	files, err := filepath.Glob(filepath.Join(root, "csaf_cisa", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("no CISA advisories under %s", root)
	}
	checkCorpus(t, files)
}

func TestCISATestdata(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("testdata", "cisa", "*.json"))
	if len(files) == 0 {
		t.Fatal("no CISA test data")
	}
	checkCorpus(t, files)
}

func checkCorpus(t *testing.T, files []string) {
	v := newTestValidator(t)
	failing := map[string][]string{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		adv, rep, err := v.ParseAdvisory(fh, filepath.Base(f))
		fh.Close()
		if err != nil {
			t.Fatalf("ParseAdvisory(%s): %v", f, err)
		}
		if adv == nil {
			t.Errorf("%s: not decoded: %v", f, rep.Errors)
			continue
		}
		if adv.ID == "" || len(adv.Products) == 0 || len(adv.Vulnerabilities) == 0 {
			t.Errorf("%s: empty model: id=%q products=%d vulns=%d", f, adv.ID, len(adv.Products), len(adv.Vulnerabilities))
		}
		for _, e := range rep.Errors {
			if e.Test == TestSchema || e.Test == TestJSON || e.Test == TestInput {
				t.Errorf("%s: %v", f, e)
			}
			failing[filepath.Base(f)] = append(failing[filepath.Base(f)], e.Test+" "+e.Path)
		}
	}
	names := make([]string, 0, len(failing))
	for n := range failing {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("%s fails mandatory tests: %v", n, failing[n])
	}
	t.Logf("%d of %d advisories pass every mandatory test", len(files)-len(failing), len(files))
}
