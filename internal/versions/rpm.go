package versions

import (
	"strings"
)

// evr is an epoch:version-release triple used by rpm and alpm.
type evr struct {
	epoch, version, release string
	hasRelease              bool
}

func parseEVR(s string) (any, error) {
	v := &evr{epoch: "0"}
	if i := strings.IndexByte(s, ':'); i >= 0 && allDigits(s[:i]) {
		v.epoch, s = s[:i], s[i+1:]
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		v.release, s = s[i+1:], s[:i]
		v.hasRelease = true
	}
	if s == "" {
		return nil, errEmptyVersion
	}
	v.version = s
	return v, nil
}

func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// rpmvercmp is rpm's segment comparison (rpm >= 4.15: "~" sorts before
// everything, "^" after the base but before any further segment).
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		at, bt := i < len(a) && a[i] == '~', j < len(b) && b[j] == '~'
		if at || bt {
			if !at {
				return 1
			}
			if !bt {
				return -1
			}
			i++
			j++
			continue
		}
		ac, bc := i < len(a) && a[i] == '^', j < len(b) && b[j] == '^'
		if ac || bc {
			if i >= len(a) {
				return -1
			}
			if j >= len(b) {
				return 1
			}
			if !ac {
				return 1
			}
			if !bc {
				return -1
			}
			i++
			j++
			continue
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		si, sj := i, j
		isNum := isDigit(a[i])
		if isNum {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlpha(a[i]) {
				i++
			}
			for j < len(b) && isAlpha(b[j]) {
				j++
			}
		}
		if j == sj {
			if isNum {
				return 1
			}
			return -1
		}
		var c int
		if isNum {
			c = cmpDigits(a[si:i], b[sj:j])
		} else {
			c = strings.Compare(a[si:i], b[sj:j])
		}
		if c != 0 {
			return c
		}
	}
	if i >= len(a) && j >= len(b) {
		return 0
	}
	if i < len(a) {
		return 1
	}
	return -1
}

func compareRPM(a, b any) int {
	x, y := a.(*evr), b.(*evr)
	if c := cmpDigits(x.epoch, y.epoch); c != 0 {
		return c
	}
	if c := rpmvercmp(x.version, y.version); c != 0 {
		return c
	}
	if x.hasRelease && y.hasRelease {
		return rpmvercmp(x.release, y.release)
	}
	return 0
}

// alpmvercmp is pacman's rpmvercmp: separators of different length decide,
// and a trailing alpha segment sorts before the end.
func alpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		pi, pj := i, j
		for i < len(a) && !isAlnum(a[i]) {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) {
			j++
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		if i-pi != j-pj {
			return cmpInt(i-pi, j-pj)
		}
		si, sj := i, j
		isNum := isDigit(a[i])
		if isNum {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlpha(a[i]) {
				i++
			}
			for j < len(b) && isAlpha(b[j]) {
				j++
			}
		}
		if j == sj {
			if isNum {
				return 1
			}
			return -1
		}
		var c int
		if isNum {
			c = cmpDigits(a[si:i], b[sj:j])
		} else {
			c = strings.Compare(a[si:i], b[sj:j])
		}
		if c != 0 {
			return c
		}
	}
	if i >= len(a) && j >= len(b) {
		return 0
	}
	if i >= len(a) && !(j < len(b) && isAlpha(b[j])) || i < len(a) && isAlpha(a[i]) {
		return -1
	}
	return 1
}

func compareALPM(a, b any) int {
	x, y := a.(*evr), b.(*evr)
	if c := alpmvercmp(x.epoch, y.epoch); c != 0 {
		return c
	}
	if c := alpmvercmp(x.version, y.version); c != 0 {
		return c
	}
	if x.hasRelease && y.hasRelease {
		return alpmvercmp(x.release, y.release)
	}
	return 0
}

// RPM is the rpm scheme ([epoch:]version[-release], rpmvercmp).
var RPM = &Scheme{name: "rpm", parse: parseEVR, compare: compareRPM}

// ALPM is the Arch Linux pacman scheme ([epoch:]version[-release], vercmp).
var ALPM = &Scheme{name: "alpm", parse: parseEVR, compare: compareALPM}
