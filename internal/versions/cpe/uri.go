package cpe

import (
	"errors"
	"fmt"
	"strings"
)

// ParseURI parses a CPE 2.2 URI binding ("cpe:/a:microsoft:internet_explorer:8.0.6001:beta")
// as NISTIR 7695 §6.1.3 unbinds it: missing or empty components are ANY,
// "-" is NA, "%xx" decodes to a quoted character, "%01" and "%02" are the
// "?" and "*" wildcards, and a packed edition ("~ed~sw_ed~t_sw~t_hw~other")
// fills the CPE 2.3 extended attributes. Asset registers and the old NVD
// dictionary still carry such names.
func ParseURI(s string) (Name, error) {
	var n Name
	if len(s) < 5 || !strings.EqualFold(s[:5], "cpe:/") {
		return n, fmt.Errorf("cpe uri %q: does not start with \"cpe:/\": %w", s, ErrInvalid)
	}
	if len(s) > 4096 {
		return n, fmt.Errorf("cpe uri %q: longer than 4096 bytes: %w", s[:64], ErrInvalid)
	}
	comps := strings.Split(s[5:], ":")
	if len(comps) > 7 {
		return n, fmt.Errorf("cpe uri %q: %d components, at most 7: %w", s, len(comps), ErrInvalid)
	}
	for i := range n.attrs {
		n.attrs[i] = Value{Kind: Any}
	}
	idx := [...]int{Part, Vendor, Product, Version, Update, Edition, Language}
	for i, c := range comps {
		if i == 5 && strings.HasPrefix(c, "~") {
			packed := strings.Split(c, "~")
			if len(packed) != 6 {
				return n, fmt.Errorf("cpe uri %q: packed edition %q needs 5 fields: %w", s, c, ErrInvalid)
			}
			for j, a := range [...]int{Edition, SWEdition, TargetSW, TargetHW, Other} {
				v, err := unbindURIValue(packed[j+1])
				if err != nil {
					return n, fmt.Errorf("cpe uri %q: %s: %v: %w", s, attrNames[a], err, ErrInvalid)
				}
				n.attrs[a] = v
			}
			continue
		}
		v, err := unbindURIValue(c)
		if err != nil {
			return n, fmt.Errorf("cpe uri %q: %s %q: %v: %w", s, attrNames[idx[i]], c, err, ErrInvalid)
		}
		n.attrs[idx[i]] = v
	}
	if p := n.attrs[Part]; p.Kind == String && (p.lit != "a" && p.lit != "o" && p.lit != "h" || p.HasWildcards()) {
		return n, fmt.Errorf("cpe uri %q: part %q is not a, o or h: %w", s, p.raw, ErrInvalid)
	}
	n.prepare()
	return n, nil
}

// unbindURIValue turns one URI component into the formatted-string form
// and parses that, so both bindings share one value model.
func unbindURIValue(c string) (Value, error) {
	switch c {
	case "":
		return Value{Kind: Any}, nil
	case "-":
		return Value{Kind: NA}, nil
	}
	var fs strings.Builder
	for i := 0; i < len(c); i++ {
		ch := c[i]
		if ch == '%' {
			if i+2 >= len(c) {
				return Value{}, errors.New("truncated percent-encoding")
			}
			h, ok1 := unhex(c[i+1])
			l, ok2 := unhex(c[i+2])
			if !ok1 || !ok2 {
				return Value{}, errors.New("invalid percent-encoding")
			}
			i += 2
			switch b := h<<4 | l; b {
			case 0x01:
				fs.WriteByte('?')
			case 0x02:
				fs.WriteByte('*')
			default:
				if isAlnum(b) || b == '_' {
					fs.WriteByte(b)
				} else {
					fs.WriteByte('\\')
					fs.WriteByte(b)
				}
			}
			continue
		}
		if isAlnum(ch) || ch == '_' || ch == '.' || ch == '-' || ch == '~' {
			if ch == '~' {
				fs.WriteByte('\\')
			}
			fs.WriteByte(ch)
			continue
		}
		return Value{}, fmt.Errorf("character %q must be percent-encoded", ch)
	}
	return parseValue(fs.String())
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
