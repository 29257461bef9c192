package cvss

import "math"

// CVSS v3.0/v3.1 metric indices into Vector.m, in canonical order (Table 15
// of the v3.1 specification).
const (
	v3AV = iota
	v3AC
	v3PR
	v3UI
	v3S
	v3C
	v3I
	v3A
	v3E
	v3RL
	v3RC
	v3CR
	v3IR
	v3AR
	v3MAV
	v3MAC
	v3MPR
	v3MUI
	v3MS
	v3MC
	v3MI
	v3MA
)

// Value orders below fix the indices used by the weight tables. Modified
// metrics list "X" first and then the base metric's values in the same order,
// so that index-1 is the base index.
var defV3 = newVersionDef(
	m("AV", groupBase, "N", "A", "L", "P"),
	m("AC", groupBase, "L", "H"),
	m("PR", groupBase, "N", "L", "H"),
	m("UI", groupBase, "N", "R"),
	m("S", groupBase, "U", "C"),
	m("C", groupBase, "H", "L", "N"),
	m("I", groupBase, "H", "L", "N"),
	m("A", groupBase, "H", "L", "N"),
	m("E", groupTemporal, "X", "H", "F", "P", "U"),
	m("RL", groupTemporal, "X", "U", "W", "T", "O"),
	m("RC", groupTemporal, "X", "C", "R", "U"),
	m("CR", groupEnvironmental, "X", "H", "M", "L"),
	m("IR", groupEnvironmental, "X", "H", "M", "L"),
	m("AR", groupEnvironmental, "X", "H", "M", "L"),
	m("MAV", groupEnvironmental, "X", "N", "A", "L", "P"),
	m("MAC", groupEnvironmental, "X", "L", "H"),
	m("MPR", groupEnvironmental, "X", "N", "L", "H"),
	m("MUI", groupEnvironmental, "X", "N", "R"),
	m("MS", groupEnvironmental, "X", "U", "C"),
	m("MC", groupEnvironmental, "X", "H", "L", "N"),
	m("MI", groupEnvironmental, "X", "H", "L", "N"),
	m("MA", groupEnvironmental, "X", "H", "L", "N"),
)

var (
	w3AV  = [...]float64{0.85, 0.62, 0.55, 0.2}
	w3AC  = [...]float64{0.77, 0.44}
	w3PRU = [...]float64{0.85, 0.62, 0.27} // scope unchanged
	w3PRC = [...]float64{0.85, 0.68, 0.5}  // scope changed
	w3UI  = [...]float64{0.85, 0.62}
	w3CIA = [...]float64{0.56, 0.22, 0}
	w3E   = [...]float64{1, 1, 0.97, 0.94, 0.91}
	w3RL  = [...]float64{1, 1, 0.97, 0.96, 0.95}
	w3RC  = [...]float64{1, 1, 0.96, 0.92}
	w3Req = [...]float64{1, 1.5, 1, 0.5}
)

// pow15 and pow13 are math.Pow(x, 15) and math.Pow(x, 13) without its
// general-case overhead. They multiply in the same order as math.Pow's
// repeated squaring (which only rescales by exact powers of two), so the
// results are bit-identical for the values CVSS produces (TestPowMatchesMath).
func pow15(x float64) float64 {
	a := x
	s := x * x
	a *= s // x^3
	s *= s // x^4
	a *= s // x^7
	s *= s // x^8
	return a * s
}

func pow13(x float64) float64 {
	s := x * x
	s *= s     // x^4
	a := x * s // x^5
	s *= s     // x^8
	return a * s
}

// roundUp31 is the CVSS v3.1 Roundup function (Appendix A): the smallest
// number with one decimal place that is >= x, computed on integers so that
// floating-point noise cannot push a score up by 0.1.
func roundUp31(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

// roundUp30 is the CVSS v3.0 "round up": plain ceiling to one decimal.
func roundUp30(x float64) float64 {
	return math.Ceil(x*10) / 10
}

func (v *Vector) roundUp(x float64) float64 {
	if v.ver == V30 {
		return roundUp30(x)
	}
	return roundUp31(x)
}

func (v *Vector) v3Base() float64 {
	changed := v.m[v3S] == 1
	iss := 1 - (1-w3CIA[v.m[v3C]])*(1-w3CIA[v.m[v3I]])*(1-w3CIA[v.m[v3A]])
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*pow15(iss-0.02)
	} else {
		impact = 6.42 * iss
	}
	if impact <= 0 {
		return 0
	}
	pr := w3PRU[v.m[v3PR]]
	if changed {
		pr = w3PRC[v.m[v3PR]]
	}
	expl := 8.22 * w3AV[v.m[v3AV]] * w3AC[v.m[v3AC]] * pr * w3UI[v.m[v3UI]]
	if changed {
		return v.roundUp(math.Min(1.08*(impact+expl), 10))
	}
	return v.roundUp(math.Min(impact+expl, 10))
}

func (v *Vector) v3TemporalFactor() float64 {
	return w3E[v.m[v3E]] * w3RL[v.m[v3RL]] * w3RC[v.m[v3RC]]
}

func (v *Vector) v3Temporal() float64 {
	return v.roundUp(v.v3Base() * v.v3TemporalFactor())
}

// mod returns the effective value index of a base metric given its modified
// counterpart (index 0 = X = use the base value).
func (v *Vector) mod(base, modified int) uint8 {
	if mv := v.m[modified]; mv != 0 {
		return mv - 1
	}
	return v.m[base]
}

func (v *Vector) v3Environmental() float64 {
	changed := v.mod(v3S, v3MS) == 1
	miss := 1 - (1-w3Req[v.m[v3CR]]*w3CIA[v.mod(v3C, v3MC)])*
		(1-w3Req[v.m[v3IR]]*w3CIA[v.mod(v3I, v3MI)])*
		(1-w3Req[v.m[v3AR]]*w3CIA[v.mod(v3A, v3MA)])
	miss = math.Min(miss, 0.915)
	var impact float64
	switch {
	case !changed:
		impact = 6.42 * miss
	case v.ver == V30:
		impact = 7.52*(miss-0.029) - 3.25*pow15(miss-0.02)
	default:
		impact = 7.52*(miss-0.029) - 3.25*pow13(miss*0.9731-0.02)
	}
	if impact <= 0 {
		return 0
	}
	pr := w3PRU[v.mod(v3PR, v3MPR)]
	if changed {
		pr = w3PRC[v.mod(v3PR, v3MPR)]
	}
	expl := 8.22 * w3AV[v.mod(v3AV, v3MAV)] * w3AC[v.mod(v3AC, v3MAC)] * pr * w3UI[v.mod(v3UI, v3MUI)]
	var modBase float64
	if changed {
		modBase = v.roundUp(math.Min(1.08*(impact+expl), 10))
	} else {
		modBase = v.roundUp(math.Min(impact+expl, 10))
	}
	return v.roundUp(modBase * v.v3TemporalFactor())
}
