package versions

import (
	"errors"
	"strings"
)

// debVersion is a Debian package version [epoch:]upstream[-revision],
// compared with dpkg's verrevcmp.
type debVersion struct {
	epoch    string
	upstream string
	revision string
}

var errDebForm = errors.New("not [epoch:]upstream[-revision]")

func parseDeb(s string) (any, error) {
	v := &debVersion{epoch: "0"}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		if !allDigits(s[:i]) {
			return nil, errDebForm
		}
		v.epoch, s = s[:i], s[i+1:]
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		v.revision, s = s[i+1:], s[:i]
	}
	if s == "" || !isDigit(s[0]) {
		return nil, errors.New("upstream version must start with a digit")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !isAlpha(c) && !strings.ContainsRune(".+-~:", rune(c)) {
			return nil, errBadChar
		}
	}
	v.upstream = s
	return v, nil
}

func debOrder(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	c := s[i]
	switch {
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	}
	return int(c) + 256
}

// verrevcmp is dpkg's comparison of upstream versions and revisions.
func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		firstDiff := 0
		for i < len(a) && !isDigit(a[i]) || j < len(b) && !isDigit(b[j]) {
			ac, bc := debOrder(a, i), debOrder(b, j)
			if ac != bc {
				return cmpInt(ac, bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		for i < len(a) && isDigit(a[i]) && j < len(b) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			return cmpInt(firstDiff, 0)
		}
	}
	return 0
}

func compareDeb(a, b any) int {
	x, y := a.(*debVersion), b.(*debVersion)
	if c := cmpDigits(x.epoch, y.epoch); c != 0 {
		return c
	}
	if c := verrevcmp(x.upstream, y.upstream); c != 0 {
		return c
	}
	return verrevcmp(x.revision, y.revision)
}

// Deb is the Debian (dpkg) scheme.
var Deb = &Scheme{name: "deb", parse: parseDeb, compare: compareDeb}
