package versions

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// Lexicographic is the vers "lexicographic" scheme: versions are compared
// as UTF-8 strings, byte by byte (which is code point order).
var Lexicographic = &Scheme{
	name: "lexicographic",
	parse: func(s string) (any, error) {
		if !utf8.ValidString(s) {
			return nil, errors.New("not valid UTF-8")
		}
		return s, nil
	},
	compare: func(a, b any) int { return strings.Compare(a.(string), b.(string)) },
}

// Datetime is the vers "datetime" scheme: RFC 3339 timestamps compared as
// instants (so "2024-01-01T00:00:00+02:00" sorts before "2023-12-31T23:00:00Z").
var Datetime = &Scheme{
	name: "datetime",
	parse: func(s string) (any, error) {
		t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
		if err != nil {
			return nil, errors.New("not an RFC 3339 timestamp")
		}
		return t, nil
	},
	compare: func(a, b any) int { return a.(time.Time).Compare(b.(time.Time)) },
}
