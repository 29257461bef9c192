package csaf

import (
	"fmt"
	"math"
	"strings"
)

// CVSS v2 scoring (FIRST CVSS v2 Complete Documentation, section 3.2).
// It is written here rather than taken from a library because CVSS v2
// vectors in CSAF may carry any subset of the temporal and environmental
// metrics (the FIRST JSON schema allows it), which strict parsers refuse.

var v2Weights = map[string]map[string]float64{
	"AV":  {"L": 0.395, "A": 0.646, "N": 1.0},
	"AC":  {"H": 0.35, "M": 0.61, "L": 0.71},
	"Au":  {"M": 0.45, "S": 0.56, "N": 0.704},
	"C":   {"N": 0, "P": 0.275, "C": 0.660},
	"I":   {"N": 0, "P": 0.275, "C": 0.660},
	"A":   {"N": 0, "P": 0.275, "C": 0.660},
	"E":   {"U": 0.85, "POC": 0.9, "F": 0.95, "H": 1, "ND": 1},
	"RL":  {"OF": 0.87, "TF": 0.90, "W": 0.95, "U": 1, "ND": 1},
	"RC":  {"UC": 0.90, "UR": 0.95, "C": 1, "ND": 1},
	"CDP": {"N": 0, "L": 0.1, "LM": 0.3, "MH": 0.4, "H": 0.5, "ND": 0},
	"TD":  {"N": 0, "L": 0.25, "M": 0.75, "H": 1, "ND": 1},
	"CR":  {"L": 0.5, "M": 1, "H": 1.51, "ND": 1},
	"IR":  {"L": 0.5, "M": 1, "H": 1.51, "ND": 1},
	"AR":  {"L": 0.5, "M": 1, "H": 1.51, "ND": 1},
}

var v2Order = []string{"AV", "AC", "Au", "C", "I", "A", "E", "RL", "RC", "CDP", "TD", "CR", "IR", "AR"}

// parseVector splits "K:V/K:V" (after an optional "CVSS:x.y/" prefix) into
// a map, refusing empty parts and repeated metrics.
func parseVector(vec string) (map[string]string, error) {
	if strings.HasPrefix(vec, "CVSS:") {
		i := strings.IndexByte(vec, '/')
		if i < 0 {
			return nil, fmt.Errorf("no metrics after %q", vec)
		}
		vec = vec[i+1:]
	}
	m := map[string]string{}
	for _, part := range strings.Split(vec, "/") {
		k, v, ok := strings.Cut(part, ":")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("malformed metric %q", part)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("metric %s given twice", k)
		}
		m[k] = v
	}
	return m, nil
}

// cvss2Scores computes base, temporal and environmental scores of a CVSS v2 vector.
func cvss2Scores(vec string) (base, temporal, env float64, err error) {
	m, err := parseVector(vec)
	if err != nil {
		return 0, 0, 0, err
	}
	w := map[string]float64{}
	for _, k := range v2Order {
		v, ok := m[k]
		if !ok {
			if k == "AV" || k == "AC" || k == "Au" || k == "C" || k == "I" || k == "A" {
				return 0, 0, 0, fmt.Errorf("base metric %s missing", k)
			}
			v = "ND"
		}
		x, ok := v2Weights[k][v]
		if !ok {
			return 0, 0, 0, fmt.Errorf("invalid value %q for metric %s", v, k)
		}
		w[k] = x
	}
	for k := range m {
		if _, ok := v2Weights[k]; !ok {
			return 0, 0, 0, fmt.Errorf("unknown metric %s", k)
		}
	}
	baseOf := func(impact float64) float64 {
		f := 1.176
		if impact == 0 {
			f = 0
		}
		expl := 20 * w["AV"] * w["AC"] * w["Au"]
		return round1(((0.6 * impact) + (0.4 * expl) - 1.5) * f)
	}
	impact := 10.41 * (1 - (1-w["C"])*(1-w["I"])*(1-w["A"]))
	base = baseOf(impact)
	temporal = round1(base * w["E"] * w["RL"] * w["RC"])
	adjImpact := math.Min(10, 10.41*(1-(1-w["C"]*w["CR"])*(1-w["I"]*w["IR"])*(1-w["A"]*w["AR"])))
	adjTemporal := round1(baseOf(adjImpact) * w["E"] * w["RL"] * w["RC"])
	env = round1((adjTemporal + (10-adjTemporal)*w["CDP"]) * w["TD"])
	return base, temporal, env, nil
}

func round1(x float64) float64 { return math.Round(x*10+1e-9) / 10 }
