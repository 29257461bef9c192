// Package udi parses Unique Device Identifiers (FDA 21 CFR 830, EU MDR
// Art. 27) as printed or sent in messages (HL7 PRT-16, GUDID exports) by
// the three FDA-accredited issuing agencies: GS1 (application identifiers,
// with parentheses or with FNC1/GS separators), HIBCC (HIBC LIC, "+…" with
// a modulo-43 check character) and ICCBBA (ISBT 128 data identifiers "=/",
// "=,", "=>", "&,1"). The result separates the device identifier (DI) from
// the production identifiers (PI: lot, serial, dates, software version).
// Check digits and characters are validated. The package is pure.
package udi

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Issuing agencies.
const (
	GS1    = "GS1"
	HIBCC  = "HIBCC"
	ICCBBA = "ICCBBA"
)

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid udi")

// UDI is a parsed unique device identifier. Dates are YYYY-MM-DD (day 00
// is kept as the last day of the month is meant, per GS1 GenSpecs 3.4.7:
// "2025-12-00" is rendered as "2025-12-31").
type UDI struct {
	Issuer       string `json:"issuer"`
	DI           string `json:"di"`
	Lot          string `json:"lot,omitempty"`
	Serial       string `json:"serial,omitempty"`
	Expiry       string `json:"expiry,omitempty"`
	Manufactured string `json:"manufactured,omitempty"`
	Software     string `json:"software,omitempty"` // GS1 AI 7240
	Quantity     string `json:"quantity,omitempty"`
}

// Parse parses a UDI in any of the three issuers' formats. Leading
// symbology identifiers (]d2, ]C1, ]Q3) and surrounding white space are
// ignored.
func Parse(s string) (UDI, error) {
	s = strings.Trim(strings.TrimSpace(s), "*") // HIBC human-readable delimiters
	for _, p := range []string{"]d2", "]C1", "]Q3", "]e0"} {
		s = strings.TrimPrefix(s, p)
	}
	switch {
	case s == "":
		return UDI{}, fmt.Errorf("empty string: %w", ErrInvalid)
	case s[0] == '+':
		return parseHIBCC(s)
	case s[0] == '=' || s[0] == '&':
		return parseICCBBA(s)
	case s[0] == '(' || s[0] >= '0' && s[0] <= '9' || s[0] == 0x1d:
		return parseGS1(s)
	}
	return UDI{}, fmt.Errorf("%q: not a GS1, HIBCC or ICCBBA identifier: %w", clip(s), ErrInvalid)
}

// ai describes a GS1 application identifier: fixed length or maximum.
type ai struct {
	fixed, max int
	numeric    bool
}

var ais = map[string]ai{
	"01":   {fixed: 14, numeric: true},
	"11":   {fixed: 6, numeric: true},
	"17":   {fixed: 6, numeric: true},
	"10":   {max: 20},
	"21":   {max: 20},
	"22":   {max: 20},
	"30":   {max: 8, numeric: true},
	"7240": {max: 20},
}

