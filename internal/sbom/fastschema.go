package sbom

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// A fast path for JSON-schema validation of CycloneDX items.
//
// fastNode is a compiled *jsonschema.Schema restricted to the keywords the
// CycloneDX item definitions use (type, enum, const, $ref, allOf/anyOf/
// oneOf/not/if, properties, required, additionalProperties, items (list
// and tuple), additionalItems, min/maxItems, uniqueItems on strings,
// min/maxLength, pattern, format). It checks the item's bytes directly,
// without building a map[string]any. Its answer is three-valued: fValid
// and fInvalid are certain; fUnknown means "this input or schema is
// outside the fast path" (a keyword it does not implement, an escaped or
// invalid-UTF-8 string, a duplicate key, a non-integer literal against
// "integer", uniqueItems over objects, a syntax error, ...). Only fValid is
// trusted on its own: everything else is re-validated by jsonschema, which
// also writes the error messages and pointers. So the fast path can make
// validation faster but never changes its outcome (see fastschema_test.go:
// a differential test and FuzzComponentValidator).

type fstate uint8

const (
	fValid fstate = iota
	fInvalid
	fUnknown
)

func fand(a, b fstate) fstate {
	if a == fInvalid || b == fInvalid {
		return fInvalid
	}
	if a == fUnknown || b == fUnknown {
		return fUnknown
	}
	return fValid
}

const (
	tNull = 1 << iota
	tBool
	tNumber
	tInteger
	tString
	tArray
	tObject
)

type fastNode struct {
	unsupported bool // a keyword outside the fast path: always fUnknown
	never       bool // the false schema
	types       uint8
	enum        map[string]struct{} // string-only enum (or const)
	hasEnum     bool
	ref         *fastNode
	not         *fastNode
	allOf       []*fastNode
	anyOf       []*fastNode
	oneOf       []*fastNode
	ifN         *fastNode
	thenN       *fastNode
	elseN       *fastNode
	format      *jsonschema.Format
	// object
	required  []string
	props     map[string]*fastNode
	addl      *fastNode
	addlFalse bool
	// array
	minItems, maxItems int // -1: none
	unique             bool
	items              *fastNode   // list form
	tuple              []*fastNode // tuple form
	tupleAddl          *fastNode
	tupleAddlFalse     bool
	// string
	minLen, maxLen int // -1: none
	pattern        jsonschema.Regexp
	// match replaces pattern.MatchString for patterns with a known exact
	// equivalent (fastPatterns).
	match func(string) bool
	// pureRef: the node is only a $ref (no keyword of its own).
	pureRef bool
}

