package sqldb

import (
	"errors"
	"testing"
)

// FuzzFindingCursor: a cursor from a client (the API's ?cursor=) is
// either rejected with a QueryError or decodes to a position whose
// value has the sort's type; it never panics. Seeds: real cursors of
// every sort type, and broken ones.
func FuzzFindingCursor(f *testing.F) {
	for _, s := range []string{
		encodeFindingCursor(81.5, 1234), encodeFindingCursor("2026-12-28", 7), encodeFindingCursor("PUMP-0001", 1),
		encodeFindingCursor(-1.0, 0), "", "!!", "eyJ2IjpudWxsLCJpZCI6MX0", "eyJ2Ijp7fSwiaWQiOjF9", "e30",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, numeric bool) {
		c, err := decodeFindingCursor(s, numeric)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Param != "cursor" {
				t.Fatalf("error %v is not a cursor QueryError", err)
			}
			return
		}
		switch c.V.(type) {
		case float64:
			if !numeric {
				t.Fatalf("numeric value for a text sort: %#v", c)
			}
		case string:
			if numeric {
				t.Fatalf("text value for a numeric sort: %#v", c)
			}
		default:
			t.Fatalf("value of type %T", c.V)
		}
	})
}
