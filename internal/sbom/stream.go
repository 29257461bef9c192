package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// streamedArrays are the top-level CycloneDX arrays validated item by item.
// Their schemas (1.2–1.7) are {"type": "array", "items": {"$ref":
// "#/definitions/<def>"}, "uniqueItems": true}, which is exactly what the
// streaming check enforces.
var streamedArrays = map[string]string{"components": "component", "dependencies": "dependency"}

// validateCycloneDXStream validates a CycloneDX JSON BOM against the schema
// of its version without building the whole document as a tree: the
// components and dependencies arrays (nearly all of a large SBOM) are
// decoded and validated one item at a time, the rest of the document as
// one value with those arrays emptied. Memory is bounded by the largest
// item instead of the whole document. uniqueItems is checked on the items'
// compacted bytes (byte-identical duplicates; the JSON-equality of
// reordered keys is not detected).
//
// With syntaxOnly (the input is known not to be valid JSON) nothing is
// validated: only the error of the first syntax error is wanted, and
// validating the items before it would be wasted work.
func validateCycloneDXStream(data []byte, syntaxOnly bool) ([]Problem, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(data, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &InputError{Err: fmt.Errorf("%w: a cyclonedx bom is a json object", ErrSyntax)}
	}
	rest := map[string]any{}
	var problems []Problem
	var version string
	type queued struct {
		ptr, def   string
		start, end int64
	}
	// Items seen before specVersion (it normally comes first, but
	// generators that sort keys put it after "components") wait as byte
	// ranges of data until it is known.
	var early []queued
	validateItem := func(ptr, def string, v any) {
		if syntaxOnly {
			return
		}
		sch := schemas.items[version+"/"+def]
		if sch == nil {
			return // unknown version: reported once at the root
		}
		for _, p := range validateValue(sch, v) {
			p.Pointer = ptr + p.Pointer
			problems = append(problems, p)
		}
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, jsonError(data, err)
		}
		key, _ := kt.(string)
		def, streamed := streamedArrays[key]
		if streamed && nextValueByte(data, dec.InputOffset()) != '[' {
			streamed = false // not an array: the root schema will say so
		}
		if !streamed {
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, jsonError(data, err)
			}
			rest[key] = v
			if key == "specVersion" {
				version, _ = v.(string)
				for _, q := range early {
					v, err := jsonschema.UnmarshalJSON(bytes.NewReader(bytes.TrimLeft(data[q.start:q.end], " \t\r\n,")))
					if err != nil {
						return nil, jsonError(data, err)
					}
					validateItem(q.ptr, q.def, v)
				}
				early = nil
			}
			continue
		}
		if _, err := dec.Token(); err != nil { // '['
			return nil, jsonError(data, err)
		}
		rest[key] = []any{}
		seen := map[uint64]int{}
		var buf bytes.Buffer
		for i := 0; dec.More(); i++ {
			start := dec.InputOffset()
			// json.Number for numbers (UseNumber), as the validator wants.
			// Before specVersion is known only the bytes are kept.
			var v any
			var raw json.RawMessage
			target := any(&v)
			if version == "" {
				target = &raw
			}
			if err := dec.Decode(target); err != nil {
				return nil, jsonError(data, err)
			}
			item := bytes.TrimLeft(data[start:dec.InputOffset()], " \t\r\n,")
			ptr := "/" + key + "/" + strconv.Itoa(i)
			buf.Reset()
			if json.Compact(&buf, item) == nil {
				h := fnv.New64a()
				h.Write(buf.Bytes())
				sum := h.Sum64()
				if first, dup := seen[sum]; dup {
					problems = append(problems, Problem{Pointer: "/" + key, Message: fmt.Sprintf("items at %d and %d are equal, but should be unique", first, i)})
				} else {
					seen[sum] = i
				}
			}
			if version == "" {
				early = append(early, queued{ptr, def, start, dec.InputOffset()})
				continue
			}
			validateItem(ptr, def, v)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, jsonError(data, err)
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		off := dec.InputOffset()
		return nil, &InputError{Line: lineOf(data, off), Err: fmt.Errorf("%w: data after the top-level value", ErrSyntax)}
	}
	if syntaxOnly {
		// Not reached for invalid JSON; validate properly after all.
		return validateCycloneDXStream(data, false)
	}
	sch := schemas.schemas[version]
	if sch == nil {
		return []Problem{unsupportedVersion(version)}, nil
	}
	return capProblems(append(validateValue(sch, any(rest)), problems...)), nil
}

// nextValueByte returns the first byte of the value after a member name
// that ends at off (skipping whitespace and the colon), or 0.
func nextValueByte(data []byte, off int64) byte {
	for i := off; i < int64(len(data)); i++ {
		switch c := data[i]; c {
		case ' ', '\t', '\r', '\n', ':':
		default:
			return c
		}
	}
	return 0
}
