// Package cpe parses CPE 2.3 formatted-string names (NISTIR 7695), matches
// them per the CPE name-matching rules (NISTIR 7696: ANY, NA, the "*" and
// "?" wildcards), and evaluates NVD configurations (version ranges,
// AND/OR nodes, negate, firmware-on-hardware pairs) against the CPEs of a
// device.
//
// Everything here is pure: parsers take strings or an io.Reader plus a
// name, and nothing reads files.
package cpe

import (
	"errors"
	"fmt"
	"strings"

	"github.com/medwarden/medwarden/internal/versions"
)

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid cpe")

// Attribute indexes of a WFN, in formatted-string order.
const (
	Part = iota
	Vendor
	Product
	Version
	Update
	Edition
	Language
	SWEdition
	TargetSW
	TargetHW
	Other
	numAttrs
)

var attrNames = [numAttrs]string{"part", "vendor", "product", "version", "update", "edition", "language", "sw_edition", "target_sw", "target_hw", "other"}

// Kind is the kind of an attribute value.
type Kind uint8

// Value kinds: a logical ANY ("*"), a logical NA ("-"), or a string.
const (
	Any Kind = iota
	NA
	String
)

// Value is one attribute value. Strings are kept decoded (quoting removed)
// and lower-cased for matching; wildcards are only allowed at the start and
// end of a value, as NISTIR 7695 requires.
type Value struct {
	Kind Kind
	raw  string // as bound in the formatted string
	lit  string // decoded, lower-cased literal without leading/trailing wildcards
	pre  int8   // -1: leading "*"; n: n leading "?"
	post int8   // -1: trailing "*"; n: n trailing "?"
}

// String returns the value as bound in a formatted string.
func (v Value) String() string {
	switch v.Kind {
	case Any:
		return "*"
	case NA:
		return "-"
	}
	return v.raw
}

// Literal returns the decoded string value (quoting removed, lower case,
// wildcards stripped).
func (v Value) Literal() string { return v.lit }

// HasWildcards reports whether a string value contains "*" or "?".
func (v Value) HasWildcards() bool { return v.Kind == String && (v.pre != 0 || v.post != 0) }

// Name is a CPE 2.3 name (a well-formed name, WFN).
type Name struct {
	attrs [numAttrs]Value
	// ver is the version attribute pre-parsed with the firmware scheme
	// (zero when the version is ANY, NA, wildcarded or unparsable).
	ver versions.Version
}

// Attr returns attribute i (Part … Other).
func (n Name) Attr(i int) Value { return n.attrs[i] }

// String returns the formatted-string binding ("cpe:2.3:o:vendor:…").
func (n Name) String() string {
	var b strings.Builder
	b.WriteString("cpe:2.3")
	for _, v := range n.attrs {
		b.WriteByte(':')
		b.WriteString(v.String())
	}
	return b.String()
}

// Parse parses a CPE 2.3 formatted string. Quoted characters ("\:") are
// literals; an unquoted "*" alone is ANY, "-" alone is NA; unquoted "*" and
// "?" elsewhere are wildcards and must be at the start or end of a value.
func Parse(s string) (Name, error) {
	var n Name
	if len(s) < 8 || !strings.EqualFold(s[:8], "cpe:2.3:") {
		return n, fmt.Errorf("cpe %q: does not start with \"cpe:2.3:\": %w", s, ErrInvalid)
	}
	if len(s) > 4096 {
		return n, fmt.Errorf("cpe %q: longer than 4096 bytes: %w", s[:64], ErrInvalid)
	}
	rest := s[8:]
	var parts []string
	start := 0
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '\\':
			i++
		case ':':
			parts = append(parts, rest[start:i])
			start = i + 1
		}
	}
	parts = append(parts, rest[start:])
	if len(parts) != numAttrs {
		return n, fmt.Errorf("cpe %q: %d components, want %d: %w", s, len(parts), numAttrs, ErrInvalid)
	}
	for i, p := range parts {
		v, err := parseValue(p)
		if err != nil {
			return n, fmt.Errorf("cpe %q: %s %q: %v: %w", s, attrNames[i], p, err, ErrInvalid)
		}
		n.attrs[i] = v
	}
	if p := n.attrs[Part]; p.Kind == String && (p.lit != "a" && p.lit != "o" && p.lit != "h" || p.HasWildcards()) {
		return n, fmt.Errorf("cpe %q: part %q is not a, o or h: %w", s, p.raw, ErrInvalid)
	}
	n.prepare()
	return n, nil
}

// prepare pre-parses the version attribute for range checks.
func (n *Name) prepare() {
	if v := n.attrs[Version]; v.Kind == String && !v.HasWildcards() {
		if pv, err := versions.Firmware.Parse(v.lit); err == nil {
			n.ver = pv
		}
	}
}

// ParseAny parses either binding: a CPE 2.3 formatted string ("cpe:2.3:…")
// or a CPE 2.2 URI ("cpe:/…").
func ParseAny(s string) (Name, error) {
	if len(s) >= 5 && strings.EqualFold(s[:5], "cpe:/") {
		return ParseURI(s)
	}
	return Parse(s)
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func parseValue(p string) (Value, error) {
	switch p {
	case "":
		return Value{}, errors.New("empty value")
	case "*":
		return Value{Kind: Any}, nil
	case "-":
		return Value{Kind: NA}, nil
	}
	v := Value{Kind: String, raw: p}
	var lit strings.Builder
	i := 0
	// leading wildcards
	if p[0] == '*' {
		v.pre = -1
		i = 1
	} else {
		for i < len(p) && p[i] == '?' {
			i++
		}
		if i > 100 {
			return Value{}, errors.New("too many \"?\"")
		}
		v.pre = int8(i)
	}
	end := len(p)
	// trailing wildcards (unquoted)
	quotedAt := func(k int) bool { // is p[k] preceded by an odd number of backslashes?
		n := 0
		for j := k - 1; j >= 0 && p[j] == '\\'; j-- {
			n++
		}
		return n%2 == 1
	}
	if end > i && p[end-1] == '*' && !quotedAt(end-1) {
		v.post = -1
		end--
	} else {
		k := end
		for k > i && p[k-1] == '?' && !quotedAt(k-1) {
			k--
		}
		if end-k > 100 {
			return Value{}, errors.New("too many \"?\"")
		}
		v.post = int8(end - k)
		end = k
	}
	for ; i < end; i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= end {
				return Value{}, errors.New("dangling \"\\\"")
			}
			i++
			lit.WriteByte(lower(p[i]))
		case c == '*' || c == '?':
			return Value{}, fmt.Errorf("wildcard %q inside a value", c)
		case isAlnum(c) || c == '_' || c == '.' || c == '-':
			lit.WriteByte(lower(c))
		default:
			return Value{}, fmt.Errorf("unquoted special character %q", c)
		}
	}
	v.lit = lit.String()
	if v.lit == "" && v.pre == 0 && v.post == 0 {
		return Value{}, errors.New("empty value")
	}
	return v, nil
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}
