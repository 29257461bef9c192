package versions

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Op is a vers comparator.
type Op uint8

// The vers comparators. OpAny is the lone "*" constraint.
const (
	OpEQ Op = iota + 1
	OpNE
	OpLT
	OpLE
	OpGT
	OpGE
	OpAny
)

var opText = [...]string{OpEQ: "=", OpNE: "!=", OpLT: "<", OpLE: "<=", OpGT: ">", OpGE: ">=", OpAny: "*"}

// String returns the vers spelling of the comparator.
func (o Op) String() string {
	if int(o) < len(opText) && o != 0 {
		return opText[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

func (o Op) isLess() bool    { return o == OpLT || o == OpLE }
func (o Op) isGreater() bool { return o == OpGT || o == OpGE }

// Constraint is one vers constraint: a comparator and a version.
type Constraint struct {
	Op      Op
	Version Version
}

// String returns the canonical vers spelling ("=" omitted, version
// percent-encoded where needed).
func (c Constraint) String() string {
	if c.Op == OpAny {
		return "*"
	}
	v := encodeVersion(c.Version.raw)
	if c.Op == OpEQ {
		return v
	}
	return c.Op.String() + v
}

// Bound is one end of an Interval.
type Bound struct {
	Version   Version
	Inclusive bool
	Unbounded bool // -infinity for Lo, +infinity for Hi
}

// Interval is a contiguous set of versions between two bounds.
type Interval struct {
	Lo, Hi Bound
}

// Contains reports whether v lies in the interval.
func (iv *Interval) Contains(v Version) bool {
	if !iv.Lo.Unbounded {
		c := v.Compare(iv.Lo.Version)
		if c < 0 || c == 0 && !iv.Lo.Inclusive {
			return false
		}
	}
	if !iv.Hi.Unbounded {
		c := v.Compare(iv.Hi.Version)
		if c > 0 || c == 0 && !iv.Hi.Inclusive {
			return false
		}
	}
	return true
}

// Range is a parsed vers range: a scheme and constraints in canonical
// (version) order, compiled into intervals and single points following the
// vers containment algorithm. A Range is immutable and safe for concurrent
// use.
type Range struct {
	scheme      *Scheme
	constraints []Constraint
	all         bool
	// compiled form
	points    []Constraint // "=" and "!=" in canonical order
	intervals []Interval   // from the range constraints (vers pairing)
	onlyNE    bool
	// compiled search form: "!=" versions, and the intervals plus the "="
	// points as closed intervals, sorted by lower bound; disjoint enables a
	// binary search.
	ne       []Version
	search   []Interval
	disjoint bool
}

// Scheme returns the scheme name of the range.
func (r *Range) Scheme() string {
	if r.scheme == nil {
		return ""
	}
	return r.scheme.name
}

// Constraints returns a copy of the constraints in canonical order.
func (r *Range) Constraints() []Constraint { return slices.Clone(r.constraints) }

// Intervals returns the intervals of the range (a copy), sorted by lower
// bound. Versions matched by "=" constraints are closed single-point
// intervals; "!=" exclusions are not represented (see Excluded). A "*"
// range, or one made only of "!=" constraints, is one unbounded interval.
func (r *Range) Intervals() []Interval {
	if r.all || r.onlyNE {
		return []Interval{{Lo: Bound{Unbounded: true}, Hi: Bound{Unbounded: true}}}
	}
	return slices.Clone(r.search)
}

// Excluded returns the versions excluded by "!=" constraints.
func (r *Range) Excluded() []Version {
	var out []Version
	for _, p := range r.points {
		if p.Op == OpNE {
			out = append(out, p.Version)
		}
	}
	return out
}

// All reports whether the range is "*" (every version).
func (r *Range) All() bool { return r.all }

// String returns the canonical vers string.
func (r *Range) String() string {
	var b strings.Builder
	b.WriteString("vers:")
	b.WriteString(r.Scheme())
	b.WriteByte('/')
	for i, c := range r.constraints {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(c.String())
	}
	return b.String()
}

// Contains parses v under the range's scheme and reports whether it is in
// the range.
func (r *Range) Contains(v string) (bool, error) {
	if r.scheme == nil {
		return false, fmt.Errorf("contains %q: empty range: %w", v, ErrInvalidRange)
	}
	pv, err := r.scheme.Parse(v)
	if err != nil {
		return false, err
	}
	return r.ContainsVersion(pv), nil
}

// ContainsVersion reports whether the pre-parsed v is in the range. It does
// not allocate. v must be of the range's scheme.
//
// A version equal to a "!=" constraint is never contained (in canonical
// order "!=" sorts before "=" of the same version, so this is also what the
// vers algorithm does).
func (r *Range) ContainsVersion(v Version) bool {
	if r.all {
		return true
	}
	for i := range r.ne {
		if v.Compare(r.ne[i]) == 0 {
			return false
		}
	}
	if r.disjoint {
		// Count the intervals whose lower bound is at or below v; only the
		// last of them can contain v.
		lo, hi := 0, len(r.search)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			b := &r.search[m].Lo
			if b.Unbounded {
				lo = m + 1
				continue
			}
			if c := v.Compare(b.Version); c > 0 || c == 0 && b.Inclusive {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo > 0 {
			b := &r.search[lo-1].Hi
			if b.Unbounded {
				return true
			}
			if c := v.Compare(b.Version); c < 0 || c == 0 && b.Inclusive {
				return true
			}
		}
		return r.onlyNE
	}
	for i := range r.search {
		if r.search[i].Contains(v) {
			return true
		}
	}
	return r.onlyNE
}

// NewRange builds a Range from constraints, sorting them into canonical
// order. Every constraint version must be of the given scheme.
func NewRange(scheme *Scheme, cs []Constraint) (*Range, error) {
	if scheme == nil {
		return nil, fmt.Errorf("new range: no scheme: %w", ErrInvalidRange)
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("new range: no constraints: %w", ErrInvalidRange)
	}
	r := &Range{scheme: scheme, constraints: slices.Clone(cs)}
	for i, c := range r.constraints {
		if c.Op == OpAny {
			if len(cs) != 1 {
				return nil, fmt.Errorf("new range: constraint %d: \"*\" must be the only constraint: %w", i, ErrInvalidRange)
			}
			r.all = true
			return r, nil
		}
		if c.Op < OpEQ || c.Op > OpGE {
			return nil, fmt.Errorf("new range: constraint %d: bad comparator %d: %w", i, c.Op, ErrInvalidRange)
		}
		if c.Version.s != scheme {
			return nil, fmt.Errorf("new range: constraint %d: version %q is of scheme %q, not %q: %w", i, c.Version.raw, c.Version.Scheme(), scheme.name, ErrInvalidRange)
		}
	}
	slices.SortStableFunc(r.constraints, func(a, b Constraint) int {
		if c := a.Version.Compare(b.Version); c != 0 {
			return c
		}
		// Ties are ordered by comparator text, as univers does.
		return strings.Compare(a.Op.String(), b.Op.String())
	})
	r.compile()
	return r, nil
}

func (r *Range) compile() {
	var rest []Constraint
	hasEQ := false
	for _, c := range r.constraints {
		switch c.Op {
		case OpEQ, OpNE:
			r.points = append(r.points, c)
			hasEQ = hasEQ || c.Op == OpEQ
		default:
			rest = append(rest, c)
		}
	}
	r.onlyNE = len(rest) == 0 && !hasEQ && len(r.points) > 0
	defer r.buildSearch()
	if len(rest) == 0 {
		return
	}
	if rest[0].Op.isLess() {
		r.intervals = append(r.intervals, Interval{Lo: Bound{Unbounded: true}, Hi: Bound{Version: rest[0].Version, Inclusive: rest[0].Op == OpLE}})
	}
	for i := 0; i+1 < len(rest); i++ {
		a, b := rest[i], rest[i+1]
		if a.Op.isGreater() && b.Op.isLess() {
			r.intervals = append(r.intervals, Interval{
				Lo: Bound{Version: a.Version, Inclusive: a.Op == OpGE},
				Hi: Bound{Version: b.Version, Inclusive: b.Op == OpLE},
			})
		}
	}
	if last := rest[len(rest)-1]; last.Op.isGreater() {
		r.intervals = append(r.intervals, Interval{Lo: Bound{Version: last.Version, Inclusive: last.Op == OpGE}, Hi: Bound{Unbounded: true}})
	}
}

// buildSearch prepares the search form used by ContainsVersion.
func (r *Range) buildSearch() {
	r.search = append(r.search[:0], r.intervals...)
	for _, p := range r.points {
		switch p.Op {
		case OpNE:
			r.ne = append(r.ne, p.Version)
		case OpEQ:
			r.search = append(r.search, Interval{Lo: Bound{Version: p.Version, Inclusive: true}, Hi: Bound{Version: p.Version, Inclusive: true}})
		}
	}
	slices.SortStableFunc(r.search, func(a, b Interval) int { return cmpLo(a.Lo, b.Lo) })
	r.disjoint = true
	for i := 1; i < len(r.search); i++ {
		if touches(r.search[i-1].Hi, r.search[i].Lo) {
			r.disjoint = false
			break
		}
	}
}

// ParseVers parses a vers string ("vers:npm/>=1.0.0|<2.0.0"). It is lenient
// about form: whitespace, an explicit "=", unsorted constraints and upper
// case in "vers:" and the scheme are accepted; String returns the canonical
// form. Use ParseVersCanonical to insist on canonical input.
func ParseVers(s string) (*Range, error) {
	return parseVers(s, false)
}

// ParseVersCanonical parses a vers string that must already be canonical:
// no whitespace, no empty constraints, constraints sorted by version,
// canonical percent-encoding. The error names the first violation.
func ParseVersCanonical(s string) (*Range, error) {
	return parseVers(s, true)
}

var errNoVersPrefix = errors.New(`does not start with "vers:"`)

// RawConstraint is a vers constraint whose version has been percent-decoded
// but not parsed under its scheme.
type RawConstraint struct {
	Op      Op
	Version string
}

// ParseVersSyntax checks s against the canonical vers syntax only: prefix,
// lower-case scheme, no whitespace, no empty constraints, canonical
// percent-encoding and, where the scheme is known and the versions parse,
// version order. Versions are not required to be valid for their scheme
// and unknown schemes are accepted. It returns the scheme name and the
// decoded constraints.
func ParseVersSyntax(s string) (string, []RawConstraint, error) {
	return splitVers(s, true)
}

func splitVers(s string, strict bool) (string, []RawConstraint, error) {
	wrap := func(err error, why string, args ...any) error {
		return fmt.Errorf("vers %q: %s: %w", s, fmt.Sprintf(why, args...), err)
	}
	in := s
	if strict {
		if strings.ContainsAny(s, " \t\r\n\f\v") {
			return "", nil, wrap(ErrNonCanonical, "whitespace is not permitted")
		}
	} else {
		in = strings.Map(func(r rune) rune {
			switch r {
			case ' ', '\t', '\r', '\n', '\f', '\v':
				return -1
			}
			return r
		}, s)
	}
	if len(in) < 5 || !strings.EqualFold(in[:5], "vers:") {
		return "", nil, wrap(ErrInvalidRange, "%v", errNoVersPrefix)
	}
	if strict && in[:5] != "vers:" {
		return "", nil, wrap(ErrNonCanonical, `"vers:" must be lower case`)
	}
	rest := in[5:]
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return "", nil, wrap(ErrInvalidRange, "no \"/\" after the scheme")
	}
	name, body := rest[:slash], rest[slash+1:]
	if name == "" {
		return "", nil, wrap(ErrInvalidRange, "empty scheme")
	}
	if strict && name != strings.ToLower(name) {
		return "", nil, wrap(ErrNonCanonical, "scheme must be lower case")
	}
	name = strings.ToLower(name)
	if body == "" {
		return "", nil, wrap(ErrInvalidRange, "no constraints")
	}
	if strict {
		switch {
		case body[0] == '|':
			return "", nil, wrap(ErrNonCanonical, "leading pipe is not permitted")
		case body[len(body)-1] == '|':
			return "", nil, wrap(ErrNonCanonical, "trailing pipe is not permitted")
		case strings.Contains(body, "||"):
			return "", nil, wrap(ErrNonCanonical, "consecutive pipes are not permitted")
		}
	}
	parts := strings.Split(body, "|")
	cs := make([]RawConstraint, 0, len(parts))
	for i, p := range parts {
		if p == "" {
			continue
		}
		if p == "*" {
			cs = append(cs, RawConstraint{Op: OpAny})
			continue
		}
		op, ver := splitOp(p)
		if strict && op == OpEQ && strings.HasPrefix(p, "=") {
			return "", nil, wrap(ErrNonCanonical, "constraint %d: \"=\" must be omitted", i+1)
		}
		if ver == "" {
			return "", nil, wrap(ErrInvalidRange, "constraint %d %q: no version", i+1, p)
		}
		dec, err := decodeVersion(ver, strict)
		if err != nil {
			if strict && name == "datetime" && errors.Is(err, ErrNonCanonical) && strings.Contains(strings.ToUpper(ver), "%3A") && strings.Contains(ver, "%3A") {
				return "", nil, wrap(ErrNonCanonical, "constraint %d: datetime time colons must be unencoded", i+1)
			}
			return "", nil, wrap(err, "constraint %d %q", i+1, p)
		}
		if strict && name == "datetime" && strings.ContainsAny(dec, "tz") {
			return "", nil, wrap(ErrNonCanonical, "constraint %d: datetime must use uppercase T and Z", i+1)
		}
		cs = append(cs, RawConstraint{Op: op, Version: dec})
	}
	if len(cs) == 0 {
		return "", nil, wrap(ErrInvalidRange, "no constraints")
	}
	for i, c := range cs {
		if c.Op == OpAny && len(cs) != 1 {
			return "", nil, wrap(ErrInvalidRange, "constraint %d: \"*\" must be the only constraint", i+1)
		}
	}
	if strict {
		if sch, err := LookupScheme(name); err == nil {
			var prev Version
			for _, c := range cs {
				v, err := sch.Parse(c.Version)
				if err != nil {
					prev = Version{}
					continue
				}
				if !prev.IsZero() && prev.Compare(v) > 0 {
					return "", nil, wrap(ErrNonCanonical, "constraints are not sorted by version (%q after %q)", c.Version, prev.raw)
				}
				prev = v
			}
		}
	}
	return name, cs, nil
}

func parseVers(s string, strict bool) (*Range, error) {
	name, raw, err := splitVers(s, strict)
	if err != nil {
		return nil, err
	}
	sch, err := LookupScheme(name)
	if err != nil {
		return nil, fmt.Errorf("vers %q: %w", s, err)
	}
	cs := make([]Constraint, len(raw))
	for i, rc := range raw {
		cs[i].Op = rc.Op
		if rc.Op == OpAny {
			continue
		}
		if cs[i].Version, err = sch.Parse(rc.Version); err != nil {
			return nil, fmt.Errorf("vers %q: constraint %d: %w", s, i+1, err)
		}
	}
	r, err := NewRange(sch, cs)
	if err != nil {
		return nil, fmt.Errorf("vers %q: %w", s, err)
	}
	return r, nil
}

func splitOp(p string) (Op, string) {
	switch {
	case strings.HasPrefix(p, ">="):
		return OpGE, p[2:]
	case strings.HasPrefix(p, "<="):
		return OpLE, p[2:]
	case strings.HasPrefix(p, "!="):
		return OpNE, p[2:]
	case strings.HasPrefix(p, "<"):
		return OpLT, p[1:]
	case strings.HasPrefix(p, ">"):
		return OpGT, p[1:]
	case strings.HasPrefix(p, "="):
		return OpEQ, p[1:]
	}
	return OpEQ, p
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// decodeVersion percent-decodes a vers version once. In strict mode
// lower-case hex digits and needless encodings are rejected.
func decodeVersion(v string, strict bool) (string, error) {
	if !strings.Contains(v, "%") {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+2 >= len(v) {
			return "", fmt.Errorf("invalid percent-encoding in version at byte %d: %w", i, ErrInvalidRange)
		}
		h, ok1 := unhex(v[i+1])
		l, ok2 := unhex(v[i+2])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("invalid percent-encoding in version at byte %d: %w", i, ErrInvalidRange)
		}
		c := h<<4 | l
		if strict {
			if strings.ToUpper(v[i+1:i+3]) != v[i+1:i+3] {
				return "", fmt.Errorf("percent-encoding in version is not canonical (use upper-case hex) at byte %d: %w", i, ErrNonCanonical)
			}
			if !needsEncoding(c) {
				return "", fmt.Errorf("%q must not be percent-encoded (byte %d): %w", string(rune(c)), i, ErrNonCanonical)
			}
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), nil
}

func needsEncoding(c byte) bool {
	return c == '%' || c == '|' || c <= ' ' || c >= 0x7f
}

func encodeVersion(v string) string {
	n := 0
	for i := 0; i < len(v); i++ {
		if needsEncoding(v[i]) {
			n++
		}
	}
	if n == 0 {
		return v
	}
	const hexd = "0123456789ABCDEF"
	b := make([]byte, 0, len(v)+2*n)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if needsEncoding(c) {
			b = append(b, '%', hexd[c>>4], hexd[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}
