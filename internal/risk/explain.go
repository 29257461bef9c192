package risk

import (
	"math"
	"time"

	"github.com/medwarden/medwarden/internal/cvss"
	"github.com/medwarden/medwarden/internal/inventory"
)

// maxExplained bounds each explanation cache of a Scorer: past it, new
// explanations are built but not kept.
const maxExplained = 1 << 14

// explained caches the explanation texts of factors by the values they are
// built from. Across a fleet those values repeat (the same criticality,
// zone, advisory, CVSS adjustment…), so the full rescore formats each text
// once per Scorer instead of once per finding. A key holds every input of
// its text, so a cached text is the one the inputs would build.
type explained struct {
	sev  map[sevKey]string
	expl map[explKey]string
	expo map[expoKey]string
	clin map[clinKey]string
	sup  map[supKey]string
	conf map[confKey]string
}

func newExplained() explained {
	return explained{sev: map[sevKey]string{}, expl: map[explKey]string{}, expo: map[expoKey]string{},
		clin: map[clinKey]string{}, sup: map[supKey]string{}, conf: map[confKey]string{}}
}

// remember keeps v under k unless the cache is full.
func remember[K comparable](m map[K]string, k K, v string) string {
	if len(m) < maxExplained {
		m[k] = v
	}
	return v
}

// finite reports whether no x is NaN (a NaN key would never be found again).
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) {
			return false
		}
	}
	return true
}

type sevKey struct {
	kind        uint8 // 0 adjusted vector, 1 published base score, 2 unknown
	version     cvss.Version
	base, score float64
	vector      string
}

type explKey struct {
	kev, ransomware bool
	kevCVE          string
	kevAdded        time.Time
	maturity        string
	epssKnown       bool
	epss, pct       float64
}

type expoKey struct {
	e     Exposure
	peers int
}

type clinKey struct {
	crit    inventory.Criticality
	pc, phi bool
	fleet   int
}

type supKey struct {
	kind    uint8 // 0 no fix, 1 vendor fix, 2 mitigation only, 3 nothing published
	past    bool
	end     time.Time // past: the end of support or life; else the end of support
	endKnow bool
}

type confKey struct {
	conf   float64
	status string
}