func parseGS1(s string) (UDI, error) {
	u := UDI{Issuer: GS1}
	s = strings.TrimLeft(s, "\x1d")
	seen := map[string]bool{}
	for pos := 0; s != ""; {
		var code, val string
		if s[0] == '(' {
			end := strings.IndexByte(s, ')')
			if end < 0 {
				return u, fmt.Errorf("gs1 at offset %d: unclosed '(': %w", pos, ErrInvalid)
			}
			code = s[1:end]
			rest := s[end+1:]
			next := strings.IndexAny(rest, "(\x1d")
			if next < 0 {
				next = len(rest)
			}
			val, s = rest[:next], strings.TrimLeft(rest[next:], "\x1d")
			pos += end + 1 + next
		} else {
			code = matchAI(s)
			if code == "" {
				return u, fmt.Errorf("gs1 at offset %d: unknown application identifier in %q: %w", pos, clip(s), ErrInvalid)
			}
			def := ais[code]
			s = s[len(code):]
			pos += len(code)
			if def.fixed > 0 {
				if len(s) < def.fixed {
					return u, fmt.Errorf("gs1 AI (%s): %d characters, want %d: %w", code, len(s), def.fixed, ErrInvalid)
				}
				val, s = s[:def.fixed], s[def.fixed:]
			} else {
				end := strings.IndexByte(s, 0x1d)
				if end < 0 {
					end = len(s)
				}
				val, s = s[:end], s[end:]
			}
			pos += len(val)
			s = strings.TrimLeft(s, "\x1d")
		}
		def, ok := ais[code]
		if !ok {
			return u, fmt.Errorf("gs1: application identifier (%s) is not a UDI element: %w", clip(code), ErrInvalid)
		}
		if seen[code] {
			return u, fmt.Errorf("gs1: AI (%s) repeated: %w", code, ErrInvalid)
		}
		seen[code] = true
		switch {
		case def.fixed > 0 && len(val) != def.fixed:
			return u, fmt.Errorf("gs1 AI (%s) %q: %d characters, want %d: %w", code, clip(val), len(val), def.fixed, ErrInvalid)
		case def.max > 0 && (len(val) == 0 || len(val) > def.max):
			return u, fmt.Errorf("gs1 AI (%s) %q: length %d, want 1 to %d: %w", code, clip(val), len(val), def.max, ErrInvalid)
		case def.numeric && !digits(val):
			return u, fmt.Errorf("gs1 AI (%s) %q: not numeric: %w", code, clip(val), ErrInvalid)
		case !def.numeric && !gs1Chars(val):
			return u, fmt.Errorf("gs1 AI (%s) %q: character outside GS1 character set 82: %w", code, clip(val), ErrInvalid)
		}
		var err error
		switch code {
		case "01":
			if !gtinValid(val) {
				return u, fmt.Errorf("gs1 AI (01) GTIN %s: check digit %c, want %d: %w", val, val[13], gtinCheck(val[:13]), ErrInvalid)
			}
			u.DI = val
		case "11":
			u.Manufactured, err = yymmdd(val)
		case "17":
			u.Expiry, err = yymmdd(val)
		case "10":
			u.Lot = val
		case "21":
			u.Serial = val
		case "30":
			u.Quantity = val
		case "7240":
			u.Software = val
		}
		if err != nil {
			return u, fmt.Errorf("gs1 AI (%s) %q: %w", code, val, err)
		}
	}
	if u.DI == "" {
		return u, fmt.Errorf("gs1: no device identifier AI (01): %w", ErrInvalid)
	}
	return u, nil
}

func matchAI(s string) string {
	for _, n := range []int{2, 4} {
		if len(s) >= n {
			if _, ok := ais[s[:n]]; ok {
				return s[:n]
			}
		}
	}
	return ""
}

func gtinCheck(body string) int {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

func gtinValid(g string) bool {
	return len(g) == 14 && digits(g) && int(g[13]-'0') == gtinCheck(g[:13])
}

// yymmdd renders a YYMMDD date. The pure package has no clock, so the
// century uses a fixed window (00–50 → 20xx, 51–99 → 19xx) in place of
// GS1 GenSpecs 7.12's window around the current year; they agree for
// dates on devices in service today. Day 00 means the month's last day.
func yymmdd(v string) (string, error) {
	yy, _ := strconv.Atoi(v[:2])
	mm, _ := strconv.Atoi(v[2:4])
	dd, _ := strconv.Atoi(v[4:6])
	if mm < 1 || mm > 12 || dd > 31 {
		return "", fmt.Errorf("not a YYMMDD date: %w", ErrInvalid)
	}
	year := 2000 + yy
	if yy >= 51 {
		year = 1900 + yy
	}
	if dd == 0 {
		dd = daysIn(year, mm)
	}
	if dd > daysIn(year, mm) {
		return "", fmt.Errorf("day %d of month %d: %w", dd, mm, ErrInvalid)
	}
	return fmt.Sprintf("%04d-%02d-%02d", year, mm, dd), nil
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// gs1Chars: GS1 AI encodable character set 82.
func gs1Chars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '!' || c > 'z' || strings.IndexByte("#$@[\\]^`", c) >= 0 {
			return false
		}
	}
	return true
}

const hibcChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"

// HIBCCCheck returns the modulo-43 check character of data (which
// includes the leading '+'), or 0 when data has a character outside the
// HIBC set.
func HIBCCCheck(data string) byte {
	sum := 0
	for i := 0; i < len(data); i++ {
		v := strings.IndexByte(hibcChars, data[i])
		if v < 0 {
			return 0
		}
		sum += v
	}
	return hibcChars[sum%43]
}