// fastPatterns are exact hand-written equivalents of hot CycloneDX
// patterns under Go's regexp semantics (which jsonschema uses): "." does
// not match "\n", "$" without the m flag is the end of the text.
// TestFastPatterns checks them against regexp on edge cases and the fuzzer.
var fastPatterns = map[string]func(string) bool{
	"^(.*)$": func(s string) bool { return strings.IndexByte(s, '\n') < 0 },
	"^([a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{64}|[a-fA-F0-9]{96}|[a-fA-F0-9]{128})$": func(s string) bool {
		switch len(s) {
		case 32, 40, 64, 96, 128:
		default:
			return false
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
		return true
	},
}

type fastCompiler map[*jsonschema.Schema]*fastNode

func (c fastCompiler) compile(s *jsonschema.Schema) *fastNode {
	if s == nil {
		return nil
	}
	if n, ok := c[s]; ok {
		return n
	}
	n := &fastNode{minItems: -1, maxItems: -1, minLen: -1, maxLen: -1}
	c[s] = n // before recursing: schemas are recursive (component.components)
	if s.Bool != nil {
		n.never = !*s.Bool
		return n
	}
	if s.RecursiveRef != nil || s.DynamicRef != nil || s.PropertyNames != nil || len(s.PatternProperties) > 0 ||
		len(s.Dependencies) > 0 || len(s.DependentRequired) > 0 || len(s.DependentSchemas) > 0 ||
		s.UnevaluatedProperties != nil || s.UnevaluatedItems != nil || s.MaxProperties != nil || s.MinProperties != nil ||
		s.Contains != nil || s.MinContains != nil || s.MaxContains != nil || len(s.PrefixItems) > 0 ||
		s.ContentEncoding != nil || s.ContentMediaType != nil || s.ContentSchema != nil ||
		s.Maximum != nil || s.Minimum != nil || s.ExclusiveMaximum != nil || s.ExclusiveMinimum != nil || s.MultipleOf != nil ||
		len(s.Extensions) > 0 {
		n.unsupported = true
		return n
	}
	if s.Types != nil {
		for _, t := range s.Types.ToStrings() {
			switch t {
			case "null":
				n.types |= tNull
			case "boolean":
				n.types |= tBool
			case "number":
				n.types |= tNumber
			case "integer":
				n.types |= tInteger
			case "string":
				n.types |= tString
			case "array":
				n.types |= tArray
			case "object":
				n.types |= tObject
			default:
				n.unsupported = true
				return n
			}
		}
	}
	var enum []any
	if s.Enum != nil {
		enum = s.Enum.Values
	}
	if s.Const != nil {
		if s.Enum != nil {
			n.unsupported = true
			return n
		}
		enum = []any{*s.Const}
	}
	if enum != nil {
		n.hasEnum = true
		n.enum = make(map[string]struct{}, len(enum))
		for _, v := range enum {
			str, ok := v.(string)
			if !ok {
				n.unsupported = true
				return n
			}
			n.enum[str] = struct{}{}
		}
	}
	n.format = s.Format
	n.ref = c.compile(s.Ref)
	n.not = c.compile(s.Not)
	for _, x := range s.AllOf {
		n.allOf = append(n.allOf, c.compile(x))
	}
	for _, x := range s.AnyOf {
		n.anyOf = append(n.anyOf, c.compile(x))
	}
	for _, x := range s.OneOf {
		n.oneOf = append(n.oneOf, c.compile(x))
	}
	if s.If != nil {
		n.ifN, n.thenN, n.elseN = c.compile(s.If), c.compile(s.Then), c.compile(s.Else)
	}
	n.required = s.Required
	if len(s.Properties) > 0 {
		n.props = make(map[string]*fastNode, len(s.Properties))
		for k, v := range s.Properties {
			n.props[k] = c.compile(v)
		}
	}
	switch a := s.AdditionalProperties.(type) {
	case nil:
	case bool:
		n.addlFalse = !a
	case *jsonschema.Schema:
		n.addl = c.compile(a)
	default:
		n.unsupported = true
		return n
	}
	if s.MinItems != nil {
		n.minItems = *s.MinItems
	}
	if s.MaxItems != nil {
		n.maxItems = *s.MaxItems
	}
	n.unique = s.UniqueItems
	switch it := s.Items.(type) {
	case nil:
		// additionalItems without a tuple "items" applies to nothing.
	case *jsonschema.Schema:
		n.items = c.compile(it)
	case []*jsonschema.Schema:
		n.tuple = make([]*fastNode, 0, len(it))
		for _, x := range it {
			n.tuple = append(n.tuple, c.compile(x))
		}
		switch a := s.AdditionalItems.(type) {
		case nil:
		case bool:
			n.tupleAddlFalse = !a
		case *jsonschema.Schema:
			n.tupleAddl = c.compile(a)
		default:
			n.unsupported = true
			return n
		}
	default:
		n.unsupported = true
		return n
	}
	if s.Items2020 != nil {
		if n.items != nil || n.tuple != nil {
			n.unsupported = true
			return n
		}
		n.items = c.compile(s.Items2020)
	}
	if s.MinLength != nil {
		n.minLen = *s.MinLength
	}
	if s.MaxLength != nil {
		n.maxLen = *s.MaxLength
	}
	n.pattern = s.Pattern
	if n.pattern != nil {
		n.match = fastPatterns[n.pattern.String()]
		if n.match == nil {
			n.match = n.pattern.MatchString
		}
	}
	n.pureRef = n.ref != nil && !n.never && n.types == 0 && !n.hasEnum && n.not == nil &&
		len(n.allOf)+len(n.anyOf)+len(n.oneOf) == 0 && n.ifN == nil && n.format == nil &&
		len(n.required) == 0 && len(n.props) == 0 && n.addl == nil && !n.addlFalse &&
		n.minItems < 0 && n.maxItems < 0 && !n.unique && n.items == nil && n.tuple == nil &&
		n.tupleAddl == nil && !n.tupleAddlFalse && n.minLen < 0 && n.maxLen < 0 && n.pattern == nil
	return n
}

// fastValidator checks one JSON value (an item) against a fastNode.
type fastValidator struct {
	d    []byte
	bad  bool     // syntax error or unsupported input seen
	keys [][]byte // scratch stack of object keys (duplicate and required checks)
	strs [][]byte // scratch stack of array strings (uniqueItems)
	// formats caches format results (pure functions of the string) of
	// short strings: supplier URLs, dates and e-mails repeat across items.
	formats map[fmtKey]bool
	// sawWS is set when ws skips anything (the caller resets it).
	sawWS bool
}

// validate checks the whole of data (one JSON value, surrounding
// whitespace allowed) against n.
func (v *fastValidator) validate(n *fastNode, data []byte) fstate {
	v.d, v.bad = data, false
	end, st := v.val(n, 0)
	end = v.ws(end)
	if v.bad || end != len(data) {
		return fUnknown
	}
	return st
}

// unquote decodes the escaped or non-UTF-8 string d[i:end] as
// encoding/json does (invalid UTF-8 becomes U+FFFD).
func (v *fastValidator) unquote(i, end int) string {
	var u string
	if json.Unmarshal(v.d[i:end], &u) != nil {
		v.bad = true
	}
	return u
}

type fmtKey struct {
	f *jsonschema.Format
	s string
}

func (v *fastValidator) formatOK(f *jsonschema.Format, s string) bool {
	if len(s) > 256 {
		return f.Validate(s) == nil
	}
	if ok, hit := v.formats[fmtKey{f, s}]; hit {
		return ok
	}
	s = strings.Clone(s) // s may be a view of the input; the cache keeps it
	ok := f.Validate(s) == nil
	if v.formats == nil || len(v.formats) >= 4096 {
		v.formats = make(map[fmtKey]bool)
	}
	v.formats[fmtKey{f, s}] = ok
	return ok
}

// sep steps over what follows a member or an element: a comma (more
// follows) or closer (the object or array ends). Anything else, or the end
// of the input, marks the document bad.
func (v *fastValidator) sep(i int, closer byte) (int, bool) {
	i = v.ws(i)
	if i < len(v.d) {
		switch v.d[i] {
		case ',':
			return i + 1, true
		case closer:
			return i + 1, false
		}
	}
	v.bad = true
	return i, false
}

func (v *fastValidator) ws(i int) int {
	for i < len(v.d) {
		switch v.d[i] {
		case ' ', '\t', '\r', '\n':
			i++
			v.sawWS = true
		default:
			return i
		}
	}
	return i
}

// val checks the value at i against n and returns the offset after it.
func (v *fastValidator) val(n *fastNode, i int) (int, fstate) {
	i = v.ws(i)
	if i >= len(v.d) {
		v.bad = true
		return i, fUnknown
	}
	for n != nil && n.pureRef {
		n = n.ref
	}
	if n == nil {
		return v.own(nil, i)
	}
	if n.unsupported {
		end, _ := v.own(nil, i)
		return end, fUnknown
	}
	if n.never {
		end, _ := v.own(nil, i)
		return end, fInvalid
	}
	end, st := v.own(n, i)
	if v.bad {
		return end, fUnknown
	}
	if n.ref != nil {
		_, s := v.val(n.ref, i)
		st = fand(st, s)
	}
	for _, a := range n.allOf {
		_, s := v.val(a, i)
		st = fand(st, s)
	}
	if len(n.anyOf) > 0 {
		any := fInvalid
		for _, a := range n.anyOf {
			_, s := v.val(a, i)
			if s == fValid {
				any = fValid
				break
			}
			if s == fUnknown {
				any = fUnknown
			}
		}
		st = fand(st, any)
	}
	if len(n.oneOf) > 0 {
		valid, unknown := 0, false
		for _, a := range n.oneOf {
			_, s := v.val(a, i)
			switch s {
			case fValid:
				valid++
			case fUnknown:
				unknown = true
			}
		}
		switch {
		case unknown:
			st = fand(st, fUnknown)
		case valid == 1:
		default:
			st = fInvalid
		}
	}
	if n.not != nil {
		_, s := v.val(n.not, i)
		switch s {
		case fValid:
			st = fInvalid
		case fUnknown:
			st = fand(st, fUnknown)
		}
	}
	if n.ifN != nil {
		_, s := v.val(n.ifN, i)
		switch {
		case s == fUnknown:
			st = fand(st, fUnknown)
		case s == fValid && n.thenN != nil:
			_, t := v.val(n.thenN, i)
			st = fand(st, t)
		case s == fInvalid && n.elseN != nil:
			_, t := v.val(n.elseN, i)
			st = fand(st, t)
		}
	}
	if v.bad {
		return end, fUnknown
	}
	return end, st
}

func typeOK(n *fastNode, t uint8) bool {
	if n == nil || n.types == 0 {
		return true
	}
	if t == tInteger {
		return n.types&(tInteger|tNumber) != 0
	}
	return n.types&t != 0
}

// own checks n's own (non-combinator) keywords on the value at i (which
// is not whitespace). n may be nil (only syntax is checked).
func (v *fastValidator) own(n *fastNode, i int) (int, fstate) {
	d := v.d
	switch c := d[i]; {
	case c == '{':
		return v.object(n, i)
	case c == '[':
		return v.array(n, i)
	case c == '"':
		return v.str(n, i)
	case c == 't' || c == 'f' || c == 'n':
		lit, t := "null", uint8(tNull)
		switch c {
		case 't':
			lit, t = "true", tBool
		case 'f':
			lit, t = "false", tBool
		}
		if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
			v.bad = true
			return i, fUnknown
		}
		i += len(lit)
		if n != nil && n.hasEnum {
			return i, fUnknown
		}
		if !typeOK(n, t) {
			return i, fInvalid
		}
		return i, fValid
	default:
		end, integer := v.number(i)
		if v.bad {
			return end, fUnknown
		}
		if n == nil || n.types == 0 && !n.hasEnum {
			return end, fValid
		}
		if n.hasEnum {
			return end, fUnknown
		}
		if n.types&tNumber != 0 || (integer && n.types&tInteger != 0) {
			return end, fValid
		}
		if !integer && n.types&tInteger != 0 {
			return end, fUnknown // 1.0 is an integer to JSON schema
		}
		return end, fInvalid
	}
}

