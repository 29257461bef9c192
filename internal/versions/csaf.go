package versions

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ParseCSAFRange parses the affected-version text of a CSAF advisory: a
// product_version_range (vers form "vers:generic/>=1.0|<2.0", CISA's
// "vers:all/<V22.01.10" and "<= 3.2 | >= 4.0" forms), a product_version
// branch name, or the free text of an advisory ("Versions 5 and prior",
// "all versions before R11", "1.0 through 2.3", "v2.1 - v2.7", "4.x",
// "1.2, 1.3 and 1.4"). Free-text versions are ordered with the firmware
// scheme.
//
// The result is a union of disjoint intervals. Text that is not understood
// — dates ("prior to May 2018"), conditions ("running on Windows 8.1"),
// product names — returns an error wrapping ErrNotUnderstood; callers must
// treat that as "needs review", never as "not affected".
func ParseCSAFRange(text string) (*Range, error) {
	r, err := parseCSAF(text)
	if err != nil {
		return nil, fmt.Errorf("csaf version range %q: %w", text, err)
	}
	return r, nil
}

var (
	reSpace      = regexp.MustCompile(`\s+`)
	reDate       = regexp.MustCompile(`\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b\.?(\s+\d|,|$)|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b(january|february|march|april|june|july|august|september|october|november|december)\b`)
	reParen      = regexp.MustCompile(`\s*\(([^()]*)\)`)
	reListSep    = regexp.MustCompile(`\s*(?:\||;|,|\s/\s)\s*`)
	reAndOr      = regexp.MustCompile(`\s+(?:and|or|&)\s+`)
	reBetween    = regexp.MustCompile(`^(?:from\s+|between\s+)?(.+?)\s*(?:\s(?:through(?:\s+to)?|thru|to|until|and|up\s+to)\s|\s-\s?|-\s)\s*(.+)$`)
	reLetterSpan = regexp.MustCompile(`^([a-z])-([a-z])$`)
	reChained    = regexp.MustCompile(`^(.+?)\s*(<=|<)\s*(.+)$`)
)

// Phrases are matched on lower-cased, space-normalised text.
var (
	csafLeadingNoise = []string{
		"all software versions", "all firmware versions", "all bios versions", "all versions",
		"bios versions", "bios version",
		"software versions", "firmware versions", "software version", "firmware version",
		"sw versions", "sw version", "fw versions", "fw version", "sw", "fw",
		"versions", "version", "revisions", "revision", "releases", "release", "rev.", "rev", "ver.", "ver",
	}
	csafUpperExclusive = []string{
		"up to but not including", "prior to", "before", "earlier than", "older than", "lower than",
		"less than", "below", "previous to",
	}
	csafUpperInclusive = []string{"up to and including", "prior to and including", "before and including",
		"through and including", "until and including", "up to", "through", "until"}
	csafLowerExclusive = []string{"later than", "newer than", "greater than", "higher than", "after", "above"}
	csafLowerInclusive = []string{"starting with", "starting from", "from", "since"}
	// suffixes: "V and prior", "V or later" …
	csafSuffixUpper = []string{
		"and prior versions", "and earlier versions", "and all prior versions", "and previous versions",
		"and prior", "and earlier", "and below", "and older", "and lower", "and previous", "and before",
		"or prior", "or earlier", "or below", "or older", "or lower", "or before",
	}
	csafSuffixLower = []string{
		"and later versions", "and newer versions", "and all later versions",
		"and later", "and newer", "and above", "and higher", "and up", "and onwards", "and after",
		"or later", "or newer", "or above", "or higher", "onwards", "and greater", "or greater", "+",
	}
	// Words allowed inside a multi-word version ("8.0 SP2", "7.52 build 344").
	csafVersionWords = map[string]bool{
		"build": true, "bn": true, "sp": true, "sr": true, "service": true, "pack": true, "update": true,
		"upd": true, "patch": true, "hotfix": true, "hf": true, "mr": true, "rev": true, "release": true,
		"rc": true, "beta": true, "alpha": true, "pre": true, "preview": true, "dev": true, "snapshot": true,
		"version": true, "ver": true, "fix": true,
	}
)

type upperPhrase struct {
	text      string
	inclusive bool
}

