package versions

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The official suites (vers-spec, univers) are run case by case. Results are
// tallied per suite file and per scheme; every case of a claimed scheme must
// pass. When MEDWARDEN_TESTDATA_EXTRA is set, its version_ranges/ copy
// (which holds the other half of the split suites) is run as well.

type suiteCase struct {
	Description     string          `json:"description"`
	TestType        string          `json:"test_type"`
	Input           json.RawMessage `json:"input"`
	ExpectedOutput  json.RawMessage `json:"expected_output"`
	ExpectedFailure bool            `json:"expected_failure"`
	// univers test-suite-data.json form
	Vers          string `json:"vers"`
	CanonicalVers string `json:"canonical_vers"`
	Scheme        string `json:"scheme"`
	IsInvalid     bool   `json:"is_invalid"`
	Constraints   [][]struct {
		Comparator string `json:"comparator"`
		Version    string `json:"version"`
	} `json:"constraints"`
}

type caseInput struct {
	InputScheme string   `json:"input_scheme"`
	Scheme      string   `json:"scheme"`
	Versions    []string `json:"versions"`
	Vers        string   `json:"vers"`
	Version     string   `json:"version"`
	NativeRange string   `json:"native_range"`
}

func loadSuite(t *testing.T, path string) []suiteCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wrapped struct {
		Tests []suiteCase `json:"tests"`
	}
	if err := json.Unmarshal(b, &wrapped); err == nil && wrapped.Tests != nil {
		return wrapped.Tests
	}
	var list []suiteCase
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return list
}

// runCase returns the scheme the case exercises and nil if it passed.
func runCase(c suiteCase) (scheme string, err error) {
	if c.Vers != "" { // univers vers parse suite
		scheme = c.Scheme
		r, perr := ParseVers(c.Vers)
		if c.IsInvalid {
			if perr == nil {
				return scheme, fmt.Errorf("ParseVers(%q) succeeded, want failure", c.Vers)
			}
			return scheme, nil
		}
		if perr != nil {
			return scheme, perr
		}
		if got := r.String(); got != c.CanonicalVers {
			return scheme, fmt.Errorf("ParseVers(%q).String() = %q, want %q", c.Vers, got, c.CanonicalVers)
		}
		return scheme, nil
	}
	var in caseInput
	var inStr string
	if err := json.Unmarshal(c.Input, &inStr); err != nil {
		if err := json.Unmarshal(c.Input, &in); err != nil {
			return "", fmt.Errorf("bad input: %v", err)
		}
	}
	scheme = in.InputScheme
	if scheme == "" {
		scheme = in.Scheme
	}
	switch c.TestType {
	case "comparison":
		var want []string
		if err := json.Unmarshal(c.ExpectedOutput, &want); err != nil {
			return scheme, err
		}
		s, err := LookupScheme(scheme)
		if err != nil {
			return scheme, err
		}
		vs := make([]Version, len(in.Versions))
		for i, v := range in.Versions {
			if vs[i], err = s.Parse(v); err != nil {
				return scheme, err
			}
		}
		slices.SortStableFunc(vs, func(a, b Version) int { return a.Compare(b) })
		for i := range want {
			w, err := s.Parse(want[i])
			if err != nil {
				return scheme, err
			}
			if vs[i].Compare(w) != 0 {
				got := make([]string, len(vs))
				for j := range vs {
					got[j] = vs[j].String()
				}
				return scheme, fmt.Errorf("sorted %q = %q, want %q", in.Versions, got, want)
			}
		}
	case "equality":
		var want bool
		if err := json.Unmarshal(c.ExpectedOutput, &want); err != nil {
			return scheme, err
		}
		cmp, err := Compare(scheme, in.Versions[0], in.Versions[1])
		if err != nil {
			return scheme, err
		}
		if (cmp == 0) != want {
			return scheme, fmt.Errorf("Compare(%q, %q) = %d, want equal=%v", in.Versions[0], in.Versions[1], cmp, want)
		}
	case "containment":
		var want bool
		if err := json.Unmarshal(c.ExpectedOutput, &want); err != nil {
			return scheme, err
		}
		r, err := ParseVers(in.Vers)
		if err != nil {
			return schemeOf(in.Vers), err
		}
		scheme = r.Scheme()
		got, err := r.Contains(in.Version)
		if err != nil {
			return scheme, err
		}
		if got != want {
			return scheme, fmt.Errorf("%s contains %q = %v, want %v", in.Vers, in.Version, got, want)
		}
	case "validate", "roundtrip":
		src := inStr
		if src == "" {
			src = in.Vers
		}
		scheme = schemeOf(src)
		var want string
		_ = json.Unmarshal(c.ExpectedOutput, &want)
		r, err := ParseVers(src)
		if c.ExpectedFailure {
			if err == nil {
				return scheme, fmt.Errorf("ParseVers(%q) succeeded, want failure", src)
			}
			return scheme, nil
		}
		if err != nil {
			return scheme, err
		}
		if got := r.String(); got != want {
			return scheme, fmt.Errorf("ParseVers(%q).String() = %q, want %q", src, got, want)
		}
	case "parse":
		scheme = schemeOf(inStr)
		name, raw, err := ParseVersSyntax(inStr)
		if c.ExpectedFailure {
			if err == nil {
				return scheme, fmt.Errorf("ParseVersSyntax(%q) succeeded, want failure", inStr)
			}
			return scheme, nil
		}
		if err != nil {
			return scheme, err
		}
		var want struct {
			Scheme      string     `json:"scheme"`
			Constraints [][]string `json:"version_constraints"`
		}
		if err := json.Unmarshal(c.ExpectedOutput, &want); err != nil {
			return scheme, err
		}
		var got [][]string
		for _, k := range raw {
			got = append(got, []string{k.Op.String(), k.Version})
		}
		if name != want.Scheme || !slices.EqualFunc(got, want.Constraints, slices.Equal) {
			return scheme, fmt.Errorf("ParseVersSyntax(%q) = %s %q, want %s %q", inStr, name, got, want.Scheme, want.Constraints)
		}
	case "from_native":
		var want string
		if err := json.Unmarshal(c.ExpectedOutput, &want); err != nil {
			return scheme, err
		}
		r, err := FromNative(scheme, in.NativeRange)
		if err != nil {
			return scheme, err
		}
		if got := r.String(); got != want {
			return scheme, fmt.Errorf("FromNative(%s, %q) = %q, want %q", scheme, in.NativeRange, got, want)
		}
	default:
		return scheme, fmt.Errorf("unknown test type %q", c.TestType)
	}
	return scheme, nil
}

