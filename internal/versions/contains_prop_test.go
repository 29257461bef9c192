package versions

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// containsReference is the vers-spec containment algorithm written out
// literally over the canonical constraints, used to check the compiled
// search in ContainsVersion.
func containsReference(r *Range, v Version) bool {
	if r.all {
		return true
	}
	var rest []Constraint
	hasEQ, hasNE := false, false
	for _, c := range r.constraints {
		switch c.Op {
		case OpEQ, OpNE:
			if v.Compare(c.Version) == 0 {
				return c.Op == OpEQ
			}
			hasEQ = hasEQ || c.Op == OpEQ
			hasNE = hasNE || c.Op == OpNE
		default:
			rest = append(rest, c)
		}
	}
	if len(rest) == 0 {
		return hasNE && !hasEQ
	}
	sat := func(c Constraint) bool {
		x := v.Compare(c.Version)
		switch c.Op {
		case OpLT:
			return x < 0
		case OpLE:
			return x <= 0
		case OpGT:
			return x > 0
		case OpGE:
			return x >= 0
		}
		return false
	}
	if rest[0].Op.isLess() && sat(rest[0]) {
		return true
	}
	if last := rest[len(rest)-1]; last.Op.isGreater() && sat(last) {
		return true
	}
	for i := 0; i+1 < len(rest); i++ {
		a, b := rest[i], rest[i+1]
		if a.Op.isGreater() && b.Op.isLess() && sat(a) && sat(b) {
			return true
		}
	}
	return false
}

func TestContainsMatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	ops := []string{"", "!=", "<", "<=", ">", ">="}
	ver := func() string { return fmt.Sprintf("%d.%d", r.IntN(4), r.IntN(4)) }
	for n := 0; n < 3000; n++ {
		k := 1 + r.IntN(6)
		parts := make([]string, k)
		for i := range parts {
			parts[i] = ops[r.IntN(len(ops))] + ver()
		}
		s := "vers:generic/" + strings.Join(parts, "|")
		rg, err := ParseVers(s)
		if err != nil {
			t.Fatalf("ParseVers(%q): %v", s, err)
		}
		for i := 0; i < 10; i++ {
			v, _ := Generic.Parse(ver())
			if got, want := rg.ContainsVersion(v), containsReference(rg, v); got != want {
				t.Fatalf("%s (canonical %s) contains %s = %v, reference %v", s, rg, v, got, want)
			}
		}
	}
}
