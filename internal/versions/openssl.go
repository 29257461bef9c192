package versions

import (
	"errors"
	"strings"
)

// opensslVersion is an OpenSSL release number: dotted numbers, then for the
// 0.9.x-1.1.1 series a letter suffix ("1.0.2zh": a..z then za..zz).
type opensslVersion struct {
	nums    []string
	letters string
	pre     string // "-beta1", "-alpha2" … sort before the release
}

var errOpenSSLForm = errors.New("not an OpenSSL version (N.N.N[letters][-pre])")

func parseOpenSSL(s string) (any, error) {
	v := &opensslVersion{}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		v.pre, s = strings.ToLower(s[i+1:]), s[:i]
		if v.pre == "" {
			return nil, errOpenSSLForm
		}
	}
	end := len(s)
	for end > 0 && isAlpha(s[end-1]) {
		end--
	}
	v.letters = strings.ToLower(s[end:])
	for _, p := range strings.Split(s[:end], ".") {
		if !allDigits(p) {
			return nil, errOpenSSLForm
		}
		v.nums = append(v.nums, p)
	}
	return v, nil
}

func compareOpenSSL(a, b any) int {
	x, y := a.(*opensslVersion), b.(*opensslVersion)
	for i := 0; i < len(x.nums) || i < len(y.nums); i++ {
		an, bn := "0", "0"
		if i < len(x.nums) {
			an = x.nums[i]
		}
		if i < len(y.nums) {
			bn = y.nums[i]
		}
		if c := cmpDigits(an, bn); c != 0 {
			return c
		}
	}
	if c := cmpInt(len(x.letters), len(y.letters)); c != 0 {
		return c
	}
	if c := strings.Compare(x.letters, y.letters); c != 0 {
		return c
	}
	switch {
	case x.pre == y.pre:
		return 0
	case x.pre == "":
		return 1
	case y.pre == "":
		return -1
	}
	return cmpTokens(mustTok(x.pre), mustTok(y.pre))
}

func mustTok(s string) []token {
	t, _ := tokenize(s, true)
	return t
}

// OpenSSL is the OpenSSL release scheme.
var OpenSSL = &Scheme{name: "openssl", parse: parseOpenSSL, compare: compareOpenSSL}