// csafUpperPhrases holds the upper-bound prefixes, longest first, so that
// "prior to and including" wins over "prior to" and "up to but not
// including" over "up to".
var csafUpperPhrases = func() []upperPhrase {
	var out []upperPhrase
	for _, p := range csafUpperExclusive {
		out = append(out, upperPhrase{p, false})
	}
	for _, p := range csafUpperInclusive {
		out = append(out, upperPhrase{p, true})
	}
	slices.SortStableFunc(out, func(a, b upperPhrase) int { return len(b.text) - len(a.text) })
	return out
}()

type csafBound struct {
	v         string
	inclusive bool
	wildcard  bool   // "4.x": lower bound of a series
	next      string // first version after the series, when not wildcardNext(v)
}

func (b csafBound) after() string {
	if b.next != "" {
		return b.next
	}
	return wildcardNext(b.v)
}

// csafPiece is one parsed alternative: an interval, possibly half-open.
type csafPiece struct {
	lo, hi *csafBound
	all    bool
}

func (p csafPiece) lowerOnly() bool { return p.lo != nil && p.hi == nil && !p.all }
func (p csafPiece) upperOnly() bool { return p.hi != nil && p.lo == nil && !p.all }

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// csafReplacer normalises typography: dashes, comparison signs, spaces.
var csafReplacer = strings.NewReplacer(
	"\u2013", " - ", "\u2014", " - ", "\u2212", "-", "\u2264", "<=", "\u2265", ">=",
	"\u00a0", " ", "\u2009", " ", "\u202f", " ",
)

func parseCSAF(text string) (*Range, error) {
	s := strings.TrimSpace(reSpace.ReplaceAllString(csafReplacer.Replace(text), " "))
	s = strings.TrimRight(s, ".")
	if s == "" {
		return nil, fmt.Errorf("empty: %w", ErrNotUnderstood)
	}
	if len(s) > 1024 {
		return nil, fmt.Errorf("longer than 1024 bytes: %w", ErrNotUnderstood)
	}
	if strings.HasPrefix(asciiLower(s), "vers:") {
		return parseCSAFVers(s)
	}
	// Parenthesised notes: keep version-like ones ("(Build 3321)"), refuse
	// conditions, drop the rest ("(integrated into GE MobileLink)").
	var perr error
	s = reParen.ReplaceAllStringFunc(s, func(m string) string {
		inner := strings.TrimSpace(reParen.FindStringSubmatch(m)[1])
		li := asciiLower(inner)
		for _, w := range []string{"with", "except", "exclud", "only", "not ", "without", "when", "if "} {
			if strings.HasPrefix(li, w) || strings.Contains(li, " "+w) {
				perr = fmt.Errorf("condition %q: %w", inner, ErrNotUnderstood)
			}
		}
		if versionText(inner) && !strings.Contains(li, "cve-") {
			return " " + inner
		}
		return ""
	})
	if perr != nil {
		return nil, perr
	}
	s = strings.TrimSpace(s)
	l := asciiLower(s)
	if reDate.MatchString(l) {
		return nil, fmt.Errorf("date-based range: %w", ErrNotUnderstood)
	}
	// Split into alternatives.
	var pieces []csafPiece
	for _, part := range reListSep.Split(s, -1) {
		for _, alt := range splitComparators(splitAndOr(part)) {
			p, err := parseCSAFPiece(alt)
			if err != nil {
				return nil, err
			}
			pieces = append(pieces, p)
		}
	}
	if len(pieces) == 0 {
		return nil, fmt.Errorf("no versions: %w", ErrNotUnderstood)
	}
	// vers-style pairing: a lower bound followed by an upper bound is one
	// interval (">= 2.5 | <= 3.11", ">= V2.5 and < V20.8").
	var merged []csafPiece
	for i := 0; i < len(pieces); i++ {
		p := pieces[i]
		if p.lowerOnly() && i+1 < len(pieces) && pieces[i+1].upperOnly() {
			q := pieces[i+1]
			lo, err1 := Firmware.Parse(p.lo.v)
			hi, err2 := Firmware.Parse(q.hi.v)
			if err1 == nil && err2 == nil && lo.Compare(hi) <= 0 {
				merged = append(merged, csafPiece{lo: p.lo, hi: q.hi})
				i++
				continue
			}
		}
		merged = append(merged, p)
	}
	return rangeFromPieces(Firmware, merged)
}