func parseHIBCC(s string) (UDI, error) {
	u := UDI{Issuer: HIBCC}
	s = strings.Trim(s, "*") // human-readable delimiters
	if len(s) < 7 {
		return u, fmt.Errorf("hibcc %q: too short: %w", clip(s), ErrInvalid)
	}
	data, check := s[:len(s)-1], s[len(s)-1]
	want := HIBCCCheck(data)
	if want == 0 {
		return u, fmt.Errorf("hibcc %q: character outside the HIBC set: %w", clip(s), ErrInvalid)
	}
	if check != want {
		return u, fmt.Errorf("hibcc %q: check character %q, want %q: %w", clip(s), check, want, ErrInvalid)
	}
	primary, secondary, _ := strings.Cut(data[1:], "/")
	// Primary: LIC (4, first alphabetic), product/catalogue number (1–18),
	// unit of measure (one digit).
	if len(primary) < 6 || primary[0] < 'A' || primary[0] > 'Z' {
		return u, fmt.Errorf("hibcc primary %q: want LIC (4, starting with a letter), product number and unit of measure: %w", clip(primary), ErrInvalid)
	}
	if um := primary[len(primary)-1]; um < '0' || um > '9' {
		return u, fmt.Errorf("hibcc primary %q: unit of measure %q is not a digit: %w", clip(primary), um, ErrInvalid)
	}
	if len(primary)-5 > 18 {
		return u, fmt.Errorf("hibcc primary %q: product number longer than 18: %w", clip(primary), ErrInvalid)
	}
	u.DI = "+" + primary
	if secondary == "" {
		return u, nil
	}
	return u, hibccSecondary(&u, secondary)
}

// hibccSecondary decodes the secondary data structure (HIBC LIC 2.6 §2.3):
// a Julian date + lot, "$" lot, "$+" serial, "$$" / "$$+" with a date
// format flag, then lot or serial; supplemental "/S" serial, "/16D"
// manufacture date, "/14D" expiry.
func hibccSecondary(u *UDI, sec string) error {
	parts := strings.Split(sec, "/")
	s := parts[0]
	serial := false
	switch {
	case strings.HasPrefix(s, "$$+"):
		serial, s = true, s[3:]
		if err := hibccDate(u, &s); err != nil {
			return err
		}
	case strings.HasPrefix(s, "$$"):
		s = s[2:]
		if err := hibccDate(u, &s); err != nil {
			return err
		}
	case strings.HasPrefix(s, "$+"):
		serial, s = true, s[2:]
	case strings.HasPrefix(s, "$"):
		s = s[1:]
	case len(s) >= 5 && digits(s[:5]):
		d, err := julian(s[:5])
		if err != nil {
			return fmt.Errorf("hibcc secondary %q: %w", clip(sec), err)
		}
		u.Expiry, s = d, s[5:]
	default:
		return fmt.Errorf("hibcc secondary %q: unknown format: %w", clip(sec), ErrInvalid)
	}
	if len(s) > 18 {
		return fmt.Errorf("hibcc secondary %q: lot or serial longer than 18: %w", clip(sec), ErrInvalid)
	}
	if serial {
		u.Serial = s
	} else {
		u.Lot = s
	}
	for _, p := range parts[1:] {
		switch {
		case strings.HasPrefix(p, "S"):
			u.Serial = p[1:]
		case strings.HasPrefix(p, "16D") && len(p) == 11 && digits(p[3:]):
			d, err := yymmdd(p[5:])
			if err != nil {
				return fmt.Errorf("hibcc /16D %q: %w", p, err)
			}
			u.Manufactured = d
		case strings.HasPrefix(p, "14D") && len(p) == 11 && digits(p[3:]):
			d, err := yymmdd(p[5:])
			if err != nil {
				return fmt.Errorf("hibcc /14D %q: %w", p, err)
			}
			u.Expiry = d
		}
	}
	return nil
}

