package sbom

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// fastSchemaFields are the fields of jsonschema.Schema that fastCompiler
// either implements, rejects as unsupported, or may ignore (annotations
// and bookkeeping). A new field in a jsonschema upgrade fails this test
// until fastCompiler is taught about it.
var fastSchemaFields = []string{
	"DraftVersion", "Location", "Bool", "ID", "Ref", "Anchor", "RecursiveRef", "RecursiveAnchor",
	"DynamicRef", "DynamicAnchor", "Types", "Enum", "Const", "Not", "AllOf", "AnyOf", "OneOf",
	"If", "Then", "Else", "Format", "MaxProperties", "MinProperties", "Required", "PropertyNames",
	"Properties", "PatternProperties", "AdditionalProperties", "Dependencies", "DependentRequired",
	"DependentSchemas", "UnevaluatedProperties", "MinItems", "MaxItems", "UniqueItems", "Contains",
	"MinContains", "MaxContains", "Items", "AdditionalItems", "PrefixItems", "Items2020",
	"UnevaluatedItems", "MinLength", "MaxLength", "Pattern", "ContentEncoding", "ContentMediaType",
	"ContentSchema", "Maximum", "Minimum", "ExclusiveMaximum", "ExclusiveMinimum", "MultipleOf",
	"Extensions", "Title", "Description", "Default", "Comment", "ReadOnly", "WriteOnly", "Examples",
	"Deprecated",
}

func TestFastSchemaFieldsKnown(t *testing.T) {
	var got []string
	rt := reflect.TypeFor[jsonschema.Schema]()
	for i := range rt.NumField() {
		if f := rt.Field(i); f.IsExported() {
			got = append(got, f.Name)
		}
	}
	want := append([]string(nil), fastSchemaFields...)
	sort.Strings(got)
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("jsonschema.Schema fields changed; review fastCompiler (-known +now):\n%s", diff)
	}
}

func TestFastPatterns(t *testing.T) {
	cases := []string{"", "a", "a\nb", "\n", "abc\n", "é\xff", strings.Repeat("a", 32), strings.Repeat("A", 40),
		strings.Repeat("0", 64), strings.Repeat("f", 96), strings.Repeat("9", 128), strings.Repeat("g", 32),
		strings.Repeat("a", 33), strings.Repeat("a", 31), strings.Repeat("a", 64) + "\n", "\n" + strings.Repeat("a", 64)}
	for pat, fn := range fastPatterns {
		re := regexp.MustCompile(pat)
		for _, s := range cases {
			if got, want := fn(s), re.MatchString(s); got != want {
				t.Errorf("fastPatterns[%q](%q) = %v, regexp says %v", pat, s, got, want)
			}
		}
	}
}