// splitAndOr splits on " and " / " or " / " & " unless the word is part of
// a phrase ("and prior", "up to and including", "between X and Y").
func splitAndOr(part string) []string {
	l := asciiLower(part)
	locs := reAndOr.FindAllStringIndex(l, -1)
	if len(locs) == 0 {
		return []string{part}
	}
	var out []string
	start := 0
	for _, loc := range locs {
		before, after := l[start:loc[0]], l[loc[1]:]
		if strings.HasPrefix(l[loc[0]:], " and including") ||
			strings.HasSuffix(before, "up to") ||
			strings.Contains(before, "between ") && !strings.Contains(before, " and ") ||
			hasAnyPrefix(strings.TrimSpace(l[loc[0]:]), csafSuffixUpper) ||
			hasAnyPrefix(strings.TrimSpace(l[loc[0]:]), csafSuffixLower) ||
			hasAnyPrefix(after, []string{"all prior", "all later", "prior", "earlier", "later", "newer", "below", "above", "older", "lower", "higher", "previous", "before", "after", "up", "onwards", "greater"}) {
			continue
		}
		out = append(out, part[start:loc[0]])
		start = loc[1]
	}
	return append(out, part[start:])
}

var reNextComparator = regexp.MustCompile(`\s+(?:<=|>=|=<|=>|<|>)`)

// splitComparators splits ">= 3.5.0 < 3.5.3" into ">= 3.5.0" and
// "< 3.5.3". Only pieces that start with a comparator are split, so the
// CISA shorthand "A10 < A11" stays whole.
func splitComparators(alts []string) []string {
	var out []string
	for _, a := range alts {
		a = stripNoise(strings.TrimSpace(a))
		if a == "" || !strings.ContainsAny(a[:1], "<>=") {
			out = append(out, a)
			continue
		}
		locs := reNextComparator.FindAllStringIndex(a, -1)
		start := 0
		for _, loc := range locs {
			out = append(out, a[start:loc[0]])
			start = loc[0]
		}
		out = append(out, a[start:])
	}
	return out
}

func hasAnyPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if s == p || strings.HasPrefix(s, p+" ") || p == "+" && strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func stripNoise(s string) string {
	for {
		l := asciiLower(s)
		changed := false
		for _, n := range csafLeadingNoise {
			if l == n {
				return ""
			}
			if strings.HasPrefix(l, n+" ") {
				s = strings.TrimSpace(s[len(n):])
				changed = true
				break
			}
		}
		if changed {
			continue
		}
		if l == "all" || l == "*" || l == "any" {
			return ""
		}
		if strings.HasPrefix(l, "all ") && !strings.HasPrefix(l, "all versions") {
			s = strings.TrimSpace(s[4:])
			changed = true
		}
		if !changed {
			return s
		}
	}
}