// number scans a JSON number; integer is true when it has no fraction or
// exponent.
func (v *fastValidator) number(i int) (int, bool) {
	d := v.d
	start := i
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		v.bad = true
		return start, false
	}
	integer := true
	if i < len(d) && d[i] == '.' {
		integer = false
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			v.bad = true
			return i, false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		integer = false
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			v.bad = true
			return i, false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	return i, integer
}

// scanString returns the end of the string starting at the quote at i, the
// raw contents, and whether they are plain (no escapes, valid UTF-8) so
// that the raw bytes are the decoded string.
func (v *fastValidator) scanString(i int) (end int, raw []byte, plain bool) {
	d := v.d
	j := i + 1
	plain = true
	ascii := true
	for j < len(d) {
		c := d[j]
		switch {
		case c == '"':
			raw = d[i+1 : j]
			if !ascii && !utf8.Valid(raw) {
				plain = false
			}
			return j + 1, raw, plain
		case c == '\\':
			plain = false
			j += 2
			continue
		case c < 0x20:
			v.bad = true
			return j, nil, false
		case c >= 0x80:
			ascii = false
		}
		j++
	}
	v.bad = true
	return j, nil, false
}

func (v *fastValidator) str(n *fastNode, i int) (int, fstate) {
	end, raw, plain := v.scanString(i)
	if v.bad {
		return end, fUnknown
	}
	if n == nil || (n.types == 0 && !n.hasEnum && n.minLen < 0 && n.maxLen < 0 && n.pattern == nil && n.format == nil) {
		return end, fValid
	}
	if !typeOK(n, tString) {
		return end, fInvalid
	}
	var s string
	if plain {
		if len(raw) > 0 {
			s = unsafe.String(&raw[0], len(raw))
		}
	} else {
		s = v.unquote(i, end)
		if v.bad {
			return end, fUnknown
		}
	}
	if n.hasEnum {
		if _, ok := n.enum[s]; !ok {
			return end, fInvalid
		}
	}
	if n.minLen >= 0 || n.maxLen >= 0 {
		l := utf8.RuneCountInString(s)
		if n.minLen >= 0 && l < n.minLen || n.maxLen >= 0 && l > n.maxLen {
			return end, fInvalid
		}
	}
	if n.match != nil && !n.match(s) {
		return end, fInvalid
	}
	if n.format != nil && n.format.Validate != nil && !v.formatOK(n.format, s) {
		return end, fInvalid
	}
	return end, fValid
}

