package versions

import (
	"strings"
)

// Maven versions follow Maven's ComparableVersion: the version is split on
// ".", "-" and digit/letter transitions into a tree of integer, qualifier
// and list items; "-" (and a letter-to-digit switch) opens a sub-list;
// null items (0, "", "ga", "final", "release", empty lists) at the end of
// a list are dropped. Known qualifiers order alpha < beta < milestone < rc
// (= cr) < snapshot < "" (release) < sp < any other qualifier
// (alphabetically); integers sort after qualifiers.

type mvnKind uint8

const (
	mvnInt mvnKind = iota
	mvnStr
	mvnList
)

type mvnItem struct {
	kind mvnKind
	text string // digits without leading zeros, or the comparable qualifier
	list []*mvnItem
}

var mvnQualifiers = map[string]string{
	"alpha": "0", "beta": "1", "milestone": "2", "rc": "3", "cr": "3",
	"snapshot": "4", "": "5", "ga": "5", "final": "5", "release": "5", "sp": "6",
}

const mvnRelease = "5"

func mvnString(s string, followedByDigit bool) *mvnItem {
	if followedByDigit && len(s) == 1 {
		switch s {
		case "a":
			s = "alpha"
		case "b":
			s = "beta"
		case "m":
			s = "milestone"
		}
	}
	q, ok := mvnQualifiers[s]
	if !ok {
		q = "7-" + s
	}
	return &mvnItem{kind: mvnStr, text: q}
}

func mvnParseItem(isDigit bool, s string) *mvnItem {
	if isDigit {
		d := strings.TrimLeft(s, "0")
		if d == "" {
			d = "0"
		}
		return &mvnItem{kind: mvnInt, text: d}
	}
	return mvnString(s, false)
}

func (it *mvnItem) isNull() bool {
	switch it.kind {
	case mvnInt:
		return it.text == "0"
	case mvnStr:
		return it.text == mvnRelease
	}
	return len(it.list) == 0
}

func (it *mvnItem) normalize() {
	for i := len(it.list) - 1; i >= 0; i-- {
		last := it.list[i]
		if last.isNull() {
			it.list = append(it.list[:i], it.list[i+1:]...)
		} else if last.kind != mvnList {
			break
		}
	}
}

func parseMaven(s string) (any, error) {
	if s == "" {
		return nil, errEmptyVersion
	}
	v := strings.ToLower(s)
	root := &mvnItem{kind: mvnList}
	list := root
	stack := []*mvnItem{root}
	dig := false
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.' || c == '-':
			if i == start {
				list.list = append(list.list, &mvnItem{kind: mvnInt, text: "0"})
			} else {
				list.list = append(list.list, mvnParseItem(dig, v[start:i]))
			}
			start = i + 1
			if c == '-' {
				n := &mvnItem{kind: mvnList}
				list.list = append(list.list, n)
				list = n
				stack = append(stack, n)
			}
		case isDigit(c):
			if !dig && i > start {
				list.list = append(list.list, mvnString(v[start:i], true))
				start = i
				n := &mvnItem{kind: mvnList}
				list.list = append(list.list, n)
				list = n
				stack = append(stack, n)
			}
			dig = true
		default:
			if dig && i > start {
				list.list = append(list.list, mvnParseItem(true, v[start:i]))
				start = i
				n := &mvnItem{kind: mvnList}
				list.list = append(list.list, n)
				list = n
				stack = append(stack, n)
			}
			dig = false
		}
	}
	if len(v) > start {
		list.list = append(list.list, mvnParseItem(dig, v[start:]))
	}
	for i := len(stack) - 1; i >= 0; i-- {
		stack[i].normalize()
	}
	return root, nil
}

// mvnCompare compares a with b; b may be nil (the "null" item).
func mvnCompare(a, b *mvnItem) int {
	switch a.kind {
	case mvnInt:
		if b == nil {
			if a.text == "0" {
				return 0
			}
			return 1
		}
		switch b.kind {
		case mvnInt:
			return cmpDigits(a.text, b.text)
		default:
			return 1
		}
	case mvnStr:
		if b == nil {
			return strings.Compare(a.text, mvnRelease)
		}
		switch b.kind {
		case mvnStr:
			return strings.Compare(a.text, b.text)
		default:
			return -1
		}
	}
	if b == nil {
		for _, it := range a.list {
			if c := mvnCompare(it, nil); c != 0 {
				return c
			}
		}
		return 0
	}
	switch b.kind {
	case mvnInt:
		return -1
	case mvnStr:
		return 1
	}
	for i := 0; i < len(a.list) || i < len(b.list); i++ {
		var l, r *mvnItem
		if i < len(a.list) {
			l = a.list[i]
		}
		if i < len(b.list) {
			r = b.list[i]
		}
		var c int
		switch {
		case l == nil && r == nil:
			c = 0
		case l == nil:
			c = -mvnCompare(r, nil)
		default:
			c = mvnCompare(l, r)
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func compareMaven(a, b any) int { return mvnCompare(a.(*mvnItem), b.(*mvnItem)) }

// Maven is the Apache Maven scheme (ComparableVersion).
var Maven = &Scheme{name: "maven", parse: parseMaven, compare: compareMaven}
