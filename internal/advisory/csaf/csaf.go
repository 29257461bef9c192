// Package csaf decodes and validates CSAF 2.0 documents and converts them
// into the normalised advisory model.
//
// Validation is done in three layers, all offline:
//   - input checks (size limit, JSON syntax, nesting depth), test id "input" or "json";
//   - the official CSAF 2.0 JSON schema, embedded with the FIRST CVSS schemas
//     it references, test id "schema";
//   - every mandatory test of CSAF 2.0 section 6.1 (6.1.1 … 6.1.33), test
//     id "6.1.x".
//
// Every finding names the test and the JSON pointer of the offending value.
package csaf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
)

// Defaults for Options.
const (
	DefaultMaxSize        = 32 << 20 // bytes
	DefaultMaxDepth       = 256      // JSON nesting levels ({ and [)
	DefaultMaxBranchDepth = 64       // product tree branch levels
	DefaultMaxErrors      = 1000     // findings kept per document
	// DefaultMaxGroupExpansion bounds the product ids that product group
	// references may expand to, per document.
	DefaultMaxGroupExpansion = 1 << 22
)

// Test ids used for findings that are not CSAF section 6.1 tests.
const (
	TestInput  = "input"  // size or nesting limit exceeded
	TestJSON   = "json"   // not well-formed JSON
	TestSchema = "schema" // JSON schema violation
)

// ErrRead wraps failures to read the input (I/O), as opposed to input that
// was read but is invalid (reported as findings).
var ErrRead = errors.New("read error")

// Options bound the resources one document may use.
type Options struct {
	// MaxSize is the largest document accepted, in bytes (0: DefaultMaxSize).
	MaxSize int64
	// MaxDepth bounds JSON nesting (0: DefaultMaxDepth).
	MaxDepth int
	// MaxBranchDepth bounds product tree branch nesting (0: DefaultMaxBranchDepth).
	MaxBranchDepth int
	// MaxErrors caps the findings kept per document (0: DefaultMaxErrors).
	MaxErrors int
	// MaxGroupExpansion bounds group expansion in the tests and in
	// ToAdvisory (0: DefaultMaxGroupExpansion).
	MaxGroupExpansion int
	// SkipSchema skips JSON schema validation (mandatory tests still run).
	SkipSchema bool
	// Optional also runs the optional tests of section 6.2; their failures
	// go to Report.Warnings and do not make a document invalid.
	Optional bool
}

func (o Options) withDefaults() Options {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxBranchDepth <= 0 {
		o.MaxBranchDepth = DefaultMaxBranchDepth
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = DefaultMaxErrors
	}
	if o.MaxGroupExpansion <= 0 {
		o.MaxGroupExpansion = DefaultMaxGroupExpansion
	}
	return o
}

