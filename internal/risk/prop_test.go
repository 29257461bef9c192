package risk

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/inventory"
)

// gen draws realistic random devices and findings.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))} }

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) vector() string {
	switch g.r.IntN(10) {
	case 0: // v2.0
		v := "AV:" + g.pick("N", "A", "L") + "/AC:" + g.pick("L", "M", "H") + "/Au:" + g.pick("N", "S", "M") +
			"/C:" + g.pick("N", "P", "C") + "/I:" + g.pick("N", "P", "C") + "/A:" + g.pick("N", "P", "C")
		if g.r.IntN(3) == 0 {
			v += "/E:" + g.pick("U", "POC", "F", "H", "ND")
		}
		return v
	case 1, 2, 3: // v4.0
		v := "CVSS:4.0/AV:" + g.pick("N", "A", "L", "P") + "/AC:" + g.pick("L", "H") + "/AT:" + g.pick("N", "P") +
			"/PR:" + g.pick("N", "L", "H") + "/UI:" + g.pick("N", "P", "A") + "/VC:" + g.pick("H", "L", "N") +
			"/VI:" + g.pick("H", "L", "N") + "/VA:" + g.pick("H", "L", "N") + "/SC:" + g.pick("H", "L", "N") +
			"/SI:" + g.pick("H", "L", "N") + "/SA:" + g.pick("H", "L", "N")
		if g.r.IntN(3) == 0 {
			v += "/E:" + g.pick("A", "P", "U", "X")
		}
		return v
	case 4: // garbage: must not break scoring
		return g.pick("", "CVSS:3.1/AV:N", "not a vector", "CVSS:9.9/AV:N/AC:L")
	}
	v := "CVSS:" + g.pick("3.0", "3.1") + "/AV:" + g.pick("N", "A", "L", "P") + "/AC:" + g.pick("L", "H") +
		"/PR:" + g.pick("N", "L", "H") + "/UI:" + g.pick("N", "R") + "/S:" + g.pick("U", "C") +
		"/C:" + g.pick("H", "L", "N") + "/I:" + g.pick("H", "L", "N") + "/A:" + g.pick("H", "L", "N")
	if g.r.IntN(3) == 0 {
		v += "/E:" + g.pick("X", "U", "P", "F", "H")
	}
	if g.r.IntN(8) == 0 {
		v += "/MAV:" + g.pick("N", "A", "L") + "/CR:" + g.pick("L", "H")
	}
	return v
}

func (g *gen) optBool() *bool {
	switch g.r.IntN(3) {
	case 0:
		return nil
	case 1:
		return ptr(true)
	}
	return ptr(false)
}

func (g *gen) date() time.Time {
	if g.r.IntN(3) == 0 {
		return time.Time{}
	}
	return time.Date(2018+g.r.IntN(14), time.Month(1+g.r.IntN(12)), 1+g.r.IntN(28), 0, 0, 0, 0, time.UTC)
}

func (g *gen) device() Device {
	crits := append([]inventory.Criticality{inventory.CriticalityNone}, inventory.Criticalities...)
	controls := []string{ControlSegmented, ControlNoExternalAccess, ControlAllowListing, ControlDisabledServices,
		ControlVirtualPatch, ControlStrongAuth, ControlMonitored, ControlPhysicalIsolation, "site_specific"}
	d := Device{
		AssetID:          "A-" + string(rune('A'+g.r.IntN(26))),
		Criticality:      crits[g.r.IntN(len(crits))],
		PatientConnected: g.optBool(),
		PHI:              g.optBool(),
		Exposure:         Exposure(g.r.IntN(5)),
		InboundPeers:     g.r.IntN(40) - 5,
		EndOfSupport:     g.date(),
		EndOfLife:        g.date(),
		CareAreaFleet:    g.r.IntN(30),
	}
	for range g.r.IntN(4) {
		d.Controls = append(d.Controls, controls[g.r.IntN(len(controls))])
	}
	return d
}

func (g *gen) finding() Finding {
	f := Finding{
		AdvisoryID:     "ICSMA-" + string(rune('a'+g.r.IntN(26))),
		KEV:            g.r.IntN(8) == 0,
		EPSS:           -1,
		EPSSPercentile: g.r.Float64(),
		Confidence:     []float64{0, 1, 0.95, 0.7, 0.45}[g.r.IntN(5)],
		Status:         g.pick("known_affected", "needs_review", "first_affected"),
	}
	for range g.r.IntN(3) + 1 {
		f.Vectors = append(f.Vectors, g.vector())
	}
	if g.r.IntN(5) == 0 {
		f.BaseScore = float64(g.r.IntN(101)) / 10
	}
	if g.r.IntN(3) > 0 {
		f.EPSS = g.r.Float64() * g.r.Float64() * g.r.Float64()
	}
	for _, c := range []string{"vendor_fix", "mitigation", "workaround", "none_available", "no_fix_planned"} {
		if g.r.IntN(3) == 0 {
			f.Remediations = append(f.Remediations, c)
		}
	}
	return f
}

func (g *gen) findings() []Finding {
	fs := make([]Finding, 1+g.r.IntN(5))
	for i := range fs {
		fs[i] = g.finding()
	}
	return fs
}

// propRuns returns the number of random cases per property (fewer with -short).
func propRuns() int {
	if testing.Short() {
		return 500
	}
	return 4000
}

