package audit

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"

	"github.com/medwarden/medwarden/internal/jsonesc"
)

// Canonical JSON without a round trip through map[string]any.
//
// canonicalJSON decoded a value into maps and slices and marshalled it
// again to sort object keys: for a device's before and after (two devices
// per API edit) that was two thirds of building an audit entry, and the
// entry is built inside the group commit that every API write waits for
// (sqldb/device_writes.go). appendCanonical rewrites the bytes directly:
// whitespace dropped, members sorted by key (a repeated key keeps its last
// value, as decoding into a map does), numbers and literals copied,
// strings copied when encoding/json would write them unchanged (printable
// ASCII without the characters it escapes) and otherwise decoded and
// written again by jsonesc, which escapes as Go 1.26's encoding/json does
// whatever the toolchain: the bytes hashed must not change with the Go
// version (Go 1.27 writes invalid UTF-8 as a raw U+FFFD). Only input it
// does not take (a syntax error, an escaped object key, nesting beyond
// encoding/json's limit, more than one value) goes to the slow path,
// which decodes and marshals with encoding/json and gives the error.
// TestCanonicalFastMatchesSlow and FuzzCanonicalJSON compare the two.

// maxCanonicalDepth is encoding/json's limit: at most 10,000 arrays and
// objects nested in one another (deeper is an error, which the slow path
// reports). A container at depth d is the (d+1)th level.
const maxCanonicalDepth = 10000

// member is one object member written to the output: its decoded key and
// where "key":value lies.
type member struct {
	kStart, kEnd int // the key's bytes in out, without quotes
	start, end   int
}

var canonicalScratch = sync.Pool{New: func() any { return new([]byte) }}

// appendCanonical appends the canonical form of the single JSON value in
// in to out, or reports false.
func appendCanonical(out, in []byte) ([]byte, bool) {
	c := canonicalizer{in: in, out: out}
	i, ok := c.value(c.skip(0), 0)
	if !ok || c.skip(i) != len(in) {
		return out, false
	}
	return c.out, true
}

type canonicalizer struct {
	in  []byte
	out []byte
}

