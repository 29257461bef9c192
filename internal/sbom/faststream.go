package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"strconv"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// validateCycloneDXFast is validateCycloneDXStream with the fast path of
// fastschema.go: the top level and every components/dependencies item are
// scanned on the input bytes; an item is decoded into map[string]any and
// given to jsonschema only when the fast path does not prove it valid, so
// the problems (messages and JSON pointers) are jsonschema's, exactly as
// before. ok is false when the input leaves the fast path altogether (a
// syntax error, a duplicate or escaped top-level key, a duplicate key
// inside an item, ...): the caller then runs validateCycloneDXStream,
// which reports syntax errors precisely.
func validateCycloneDXFast(data []byte) (problems []Problem, ok bool) {
	v := &fastValidator{d: data}
	i := v.ws(0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	rest := map[string]any{}
	var version string
	type queued struct {
		key, def   string
		idx        int
		start, end int
	}
	var early []queued
	seed := maphash.MakeSeed()
	// checkItem validates the item at data[start:end]; false means "leave
	// the document to the slow path".
	checkItem := func(key, def string, idx, start, end int, st fstate) bool {
		sch := schemas.items[version+"/"+def]
		if sch == nil {
			return true // unknown version: reported once at the root
		}
		if st == fValid {
			return true
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data[start:end]))
		if err != nil {
			return false
		}
		ptr := "/" + key + "/" + strconv.Itoa(idx)
		for _, p := range validateValue(sch, inst) {
			p.Pointer = ptr + p.Pointer
			problems = append(problems, p)
		}
		return true
	}
	keys := map[string]bool{}
	i = v.ws(i + 1)
	if i < len(data) && data[i] == '}' {
		i++
	} else {
		for {
			i = v.ws(i)
			if i >= len(data) || data[i] != '"' {
				return nil, false
			}
			end, raw, plain := v.scanString(i)
			if v.bad || !plain {
				return nil, false
			}
			key := string(raw)
			if keys[key] {
				return nil, false
			}
			keys[key] = true
			i = v.ws(end)
			if i >= len(data) || data[i] != ':' {
				return nil, false
			}
			i = v.ws(i + 1)
			if i >= len(data) {
				return nil, false
			}
			def, streamed := streamedArrays[key]
			if !streamed || data[i] != '[' {
				end, _ := v.own(nil, i)
				if v.bad {
					return nil, false
				}
				val, err := jsonschema.UnmarshalJSON(bytes.NewReader(data[i:end]))
				if err != nil {
					return nil, false
				}
				rest[key] = val
				i = end
				if key == "specVersion" {
					version, _ = val.(string)
					for _, q := range early {
						_, st := v.val(schemas.fast[version+"/"+q.def], q.start)
						if v.bad || !checkItem(q.key, q.def, q.idx, q.start, q.end, st) {
							return nil, false
						}
					}
					early = nil
				}
			} else {
				rest[key] = []any{}
				seen := map[uint64]int{}
				var buf bytes.Buffer
				i = v.ws(i + 1)
				if i < len(data) && data[i] == ']' {
					i++
				} else {
					for idx := 0; ; idx++ {
						start := v.ws(i)
						v.sawWS = false
						var end int
						st := fUnknown
						if version != "" {
							end, st = v.val(schemas.fast[version+"/"+def], start)
						} else {
							end, _ = v.own(nil, start) // syntax and extent only
						}
						if v.bad {
							return nil, false
						}
						// uniqueItems on the compacted bytes, as
						// validateCycloneDXStream does.
						item := data[start:end]
						if v.sawWS {
							buf.Reset()
							if json.Compact(&buf, item) != nil {
								return nil, false
							}
							item = buf.Bytes()
						}
						sum := maphash.Bytes(seed, item)
						if first, dup := seen[sum]; dup {
							problems = append(problems, Problem{Pointer: "/" + key, Message: fmt.Sprintf("items at %d and %d are equal, but should be unique", first, idx)})
						} else {
							seen[sum] = idx
						}
						if version == "" {
							early = append(early, queued{key, def, idx, start, end})
						} else if !checkItem(key, def, idx, start, end, st) {
							return nil, false
						}
						i = v.ws(end)
						if i >= len(data) {
							return nil, false
						}
						if data[i] == ',' {
							i++
							continue
						}
						if data[i] == ']' {
							i++
							break
						}
						return nil, false
					}
				}
			}
			i = v.ws(i)
			if i >= len(data) {
				return nil, false
			}
			if data[i] == ',' {
				i++
				continue
			}
			if data[i] == '}' {
				i++
				break
			}
			return nil, false
		}
	}
	if v.ws(i) != len(data) {
		return nil, false
	}
	sch := schemas.schemas[version]
	if sch == nil {
		return []Problem{unsupportedVersion(version)}, true
	}
	return capProblems(append(validateValue(sch, any(rest)), problems...)), true
}
