package hl7

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits of the message parser. A message beyond them is rejected rather
// than truncated, so a partial parse never looks like a whole one.
const (
	// MaxSegments bounds the segments of one message (a big ORU with
	// thousands of OBX segments stays well below).
	MaxSegments = 20000
	// MaxMessage bounds one MLLP frame; larger frames are skipped.
	MaxMessage = 4 << 20
)

// ErrMalformed is wrapped by every parse error.
var ErrMalformed = errors.New("malformed hl7 v2 message")

// Delimiters are the encoding characters declared by MSH-1 and MSH-2
// (or FHS/BHS-1 and -2 for batches).
type Delimiters struct {
	Field, Component, Repetition, Escape, Subcomponent byte
	// Truncation is the v2.7+ fifth encoding character, 0 when absent.
	Truncation byte
}

// Options change how Parse splits segments.
type Options struct {
	// CROnly splits segments at carriage returns only, as HL7 v2 §2.5.1
	// prescribes. By default LF and CRLF end segments too, because files
	// and many senders use them.
	CROnly bool
}

// Message is a parsed HL7 v2 message: a list of segments.
type Message struct {
	Delims   Delimiters
	Segments []Segment
}

// Segment is one segment. Fields[0] is field 1. For header segments
// (MSH, FHS, BHS) field 1 is the field separator and field 2 the encoding
// characters, both kept literally as the standard numbers them.
type Segment struct {
	Name   string
	Fields []Field
}

// Field is a list of repetitions.
type Field []Repetition

// Repetition is a list of components.
type Repetition []Component

// Component is a list of subcomponents, each unescaped.
type Component []string

func isHeader(name string) bool { return name == "MSH" || name == "FHS" || name == "BHS" }

// Parse parses one HL7 v2 message, or a batch (FHS/BHS … BTS/FTS). It
// never panics and bounds its work by the input size.
func Parse(b []byte, opt Options) (*Message, error) {
	b = bytes.TrimLeft(b, "\r\n")
	if len(b) < 8 {
		return nil, fmt.Errorf("%d bytes, too short for a header segment: %w", len(b), ErrMalformed)
	}
	name := string(b[:3])
	if !isHeader(name) {
		return nil, fmt.Errorf("message starts with %q, not MSH, FHS or BHS: %w", name, ErrMalformed)
	}
	d, err := delimiters(b)
	if err != nil {
		return nil, err
	}
	m := &Message{Delims: d}
	for line := 0; len(b) > 0; line++ {
		var seg []byte
		seg, b = nextSegment(b, opt.CROnly)
		if len(seg) == 0 {
			continue
		}
		if len(m.Segments) >= MaxSegments {
			return nil, fmt.Errorf("more than %d segments: %w", MaxSegments, ErrMalformed)
		}
		s, err := parseSegment(seg, &d)
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", len(m.Segments)+1, err)
		}
		m.Segments = append(m.Segments, s)
	}
	return m, nil
}

func nextSegment(b []byte, crOnly bool) (seg, rest []byte) {
	var i int
	if crOnly {
		i = bytes.IndexByte(b, '\r')
	} else {
		// Two IndexByte scans (vectorised) beat one IndexAny.
		i = bytes.IndexByte(b, '\r')
		lim := b
		if i >= 0 {
			lim = b[:i]
		}
		if j := bytes.IndexByte(lim, '\n'); j >= 0 {
			i = j
		}
	}
	if i < 0 {
		return b, nil
	}
	seg, rest = b[:i], b[i+1:]
	if !crOnly && b[i] == '\r' && len(rest) > 0 && rest[0] == '\n' {
		rest = rest[1:]
	}
	return seg, rest
}

