package versions

import (
	"errors"
	"regexp"
	"strings"
)

// pypiVersion is a PEP 440 version.
type pypiVersion struct {
	epoch   string
	release []string // trailing zeros dropped
	full    []string // as written
	relN    []uint64 // release as integers when small
	small   bool     // every release number fits in 19 digits and epoch is 0
	preRank int      // 0 a, 1 b, 2 rc; -1 "dev-only" (sorts before any pre), 3 none
	preNum  string
	postSet bool
	postNum string
	devSet  bool
	devNum  string
	local   []string
}

// pep440 is the canonical PEP 440 pattern (packaging.version.VERSION_PATTERN).
var pep440 = regexp.MustCompile(`^\s*v?` +
	`(?:([0-9]+)!)?` +
	`([0-9]+(?:\.[0-9]+)*)` +
	`(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?([0-9]+)?)?` +
	`(?:(?:-([0-9]+))|(?:[-_.]?(post|rev|r)[-_.]?([0-9]+)?))?` +
	`(?:[-_.]?(dev)[-_.]?([0-9]+)?)?` +
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$`)

var errPEP440 = errors.New("not a PEP 440 version")

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func parsePyPI(s string) (any, error) {
	m := pep440.FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return nil, errPEP440
	}
	v := &pypiVersion{epoch: orZero(m[1]), preRank: 3}
	v.full = strings.Split(m[2], ".")
	v.release = v.full
	for len(v.release) > 1 && strings.TrimLeft(v.release[len(v.release)-1], "0") == "" {
		v.release = v.release[:len(v.release)-1]
	}
	v.small = v.epoch == "0" || trimNum(v.epoch) == "0"
	for _, r := range v.release {
		d := trimNum(r)
		if len(d) > 19 {
			v.small = false
			break
		}
		var n uint64
		for i := 0; i < len(d); i++ {
			n = n*10 + uint64(d[i]-'0')
		}
		v.relN = append(v.relN, n)
	}
	switch m[3] {
	case "a", "alpha":
		v.preRank = 0
	case "b", "beta":
		v.preRank = 1
	case "rc", "c", "pre", "preview":
		v.preRank = 2
	}
	v.preNum = orZero(m[4])
	switch {
	case m[5] != "":
		v.postSet, v.postNum = true, m[5]
	case m[6] != "":
		v.postSet, v.postNum = true, orZero(m[7])
	}
	if m[8] != "" {
		v.devSet, v.devNum = true, orZero(m[9])
	}
	if m[3] == "" && !v.postSet && v.devSet {
		v.preRank = -1
	}
	if m[10] != "" {
		v.local = strings.FieldsFunc(m[10], func(r rune) bool { return r == '.' || r == '-' || r == '_' })
	}
	return v, nil
}

func comparePyPI(a, b any) int {
	x, y := a.(*pypiVersion), b.(*pypiVersion)
	if x.small && y.small {
		for i := 0; i < len(x.relN) || i < len(y.relN); i++ {
			var an, bn uint64
			if i < len(x.relN) {
				an = x.relN[i]
			}
			if i < len(y.relN) {
				bn = y.relN[i]
			}
			if an != bn {
				return cmpInt(an, bn)
			}
		}
		return comparePyPISuffix(x, y)
	}
	if c := cmpDigits(x.epoch, y.epoch); c != 0 {
		return c
	}
	for i := 0; i < len(x.release) || i < len(y.release); i++ {
		an, bn := "0", "0"
		if i < len(x.release) {
			an = x.release[i]
		}
		if i < len(y.release) {
			bn = y.release[i]
		}
		if c := cmpDigits(an, bn); c != 0 {
			return c
		}
	}
	return comparePyPISuffix(x, y)
}

// comparePyPISuffix compares the pre, post, dev and local parts.
func comparePyPISuffix(x, y *pypiVersion) int {
	if c := cmpInt(x.preRank, y.preRank); c != 0 {
		return c
	}
	if x.preRank >= 0 && x.preRank < 3 {
		if c := cmpDigits(x.preNum, y.preNum); c != 0 {
			return c
		}
	}
	switch {
	case x.postSet && y.postSet:
		if c := cmpDigits(x.postNum, y.postNum); c != 0 {
			return c
		}
	case x.postSet:
		return 1
	case y.postSet:
		return -1
	}
	switch {
	case x.devSet && y.devSet:
		if c := cmpDigits(x.devNum, y.devNum); c != 0 {
			return c
		}
	case x.devSet:
		return -1
	case y.devSet:
		return 1
	}
	for i := 0; i < len(x.local) && i < len(y.local); i++ {
		an, bn := allDigits(x.local[i]), allDigits(y.local[i])
		var c int
		switch {
		case an && bn:
			c = cmpDigits(x.local[i], y.local[i])
		case an:
			c = 1
		case bn:
			c = -1
		default:
			c = strings.Compare(x.local[i], y.local[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmpInt(len(x.local), len(y.local))
}

// PyPI is the Python PEP 440 scheme.
var PyPI = &Scheme{name: "pypi", parse: parsePyPI, compare: comparePyPI}

// String returns the PEP 440 normalized form of the version.
func (v *pypiVersion) String() string {
	var b strings.Builder
	if v.epoch != "0" {
		b.WriteString(strings.TrimLeft(v.epoch, "0"))
		b.WriteByte('!')
	}
	for i, r := range v.full {
		if i > 0 {
			b.WriteByte('.')
		}
		r = strings.TrimLeft(r, "0")
		if r == "" {
			r = "0"
		}
		b.WriteString(r)
	}
	if v.preRank >= 0 && v.preRank < 3 {
		b.WriteString([...]string{"a", "b", "rc"}[v.preRank])
		b.WriteString(strings.TrimLeft(v.preNum, "0"))
		if strings.TrimLeft(v.preNum, "0") == "" {
			b.WriteByte('0')
		}
	}
	if v.postSet {
		b.WriteString(".post" + trimNum(v.postNum))
	}
	if v.devSet {
		b.WriteString(".dev" + trimNum(v.devNum))
	}
	if len(v.local) > 0 {
		b.WriteString("+" + strings.Join(v.local, "."))
	}
	return b.String()
}

func trimNum(s string) string {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return "0"
	}
	return s
}
