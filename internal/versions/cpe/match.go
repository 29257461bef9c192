package cpe

import "strings"

// Relation is the NISTIR 7696 relation of a source attribute value to a
// target attribute value.
type Relation uint8

// The attribute comparison relations.
const (
	Disjoint Relation = iota
	Subset
	Superset
	Equal
	Undefined
)

var relText = [...]string{"DISJOINT", "SUBSET", "SUPERSET", "EQUAL", "UNDEFINED"}

func (r Relation) String() string { return relText[r] }

// CompareValues returns the relation of source to target (NISTIR 7696
// Table 6-2).
func CompareValues(source, target Value) Relation {
	if target.HasWildcards() {
		// Wildcards are only meaningful in the source.
		return Undefined
	}
	switch source.Kind {
	case Any:
		if target.Kind == Any {
			return Equal
		}
		return Superset
	case NA:
		switch target.Kind {
		case Any:
			return Subset
		case NA:
			return Equal
		}
		return Disjoint
	}
	switch target.Kind {
	case Any:
		return Subset
	case NA:
		return Disjoint
	}
	if !source.HasWildcards() {
		if source.lit == target.lit {
			return Equal
		}
		return Disjoint
	}
	if wildcardMatch(source, target.lit) {
		return Superset
	}
	return Disjoint
}

// wildcardMatch implements compareStrings of NISTIR 7696 §6.1.3.2 on
// decoded literals: a leading "*" (pre -1) or up to pre leading "?", the
// literal, then a trailing "*" (post -1) or up to post trailing "?".
func wildcardMatch(src Value, t string) bool {
	if src.lit == "" {
		n := len(t)
		switch {
		case src.pre == -1 || src.post == -1:
			return true
		default:
			return n <= int(src.pre)+int(src.post)
		}
	}
	from := 0
	for {
		idx := strings.Index(t[from:], src.lit)
		if idx < 0 {
			return false
		}
		idx += from
		if src.pre != -1 && idx > int(src.pre) {
			return false
		}
		left := len(t) - idx - len(src.lit)
		if src.post == -1 || left <= int(src.post) {
			return true
		}
		from = idx + 1
		if from > len(t) {
			return false
		}
	}
}

// Match reports whether the target name is matched by the source name:
// every attribute of the source is a superset of or equal to the target's
// (NISTIR 7696 CPE_SUPERSET or CPE_EQUAL).
func Match(source, target Name) bool {
	for i := range source.attrs {
		switch CompareValues(source.attrs[i], target.attrs[i]) {
		case Superset, Equal:
		default:
			return false
		}
	}
	return true
}

// matchExceptVersion is Match ignoring the version attribute (used when a
// range decides the version).
func matchExceptVersion(source, target *Name) bool {
	for i := range source.attrs {
		if i == Version {
			continue
		}
		switch CompareValues(source.attrs[i], target.attrs[i]) {
		case Superset, Equal:
		default:
			return false
		}
	}
	return true
}