func (v *fastValidator) object(n *fastNode, i int) (int, fstate) {
	d := v.d
	st := fValid
	if n != nil && n.hasEnum {
		st = fUnknown
	}
	if !typeOK(n, tObject) {
		st = fInvalid
	}
	base := len(v.keys)
	defer func() { v.keys = v.keys[:base] }()
	i = v.ws(i + 1)
	if i < len(d) && d[i] == '}' {
		i++
		return i, fand(st, v.required(n, base))
	}
	for {
		i = v.ws(i)
		if i >= len(d) || d[i] != '"' {
			v.bad = true
			return i, fUnknown
		}
		end, key, plain := v.scanString(i)
		if v.bad {
			return end, fUnknown
		}
		if !plain {
			key = []byte(v.unquote(i, end))
			if v.bad {
				return end, fUnknown
			}
		}
		for _, k := range v.keys[base:] {
			if string(k) == string(key) {
				// A duplicate key: the last one wins in a decoded map, so
				// leave the whole item to jsonschema.
				v.bad = true
				return end, fUnknown
			}
		}
		v.keys = append(v.keys, key)
		i = v.ws(end)
		if i >= len(d) || d[i] != ':' {
			v.bad = true
			return i, fUnknown
		}
		var sub *fastNode
		known := false
		if n != nil {
			sub, known = n.props[string(key)]
			if !known {
				if n.addlFalse {
					st = fInvalid
				}
				sub = n.addl
			}
		}
		var s fstate
		i, s = v.val(sub, i+1)
		if v.bad {
			return i, fUnknown
		}
		st = fand(st, s)
		var more bool
		if i, more = v.sep(i, '}'); v.bad {
			return i, fUnknown
		}
		if !more {
			break
		}
	}
	return i, fand(st, v.required(n, base))
}

