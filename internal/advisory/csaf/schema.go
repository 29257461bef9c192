package csaf

import (
	"bytes"
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The official CSAF 2.0 schema and the FIRST CVSS schemas it references,
// copied from the OASIS CSAF TC repository (see schema/PROVENANCE.md).
//
//go:embed schema/csaf_json_schema.json schema/first/*.json
var schemaFS embed.FS

const (
	csafSchemaURL = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
)

// schemaFiles maps each canonical URL to its embedded copy, so that $refs
// resolve offline. Any other URL is refused.
var schemaFiles = map[string]string{
	csafSchemaURL: "schema/csaf_json_schema.json",
	"https://www.first.org/cvss/cvss-v2.0.json": "schema/first/cvss-v2.0.json",
	"https://www.first.org/cvss/cvss-v3.0.json": "schema/first/cvss-v3.0.json",
	"https://www.first.org/cvss/cvss-v3.1.json": "schema/first/cvss-v3.1.json",
	"urn:medwarden:first/cvss-v2.0_strict.json": "schema/first/cvss-v2.0_strict.json",
	"urn:medwarden:first/cvss-v3.0_strict.json": "schema/first/cvss-v3.0_strict.json",
	"urn:medwarden:first/cvss-v3.1_strict.json": "schema/first/cvss-v3.1_strict.json",
}

type schemas struct {
	csaf                   *jsonschema.Schema
	cvss20, cvss30, cvss31 *jsonschema.Schema // strict FIRST schemas, for 6.1.8
	printer                *message.Printer
}

type embeddedLoader struct{}

func (embeddedLoader) Load(url string) (any, error) {
	// The FIRST v3.1 schema declares "$id": "...cvss-v3.1.json?20211103".
	if i := strings.IndexByte(url, '?'); i >= 0 && strings.HasPrefix(url, "https://www.first.org/") {
		url = url[:i]
	}
	name, ok := schemaFiles[url]
	if !ok {
		return nil, fmt.Errorf("schema %q is not embedded (offline validation refuses remote schemas)", url)
	}
	data, err := schemaFS.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read embedded schema %s: %w", name, err)
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(data))
}

func compileSchemas() (*schemas, error) {
	c := jsonschema.NewCompiler()
	c.UseLoader(embeddedLoader{})
	c.AssertFormat()
	s := &schemas{printer: message.NewPrinter(language.English)}
	var err error
	if s.csaf, err = c.Compile(csafSchemaURL); err != nil {
		return nil, fmt.Errorf("compile csaf schema: %w", err)
	}
	// The strict schemas share $ids with the lax ones, so each gets its own compiler.
	for _, x := range []struct {
		url string
		dst **jsonschema.Schema
	}{
		{"urn:medwarden:first/cvss-v2.0_strict.json", &s.cvss20},
		{"urn:medwarden:first/cvss-v3.0_strict.json", &s.cvss30},
		{"urn:medwarden:first/cvss-v3.1_strict.json", &s.cvss31},
	} {
		data, err := schemaFS.ReadFile(schemaFiles[x.url])
		if err != nil {
			return nil, fmt.Errorf("read embedded schema %s: %w", x.url, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("decode embedded schema %s: %w", x.url, err)
		}
		if m, ok := doc.(map[string]any); ok {
			delete(m, "$id") // compile under our URN, not the FIRST URL
		}
		cc := jsonschema.NewCompiler()
		cc.UseLoader(embeddedLoader{})
		if err := cc.AddResource(x.url, doc); err != nil {
			return nil, fmt.Errorf("add schema %s: %w", x.url, err)
		}
		if *x.dst, err = cc.Compile(x.url); err != nil {
			return nil, fmt.Errorf("compile schema %s: %w", x.url, err)
		}
	}
	return s, nil
}

func decodeGeneric(data []byte) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(data))
}

// validate checks v against the CSAF schema and returns one finding per
// failing leaf, with the instance's JSON pointer.
func (s *schemas) validate(v any) []Error {
	return s.findings(s.csaf, v, TestSchema, "")
}

// findings runs sch on v; paths are prefixed with base.
func (s *schemas) findings(sch *jsonschema.Schema, v any, test, base string) []Error {
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []Error{{Test: test, Path: base, Message: err.Error()}}
	}
	var out []Error
	s.collect(ve, test, base, &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func (s *schemas) collect(ve *jsonschema.ValidationError, test, base string, out *[]Error) {
	if len(ve.Causes) == 0 {
		*out = append(*out, Error{
			Test:    test,
			Path:    base + ptrStrings(ve.InstanceLocation),
			Message: ve.ErrorKind.LocalizedString(s.printer),
		})
		return
	}
	for _, c := range ve.Causes {
		s.collect(c, test, base, out)
	}
}

func ptrStrings(toks []string) string {
	args := make([]any, len(toks))
	for i, t := range toks {
		args[i] = t
	}
	return ptr(args...)
}
