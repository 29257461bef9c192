package versions

import (
	"errors"
	"strings"
)

// Alpine apk versions follow apk-tools' version.c: numbers separated by
// ".", an optional letter, "_suffix[N]" (alpha < beta < pre < rc < release
// < cvs < svn < git < hg < p), an optional "~hash" and "-rN".

const (
	apkInvalid = iota - 1
	apkDigitOrZero
	apkDigit
	apkLetter
	apkSuffix
	apkSuffixNo
	apkRevisionNo
	apkEnd
)

var (
	apkPre  = [...]string{"alpha", "beta", "pre", "rc"}
	apkPost = [...]string{"cvs", "svn", "git", "hg", "p"}
)

var errAPKForm = errors.New("not an apk version")

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

func apkNextToken(typ *int, s *string) {
	n := apkInvalid
	b := *s
	switch {
	case len(b) == 0:
		n = apkEnd
	case (*typ == apkDigit || *typ == apkDigitOrZero) && isLower(b[0]):
		n = apkLetter
	case *typ == apkLetter && isDigit(b[0]):
		n = apkDigit
	case *typ == apkSuffix && isDigit(b[0]):
		n = apkSuffixNo
	default:
		switch b[0] {
		case '.':
			n = apkDigitOrZero
		case '_':
			n = apkSuffix
		case '-':
			if len(b) > 1 && b[1] == 'r' {
				n = apkRevisionNo
				b = b[1:]
			}
		}
		b = b[1:]
	}
	if n < *typ {
		if !(n == apkDigitOrZero && *typ == apkDigit ||
			n == apkSuffix && *typ == apkSuffixNo ||
			n == apkDigit && *typ == apkLetter) {
			n = apkInvalid
		}
	}
	*typ = n
	*s = b
}

func apkGetToken(typ *int, s *string) int64 {
	b := *s
	if len(b) == 0 {
		*typ = apkEnd
		return 0
	}
	var v int64
	i := 0
	nt := apkInvalid
	switch *typ {
	case apkDigitOrZero, apkDigit, apkSuffixNo, apkRevisionNo:
		if *typ == apkDigitOrZero && b[0] == '0' {
			// Leading zeros: all but the last are consumed here and count
			// against the version; the last is read as a number next.
			for i+1 < len(b) && b[i+1] == '0' {
				i++
			}
			nt = apkDigit
			v = int64(-i)
			break
		}
		for i < len(b) && isDigit(b[i]) {
			if v < 1e17 {
				v = v*10 + int64(b[i]-'0')
			}
			i++
		}
	case apkLetter:
		v = int64(b[0])
		i = 1
	case apkSuffix:
		found := false
		for k, p := range apkPre {
			if strings.HasPrefix(b, p) {
				v, i, found = int64(k-len(apkPre)), len(p), true
				break
			}
		}
		if !found {
			for k, p := range apkPost {
				if strings.HasPrefix(b, p) {
					v, i, found = int64(k), len(p), true
					break
				}
			}
		}
		if !found {
			*typ = apkInvalid
			return -1
		}
	default:
		*typ = apkInvalid
		return -1
	}
	b = b[i:]
	switch {
	case len(b) == 0:
		*typ = apkEnd
	case nt != apkInvalid:
		*typ = nt
	default:
		apkNextToken(typ, &b)
	}
	*s = b
	return v
}

// apkHash splits off a "~hash" component (apk-tools 2.12+), which sorts
// after the version it is attached to.
func apkSplit(s string) string {
	if i := strings.IndexByte(s, '~'); i >= 0 {
		j := strings.Index(s[i:], "-r")
		if j < 0 {
			return s[:i]
		}
		return s[:i] + s[i+j:]
	}
	return s
}

func apkCompare(a, b string) int {
	at, bt := apkDigit, apkDigit
	var av, bv int64
	for at == bt && at != apkEnd && at != apkInvalid && av == bv {
		av = apkGetToken(&at, &a)
		bv = apkGetToken(&bt, &b)
	}
	if av < bv {
		return -1
	}
	if av > bv {
		return 1
	}
	if at == bt {
		return 0
	}
	tt := at
	if at == apkSuffix && apkGetToken(&tt, &a) < 0 {
		return -1
	}
	tt = bt
	if bt == apkSuffix && apkGetToken(&tt, &b) < 0 {
		return 1
	}
	if at > bt {
		return -1
	}
	if bt > at {
		return 1
	}
	return 0
}

func apkHash(s string) string {
	i := strings.IndexByte(s, '~')
	if i < 0 {
		return ""
	}
	s = s[i+1:]
	if j := strings.Index(s, "-r"); j >= 0 {
		s = s[:j]
	}
	return s
}

type apkVersion struct{ s, full string }

func parseAPK(s string) (any, error) {
	v := apkSplit(s)
	t := apkDigit
	rest := v
	for t != apkEnd && t != apkInvalid {
		apkGetToken(&t, &rest)
	}
	if t == apkInvalid {
		return nil, errAPKForm
	}
	return &apkVersion{s: v, full: s}, nil
}

func compareAPK(a, b any) int {
	x, y := a.(*apkVersion), b.(*apkVersion)
	if c := apkCompare(x.s, y.s); c != 0 {
		return c
	}
	return strings.Compare(apkHash(x.full), apkHash(y.full))
}

// APK is the Alpine Linux apk scheme.
var APK = &Scheme{name: "apk", parse: parseAPK, compare: compareAPK}
