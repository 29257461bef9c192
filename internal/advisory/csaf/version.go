package csaf

import (
	"strings"
	"time"
)

// docVersion is a parsed CSAF version_t: an integer ("3") or a semantic
// version ("1.2.0-rc.1+build.5").
type docVersion struct {
	ok      bool
	integer bool
	nums    [3]string // major, minor, patch as digit strings without leading zeros
	pre     []string
	build   string
}

func parseVersion(s string) docVersion {
	if isDigits(s) && (s == "0" || s[0] != '0') {
		return docVersion{ok: true, integer: true, nums: [3]string{s}}
	}
	v := docVersion{}
	rest := s
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		v.build = rest[i+1:]
		rest = rest[:i]
		if v.build == "" {
			return docVersion{}
		}
	}
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		pre := rest[i+1:]
		rest = rest[:i]
		if pre == "" {
			return docVersion{}
		}
		v.pre = strings.Split(pre, ".")
		for _, p := range v.pre {
			if p == "" || (isDigits(p) && len(p) > 1 && p[0] == '0') {
				return docVersion{}
			}
		}
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return docVersion{}
	}
	for i, p := range parts {
		if !isDigits(p) || (len(p) > 1 && p[0] == '0') {
			return docVersion{}
		}
		v.nums[i] = p
	}
	v.ok = true
	return v
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// major returns the integer value or the semver major, as digits.
func (v docVersion) major() string { return v.nums[0] }

// isZero is "0" or "0.y.z".
func (v docVersion) isZero() bool { return v.ok && v.nums[0] == "0" }

func (v docVersion) hasPre() bool { return len(v.pre) > 0 }

// cmpDigits compares two non-negative decimal digit strings without leading zeros.
func cmpDigits(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// compareVersions orders versions by semantic-versioning precedence
// (build metadata ignored); integers compare numerically. Mixed kinds
// compare the integer with the major.
func compareVersions(a, b docVersion) int {
	for i := 0; i < 3; i++ {
		x, y := a.nums[i], b.nums[i]
		if x == "" {
			x = "0"
		}
		if y == "" {
			y = "0"
		}
		if c := cmpDigits(x, y); c != 0 {
			return c
		}
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return 0
	case len(a.pre) == 0:
		return 1
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		x, y := a.pre[i], b.pre[i]
		xn, yn := isDigits(x), isDigits(y)
		var c int
		switch {
		case xn && yn:
			c = cmpDigits(x, y)
		case xn:
			c = -1
		case yn:
			c = 1
		default:
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
	switch {
	case len(a.pre) < len(b.pre):
		return -1
	case len(a.pre) > len(b.pre):
		return 1
	}
	return 0
}

// parseTime parses a CSAF date-time (RFC 3339); ok is false when it is not one.
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