func parseCSAFPiece(alt string) (csafPiece, error) {
	s := strings.TrimSpace(alt)
	s = stripNoise(s)
	if s == "" {
		return csafPiece{all: true}, nil
	}
	l := asciiLower(s)
	if strings.HasSuffix(l, " inclusive") {
		s = strings.TrimSpace(s[:len(s)-len(" inclusive")])
		l = asciiLower(s)
	}
	// "all versions of 4.1": the whole 4.1 series.
	if strings.HasPrefix(l, "of ") {
		b, err := csafVersion(strings.TrimSpace(s[3:]))
		if err != nil {
			return csafPiece{}, err
		}
		b.wildcard = true
		return exact(b), nil
	}
	// comparator forms
	for _, op := range []string{"<=", ">=", "=<", "=>", "==", "<", ">", "="} {
		if strings.HasPrefix(l, op) {
			v := stripNoise(strings.TrimSpace(s[len(op):]))
			b, err := csafVersion(v)
			if err != nil {
				return csafPiece{}, err
			}
			switch op {
			case "<":
				return upper(b, false), nil
			case "<=", "=<":
				return upper(b, true), nil
			case ">":
				return lower(b, false), nil
			case ">=", "=>":
				return lower(b, true), nil
			}
			return exact(b), nil
		}
	}
	for _, ph := range csafUpperPhrases {
		if strings.HasPrefix(l, ph.text+" ") {
			b, err := csafVersion(stripNoise(strings.TrimSpace(s[len(ph.text):])))
			if err != nil {
				return csafPiece{}, err
			}
			return upper(b, ph.inclusive), nil
		}
	}
	for _, ph := range csafLowerExclusive {
		if strings.HasPrefix(l, ph+" ") {
			b, err := csafVersion(stripNoise(strings.TrimSpace(s[len(ph):])))
			if err != nil {
				return csafPiece{}, err
			}
			return lower(b, false), nil
		}
	}
	for _, ph := range csafSuffixUpper {
		if strings.HasSuffix(l, " "+ph) {
			b, err := csafVersion(stripNoise(strings.TrimSpace(s[:len(s)-len(ph)])))
			if err != nil {
				return csafPiece{}, err
			}
			return upper(b, true), nil
		}
	}
	for _, ph := range csafSuffixLower {
		if strings.HasSuffix(l, " "+ph) || ph == "+" && strings.HasSuffix(l, "+") {
			b, err := csafVersion(stripNoise(strings.TrimSpace(s[:len(s)-len(ph)])))
			if err != nil {
				return csafPiece{}, err
			}
			return lower(b, true), nil
		}
	}
	// intervals: "1.0 through 2.3", "from 8.0 to 8.2.1", "v2.1 - v2.7",
	// "between 1 and 2", "Rev B-M"
	if m := reLetterSpan.FindStringSubmatch(l); m != nil {
		return csafPiece{lo: &csafBound{v: s[:1], inclusive: true}, hi: &csafBound{v: s[2:], inclusive: true}}, nil
	}
	if m := reBetween.FindStringSubmatchIndex(l); m != nil {
		a, b := stripNoise(s[m[2]:m[3]]), stripNoise(s[m[4]:m[5]])
		lo, err1 := csafVersion(a)
		hi, err2 := csafVersion(b)
		if err1 == nil && err2 == nil {
			return interval(lo, hi), nil
		}
	}
	for _, ph := range csafLowerInclusive {
		if strings.HasPrefix(l, ph+" ") {
			b, err := csafVersion(stripNoise(strings.TrimSpace(s[len(ph):])))
			if err != nil {
				return csafPiece{}, err
			}
			return lower(b, true), nil
		}
	}
	// CISA shorthand "A.01 <= C.0x", "A10 < A11": from the first version up
	// to the second.
	if m := reChained.FindStringSubmatch(s); m != nil {
		lo, err1 := csafVersion(stripNoise(m[1]))
		hi, err2 := csafVersion(stripNoise(m[3]))
		if err1 == nil && err2 == nil {
			p := interval(lo, hi)
			if m[2] == "<" && !hi.wildcard {
				p.hi.inclusive = false
			}
			return p, nil
		}
	}
	b, err := csafVersion(s)
	if err != nil {
		return csafPiece{}, err
	}
	return exact(b), nil
}

func upper(b csafBound, incl bool) csafPiece {
	if b.wildcard {
		// "< 3.x": below the 3 series; "<= 4.x": up to the end of the 4 series.
		if !incl {
			return csafPiece{hi: &csafBound{v: b.v, inclusive: false}}
		}
		return csafPiece{hi: &csafBound{v: b.after(), inclusive: false}}
	}
	b.inclusive = incl
	return csafPiece{hi: &b}
}

func lower(b csafBound, incl bool) csafPiece {
	if b.wildcard {
		if !incl {
			return csafPiece{lo: &csafBound{v: b.after(), inclusive: true}}
		}
		return csafPiece{lo: &csafBound{v: b.v, inclusive: true}}
	}
	b.inclusive = incl
	return csafPiece{lo: &b}
}

func exact(b csafBound) csafPiece {
	if b.wildcard {
		return csafPiece{lo: &csafBound{v: b.v, inclusive: true}, hi: &csafBound{v: b.after()}}
	}
	b.inclusive = true
	c := b
	return csafPiece{lo: &b, hi: &c}
}

