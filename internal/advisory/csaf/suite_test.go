package csaf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	testValidatorOnce sync.Once
	testValidator     *Validator
	testValidatorErr  error
)

func newTestValidator(t testing.TB) *Validator {
	t.Helper()
	testValidatorOnce.Do(func() { testValidator, testValidatorErr = NewValidator(Options{}) })
	if testValidatorErr != nil {
		t.Fatalf("NewValidator: %v", testValidatorErr)
	}
	return testValidator
}

// testcases is the OASIS validator test manifest (testcases.json).
type testcases struct {
	Tests []struct {
		ID       string `json:"id"`
		Group    string `json:"group"`
		Failures []struct {
			Name string `json:"name"`
		} `json:"failures"`
		Valid []struct {
			Name string `json:"name"`
		} `json:"valid"`
	} `json:"tests"`
}

func isMandatory(id string) bool { return strings.HasPrefix(id, "6.1.") }

// runSuite runs one OASIS validator suite directory: every "valid" document
// must have no finding of a mandatory test (nor schema), and every
// "failures" document of a mandatory test must be rejected by that test.
func runSuite(t *testing.T, dir string) {
	data, err := os.ReadFile(filepath.Join(dir, "testcases.json"))
	if err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	var tc testcases
	if err := json.Unmarshal(data, &tc); err != nil {
		t.Fatalf("decode %s: %v", dir, err)
	}
	v := newTestValidator(t)
	n := 0
	for _, test := range tc.Tests {
		for _, f := range test.Valid {
			n++
			t.Run("valid/"+test.ID+"/"+filepath.Base(f.Name), func(t *testing.T) {
				rep := parseFile(t, v, filepath.Join(dir, f.Name))
				for _, e := range rep.Errors {
					if isMandatory(e.Test) || e.Test == TestSchema || e.Test == TestJSON || e.Test == TestInput {
						t.Errorf("valid document got finding %v", e)
					}
				}
			})
		}
		if !isMandatory(test.ID) {
			if strings.HasPrefix(test.ID, "6.2.") && optionalImplemented(test.ID) {
				for _, f := range test.Failures {
					n++
					t.Run("optional-failure/"+test.ID+"/"+filepath.Base(f.Name), func(t *testing.T) {
						rep := parseFileOptional(t, filepath.Join(dir, f.Name))
						if !hasWarning(rep, test.ID) {
							t.Errorf("document must fail optional test %s; got warnings %v", test.ID, rep.Warnings)
						}
					})
				}
				for _, f := range test.Valid {
					t.Run("optional-valid/"+test.ID+"/"+filepath.Base(f.Name), func(t *testing.T) {
						rep := parseFileOptional(t, filepath.Join(dir, f.Name))
						if hasWarning(rep, test.ID) {
							t.Errorf("document must pass optional test %s; got warnings %v", test.ID, rep.Warnings)
						}
					})
				}
			}
			continue
		}
		for _, f := range test.Failures {
			n++
			t.Run("failure/"+test.ID+"/"+filepath.Base(f.Name), func(t *testing.T) {
				rep := parseFile(t, v, filepath.Join(dir, f.Name))
				if !rep.HasTest(test.ID) {
					t.Errorf("document must fail test %s; got findings %v", test.ID, rep.Errors)
				}
			})
		}
	}
	if n == 0 {
		t.Fatalf("suite %s has no test cases", dir)
	}
}

func parseFile(t *testing.T, v *Validator, path string) *Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.Close()
	rep, err := v.Parse(f, filepath.Base(path))
	if err != nil {
		t.Fatalf("Parse(%s): %v", path, err)
	}
	return rep
}

func TestOASISSuite(t *testing.T) {
	t.Parallel()
	runSuite(t, filepath.Join("testdata", "oasis"))
}

// TestOASISSuiteExtra runs the full shared corpus's suite (CI points
// MEDWARDEN_TESTDATA_EXTRA at it).
func TestOASISSuiteExtra(t *testing.T) {
	t.Parallel()
	root := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if root == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: skipping the shared CSAF validator suite")
	}
	dir := filepath.Join(root, "csaf_oasis", "test", "validator")
	if _, err := os.Stat(filepath.Join(dir, "testcases.json")); err != nil {
		t.Skipf("no CSAF validator suite under %s: %v", dir, err)
	}
	runSuite(t, dir)
}

func TestOASISExamplesValid(t *testing.T) {
	t.Parallel()
	v := newTestValidator(t)
	files, _ := filepath.Glob(filepath.Join("testdata", "oasis", "examples", "csaf", "*.json"))
	vex, _ := filepath.Glob(filepath.Join("testdata", "oasis", "examples", "csaf", "csaf_vex", "*.json"))
	files = append(files, vex...)
	if len(files) == 0 {
		t.Fatal("no example documents")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			rep := parseFile(t, v, f)
			if !rep.Valid {
				t.Errorf("example is not valid: %v", rep.Errors)
			}
		})
	}
}

// optionalImplemented lists the 6.2 tests MedWarden runs (all but 6.2.13).
func optionalImplemented(id string) bool { return id != "6.2.13" }

var (
	optValidatorOnce sync.Once
	optValidator     *Validator
)

func parseFileOptional(t *testing.T, path string) *Report {
	t.Helper()
	optValidatorOnce.Do(func() {
		var err error
		if optValidator, err = NewValidator(Options{Optional: true}); err != nil {
			panic(err)
		}
	})
	return parseFile(t, optValidator, path)
}

func hasWarning(r *Report, id string) bool {
	for _, w := range r.Warnings {
		if w.Test == id {
			return true
		}
	}
	return false
}
