package versions

import (
	"errors"
	"strings"
)

// gentooVersion follows the Package Manager Specification §3.2/§3.3:
// numbers(.numbers)*[letter](_suffix[N])*[-rN].
type gentooVersion struct {
	nums     []string
	letter   byte
	suffixes []gentooSuffix
	rev      string
}

type gentooSuffix struct {
	rank int // alpha 0, beta 1, pre 2, rc 3, p 5 (none = 4)
	num  string
}

var gentooSuffixRank = map[string]int{"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "p": 5}

var errGentooForm = errors.New("not a Gentoo version (PMS 3.2)")

func parseGentoo(s string) (any, error) {
	v := &gentooVersion{rev: "0"}
	if i := strings.LastIndex(s, "-r"); i >= 0 && allDigits(s[i+2:]) {
		v.rev, s = s[i+2:], s[:i]
	}
	i := 0
	for {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i {
			return nil, errGentooForm
		}
		v.nums = append(v.nums, s[i:j])
		i = j
		if i < len(s) && s[i] == '.' {
			i++
			continue
		}
		break
	}
	if i < len(s) && s[i] >= 'a' && s[i] <= 'z' {
		v.letter = s[i]
		i++
	}
	for i < len(s) {
		if s[i] != '_' {
			return nil, errGentooForm
		}
		i++
		j := i
		for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
			j++
		}
		r, ok := gentooSuffixRank[s[i:j]]
		if !ok {
			return nil, errGentooForm
		}
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		n := s[j:k]
		if n == "" {
			n = "0"
		}
		v.suffixes = append(v.suffixes, gentooSuffix{rank: r, num: n})
		i = k
	}
	return v, nil
}

func compareGentoo(a, b any) int {
	x, y := a.(*gentooVersion), b.(*gentooVersion)
	if c := cmpDigits(x.nums[0], y.nums[0]); c != 0 {
		return c
	}
	for i := 1; i < len(x.nums) && i < len(y.nums); i++ {
		an, bn := x.nums[i], y.nums[i]
		var c int
		if an[0] == '0' || bn[0] == '0' {
			c = strings.Compare(strings.TrimRight(an, "0"), strings.TrimRight(bn, "0"))
		} else {
			c = cmpDigits(an, bn)
		}
		if c != 0 {
			return c
		}
	}
	if c := cmpInt(len(x.nums), len(y.nums)); c != 0 {
		return c
	}
	if c := cmpInt(x.letter, y.letter); c != 0 {
		return c
	}
	for i := 0; i < len(x.suffixes) || i < len(y.suffixes); i++ {
		switch {
		case i >= len(x.suffixes):
			if y.suffixes[i].rank == 5 {
				return -1
			}
			return 1
		case i >= len(y.suffixes):
			if x.suffixes[i].rank == 5 {
				return 1
			}
			return -1
		}
		if c := cmpInt(x.suffixes[i].rank, y.suffixes[i].rank); c != 0 {
			return c
		}
		if c := cmpDigits(x.suffixes[i].num, y.suffixes[i].num); c != 0 {
			return c
		}
	}
	return cmpDigits(x.rev, y.rev)
}

// Gentoo is the Gentoo/portage scheme.
var Gentoo = &Scheme{name: "gentoo", parse: parseGentoo, compare: compareGentoo}