// hibccDate reads the date after "$$": a flag digit 2–7 selects the
// format, otherwise MMYY.
func hibccDate(u *UDI, s *string) error {
	v := *s
	take := func(n int) (string, bool) {
		if len(v) < n+1 || !digits(v[1:n+1]) {
			return "", false
		}
		d := v[1 : n+1]
		v = v[n+1:]
		return d, true
	}
	var err error
	switch {
	case v != "" && v[0] == '2': // MMDDYY
		d, ok := take(6)
		if !ok {
			return fmt.Errorf("hibcc date MMDDYY in %q: %w", clip(*s), ErrInvalid)
		}
		u.Expiry, err = yymmdd(d[4:] + d[:4])
	case v != "" && (v[0] == '3' || v[0] == '4'): // YYMMDD, YYMMDDHH
		n := 6
		if v[0] == '4' {
			n = 8
		}
		d, ok := take(n)
		if !ok {
			return fmt.Errorf("hibcc date in %q: %w", clip(*s), ErrInvalid)
		}
		u.Expiry, err = yymmdd(d[:6])
	case v != "" && (v[0] == '5' || v[0] == '6'): // YYJJJ, YYJJJHH
		n := 5
		if v[0] == '6' {
			n = 7
		}
		d, ok := take(n)
		if !ok {
			return fmt.Errorf("hibcc date in %q: %w", clip(*s), ErrInvalid)
		}
		u.Expiry, err = julian(d[:5])
	case v != "" && v[0] == '7': // no date
		v = v[1:]
	case len(v) >= 4 && digits(v[:4]): // MMYY
		d := v[:4]
		v = v[4:]
		u.Expiry, err = yymmdd(d[2:] + d[:2] + "00")
	default:
		return fmt.Errorf("hibcc date in %q: %w", clip(*s), ErrInvalid)
	}
	*s = v
	return err
}

// julian renders YYJJJ.
func julian(v string) (string, error) {
	yy, _ := strconv.Atoi(v[:2])
	jjj, _ := strconv.Atoi(v[2:5])
	year := 2000 + yy
	days := 365
	if daysIn(year, 2) == 29 {
		days = 366
	}
	if jjj < 1 || jjj > days {
		return "", fmt.Errorf("julian day %d: %w", jjj, ErrInvalid)
	}
	m := 1
	for jjj > daysIn(year, m) {
		jjj -= daysIn(year, m)
		m++
	}
	return fmt.Sprintf("%04d-%02d-%02d", year, m, jjj), nil
}

// parseICCBBA reads concatenated ISBT 128 data structures: "=/" processor
// product identification code (16: FIN(P) 6 + product code 10, the DI),
// "=," serial number (6), "=>" expiration date cyyjjj, "&,1" lot (18),
// "=}" manufacturing date cyyjjj.
func parseICCBBA(s string) (UDI, error) {
	u := UDI{Issuer: ICCBBA}
	for s != "" {
		if len(s) < 2 {
			return u, fmt.Errorf("iccbba: trailing %q: %w", s, ErrInvalid)
		}
		var n int
		var dst *string
		date := false
		id := s[:2]
		switch {
		case id == "=/":
			n, dst = 16, &u.DI
		case id == "=,":
			n, dst = 6, &u.Serial
		case id == "=>":
			n, dst, date = 6, &u.Expiry, true
		case id == "=}":
			n, dst, date = 6, &u.Manufactured, true
		case strings.HasPrefix(s, "&,1"):
			id, n, dst = "&,1", 18, &u.Lot
		default:
			return u, fmt.Errorf("iccbba: unknown data identifier %q: %w", clip(s), ErrInvalid)
		}
		s = s[len(id):]
		if len(s) < n {
			return u, fmt.Errorf("iccbba %s: %d characters, want %d: %w", id, len(s), n, ErrInvalid)
		}
		v := s[:n]
		s = s[n:]
		if date {
			if !digits(v) {
				return u, fmt.Errorf("iccbba %s %q: not a cyyjjj date: %w", id, v, ErrInvalid)
			}
			d, err := julian(v[1:])
			if err != nil {
				return u, fmt.Errorf("iccbba %s %q: %w", id, v, err)
			}
			v = d
		}
		*dst = strings.TrimRight(v, " ")
	}
	if u.DI == "" {
		return u, fmt.Errorf("iccbba: no processor product identification code (=/): %w", ErrInvalid)
	}
	return u, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