// cdxItems returns the raw components and dependencies items of a
// CycloneDX JSON document (nested components included) with its version.
func cdxItems(data []byte) (version string, items map[string][]json.RawMessage) {
	var doc struct {
		SpecVersion  string            `json:"specVersion"`
		Components   []json.RawMessage `json:"components"`
		Dependencies []json.RawMessage `json:"dependencies"`
		Metadata     struct {
			Component json.RawMessage `json:"component"`
		} `json:"metadata"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return "", nil
	}
	items = map[string][]json.RawMessage{"dependency": doc.Dependencies}
	var walk func([]json.RawMessage)
	walk = func(cs []json.RawMessage) {
		for _, c := range cs {
			items["component"] = append(items["component"], c)
			var sub struct {
				Components []json.RawMessage `json:"components"`
			}
			if json.Unmarshal(c, &sub) == nil {
				walk(sub.Components)
			}
		}
	}
	if doc.Metadata.Component != nil {
		walk([]json.RawMessage{doc.Metadata.Component})
	}
	walk(doc.Components)
	return doc.SpecVersion, items
}

// compareItem checks the fast path against jsonschema on one item: a
// certain answer of the fast path must be jsonschema's answer.
func compareItem(t *testing.T, name, version, def string, item []byte) fstate {
	t.Helper()
	node, sch := schemas.fast[version+"/"+def], schemas.items[version+"/"+def]
	if sch == nil {
		return fUnknown
	}
	var v fastValidator
	st := v.validate(node, item)
	if st == fUnknown {
		return st
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(item))
	if err != nil {
		t.Errorf("%s: fast path answered %d on input jsonschema cannot read (%v): %s", name, st, err, item)
		return st
	}
	verr := sch.Validate(inst)
	if (st == fValid) != (verr == nil) {
		t.Errorf("%s: %s/%s fast path says valid=%v, jsonschema says %v, item %s", name, version, def, st == fValid, verr, item)
	}
	return st
}

// normaliseMessage sorts the member names of jsonschema's "additional
// properties 'a', 'b' not allowed" message, which come from map iteration
// (their order changes from run to run).
func normaliseMessage(p Problem) Problem {
	const pre, post = "additional properties '", "' not allowed"
	if m, ok := strings.CutPrefix(p.Message, pre); ok {
		if m, ok := strings.CutSuffix(m, post); ok {
			names := strings.Split(m, "', '")
			sort.Strings(names)
			p.Message = pre + strings.Join(names, "', '") + post
		}
	}
	return p
}

// mutations returns variants of a JSON object item: each member dropped,
// and set to values of other types and shapes.
func mutations(item []byte) [][]byte {
	var m map[string]any
	if json.Unmarshal(item, &m) != nil {
		return nil
	}
	repl := []any{nil, true, 1, 1.5, "", "x", "line\nbreak", "é", []any{}, []any{"a", "a"}, []any{map[string]any{}},
		map[string]any{}, map[string]any{"name": "n"}, strings.Repeat("ab", 32)}
	var out [][]byte
	add := func(v any) {
		if b, err := json.Marshal(v); err == nil {
			out = append(out, b)
		}
	}
	for k, orig := range m {
		delete(m, k)
		add(m)
		for _, r := range repl {
			m[k] = r
			add(m)
		}
		m[k] = orig
	}
	m["x-unknown"] = "v"
	add(m)
	return out
}

func TestFastPathDifferential(t *testing.T) {
	if err := schemas.load(); err != nil {
		t.Fatal(err)
	}
	roots := []string{filepath.Join("testdata", "spec-tests"), filepath.Join("testdata", "examples")}
	if dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA"); dir != "" {
		roots = append(roots, filepath.Join(dir, "sbom", "cyclonedx"))
	}
	var files []string
	for _, r := range roots {
		_ = filepath.WalkDir(r, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
				files = append(files, p)
			}
			return nil
		})
	}
	counts := map[fstate]int{}
	mcounts := map[fstate]int{}
	docs := 0
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if Detect(data) != FormatCycloneDXJSON || len(data) > 8<<20 {
			continue
		}
		// Whole document: the fast path, when it answers, reports exactly
		// the problems of the jsonschema streaming path.
		if fast, ok := validateCycloneDXFast(data); ok {
			slow, err := validateCycloneDXStream(data, false)
			if err != nil {
				t.Errorf("%s: fast path answered, streaming path failed: %v", p, err)
			} else if diff := cmp.Diff(slow, fast, cmp.Transformer("msg", normaliseMessage)); diff != "" {
				t.Errorf("%s: problems differ (-jsonschema +fast):\n%s", p, diff)
			}
			docs++
		}
		version, items := cdxItems(data)
		for def, list := range items {
			for i, it := range list {
				counts[compareItem(t, p, version, def, it)]++
				if i >= 3 {
					continue // mutate the first items of each file (time)
				}
				for _, m := range mutations(it) {
					mcounts[compareItem(t, p+" (mutated)", version, def, m)]++
				}
			}
		}
	}
	t.Logf("%d files, %d documents fully on the fast path; items valid/invalid/unknown %d/%d/%d; mutations %d/%d/%d",
		len(files), docs, counts[fValid], counts[fInvalid], counts[fUnknown], mcounts[fValid], mcounts[fInvalid], mcounts[fUnknown])
	if counts[fValid] == 0 || mcounts[fInvalid] == 0 {
		t.Fatal("the fast path decided nothing: the differential test tests nothing")
	}
	// The benchmark's components must all be proven valid on the fast path
	// (otherwise the benchmark measures jsonschema).
	version, items := cdxItems(largeCycloneDX(50))
	for def, list := range items {
		for _, it := range list {
			if st := compareItem(t, "largeCycloneDX", version, def, it); st != fValid {
				t.Errorf("largeCycloneDX %s item not proven valid (%d): %s", def, st, it)
			}
		}
	}
}

// FuzzComponentValidator compares the fast path with jsonschema on
// random mutations of real components and dependencies: whenever the fast
// path is certain, jsonschema must agree.
func FuzzComponentValidator(f *testing.F) {
	if err := schemas.load(); err != nil {
		f.Fatal(err)
	}
	seeds, _ := filepath.Glob(filepath.Join("testdata", "spec-tests", "1.*", "valid-*.json"))
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		version, items := cdxItems(data)
		for def, list := range items {
			for _, it := range list {
				f.Add(version, def == "dependency", []byte(it))
			}
		}
	}
	_, items := cdxItems(largeCycloneDX(2))
	for _, it := range items["component"] {
		f.Add("1.6", false, []byte(it))
	}
	f.Fuzz(func(t *testing.T, version string, dep bool, item []byte) {
		def := "component"
		if dep {
			def = "dependency"
		}
		if len(item) > 64<<10 || checkJSONDepth(item, 64) != nil {
			return
		}
		compareItem(t, "fuzz", version, def, item)
	})
}