func schemeOf(vers string) string {
	s := strings.TrimPrefix(strings.ToLower(vers), "vers:")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i]
	}
	return s
}

type tally struct{ pass, total int }

func suiteFiles(t *testing.T, dirs ...string) []string {
	var files []string
	for _, d := range dirs {
		m, _ := filepath.Glob(filepath.Join(d, "*.json"))
		files = append(files, m...)
	}
	return files
}

func runSuites(t *testing.T, files []string) {
	perScheme := map[string]*tally{}
	for _, f := range files {
		cases := loadSuite(t, f)
		ft := &tally{}
		for i, c := range cases {
			scheme, err := runCase(c)
			st := perScheme[scheme]
			if st == nil {
				st = &tally{}
				perScheme[scheme] = st
			}
			st.total++
			ft.total++
			if err != nil {
				t.Errorf("%s case %d (%s, %s): %v", filepath.Base(f), i, c.TestType, c.Description, err)
				continue
			}
			st.pass++
			ft.pass++
		}
		t.Logf("suite %-45s %4d/%4d", filepath.Base(f), ft.pass, ft.total)
	}
	names := make([]string, 0, len(perScheme))
	for k := range perScheme {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("scheme %-15s %4d/%4d", n, perScheme[n].pass, perScheme[n].total)
	}
}

func TestOfficialSuites(t *testing.T) {
	t.Parallel()
	runSuites(t, suiteFiles(t, "testdata/suites/vers-spec", "testdata/suites/univers"))
}

func TestOfficialSuitesExtra(t *testing.T) {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: the held-out suite half is not available")
	}
	t.Parallel()
	runSuites(t, suiteFiles(t, filepath.Join(dir, "version_ranges", "vers-spec"), filepath.Join(dir, "version_ranges", "univers")))
}