func (v *fastValidator) required(n *fastNode, base int) fstate {
	if n == nil {
		return fValid
	}
next:
	for _, r := range n.required {
		for _, k := range v.keys[base:] {
			if string(k) == r {
				continue next
			}
		}
		return fInvalid
	}
	return fValid
}

func (v *fastValidator) array(n *fastNode, i int) (int, fstate) {
	d := v.d
	st := fValid
	if n != nil && n.hasEnum {
		st = fUnknown
	}
	if !typeOK(n, tArray) {
		st = fInvalid
	}
	unique := n != nil && n.unique
	var seen map[string]struct{}
	strBase := len(v.strs)
	defer func() { v.strs = v.strs[:strBase] }()
	other := false
	count := 0
	i = v.ws(i + 1)
	if i < len(d) && d[i] == ']' {
		return i + 1, fand(st, v.counts(n, 0))
	}
	for {
		var sub *fastNode
		if n != nil {
			sub = n.items
			if n.tuple != nil {
				if count < len(n.tuple) {
					sub = n.tuple[count]
				} else {
					sub = n.tupleAddl
					if n.tupleAddlFalse {
						st = fInvalid
					}
				}
			}
		}
		i = v.ws(i)
		start := i
		var s fstate
		i, s = v.val(sub, i)
		if v.bad {
			return i, fUnknown
		}
		st = fand(st, s)
		if unique {
			// Only plain strings are compared here (byte equality is JSON
			// equality for them); anything else makes uniqueness unknown
			// once there are two items.
			if d[start] != '"' {
				other = true
			} else if _, raw, plain := v.scanString(start); !plain {
				other = true
			} else {
				// Short arrays: compare pairwise; long ones: a set.
				if seen == nil && len(v.strs)-strBase < 16 {
					for _, o := range v.strs[strBase:] {
						if bytes.Equal(o, raw) {
							st = fInvalid
						}
					}
					v.strs = append(v.strs, raw)
				} else {
					if seen == nil {
						seen = make(map[string]struct{}, 64)
						for _, o := range v.strs[strBase:] {
							seen[unsafe.String(unsafe.SliceData(o), len(o))] = struct{}{}
						}
					}
					k := unsafe.String(unsafe.SliceData(raw), len(raw))
					if _, dup := seen[k]; dup {
						st = fInvalid
					}
					seen[k] = struct{}{}
				}
			}
		}
		count++
		var more bool
		if i, more = v.sep(i, ']'); v.bad {
			return i, fUnknown
		}
		if !more {
			break
		}
	}
	if other && count > 1 {
		st = fand(st, fUnknown)
	}
	return i, fand(st, v.counts(n, count))
}

func (v *fastValidator) counts(n *fastNode, count int) fstate {
	if n == nil {
		return fValid
	}
	if n.minItems >= 0 && count < n.minItems || n.maxItems >= 0 && count > n.maxItems {
		return fInvalid
	}
	return fValid
}
