package versions

import (
	"errors"
	"strings"
)

// semVersion is a parsed Semantic Versioning 2.0.0 version. Numbers are kept
// as digit strings so that no size limit applies.
type semVersion struct {
	nums  [4]string // major, minor, patch, (revision: nuget only)
	n     [4]uint64 // nums as integers when small is set
	small bool      // every number fits in 19 digits
	pre   []string
	preID []semIdent
	build []string
}

// semIdent is a pre-classified pre-release identifier.
type semIdent struct {
	num bool
	big bool
	n   uint64
	s   string
}

func makeIdent(s string) semIdent {
	if !allDigits(s) {
		return semIdent{s: s}
	}
	d := trimNum(s)
	id := semIdent{num: true, s: d}
	if len(d) > 19 {
		id.big = true
		return id
	}
	for i := 0; i < len(d); i++ {
		id.n = id.n*10 + uint64(d[i]-'0')
	}
	return id
}

var (
	errSemverForm  = errors.New("not MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]")
	errLeadingZero = errors.New("numeric identifier with a leading zero")
	errEmptyIdent  = errors.New("empty identifier")
	errBadChar     = errors.New("character not allowed")
)

type semOpts struct {
	loose    bool // accept "v"/"=" prefix and 1 or 2 components
	maxParts int  // 3, or 4 for nuget
	fold     bool // compare pre-release labels case-insensitively (nuget)
}

func parseSemverOpts(s string, o semOpts) (*semVersion, error) {
	if o.loose {
		s = strings.TrimLeft(s, "=v")
	}
	var build string
	if i := strings.IndexByte(s, '+'); i >= 0 {
		if err := checkIdents(s[i+1:], false); err != nil {
			return nil, err
		}
		s, build = s[:i], s[i+1:]
	}
	var pre string
	if i := strings.IndexByte(s, '-'); i >= 0 {
		s, pre = s[:i], s[i+1:]
		if err := checkIdents(pre, !o.fold); err != nil {
			return nil, err
		}
	}
	v := &semVersion{}
	parts := strings.Split(s, ".")
	if len(parts) > o.maxParts || len(parts) < 3 && !o.loose || len(parts) < 1 {
		return nil, errSemverForm
	}
	for i := range v.nums {
		v.nums[i] = "0"
	}
	for i, p := range parts {
		if !allDigits(p) {
			return nil, errSemverForm
		}
		if len(p) > 1 && p[0] == '0' && !o.loose {
			return nil, errLeadingZero
		}
		v.nums[i] = strings.TrimLeft(p, "0")
		if v.nums[i] == "" {
			v.nums[i] = "0"
		}
	}
	if build != "" {
		v.build = strings.Split(build, ".")
	}
	if pre != "" {
		v.pre = strings.Split(pre, ".")
		if o.fold {
			for i := range v.pre {
				v.pre[i] = strings.ToLower(v.pre[i])
			}
		}
		v.preID = make([]semIdent, len(v.pre))
		for i, p := range v.pre {
			v.preID[i] = makeIdent(p)
		}
	}
	v.small = true
	for i, d := range v.nums {
		if len(d) > 19 {
			v.small = false
			break
		}
		for j := 0; j < len(d); j++ {
			v.n[i] = v.n[i]*10 + uint64(d[j]-'0')
		}
	}
	return v, nil
}

func checkIdents(s string, noLeadingZero bool) error {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return errEmptyIdent
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !isDigit(c) && !isAlpha(c) && c != '-' {
				return errBadChar
			}
		}
		if noLeadingZero && len(id) > 1 && id[0] == '0' && allDigits(id) {
			return errLeadingZero
		}
	}
	return nil
}

func compareSem(a, b any) int {
	x, y := a.(*semVersion), b.(*semVersion)
	if x.small && y.small {
		for i := range x.n {
			if x.n[i] != y.n[i] {
				return cmpInt(x.n[i], y.n[i])
			}
		}
	} else {
		for i := range x.nums {
			if c := cmpDigits(x.nums[i], y.nums[i]); c != 0 {
				return c
			}
		}
	}
	return compareIdents(x.preID, y.preID)
}

// compareIdents orders pre-parsed pre-release identifiers per SemVer 2.0.0 §11.
func compareIdents(a, b []semIdent) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return 1
	case len(b) == 0:
		return -1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := &a[i], &b[i]
		switch {
		case x.num && y.num:
			if !x.big && !y.big {
				if x.n != y.n {
					return cmpInt(x.n, y.n)
				}
				continue
			}
			if c := cmpDigits(x.s, y.s); c != 0 {
				return c
			}
		case x.num:
			return -1
		case y.num:
			return 1
		default:
			if c := strings.Compare(x.s, y.s); c != 0 {
				return c
			}
		}
	}
	return cmpInt(len(a), len(b))
}

// compareSemBuild is compareSem with build metadata as a final tie-break
// (identifiers compared numerically when both are numbers, else as text;
// no build sorts first). univers orders Composer versions this way.
func compareSemBuild(a, b any) int {
	if c := compareSem(a, b); c != 0 {
		return c
	}
	x, y := a.(*semVersion).build, b.(*semVersion).build
	for i := 0; i < len(x) && i < len(y); i++ {
		var c int
		if allDigits(x[i]) && allDigits(y[i]) {
			c = cmpDigits(x[i], y[i])
		} else {
			c = strings.Compare(x[i], y[i])
		}
		if c != 0 {
			return c
		}
	}
	return cmpInt(len(x), len(y))
}

func semParser(o semOpts) func(string) (any, error) {
	return func(s string) (any, error) {
		v, err := parseSemverOpts(s, o)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
}

// canonSemver pads a loose version to three components ("3.3" -> "3.3.0").
func canonSemver(s string) string {
	s = strings.TrimLeft(s, "=v")
	core, suffix := s, ""
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		core, suffix = s[:i], s[i:]
	}
	n := strings.Count(core, ".")
	for ; n < 2; n++ {
		core += ".0"
	}
	return core + suffix
}

// SemVer is strict Semantic Versioning 2.0.0.
var SemVer = &Scheme{name: "semver", parse: semParser(semOpts{maxParts: 3}), compare: compareSem}