func interval(lo, hi csafBound) csafPiece {
	p := csafPiece{lo: &csafBound{v: lo.v, inclusive: true}}
	if hi.wildcard {
		p.hi = &csafBound{v: hi.after()}
	} else {
		p.hi = &csafBound{v: hi.v, inclusive: true}
	}
	return p
}

// wildcardNext returns the first version after the series v ("4" -> "5",
// "2.4" -> "2.5").
func wildcardNext(v string) string {
	i := len(v)
	for i > 0 && isDigit(v[i-1]) {
		i--
	}
	if i == len(v) {
		return v + ".1"
	}
	return v[:i] + incDigits(strings.TrimLeft(v[i:], "0"))
}

// csafVersion validates a version text and detects a trailing wildcard
// ("4.x", "2.4.X", "C.0x", "4.*").
func csafVersion(v string) (csafBound, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return csafBound{}, fmt.Errorf("missing version: %w", ErrNotUnderstood)
	}
	lv := asciiLower(v)
	for _, suf := range []string{".x", ".*"} {
		if strings.HasSuffix(lv, suf) && len(v) > 2 {
			base := v[:len(v)-2]
			if versionText(base) {
				return csafBound{v: base, wildcard: true}, nil
			}
		}
	}
	// "C.0x": a single-digit segment followed by x has a wildcard last
	// digit, so "C.0x" is C.00 to C.09: from C.0 up to (not including) C.10.
	if seg := lv[strings.LastIndexByte(lv, '.')+1:]; len(seg) == 2 && isDigit(seg[0]) && seg[1] == 'x' && strings.Contains(lv, ".") {
		base := v[:len(v)-1]
		if versionText(base) {
			next := v[:len(v)-2] + incDigits(strings.TrimLeft(seg[:1], "0")) + "0"
			return csafBound{v: base, wildcard: true, next: next}, nil
		}
	}
	if !versionText(v) {
		return csafBound{}, fmt.Errorf("%q is not a version: %w", v, ErrNotUnderstood)
	}
	return csafBound{v: v}, nil
}

// versionText reports whether s looks like a version: at most 64 bytes,
// starting with a letter or digit, containing a digit or being a short
// token ("K", "BT06"), and any word longer than three letters is a
// version word ("build", "sp", "update").
func versionText(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	if !isAlnum(s[0]) {
		return false
	}
	hasDigit := strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' }) >= 0
	words := strings.FieldsFunc(asciiLower(s), func(r rune) bool { return r < 'a' || r > 'z' })
	if !hasDigit && (len(words) != 1 || len(words[0]) > 3) {
		return false
	}
	for _, w := range words {
		if len(w) > 3 && !csafVersionWords[w] {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && !strings.ContainsRune(" ._-+/()~:", rune(c)) {
			return false
		}
	}
	return true
}

func parseCSAFVers(s string) (*Range, error) {
	name, raw, err := splitVers(s, false)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrNotUnderstood)
	}
	sch, err := LookupScheme(name)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrNotUnderstood)
	}
	cs := make([]Constraint, len(raw))
	for i, rc := range raw {
		cs[i].Op = rc.Op
		if rc.Op == OpAny {
			continue
		}
		if (sch == All || sch == Firmware || sch == Generic) && !versionText(rc.Version) {
			return nil, fmt.Errorf("constraint %d: %q is not a version: %w", i+1, rc.Version, ErrNotUnderstood)
		}
		if cs[i].Version, err = sch.Parse(rc.Version); err != nil {
			return nil, fmt.Errorf("constraint %d: %v: %w", i+1, err, ErrNotUnderstood)
		}
	}
	return NewRange(sch, cs)
}

