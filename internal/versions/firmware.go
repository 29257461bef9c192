package versions

import (
	"errors"
	"strings"
)

// The "firmware" scheme orders the version strings found in medical-device
// advisories and hospital asset registers ("V2.4.1 SP3", "R11.2", "1.0.2b",
// "9.0 (Build 123)", "A.02.10", "2023.3_Build_9342"). The rules, documented
// in docs/VERSIONS.md, are:
//
//  1. Case is ignored. A leading "v" before a digit and leading words such as
//     "version", "ver", "release", "sw", "fw", "firmware", "software" are
//     dropped.
//  2. The text is split into tokens: runs of digits (numbers) and runs of
//     letters (words); everything else separates tokens.
//  3. Numbers compare numerically with no size limit; trailing zero numbers
//     of a dotted run are dropped, so 1.0 == 1.0.0 and "4.5.0.0 SR2" == "4.5 SR2".
//  4. Words are classified: pre-release words (dev < snapshot < pre/preview <
//     alpha < beta < milestone < rc/cr), post-release words (build/bn < mr <
//     patch < update/upd < hotfix/hf < sr < sp/servicepack) and other words
//     (letters such as the "b" of "1.0.2b", compared alphabetically).
//  5. Versions compare token by token; where one version has ended, the
//     missing token sorts after pre-release words and before everything else.
//     At one position: pre-release < end < post-release < other word < number.
//
// This is a total order on the canonical token lists (lexicographic order
// over a totally ordered alphabet), so it is antisymmetric and transitive.

type tokKind uint8

const (
	tkPre tokKind = iota
	tkEnd
	tkPost
	tkWord
	tkNum
)

type token struct {
	kind tokKind
	rank uint8
	big  bool   // number with more than 19 digits: compare s, not n
	n    uint64 // value of a number token
	s    string // digits without leading zeros, or a lower-case word
}

// numToken builds a number token from a digit run without leading zeros.
func numToken(d string) token {
	t := token{kind: tkNum, s: d}
	if len(d) > 19 {
		t.big = true
		return t
	}
	for i := 0; i < len(d); i++ {
		t.n = t.n*10 + uint64(d[i]-'0')
	}
	return t
}

type tokVersion struct {
	toks []token
}

var preWords = map[string]uint8{
	"dev": 1, "snapshot": 2, "pre": 3, "preview": 3, "alpha": 4, "beta": 5,
	"milestone": 6, "rc": 7, "cr": 7,
}

var postWords = map[string]uint8{
	"build": 1, "bn": 1, "mr": 2, "patch": 3, "update": 4, "upd": 4,
	"hotfix": 5, "hf": 5, "sr": 6, "sp": 7, "servicepack": 7,
}

var prefixWords = map[string]bool{
	"version": true, "versions": true, "ver": true, "release": true, "rel": true,
	"sw": true, "fw": true, "firmware": true, "software": true,
}

const maxVersionLen = 512

var (
	errEmptyVersion = errors.New("no digits or letters")
	errLongVersion  = errors.New("longer than 512 bytes")
)

// tokenize splits s into tokens. When keywords is false every letter run is
// a plain word (used by the generic scheme).
func tokenize(s string, keywords bool) ([]token, error) {
	if len(s) > maxVersionLen {
		return nil, errLongVersion
	}
	toks := make([]token, 0, 8)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isDigit(c):
			j := i
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			d := strings.TrimLeft(s[i:j], "0")
			if d == "" {
				d = "0"
			}
			toks = append(toks, numToken(d))
			i = j
		case isAlpha(c):
			j := i
			for j < len(s) && isAlpha(s[j]) {
				j++
			}
			w := strings.ToLower(s[i:j])
			t := token{kind: tkWord, s: w}
			if keywords {
				if r, ok := preWords[w]; ok {
					t = token{kind: tkPre, rank: r, s: w}
				} else if r, ok := postWords[w]; ok {
					t = token{kind: tkPost, rank: r, s: w}
				}
			}
			toks = append(toks, t)
			i = j
		default:
			i++
		}
	}
	if keywords {
		// Drop leading prefix words and a "v" directly before a number.
		for len(toks) > 1 && toks[0].kind == tkWord && (prefixWords[toks[0].s] || toks[0].s == "v" && toks[1].kind == tkNum) {
			toks = toks[1:]
		}
		// "service pack" is one qualifier.
		for i := 0; i+1 < len(toks); i++ {
			if toks[i].s == "service" && toks[i+1].s == "pack" {
				toks[i] = token{kind: tkPost, rank: postWords["sp"], s: "sp"}
				toks = append(toks[:i+1], toks[i+2:]...)
			}
		}
	}
	if len(toks) == 0 {
		return nil, errEmptyVersion
	}
	// Drop trailing zeros of each run of numbers (keep the first number).
	out := toks[:0]
	for i := 0; i < len(toks); {
		if toks[i].kind != tkNum {
			out = append(out, toks[i])
			i++
			continue
		}
		j := i
		for j < len(toks) && toks[j].kind == tkNum {
			j++
		}
		k := j
		for k > i+1 && toks[k-1].kind == tkNum && !toks[k-1].big && toks[k-1].n == 0 {
			k--
		}
		out = append(out, toks[i:k]...)
		i = j
	}
	return out, nil
}

var endToken = token{kind: tkEnd}

func cmpToken(a, b *token) int {
	if a.kind != b.kind {
		return cmpInt(uint8(a.kind), uint8(b.kind))
	}
	switch a.kind {
	case tkNum:
		if !a.big && !b.big {
			return cmpInt(a.n, b.n)
		}
		if len(a.s) != len(b.s) {
			return cmpInt(len(a.s), len(b.s))
		}
		return strings.Compare(a.s, b.s)
	case tkPre, tkPost:
		if a.rank != b.rank {
			return cmpInt(a.rank, b.rank)
		}
		return 0
	case tkWord:
		return strings.Compare(a.s, b.s)
	}
	return 0
}

func cmpTokens(a, b []token) int {
	n := max(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := &endToken, &endToken
		if i < len(a) {
			x = &a[i]
		}
		if i < len(b) {
			y = &b[i]
		}
		if c := cmpToken(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func parseFirmware(s string) (any, error) {
	t, err := tokenize(s, true)
	if err != nil {
		return nil, err
	}
	return &tokVersion{toks: t}, nil
}

func parseGeneric(s string) (any, error) {
	t, err := tokenize(s, false)
	if err != nil {
		return nil, err
	}
	return &tokVersion{toks: t}, nil
}

func compareTok(a, b any) int {
	return cmpTokens(a.(*tokVersion).toks, b.(*tokVersion).toks)
}

// Firmware is the vendor firmware scheme.
var Firmware = &Scheme{name: "firmware", parse: parseFirmware, compare: compareTok}

// Generic is the vers "generic" scheme: numbers compare numerically, letter
// runs alphabetically, a number sorts after a word, and trailing ".0" are
// insignificant.
var Generic = &Scheme{name: "generic", parse: parseGeneric, compare: compareTok}
