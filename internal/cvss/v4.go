package cvss

import "math"

// CVSS v4.0 metric indices into Vector.m, in the canonical order of the v4.0
// specification (Table 23): base, threat, environmental, supplemental.
const (
	v4AV = iota
	v4AC
	v4AT
	v4PR
	v4UI
	v4VC
	v4VI
	v4VA
	v4SC
	v4SI
	v4SA
	v4E
	v4CR
	v4IR
	v4AR
	v4MAV
	v4MAC
	v4MAT
	v4MPR
	v4MUI
	v4MVC
	v4MVI
	v4MVA
	v4MSC
	v4MSI
	v4MSA
	v4S
	v4AU
	v4R
	v4V
	v4RE
	v4U
)

// Value orders fix the indices used by the level tables below: every base
// metric lists its values from most to least severe; modified metrics list
// "X" first and then the base values in the same order (MSI/MSA add "S",
// Safety, last).
var defV4 = newVersionDef(
	m("AV", groupBase, "N", "A", "L", "P"),
	m("AC", groupBase, "L", "H"),
	m("AT", groupBase, "N", "P"),
	m("PR", groupBase, "N", "L", "H"),
	m("UI", groupBase, "N", "P", "A"),
	m("VC", groupBase, "H", "L", "N"),
	m("VI", groupBase, "H", "L", "N"),
	m("VA", groupBase, "H", "L", "N"),
	m("SC", groupBase, "H", "L", "N"),
	m("SI", groupBase, "H", "L", "N"),
	m("SA", groupBase, "H", "L", "N"),
	m("E", groupTemporal, "X", "A", "P", "U"),
	m("CR", groupEnvironmental, "X", "H", "M", "L"),
	m("IR", groupEnvironmental, "X", "H", "M", "L"),
	m("AR", groupEnvironmental, "X", "H", "M", "L"),
	m("MAV", groupEnvironmental, "X", "N", "A", "L", "P"),
	m("MAC", groupEnvironmental, "X", "L", "H"),
	m("MAT", groupEnvironmental, "X", "N", "P"),
	m("MPR", groupEnvironmental, "X", "N", "L", "H"),
	m("MUI", groupEnvironmental, "X", "N", "P", "A"),
	m("MVC", groupEnvironmental, "X", "H", "L", "N"),
	m("MVI", groupEnvironmental, "X", "H", "L", "N"),
	m("MVA", groupEnvironmental, "X", "H", "L", "N"),
	m("MSC", groupEnvironmental, "X", "H", "L", "N"),
	m("MSI", groupEnvironmental, "X", "H", "L", "N", "S"),
	m("MSA", groupEnvironmental, "X", "H", "L", "N", "S"),
	m("S", groupSupplemental, "X", "N", "P"),
	m("AU", groupSupplemental, "X", "N", "Y"),
	m("R", groupSupplemental, "X", "A", "U", "I"),
	m("V", groupSupplemental, "X", "D", "C"),
	m("RE", groupSupplemental, "X", "L", "M", "H"),
	m("U", groupSupplemental, "X", "Clear", "Green", "Amber", "Red"),
)

// Effective value indices used by the scoring code.
const (
	v4High = 0 // H in VC/VI/VA/SC/SI/SA and CR/IR/AR
	v4None = 2 // N in VC/VI/VA/SC/SI/SA
	v4Safe = 3 // S in effective SI/SA (only through MSI/MSA)
)

// Severity levels of the reference calculator (distance from the most severe
// value, in tenths), indexed by effective value index.
var (
	lvAV = [...]float64{0.0, 0.1, 0.2, 0.3}       // N A L P
	lvPR = [...]float64{0.0, 0.1, 0.2}            // N L H
	lvUI = [...]float64{0.0, 0.1, 0.2}            // N P A
	lvAC = [...]float64{0.0, 0.1}                 // L H
	lvAT = [...]float64{0.0, 0.1}                 // N P
	lvV  = [...]float64{0.0, 0.1, 0.2}            // H L N (VC, VI, VA)
	lvSC = [...]float64{0.1, 0.2, 0.3}            // H L N
	lvSS = [...]float64{0.1, 0.2, 0.3, 0.0}       // H L N S (SI, SA)
	lvR  = [...]float64{0.0, 0.1, 0.2}            // H M L (CR, IR, AR)
	v4D1 = [...]float64{1, 4, 5}                  // depth of EQ1 levels
	v4D2 = [...]float64{1, 2}                     // EQ2
	v4D4 = [...]float64{6, 5, 4}                  // EQ4
	v4D3 = [3][2]float64{{7, 6}, {8, 8}, {0, 10}} // EQ3 x EQ6
)