func (c *canonicalizer) skip(i int) int {
	for i < len(c.in) {
		switch c.in[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value writes the value starting at in[i] and returns the index after it.
func (c *canonicalizer) value(i, depth int) (int, bool) {
	if i >= len(c.in) {
		return i, false
	}
	switch b := c.in[i]; {
	case (b == '{' || b == '[') && depth >= maxCanonicalDepth:
		return i, false // one level deeper than encoding/json takes
	case b == '{':
		return c.object(i, depth)
	case b == '[':
		return c.array(i, depth)
	case b == '"':
		return c.str(i)
	case b == 't':
		return c.literal(i, "true")
	case b == 'f':
		return c.literal(i, "false")
	case b == 'n':
		return c.literal(i, "null")
	case b == '-' || (b >= '0' && b <= '9'):
		return c.number(i)
	}
	return i, false
}

func (c *canonicalizer) literal(i int, lit string) (int, bool) {
	if !bytes.HasPrefix(c.in[i:], []byte(lit)) {
		return i, false
	}
	c.out = append(c.out, lit...)
	return i + len(lit), true
}

// number copies a number that follows JSON's grammar exactly (the decoder
// keeps it as written: UseNumber).
func (c *canonicalizer) number(i int) (int, bool) {
	j := i
	if c.in[j] == '-' {
		j++
	}
	digits := func() bool {
		k := j
		for j < len(c.in) && c.in[j] >= '0' && c.in[j] <= '9' {
			j++
		}
		return j > k
	}
	switch {
	case j < len(c.in) && c.in[j] == '0':
		j++
	case !digits():
		return i, false
	}
	if j < len(c.in) && c.in[j] == '.' {
		j++
		if !digits() {
			return i, false
		}
	}
	if j < len(c.in) && (c.in[j] == 'e' || c.in[j] == 'E') {
		j++
		if j < len(c.in) && (c.in[j] == '+' || c.in[j] == '-') {
			j++
		}
		if !digits() {
			return i, false
		}
	}
	c.out = append(c.out, c.in[i:j]...)
	return j, true
}

// str writes the string starting at in[i] as encoding/json writes it.
func (c *canonicalizer) str(i int) (int, bool) {
	plain := true
	j := i + 1
	for ; j < len(c.in); j++ {
		b := c.in[j]
		if b == '"' {
			break
		}
		if b == '\\' {
			plain = false
			j++ // the escaped character; the slow decode checks the escape
			continue
		}
		if b < 0x20 || b >= 0x7f || b == '<' || b == '>' || b == '&' {
			plain = false
		}
	}
	if j >= len(c.in) {
		return i, false
	}
	if plain {
		c.out = append(c.out, c.in[i:j+1]...)
		return j + 1, true
	}
	var s string
	if err := json.Unmarshal(c.in[i:j+1], &s); err != nil {
		return i, false
	}
	c.out = jsonesc.Append(c.out, s)
	return j + 1, true
}

func (c *canonicalizer) array(i, depth int) (int, bool) {
	c.out = append(c.out, '[')
	i = c.skip(i + 1)
	if i < len(c.in) && c.in[i] == ']' {
		c.out = append(c.out, ']')
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = c.value(i, depth+1); !ok {
			return i, false
		}
		i = c.skip(i)
		if i >= len(c.in) {
			return i, false
		}
		switch c.in[i] {
		case ',':
			c.out = append(c.out, ',')
			i = c.skip(i + 1)
		case ']':
			c.out = append(c.out, ']')
			return i + 1, true
		default:
			return i, false
		}
	}
}

func (c *canonicalizer) object(i, depth int) (int, bool) {
	base := len(c.out)
	c.out = append(c.out, '{')
	i = c.skip(i + 1)
	if i < len(c.in) && c.in[i] == '}' {
		c.out = append(c.out, '}')
		return i + 1, true
	}
	var stack [32]member
	ms := stack[:0]
	for {
		if i >= len(c.in) || c.in[i] != '"' {
			return i, false
		}
		if len(ms) > 0 {
			c.out = append(c.out, ',')
		}
		start := len(c.out)
		var ok bool
		if i, ok = c.str(i); !ok {
			return i, false
		}
		if bytes.IndexByte(c.out[start:], '\\') >= 0 {
			return i, false // an escaped key: compared decoded, on the slow path
		}
		keyEnd := len(c.out)
		i = c.skip(i)
		if i >= len(c.in) || c.in[i] != ':' {
			return i, false
		}
		c.out = append(c.out, ':')
		if i, ok = c.value(c.skip(i+1), depth+1); !ok {
			return i, false
		}
		ms = append(ms, member{kStart: start + 1, kEnd: keyEnd - 1, start: start, end: len(c.out)})
		i = c.skip(i)
		if i >= len(c.in) {
			return i, false
		}
		if c.in[i] == '}' {
			i++
			break
		}
		if c.in[i] != ',' {
			return i, false
		}
		i = c.skip(i + 1)
	}
	cmpKeys := func(a, b member) int { return bytes.Compare(c.out[a.kStart:a.kEnd], c.out[b.kStart:b.kEnd]) }
	sorted := slices.IsSortedFunc(ms, cmpKeys)
	if !sorted {
		slices.SortStableFunc(ms, cmpKeys) // a repeated key's members keep their order
	}
	// A repeated key: decoding into a map keeps the last value.
	dup := false
	for k := 1; k < len(ms); k++ {
		if cmpKeys(ms[k-1], ms[k]) == 0 {
			dup = true
			break
		}
	}
	if dup {
		last := ms[:0]
		for k, m := range ms {
			if k+1 < len(ms) && cmpKeys(m, ms[k+1]) == 0 {
				continue
			}
			last = append(last, m)
		}
		ms = last
		sorted = false // rewrite without the dropped members
	}
	if !sorted { // write the members again in key order
		bp := canonicalScratch.Get().(*[]byte)
		tmp := append((*bp)[:0], c.out[base+1:]...)
		c.out = c.out[:base+1]
		for k, m := range ms {
			if k > 0 {
				c.out = append(c.out, ',')
			}
			c.out = append(c.out, tmp[m.start-base-1:m.end-base-1]...)
		}
		*bp = tmp
		canonicalScratch.Put(bp)
	}
	c.out = append(c.out, '}')
	return i, true
}
