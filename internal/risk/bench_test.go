package risk

import (
	"context"
	"fmt"
	"testing"
)

// fleet builds n devices with findings drawn from realistic distributions:
// 0–5 findings per device (most devices 1–2), vectors from a pool of a few
// hundred distinct vectors as in a real advisory corpus, 1 in 8 findings in
// KEV, EPSS mostly low.
func benchFleet(n int) []Assessment {
	g := newGen(42)
	pool := make([]string, 300)
	for i := range pool {
		pool[i] = g.vector()
	}
	items := make([]Assessment, n)
	for i := range items {
		d := g.device()
		fs := make([]Finding, []int{1, 1, 1, 2, 2, 3, 4, 5}[g.r.IntN(8)])
		for j := range fs {
			f := g.finding()
			f.Vectors = []string{pool[g.r.IntN(len(pool))]}
			fs[j] = f
		}
		items[i] = Assessment{Device: d, Findings: fs}
	}
	return items
}

func BenchmarkFleetRisk(b *testing.B) {
	for _, n := range []int{1000, 100_000, 1_000_000} {
		name := fmt.Sprintf("devices-1e%d", len(fmt.Sprint(n))-1)
		b.Run(name, func(b *testing.B) {
			if n == 1_000_000 && testing.Short() {
				b.Skip("short mode")
			}
			items := benchFleet(n)
			findings := 0
			for i := range items {
				findings += len(items[i].Findings)
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			runs := 0
			for b.Loop() {
				if _, err := FleetScores(context.Background(), DefaultModel(), docNow, items, 0); err != nil {
					b.Fatal(err)
				}
				runs++
			}
			b.ReportMetric(float64(findings)/float64(n), "findings/device")
			// CPU seconds per run: on a shared machine wall time overstates the cost
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(runs), "cpu-s/op")
		})
	}
}

func BenchmarkFinding(b *testing.B) {
	items := benchFleet(1000)
	s := newTestScorer(b)
	b.Run("explained", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			it := &items[i%len(items)]
			s.Finding(&it.Device, &it.Findings[0])
			i++
		}
	})
	b.Run("score-only", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			it := &items[i%len(items)]
			s.FindingScore(&it.Device, &it.Findings[0])
			i++
		}
	})
}
