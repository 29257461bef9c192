package jsonfile

import (
	"encoding/json"
)

// member is one "key": value pair of a JSON object, both slices of the
// object's bytes (the key without quotes).
type member struct {
	key []byte
	val []byte
}

// objectMembers appends the members of the JSON object raw to out in
// document order. raw must be valid JSON (json.Decoder checked it); it
// returns false if raw is not an object. Keys with escapes are unescaped
// into new memory; nothing else is copied.
func objectMembers(raw []byte, out []member) ([]member, bool) {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return out, false
	}
	i = skipWS(raw, i+1)
	for i < len(raw) && raw[i] != '}' {
		if raw[i] != '"' {
			return out, false
		}
		ke := endString(raw, i)
		key := raw[i+1 : ke-1]
		for _, c := range key {
			if c == '\\' {
				var s string
				if err := json.Unmarshal(raw[i:ke], &s); err != nil {
					return out, false
				}
				key = []byte(s)
				break
			}
		}
		i = skipWS(raw, ke)
		if i >= len(raw) || raw[i] != ':' {
			return out, false
		}
		i = skipWS(raw, i+1)
		ve := endValue(raw, i)
		if ve <= i {
			return out, false
		}
		out = append(out, member{key: key, val: raw[i:ve]})
		i = skipWS(raw, ve)
		if i < len(raw) && raw[i] == ',' {
			i = skipWS(raw, i+1)
		}
	}
	return out, i < len(raw)
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endString returns the index after the string starting at b[i] == '"'.
func endString(b []byte, i int) int {
	j := i + 1
	for j < len(b) && b[j] != '"' {
		if b[j] == '\\' {
			j++
		}
		j++
	}
	return min(j+1, len(b))
}

// endValue returns the index after the value starting at b[i].
func endValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return endString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = endString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}