// Error is one validation finding.
type Error struct {
	// Test is the CSAF test id ("6.1.2", "6.1.27.9") or one of TestInput,
	// TestJSON, TestSchema.
	Test string `json:"test"`
	// Path is the JSON pointer (RFC 6901) of the offending value; "" is the whole document.
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (e Error) Error() string {
	p := e.Path
	if p == "" {
		p = "/"
	}
	return fmt.Sprintf("%s at %s: %s", e.Test, p, e.Message)
}

// Report is the outcome of parsing and validating one document.
type Report struct {
	// Name is the name given to Parse (usually the file name).
	Name string `json:"file"`
	// Valid is true when there is no finding.
	Valid  bool    `json:"valid"`
	Errors []Error `json:"errors"`
	// Warnings are the optional-test (6.2.x) failures, when Options.Optional is set.
	Warnings []Error `json:"warnings,omitempty"`
	// Truncated is true when more than MaxErrors findings were found.
	Truncated bool `json:"truncated,omitempty"`
	// SHA256 is the hex SHA-256 of the bytes read; Size their count.
	SHA256 string `json:"sha256,omitempty"`
	Size   int64  `json:"size"`
	// Document is the decoded document, nil when the input was not a JSON
	// object within the limits. It is set even when findings exist.
	Document *Document `json:"-"`
}

// HasTest reports whether the report has a finding of the given test id.
func (r *Report) HasTest(id string) bool {
	for _, e := range r.Errors {
		if e.Test == id {
			return true
		}
	}
	return false
}

// Validator parses and validates CSAF 2.0 documents. Build it once with
// NewValidator (schema compilation is the expensive part) and share it: it
// is safe for concurrent use.
type Validator struct {
	opts    Options
	schemas *schemas
}

// NewValidator compiles the embedded schemas.
func NewValidator(opts Options) (*Validator, error) {
	s, err := compileSchemas()
	if err != nil {
		return nil, err
	}
	return &Validator{opts: opts.withDefaults(), schemas: s}, nil
}

// Parse reads one document from r, decodes it and runs the schema and all
// mandatory tests. name is used in the report only. The returned error is
// non-nil only when r cannot be read (wrapping ErrRead); every problem of
// the content itself is a finding in the report.
func (v *Validator) Parse(r io.Reader, name string) (*Report, error) {
	o := v.opts
	lr := &io.LimitedReader{R: r, N: o.MaxSize + 1}
	h := sha256.New()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.TeeReader(lr, h)); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRead, name, err)
	}
	rep := &Report{Name: name, Size: int64(buf.Len()), SHA256: hex.EncodeToString(h.Sum(nil))}
	if int64(buf.Len()) > o.MaxSize {
		rep.Size = -1
		rep.SHA256 = ""
		rep.add(o, Error{Test: TestInput, Message: fmt.Sprintf("document is larger than the %d byte limit", o.MaxSize)})
		return rep.finish(), nil
	}
	v.validateBytes(rep, buf.Bytes())
	return rep.finish(), nil
}

// ParseBytes is Parse on an in-memory document.
func (v *Validator) ParseBytes(data []byte, name string) *Report {
	rep := &Report{Name: name, Size: int64(len(data))}
	sum := sha256.Sum256(data)
	rep.SHA256 = hex.EncodeToString(sum[:])
	if int64(len(data)) > v.opts.MaxSize {
		rep.add(v.opts, Error{Test: TestInput, Message: fmt.Sprintf("document is larger than the %d byte limit", v.opts.MaxSize)})
		return rep.finish()
	}
	v.validateBytes(rep, data)
	return rep.finish()
}

func (v *Validator) validateBytes(rep *Report, data []byte) {
	o := v.opts
	if err := checkJSON(data, o.MaxDepth); err != nil {
		rep.add(o, *err)
		return
	}
	generic, err := decodeGeneric(data)
	if err != nil {
		rep.add(o, syntaxError(data))
		return
	}
	if !o.SkipSchema {
		for _, e := range v.schemas.validate(generic) {
			rep.add(o, e)
		}
	}
	obj, _ := generic.(map[string]any)
	var doc Document
	fill(reflect.ValueOf(&doc).Elem(), obj)
	_, doc.HasVulnerabilities = obj["vulnerabilities"]
	rep.Document = &doc
	for _, e := range runMandatory(&doc, v.schemas, o) {
		rep.add(o, e)
	}
	if o.Optional {
		rep.Warnings = runOptional(&doc, obj)
		sort.SliceStable(rep.Warnings, func(i, j int) bool { return testLess(rep.Warnings[i].Test, rep.Warnings[j].Test) })
		if len(rep.Warnings) > o.MaxErrors {
			rep.Warnings = rep.Warnings[:o.MaxErrors]
		}
	}
}

func (r *Report) add(o Options, e Error) {
	if len(r.Errors) >= o.MaxErrors {
		r.Truncated = true
		return
	}
	r.Errors = append(r.Errors, e)
}