func newTestScorer(t testing.TB) *Scorer {
	t.Helper()
	s, err := NewScorer(DefaultModel(), docNow)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPropertyInvariants(t *testing.T) {
	t.Parallel()
	g := newGen(1)
	s := newTestScorer(t)
	for i := range propRuns() {
		d, fs := g.device(), g.findings()
		dr := s.Device(&d, fs)
		if dr.Score < 0 || dr.Score > 100 {
			t.Fatalf("run %d: device score %v outside [0,100]", i, dr.Score)
		}
		if got := Sum(dr.Factors); got != dr.Score {
			t.Fatalf("run %d: device factors sum to %v, score is %v: %+v", i, got, dr.Score, dr.Factors)
		}
		if want := s.m.BandOf(dr.Score); dr.Band != want {
			t.Fatalf("run %d: band %s for score %v, want %s", i, dr.Band, dr.Score, want)
		}
		for _, fr := range dr.Findings {
			if fr.Score < 0 || fr.Score > 100 {
				t.Fatalf("run %d: finding score %v outside [0,100]", i, fr.Score)
			}
			if got := Sum(fr.Factors); got != fr.Score {
				t.Fatalf("run %d: finding factors sum to %v, score is %v: %+v", i, got, fr.Score, fr.Factors)
			}
			if fr.Score > dr.Score {
				t.Fatalf("run %d: finding %v above device %v", i, fr.Score, dr.Score)
			}
		}
		if sc, b := s.DeviceScore(&d, fs); sc != dr.Score || b != dr.Band {
			t.Fatalf("run %d: DeviceScore = %v %s, Device = %v %s", i, sc, b, dr.Score, dr.Band)
		}
	}
}

func TestPropertyDeterministic(t *testing.T) {
	t.Parallel()
	g := newGen(2)
	s1 := newTestScorer(t)
	for i := range propRuns() {
		d, fs := g.device(), g.findings()
		a := s1.Device(&d, fs)
		b := newTestScorer(t).Device(&d, slices.Clone(fs)) // cold cache
		c := s1.Device(&d, fs)                             // warm cache
		if diff := cmp.Diff(a, b); diff != "" {
			t.Fatalf("run %d: cold scorer differs (-first +cold):\n%s", i, diff)
		}
		if diff := cmp.Diff(a, c); diff != "" {
			t.Fatalf("run %d: second call differs (-first +second):\n%s", i, diff)
		}
		// finding order does not matter
		rev := slices.Clone(fs)
		slices.Reverse(rev)
		if r := s1.Device(&d, rev); r.Score != a.Score {
			t.Fatalf("run %d: reversed findings score %v, want %v", i, r.Score, a.Score)
		}
	}
}

func TestPropertyKEVNeverLowers(t *testing.T) {
	t.Parallel()
	g := newGen(3)
	s := newTestScorer(t)
	for i := range propRuns() {
		d, fs := g.device(), g.findings()
		before := s.Device(&d, fs)
		k := g.r.IntN(len(fs))
		fs2 := slices.Clone(fs)
		fs2[k].KEV = true
		after := s.Device(&d, fs2)
		fb, fa := s.Finding(&d, &fs[k]), s.Finding(&d, &fs2[k])
		if fa.Score < fb.Score || after.Score < before.Score {
			t.Fatalf("run %d: KEV lowered risk: finding %v → %v, device %v → %v\n%+v", i, fb.Score, fa.Score, before.Score, after.Score, fs[k])
		}
	}
}

func TestPropertyControlNeverRaises(t *testing.T) {
	t.Parallel()
	g := newGen(4)
	s := newTestScorer(t)
	all := sortedKeys(DefaultControlWeights())
	for i := range propRuns() {
		d, fs := g.device(), g.findings()
		before := s.Device(&d, fs)
		d2 := d
		d2.Controls = append(slices.Clone(d.Controls), all[g.r.IntN(len(all))])
		after := s.Device(&d2, fs)
		if after.Score > before.Score {
			t.Fatalf("run %d: control %v raised risk %v → %v", i, d2.Controls, before.Score, after.Score)
		}
		for j := range fs {
			if b, a := s.FindingScore(&d, &fs[j]), s.FindingScore(&d2, &fs[j]); a > b {
				t.Fatalf("run %d: control raised finding %v → %v", i, b, a)
			}
		}
	}
}

func TestPropertyCriticalityNeverLowers(t *testing.T) {
	t.Parallel()
	g := newGen(5)
	s := newTestScorer(t)
	for i := range propRuns() {
		d, fs := g.device(), g.findings()
		lo := g.r.IntN(len(inventory.Criticalities))
		hi := g.r.IntN(lo + 1) // Criticalities is most critical first
		d.Criticality = inventory.Criticalities[lo]
		before := s.Device(&d, fs)
		d.Criticality = inventory.Criticalities[hi]
		after := s.Device(&d, fs)
		if after.Score < before.Score {
			t.Fatalf("run %d: criticality %s → %s lowered risk %v → %v\nfindings %+v", i,
				inventory.Criticalities[lo], inventory.Criticalities[hi], before.Score, after.Score, fs)
		}
	}
}

func TestFleetScoresMatchesDevice(t *testing.T) {
	t.Parallel()
	g := newGen(6)
	items := make([]Assessment, 3000)
	for i := range items {
		items[i] = Assessment{Device: g.device(), Findings: g.findings()}
	}
	got, err := FleetScores(context.Background(), DefaultModel(), docNow, items, 3)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestScorer(t)
	for i := range items {
		dr := s.Device(&items[i].Device, items[i].Findings)
		if want := (Score{dr.Score, dr.Band}); got[i] != want {
			t.Fatalf("item %d: FleetScores = %+v, Device = %+v", i, got[i], want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := FleetScores(ctx, DefaultModel(), docNow, items, 2); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("FleetScores with a cancelled context: err = %v, want context canceled", err)
	}
}
