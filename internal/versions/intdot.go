package versions

import (
	"errors"
	"strings"
)

// intdotVersion is a vers "intdot" version: non-negative integers separated
// by dots ("4.4.0"), compared numerically component by component, missing
// components counting as 0 (so 4.4 == 4.4.0). Siemens ProductCERT CSAF uses
// it ("vers:intdot/<4.4.0").
type intdotVersion struct {
	parts []string // digits without leading zeros, trailing zeros dropped
}

var errIntdot = errors.New("not integers separated by dots")

func parseIntdot(s string) (any, error) {
	ps := strings.Split(s, ".")
	for i, p := range ps {
		if !allDigits(p) {
			return nil, errIntdot
		}
		ps[i] = trimNum(p)
	}
	for len(ps) > 1 && ps[len(ps)-1] == "0" {
		ps = ps[:len(ps)-1]
	}
	return &intdotVersion{parts: ps}, nil
}

func compareIntdot(a, b any) int {
	x, y := a.(*intdotVersion).parts, b.(*intdotVersion).parts
	for i := 0; i < len(x) || i < len(y); i++ {
		p, q := "0", "0"
		if i < len(x) {
			p = x[i]
		}
		if i < len(y) {
			q = y[i]
		}
		if c := cmpDigits(p, q); c != 0 {
			return c
		}
	}
	return 0
}

// Intdot is the vers "intdot" scheme.
var Intdot = &Scheme{name: "intdot", parse: parseIntdot, compare: compareIntdot}
