package cvss

import "math"

// CVSS v2.0 metric indices into Vector.m, in the order of the v2 guide.
const (
	v2AV = iota
	v2AC
	v2Au
	v2C
	v2I
	v2A
	v2E
	v2RL
	v2RC
	v2CDP
	v2TD
	v2CR
	v2IR
	v2AR
)

var defV2 = newVersionDef(
	m("AV", groupBase, "L", "A", "N"),
	m("AC", groupBase, "H", "M", "L"),
	m("Au", groupBase, "M", "S", "N"),
	m("C", groupBase, "N", "P", "C"),
	m("I", groupBase, "N", "P", "C"),
	m("A", groupBase, "N", "P", "C"),
	m("E", groupTemporal, "ND", "U", "POC", "F", "H"),
	m("RL", groupTemporal, "ND", "OF", "TF", "W", "U"),
	m("RC", groupTemporal, "ND", "UC", "UR", "C"),
	m("CDP", groupEnvironmental, "ND", "N", "L", "LM", "MH", "H"),
	m("TD", groupEnvironmental, "ND", "N", "L", "M", "H"),
	m("CR", groupEnvironmental, "ND", "L", "M", "H"),
	m("IR", groupEnvironmental, "ND", "L", "M", "H"),
	m("AR", groupEnvironmental, "ND", "L", "M", "H"),
)

var (
	w2AV  = [...]float64{0.395, 0.646, 1.0}
	w2AC  = [...]float64{0.35, 0.61, 0.71}
	w2Au  = [...]float64{0.45, 0.56, 0.704}
	w2CIA = [...]float64{0, 0.275, 0.660}
	w2E   = [...]float64{1, 0.85, 0.9, 0.95, 1}
	w2RL  = [...]float64{1, 0.87, 0.90, 0.95, 1}
	w2RC  = [...]float64{1, 0.90, 0.95, 1}
	w2CDP = [...]float64{0, 0, 0.1, 0.3, 0.4, 0.5}
	w2TD  = [...]float64{1, 0, 0.25, 0.75, 1}
	w2Req = [...]float64{1, 0.5, 1, 1.51}
)

// round1 is the v2 guide's round_to_1_decimal: round half up on the exact
// decimal value. Products of the v2 weights that are exactly x.x5 in decimal
// (10 × 0.90 × 0.95 = 8.55) come out of float64 arithmetic a hair low
// (8.549999…); the 1e-9 lift restores the decimal result, as in
// implementations that compute in decimal (e.g. Red Hat's cvss library).
// Pure floating-point calculators show 0.1 less on such ties.
func round1(x float64) float64 { return math.Round(x*10+1e-9) / 10 }

func (v *Vector) v2Exploitability() float64 {
	return 20 * w2AV[v.m[v2AV]] * w2AC[v.m[v2AC]] * w2Au[v.m[v2Au]]
}

func v2BaseEquation(impact, expl float64) float64 {
	f := 1.176
	if impact == 0 {
		f = 0
	}
	return round1((0.6*impact + 0.4*expl - 1.5) * f)
}

func (v *Vector) v2Base() float64 {
	impact := 10.41 * (1 - (1-w2CIA[v.m[v2C]])*(1-w2CIA[v.m[v2I]])*(1-w2CIA[v.m[v2A]]))
	return v2BaseEquation(impact, v.v2Exploitability())
}

func (v *Vector) v2TemporalFactor() float64 {
	return w2E[v.m[v2E]] * w2RL[v.m[v2RL]] * w2RC[v.m[v2RC]]
}

func (v *Vector) v2Temporal() float64 {
	return round1(v.v2Base() * v.v2TemporalFactor())
}

func (v *Vector) v2Environmental() float64 {
	adjImpact := math.Min(10, 10.41*(1-
		(1-w2CIA[v.m[v2C]]*w2Req[v.m[v2CR]])*
			(1-w2CIA[v.m[v2I]]*w2Req[v.m[v2IR]])*
			(1-w2CIA[v.m[v2A]]*w2Req[v.m[v2AR]])))
	adjBase := v2BaseEquation(adjImpact, v.v2Exploitability())
	adjTemporal := round1(adjBase * v.v2TemporalFactor())
	return round1((adjTemporal + (10-adjTemporal)*w2CDP[v.m[v2CDP]]) * w2TD[v.m[v2TD]])
}