// Highest-severity vectors of each macrovector level (specification tables
// 24-30), as effective value indices. Order matters only for ties.
var (
	maxEQ1 = [3][][3]uint8{ // AV, PR, UI
		{{0, 0, 0}},
		{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}},
		{{3, 0, 0}, {1, 1, 1}},
	}
	maxEQ2 = [2][][2]uint8{ // AC, AT
		{{0, 0}},
		{{1, 0}, {0, 1}},
	}
	maxEQ36 = [3][2][][6]uint8{ // VC, VI, VA, CR, IR, AR
		{
			{{0, 0, 0, 0, 0, 0}},
			{{0, 0, 1, 1, 1, 0}, {0, 0, 0, 1, 1, 1}},
		},
		{
			{{1, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0}},
			{{1, 0, 1, 0, 1, 0}, {1, 0, 0, 0, 1, 1}, {0, 1, 0, 1, 0, 1}, {0, 1, 1, 1, 0, 0}, {1, 1, 0, 0, 0, 1}},
		},
		{
			nil,
			{{1, 1, 1, 0, 0, 0}},
		},
	}
	maxEQ4 = [3][3]uint8{ // SC, SI, SA
		{0, 3, 3},
		{0, 0, 0},
		{1, 1, 1},
	}
)

// v4eff holds the effective values of the metrics that enter the score.
type v4eff struct {
	av, ac, at, pr, ui, vc, vi, va, sc, si, sa, e, cr, ir, ar uint8
}

func (v *Vector) v4Effective(threat, env bool) v4eff {
	var f v4eff
	pick := func(base, mod int) uint8 {
		if env {
			return v.mod(base, mod)
		}
		return v.m[base]
	}
	f.av = pick(v4AV, v4MAV)
	f.ac = pick(v4AC, v4MAC)
	f.at = pick(v4AT, v4MAT)
	f.pr = pick(v4PR, v4MPR)
	f.ui = pick(v4UI, v4MUI)
	f.vc = pick(v4VC, v4MVC)
	f.vi = pick(v4VI, v4MVI)
	f.va = pick(v4VA, v4MVA)
	f.sc = pick(v4SC, v4MSC)
	f.si = pick(v4SI, v4MSI)
	f.sa = pick(v4SA, v4MSA)
	// E not defined counts as Attacked (A), the worst case.
	if threat && v.m[v4E] != 0 {
		f.e = v.m[v4E] - 1
	}
	// CR/IR/AR not defined count as High, the worst case.
	if env {
		f.cr = req4(v.m[v4CR])
		f.ir = req4(v.m[v4IR])
		f.ar = req4(v.m[v4AR])
	}
	return f
}

func req4(x uint8) uint8 {
	if x == 0 {
		return v4High
	}
	return x - 1
}

// macro computes the six EQ levels of the macrovector.
func (f *v4eff) macro() (eq1, eq2, eq3, eq4, eq5, eq6 int) {
	const avN, avP, prN, uiN = 0, 3, 0, 0
	switch {
	case f.av == avN && f.pr == prN && f.ui == uiN:
		eq1 = 0
	case (f.av == avN || f.pr == prN || f.ui == uiN) && f.av != avP:
		eq1 = 1
	default:
		eq1 = 2
	}
	if !(f.ac == 0 && f.at == 0) {
		eq2 = 1
	}
	switch {
	case f.vc == v4High && f.vi == v4High:
		eq3 = 0
	case f.vc == v4High || f.vi == v4High || f.va == v4High:
		eq3 = 1
	default:
		eq3 = 2
	}
	switch {
	case f.si == v4Safe || f.sa == v4Safe:
		eq4 = 0
	case f.sc == v4High || f.si == v4High || f.sa == v4High:
		eq4 = 1
	default:
		eq4 = 2
	}
	eq5 = int(f.e)
	if !((f.cr == v4High && f.vc == v4High) || (f.ir == v4High && f.vi == v4High) || (f.ar == v4High && f.va == v4High)) {
		eq6 = 1
	}
	return
}

func lookup4(eq1, eq2, eq3, eq4, eq5, eq6 int) float64 {
	if eq1 > 2 || eq2 > 1 || eq3 > 2 || eq4 > 2 || eq5 > 2 || eq6 > 1 {
		return math.NaN()
	}
	s := v4Lookup[eq1*108+eq2*54+eq3*18+eq4*6+eq5*2+eq6]
	if s < 0 {
		return math.NaN()
	}
	return s
}