// rangeFromPieces turns intervals into a Range: they are sorted, merged
// where they overlap, and written as canonical vers constraints.
func rangeFromPieces(sch *Scheme, pieces []csafPiece) (*Range, error) {
	var ivs []Interval
	for _, p := range pieces {
		if p.all {
			return NewRange(sch, []Constraint{{Op: OpAny}})
		}
		var iv Interval
		if p.lo == nil {
			iv.Lo.Unbounded = true
		} else {
			v, err := sch.Parse(p.lo.v)
			if err != nil {
				return nil, fmt.Errorf("%v: %w", err, ErrNotUnderstood)
			}
			iv.Lo = Bound{Version: v, Inclusive: p.lo.inclusive}
		}
		if p.hi == nil {
			iv.Hi.Unbounded = true
		} else {
			v, err := sch.Parse(p.hi.v)
			if err != nil {
				return nil, fmt.Errorf("%v: %w", err, ErrNotUnderstood)
			}
			iv.Hi = Bound{Version: v, Inclusive: p.hi.inclusive}
		}
		if !iv.Lo.Unbounded && !iv.Hi.Unbounded {
			c := iv.Lo.Version.Compare(iv.Hi.Version)
			if c > 0 || c == 0 && !(iv.Lo.Inclusive && iv.Hi.Inclusive) {
				return nil, fmt.Errorf("empty interval from %q to %q: %w", iv.Lo.Version, iv.Hi.Version, ErrNotUnderstood)
			}
		}
		ivs = append(ivs, iv)
	}
	return RangeFromIntervals(sch, ivs)
}

// RangeFromIntervals builds a Range that contains exactly the union of the
// given intervals. Overlapping and touching intervals are merged; the
// canonical vers constraints are derived from the merged intervals.
func RangeFromIntervals(sch *Scheme, ivs []Interval) (*Range, error) {
	if len(ivs) == 0 {
		return nil, fmt.Errorf("no intervals: %w", ErrInvalidRange)
	}
	ivs = slices.Clone(ivs)
	slices.SortFunc(ivs, func(a, b Interval) int { return cmpLo(a.Lo, b.Lo) })
	merged := []Interval{ivs[0]}
	for _, iv := range ivs[1:] {
		last := &merged[len(merged)-1]
		if touches(last.Hi, iv.Lo) {
			if cmpHi(iv.Hi, last.Hi) > 0 {
				last.Hi = iv.Hi
			}
			continue
		}
		merged = append(merged, iv)
	}
	var cs []Constraint
	for _, iv := range merged {
		switch {
		case iv.Lo.Unbounded && iv.Hi.Unbounded:
			return NewRange(sch, []Constraint{{Op: OpAny}})
		case !iv.Lo.Unbounded && !iv.Hi.Unbounded && iv.Lo.Inclusive && iv.Hi.Inclusive && iv.Lo.Version.Compare(iv.Hi.Version) == 0:
			cs = append(cs, Constraint{Op: OpEQ, Version: iv.Lo.Version})
			continue
		}
		if !iv.Lo.Unbounded {
			op := OpGT
			if iv.Lo.Inclusive {
				op = OpGE
			}
			cs = append(cs, Constraint{Op: op, Version: iv.Lo.Version})
		}
		if !iv.Hi.Unbounded {
			op := OpLT
			if iv.Hi.Inclusive {
				op = OpLE
			}
			cs = append(cs, Constraint{Op: op, Version: iv.Hi.Version})
		}
	}
	return NewRange(sch, cs)
}

// cmpLo orders lower bounds: unbounded first, then by version, inclusive
// before exclusive.
func cmpLo(a, b Bound) int {
	switch {
	case a.Unbounded && b.Unbounded:
		return 0
	case a.Unbounded:
		return -1
	case b.Unbounded:
		return 1
	}
	if c := a.Version.Compare(b.Version); c != 0 {
		return c
	}
	switch {
	case a.Inclusive == b.Inclusive:
		return 0
	case a.Inclusive:
		return -1
	}
	return 1
}

// cmpHi orders upper bounds: unbounded last, exclusive before inclusive.
func cmpHi(a, b Bound) int {
	switch {
	case a.Unbounded && b.Unbounded:
		return 0
	case a.Unbounded:
		return 1
	case b.Unbounded:
		return -1
	}
	if c := a.Version.Compare(b.Version); c != 0 {
		return c
	}
	switch {
	case a.Inclusive == b.Inclusive:
		return 0
	case a.Inclusive:
		return 1
	}
	return -1
}

// touches reports whether an interval ending at hi and one starting at lo
// (lo >= the first interval's lo) overlap or meet.
func touches(hi, lo Bound) bool {
	if hi.Unbounded || lo.Unbounded {
		return true
	}
	c := lo.Version.Compare(hi.Version)
	return c < 0 || c == 0 && (hi.Inclusive || lo.Inclusive)
}
