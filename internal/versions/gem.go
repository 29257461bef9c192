package versions

import (
	"errors"
	"regexp"
	"strings"
)

// gemVersion follows RubyGems' Gem::Version: segments are numbers or letter
// runs, "-" means ".pre.", a letter segment makes a prerelease, and trailing
// zeros of the release and prerelease parts are insignificant.
type gemVersion struct {
	segs []gemSeg
}

type gemSeg struct {
	num  bool
	text string
}

var gemPattern = regexp.MustCompile(`^\s*[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$`)

var errGemForm = errors.New("not a RubyGems version")

func parseGem(s string) (any, error) {
	if !gemPattern.MatchString(s) {
		return nil, errGemForm
	}
	s = strings.ReplaceAll(strings.TrimSpace(s), "-", ".pre.")
	var segs []gemSeg
	for i := 0; i < len(s); {
		j := i
		switch {
		case isDigit(s[i]):
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			d := strings.TrimLeft(s[i:j], "0")
			if d == "" {
				d = "0"
			}
			segs = append(segs, gemSeg{num: true, text: d})
		case isAlpha(s[i]):
			for j < len(s) && isAlpha(s[j]) {
				j++
			}
			segs = append(segs, gemSeg{text: s[i:j]})
		default:
			j++
		}
		i = j
	}
	// canonical_segments: drop trailing zeros of the release part and of the
	// prerelease part.
	firstStr := len(segs)
	for i, sg := range segs {
		if !sg.num {
			firstStr = i
			break
		}
	}
	rel, pre := segs[:firstStr], segs[firstStr:]
	for len(rel) > 0 && rel[len(rel)-1].text == "0" {
		rel = rel[:len(rel)-1]
	}
	for len(pre) > 0 && pre[len(pre)-1].num && pre[len(pre)-1].text == "0" {
		pre = pre[:len(pre)-1]
	}
	out := append(append([]gemSeg{}, rel...), pre...)
	return &gemVersion{segs: out}, nil
}

func compareGem(a, b any) int {
	x, y := a.(*gemVersion), b.(*gemVersion)
	zero := gemSeg{num: true, text: "0"}
	for i := 0; i < len(x.segs) || i < len(y.segs); i++ {
		l, r := zero, zero
		if i < len(x.segs) {
			l = x.segs[i]
		}
		if i < len(y.segs) {
			r = y.segs[i]
		}
		switch {
		case l.num && r.num:
			if c := cmpDigits(l.text, r.text); c != 0 {
				return c
			}
		case !l.num && r.num:
			return -1
		case l.num && !r.num:
			return 1
		default:
			if c := strings.Compare(l.text, r.text); c != 0 {
				return c
			}
		}
	}
	return 0
}

// Gem is the RubyGems scheme.
var Gem = &Scheme{name: "gem", parse: parseGem, compare: compareGem}