func (r *Report) finish() *Report {
	// Stable, readable order: input/json/schema first, then tests by number, then path.
	sort.SliceStable(r.Errors, func(i, j int) bool {
		a, b := r.Errors[i], r.Errors[j]
		if a.Test != b.Test {
			return testLess(a.Test, b.Test)
		}
		return false
	})
	r.Errors = dedupe(r.Errors)
	if r.Errors == nil {
		r.Errors = []Error{}
	}
	r.Valid = len(r.Errors) == 0 && !r.Truncated
	return r
}

func dedupe(es []Error) []Error {
	if len(es) < 2 {
		return es
	}
	seen := make(map[Error]bool, len(es))
	out := es[:0]
	for _, e := range es {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// testLess orders test ids: input, json, schema, then 6.1.1 < 6.1.2 < 6.1.10 < 6.1.27.1.
func testLess(a, b string) bool {
	ra, rb := testRank(a), testRank(b)
	if ra != rb {
		return ra < rb
	}
	if ra < 3 {
		return false
	}
	na, nb := splitNums(a), splitNums(b)
	for i := 0; i < len(na) && i < len(nb); i++ {
		if na[i] != nb[i] {
			return na[i] < nb[i]
		}
	}
	return len(na) < len(nb)
}

func testRank(t string) int {
	switch t {
	case TestInput:
		return 0
	case TestJSON:
		return 1
	case TestSchema:
		return 2
	}
	return 3
}

func splitNums(s string) []int {
	var out []int
	n := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			out = append(out, n)
			n = 0
			continue
		}
		if s[i] >= '0' && s[i] <= '9' {
			n = n*10 + int(s[i]-'0')
		}
	}
	return out
}

// syntaxError describes why data is not one well-formed JSON value, with
// the line and column of the problem.
func syntaxError(data []byte) Error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var x json.RawMessage
	err := dec.Decode(&x)
	msg := "not well-formed JSON"
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		l, c := lineCol(data, max(se.Offset-1, 0))
		msg = fmt.Sprintf("not well-formed JSON at line %d column %d: %v", l, c, se)
	case err == nil:
		l, c := lineCol(data, dec.InputOffset())
		msg = fmt.Sprintf("not well-formed JSON: unexpected data after the document at line %d column %d", l, c)
	case errors.Is(err, io.ErrUnexpectedEOF):
		l, c := lineCol(data, int64(len(data)))
		msg = fmt.Sprintf("not well-formed JSON: unexpected end of input at line %d column %d", l, c)
	default:
		msg = "not well-formed JSON: " + err.Error()
	}
	return Error{Test: TestJSON, Message: msg}
}

// checkJSON verifies, without building anything, that data's nesting does
// not exceed maxDepth and that it starts as a JSON object.
func checkJSON(data []byte, maxDepth int) *Error {
	// Syntax is checked by the decoders; syntaxError describes failures.
	depth := 0
	inStr := false
	first := byte(0)
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			if first == 0 {
				first = c
			}
			depth++
			if depth > maxDepth {
				l, col := lineCol(data, int64(i))
				return &Error{Test: TestInput, Message: fmt.Sprintf("JSON nesting deeper than %d levels at line %d column %d", maxDepth, l, col)}
			}
		case '}', ']':
			depth--
		case ' ', '\t', '\r', '\n':
		default:
			if first == 0 {
				first = c
			}
		}
	}
	if first != '{' {
		if !json.Valid(data) {
			e := syntaxError(data)
			return &e
		}
		return &Error{Test: TestSchema, Message: "document is not a JSON object"}
	}
	return nil
}

func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col = 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// ptr builds a JSON pointer from tokens, escaping ~ and /.
func ptr(tokens ...any) string {
	var b []byte
	for _, t := range tokens {
		b = append(b, '/')
		switch x := t.(type) {
		case int:
			b = strconv.AppendInt(b, int64(x), 10)
		case string:
			for i := 0; i < len(x); i++ {
				switch x[i] {
				case '~':
					b = append(b, '~', '0')
				case '/':
					b = append(b, '~', '1')
				default:
					b = append(b, x[i])
				}
			}
		}
	}
	return string(b)
}