// delimiters reads MSH-1 and MSH-2: the byte after the segment name, then
// up to five encoding characters ending at the next field separator.
func delimiters(b []byte) (Delimiters, error) {
	var d Delimiters
	d.Field = b[3]
	end := bytes.IndexByte(b[4:], d.Field)
	if end < 0 {
		end = len(b) - 4
	}
	enc := b[4 : 4+end]
	if len(enc) < 4 || len(enc) > 5 {
		return d, fmt.Errorf("%s-2 encoding characters %q: want 4 or 5: %w", b[:3], enc, ErrMalformed)
	}
	d.Component, d.Repetition, d.Escape, d.Subcomponent = enc[0], enc[1], enc[2], enc[3]
	if len(enc) == 5 {
		d.Truncation = enc[4]
	}
	for i, c := range enc {
		if c == d.Field || bytes.IndexByte(enc[:i], c) >= 0 || c == '\r' || c == '\n' || isAlnum(c) {
			return d, fmt.Errorf("%s-2 encoding characters %q: repeated or invalid delimiter %q: %w", b[:3], enc, c, ErrMalformed)
		}
	}
	if d.Field == '\r' || d.Field == '\n' || isAlnum(d.Field) {
		return d, fmt.Errorf("%s-1 field separator %q is invalid: %w", b[:3], d.Field, ErrMalformed)
	}
	return d, nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func parseSegment(b []byte, d *Delimiters) (Segment, error) {
	parts := bytes.Split(b, []byte{d.Field})
	name := string(parts[0])
	if len(name) != 3 || !isAlnum(name[0]) || !isAlnum(name[1]) || !isAlnum(name[2]) {
		return Segment{}, fmt.Errorf("segment name %q is not three letters or digits: %w", clip(name), ErrMalformed)
	}
	s := Segment{Name: name}
	rest := parts[1:]
	if isHeader(name) {
		if len(b) < 4 || b[3] != d.Field {
			return Segment{}, fmt.Errorf("%s uses a different field separator: %w", name, ErrMalformed)
		}
		s.Fields = append(s.Fields, Field{{{string(d.Field)}}})
		if len(rest) > 0 {
			s.Fields = append(s.Fields, Field{{{string(rest[0])}}})
			rest = rest[1:]
		}
	}
	for _, f := range rest {
		s.Fields = append(s.Fields, parseField(f, d))
	}
	return s, nil
}

func parseField(b []byte, d *Delimiters) Field {
	reps := bytes.Split(b, []byte{d.Repetition})
	f := make(Field, len(reps))
	for i, r := range reps {
		comps := bytes.Split(r, []byte{d.Component})
		rep := make(Repetition, len(comps))
		for j, c := range comps {
			subs := bytes.Split(c, []byte{d.Subcomponent})
			comp := make(Component, len(subs))
			for k, s := range subs {
				comp[k] = Unescape(s, d)
			}
			rep[j] = comp
		}
		f[i] = rep
	}
	return f
}

// Unescape decodes the HL7 escape sequences of §2.7: \F\ \S\ \T\ \R\ \E\
// give the delimiters, \Xhh…\ gives bytes, \.br\ a line break; formatting
// (\H\, \N\) and unknown sequences are dropped. An unterminated escape is
// kept literally.
func Unescape(b []byte, d *Delimiters) string {
	e := d.Escape
	if bytes.IndexByte(b, e) < 0 {
		return string(b)
	}
	var sb strings.Builder
	for i := 0; i < len(b); i++ {
		if b[i] != e {
			sb.WriteByte(b[i])
			continue
		}
		j := bytes.IndexByte(b[i+1:], e)
		if j < 0 {
			sb.Write(b[i:])
			break
		}
		seq := b[i+1 : i+1+j]
		i += j + 1
		switch {
		case len(seq) == 1 && seq[0] == 'F':
			sb.WriteByte(d.Field)
		case len(seq) == 1 && seq[0] == 'S':
			sb.WriteByte(d.Component)
		case len(seq) == 1 && seq[0] == 'T':
			sb.WriteByte(d.Subcomponent)
		case len(seq) == 1 && seq[0] == 'R':
			sb.WriteByte(d.Repetition)
		case len(seq) == 1 && seq[0] == 'E':
			sb.WriteByte(d.Escape)
		case len(seq) == 1 && seq[0] == 'P' && d.Truncation != 0:
			sb.WriteByte(d.Truncation)
		case string(seq) == ".br":
			sb.WriteByte('\n')
		case len(seq) > 1 && seq[0] == 'X' && len(seq)%2 == 1:
			for k := 1; k+1 < len(seq); k += 2 {
				if v, err := strconv.ParseUint(string(seq[k:k+2]), 16, 8); err == nil {
					sb.WriteByte(byte(v))
				}
			}
		}
	}
	return sb.String()
}

// Get returns field n (1-based, as the standard numbers them), repetition
// rep, component comp and subcomponent sub (all 1-based) of the first
// segment named seg, or "" when absent.
func (m *Message) Get(seg string, n, rep, comp, sub int) string {
	for i := range m.Segments {
		if m.Segments[i].Name == seg {
			return m.Segments[i].Get(n, rep, comp, sub)
		}
	}
	return ""
}

// Get returns one value of the segment, "" when absent (indices 1-based).
func (s *Segment) Get(n, rep, comp, sub int) string {
	if n < 1 || n > len(s.Fields) {
		return ""
	}
	f := s.Fields[n-1]
	if rep < 1 || rep > len(f) {
		return ""
	}
	r := f[rep-1]
	if comp < 1 || comp > len(r) {
		return ""
	}
	c := r[comp-1]
	if sub < 1 || sub > len(c) {
		return ""
	}
	return c[sub-1]
}

// Has reports whether a segment named seg is present.
func (m *Message) Has(seg string) bool {
	for i := range m.Segments {
		if m.Segments[i].Name == seg {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
