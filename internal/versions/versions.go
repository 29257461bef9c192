package versions

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sentinel errors. Every error returned by this package wraps one of them.
var (
	// ErrUnknownScheme is returned for a version scheme this package does not implement.
	ErrUnknownScheme = errors.New("unknown version scheme")
	// ErrInvalidVersion is returned for a version string the scheme rejects.
	ErrInvalidVersion = errors.New("invalid version")
	// ErrInvalidRange is returned for a malformed vers or native range.
	ErrInvalidRange = errors.New("invalid version range")
	// ErrNonCanonical is returned by ParseVersCanonical for a vers string that
	// is valid but not in canonical form.
	ErrNonCanonical = errors.New("non-canonical vers")
	// ErrNotUnderstood is returned by ParseCSAFRange for free text it cannot
	// turn into a range. Callers must treat it as "needs review", never as
	// "not affected".
	ErrNotUnderstood = errors.New("version range text not understood")
)

// Scheme is one versioning scheme: how to parse a version and how to order
// two parsed versions. Schemes are values in an explicit table (see
// schemeTable); there is no registration.
type Scheme struct {
	name    string
	parse   func(string) (any, error)
	compare func(a, b any) int
	// canon, when set, rewrites a version to its canonical vers spelling
	// (used by FromNative, e.g. npm "3.3" -> "3.3.0").
	canon func(string) string
}

// Name returns the vers scheme name, e.g. "semver" or "firmware".
func (s *Scheme) Name() string { return s.name }

// Parse parses v under this scheme. The result can be compared many times
// without further allocation.
func (s *Scheme) Parse(v string) (Version, error) {
	if v == "" {
		return Version{}, fmt.Errorf("%s version %q: empty: %w", s.name, v, ErrInvalidVersion)
	}
	p, err := s.parse(v)
	if err != nil {
		return Version{}, fmt.Errorf("%s version %q: %w: %w", s.name, v, ErrInvalidVersion, err)
	}
	return Version{raw: v, s: s, p: p}, nil
}

// Version is a pre-parsed version of one scheme. The zero Version is invalid.
type Version struct {
	raw string
	s   *Scheme
	p   any
}

// String returns the version as it was given.
func (v Version) String() string { return v.raw }

// Scheme returns the scheme name of v ("" for the zero Version).
func (v Version) Scheme() string {
	if v.s == nil {
		return ""
	}
	return v.s.name
}

// IsZero reports whether v is the zero Version.
func (v Version) IsZero() bool { return v.s == nil }

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w.
// Versions of different schemes are ordered by scheme name then text, so
// Compare is always a total order, but such a comparison is meaningless.
func (v Version) Compare(w Version) int {
	if v.s != w.s || v.s == nil {
		if c := strings.Compare(v.Scheme(), w.Scheme()); c != 0 {
			return c
		}
		return strings.Compare(v.raw, w.raw)
	}
	return v.s.compare(v.p, w.p)
}

// LookupScheme returns the scheme with the given vers name (case-insensitive).
func LookupScheme(name string) (*Scheme, error) {
	if s, ok := schemeTable[strings.ToLower(name)]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("scheme %q: %w", name, ErrUnknownScheme)
}

// Schemes returns the names of all implemented schemes, sorted.
func Schemes() []string {
	out := make([]string, 0, len(schemeTable))
	for k := range schemeTable {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Parse parses v under the named scheme.
func Parse(scheme, v string) (Version, error) {
	s, err := LookupScheme(scheme)
	if err != nil {
		return Version{}, err
	}
	return s.Parse(v)
}

// Compare parses a and b under the named scheme and compares them.
func Compare(scheme, a, b string) (int, error) {
	s, err := LookupScheme(scheme)
	if err != nil {
		return 0, err
	}
	va, err := s.Parse(a)
	if err != nil {
		return 0, err
	}
	vb, err := s.Parse(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// cmpInt compares two ints.
func cmpInt[T int | int64 | uint64 | uint8 | int8](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpDigits compares two runs of ASCII digits numerically, without limit on
// their length (leading zeros ignored).
func cmpDigits(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return cmpInt(len(a), len(b))
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