// v4Score computes the CVSS v4.0 score with or without the threat and
// environmental metrics (B, BT, BE, BTE), following the reference
// calculator's interpolation within the macrovector.
func (v *Vector) v4Score(threat, env bool) float64 {
	f := v.v4Effective(threat, env)
	if f.vc == v4None && f.vi == v4None && f.va == v4None && f.sc == v4None && f.si == v4None && f.sa == v4None {
		return 0
	}
	eq1, eq2, eq3, eq4, eq5, eq6 := f.macro()
	value := lookup4(eq1, eq2, eq3, eq4, eq5, eq6)

	lower1 := lookup4(eq1+1, eq2, eq3, eq4, eq5, eq6)
	lower2 := lookup4(eq1, eq2+1, eq3, eq4, eq5, eq6)
	var lower36 float64
	switch {
	case eq3 == 1 && eq6 == 1:
		lower36 = lookup4(eq1, eq2, eq3+1, eq4, eq5, eq6)
	case eq3 == 0 && eq6 == 1:
		lower36 = lookup4(eq1, eq2, eq3+1, eq4, eq5, eq6)
	case eq3 == 1 && eq6 == 0:
		lower36 = lookup4(eq1, eq2, eq3, eq4, eq5, eq6+1)
	case eq3 == 0 && eq6 == 0:
		left := lookup4(eq1, eq2, eq3, eq4, eq5, eq6+1)
		right := lookup4(eq1, eq2, eq3+1, eq4, eq5, eq6)
		if left > right {
			lower36 = left
		} else {
			lower36 = right
		}
	default:
		lower36 = lookup4(eq1, eq2, eq3+1, eq4, eq5, eq6+1)
	}
	lower4 := lookup4(eq1, eq2, eq3, eq4+1, eq5, eq6)
	lower5 := lookup4(eq1, eq2, eq3, eq4, eq5+1, eq6)

	// Severity distances from the first highest-severity vector of the
	// macrovector that the vector does not exceed (per EQ group; the groups
	// are disjoint, so the first fitting combination is the first fitting
	// vector of each group).
	var d1, d2, d36, d4 float64
	for _, mx := range maxEQ1[eq1] {
		a, p, u := lvAV[f.av]-lvAV[mx[0]], lvPR[f.pr]-lvPR[mx[1]], lvUI[f.ui]-lvUI[mx[2]]
		if a >= 0 && p >= 0 && u >= 0 {
			d1 = a + p + u
			break
		}
	}
	for _, mx := range maxEQ2[eq2] {
		c, t := lvAC[f.ac]-lvAC[mx[0]], lvAT[f.at]-lvAT[mx[1]]
		if c >= 0 && t >= 0 {
			d2 = c + t
			break
		}
	}
	for _, mx := range maxEQ36[eq3][eq6] {
		vc, vi, va := lvV[f.vc]-lvV[mx[0]], lvV[f.vi]-lvV[mx[1]], lvV[f.va]-lvV[mx[2]]
		cr, ir, ar := lvR[f.cr]-lvR[mx[3]], lvR[f.ir]-lvR[mx[4]], lvR[f.ar]-lvR[mx[5]]
		if vc >= 0 && vi >= 0 && va >= 0 && cr >= 0 && ir >= 0 && ar >= 0 {
			d36 = vc + vi + va + cr + ir + ar
			break
		}
	}
	{
		mx := maxEQ4[eq4]
		sc, si, sa := lvSC[f.sc]-lvSC[mx[0]], lvSS[f.si]-lvSS[mx[1]], lvSS[f.sa]-lvSS[mx[2]]
		d4 = sc + si + sa
	}

	const step = 0.1
	n := 0
	var sum float64
	if avail := value - lower1; !math.IsNaN(avail) {
		n++
		sum += avail * (d1 / (v4D1[eq1] * step))
	}
	if avail := value - lower2; !math.IsNaN(avail) {
		n++
		sum += avail * (d2 / (v4D2[eq2] * step))
	}
	if avail := value - lower36; !math.IsNaN(avail) {
		n++
		sum += avail * (d36 / (v4D3[eq3][eq6] * step))
	}
	if avail := value - lower4; !math.IsNaN(avail) {
		n++
		sum += avail * (d4 / (v4D4[eq4] * step))
	}
	if avail := value - lower5; !math.IsNaN(avail) {
		// The EQ5 proportion is always 0, but the level still counts.
		n++
	}
	if n > 0 {
		value -= sum / float64(n)
	}
	value = math.Max(0, math.Min(10, value))
	return math.Round((value+1e-6)*10) / 10
}
