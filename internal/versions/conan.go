package versions

import (
	"strings"
)

// conanVersion follows Conan 2's Version model: dot-separated items (numbers
// compare numerically, anything mixed compares as text), trailing zero items
// ignored, an optional "-pre" (sorts before the release) and "+build" (sorts
// after the build-less version).
type conanVersion struct {
	items []conanItem
	pre   *conanVersion
	build *conanVersion
}

type conanItem struct {
	num  bool
	text string // digits without leading zeros when num
}

func parseConanInner(s string, top bool) *conanVersion {
	v := &conanVersion{}
	if top {
		if i := strings.IndexByte(s, '+'); i >= 0 {
			v.build = parseConanInner(s[i+1:], false)
			s = s[:i]
		}
		if i := strings.IndexByte(s, '-'); i >= 0 {
			v.pre = parseConanInner(s[i+1:], false)
			s = s[:i]
		}
	}
	for _, p := range strings.Split(s, ".") {
		it := conanItem{text: p}
		if allDigits(p) {
			it.num = true
			it.text = strings.TrimLeft(p, "0")
			if it.text == "" {
				it.text = "0"
			}
		}
		v.items = append(v.items, it)
	}
	for len(v.items) > 1 && v.items[len(v.items)-1].num && v.items[len(v.items)-1].text == "0" {
		v.items = v.items[:len(v.items)-1]
	}
	return v
}

func parseConan(s string) (any, error) {
	return parseConanInner(strings.TrimSpace(s), true), nil
}

func cmpConanItems(a, b []conanItem) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		var c int
		if a[i].num && b[i].num {
			c = cmpDigits(a[i].text, b[i].text)
		} else {
			c = strings.Compare(a[i].text, b[i].text)
		}
		if c != 0 {
			return c
		}
	}
	return cmpInt(len(a), len(b))
}

func compareConanV(x, y *conanVersion) int {
	if c := cmpConanItems(x.items, y.items); c != 0 {
		return c
	}
	switch {
	case x.pre != nil && y.pre != nil:
		if c := compareConanV(x.pre, y.pre); c != 0 {
			return c
		}
	case x.pre != nil:
		return -1
	case y.pre != nil:
		return 1
	}
	switch {
	case x.build != nil && y.build != nil:
		return compareConanV(x.build, y.build)
	case x.build != nil:
		return 1
	case y.build != nil:
		return -1
	}
	return 0
}

func compareConan(a, b any) int { return compareConanV(a.(*conanVersion), b.(*conanVersion)) }

// Conan is the Conan C/C++ package manager scheme.
var Conan = &Scheme{name: "conan", parse: parseConan, compare: compareConan}
