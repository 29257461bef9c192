package assess

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/inventory"
)

// benchSizes are the fleet sizes of the engine benchmarks; 1M is the
// issue's figure (run with -benchtime=1x: one iteration builds it).
var benchSizes = []int{100_000, 1_000_000}

var fleets = map[int][]*inventory.Device{}

func benchFleet(b *testing.B, n int) []*inventory.Device {
	if f, ok := fleets[n]; ok {
		return f
	}
	f := fleet(b, n)
	fleets[n] = f
	return f
}

// BenchmarkEngineAll is the full in-memory recompute: match every device
// against the 96 real ICSMA advisories, then score every finding and
// device and build the queue. Reported: match and score (risk + queue)
// time per run, findings and devices at risk.
func BenchmarkEngineAll(b *testing.B) {
	as := icsma(b)
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			devs := benchFleet(b, n)
			var res *Result
			var match, score, cpu time.Duration
			runs := 0
			for b.Loop() {
				e, err := NewEngine(Config{Now: testNow}, devs, as)
				if err != nil {
					b.Fatal(err)
				}
				c0 := cpuTime()
				if res, err = e.All(context.Background()); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c0
				match += res.MatchTime
				score += res.ScoreTime
				runs++
			}
			b.ReportMetric(float64(match.Milliseconds())/float64(runs), "match-ms/op")
			b.ReportMetric(float64(score.Milliseconds())/float64(runs), "score-ms/op")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(runs), "cpu-ms/op")
			b.ReportMetric(float64(len(res.Records)), "findings")
			b.ReportMetric(float64(len(res.Devices)), "devices-at-risk")
		})
	}
}

// BenchmarkEngineRescore recomputes the risk of every device with
// findings, every finding's score and remediation (the queue), without
// matching again: the issue's "risk for 1,000,000 devices with their
// findings recomputed" figure. cpu-ms/op is user+system CPU of the
// process during the rescore (all threads, GC included).
func BenchmarkEngineRescore(b *testing.B) {
	as := icsma(b)
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			devs := benchFleet(b, n)
			e, err := NewEngine(Config{Now: testNow}, devs, as)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := e.All(context.Background()); err != nil {
				b.Fatal(err)
			}
			var cpu time.Duration
			var res *Result
			runs := 0
			for b.Loop() {
				c0 := cpuTime()
				if res, err = e.Rescore(context.Background()); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c0
				runs++
			}
			b.ReportMetric(float64(cpu.Milliseconds())/float64(runs), "cpu-ms/op")
			b.ReportMetric(float64(len(res.Records)), "findings")
			b.ReportMetric(float64(len(res.Devices)), "devices-at-risk")
		})
	}
}

// BenchmarkEngineDevice re-assesses one edited device (and its care-area
// peers) in a fleet of n.
func BenchmarkEngineDevice(b *testing.B) {
	as := icsma(b)
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			devs := benchFleet(b, n)
			e, err := NewEngine(Config{Now: testNow}, devs, as)
			if err != nil {
				b.Fatal(err)
			}
			full, err := e.All(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			d := *full.Records[0].Device
			scope := 0
			for i := 0; b.Loop(); i++ {
				d.Version = fmt.Sprintf("%d.0", i%3)
				res, err := e.Devices(context.Background(), []*inventory.Device{&d}, nil)
				if err != nil {
					b.Fatal(err)
				}
				scope = len(res.DeviceScope)
			}
			b.ReportMetric(float64(scope), "scope-devices")
		})
	}
}

// BenchmarkEngineAdvisory re-assesses one revised advisory (the one with
// the most findings) against a fleet of n.
func BenchmarkEngineAdvisory(b *testing.B) {
	as := icsma(b)
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			devs := benchFleet(b, n)
			e, err := NewEngine(Config{Now: testNow}, devs, as)
			if err != nil {
				b.Fatal(err)
			}
			full, err := e.All(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			count := map[string]int{}
			for _, r := range full.Records {
				count[r.AdvisoryID]++
			}
			var top *advisory.Advisory
			for _, a := range as {
				if top == nil || count[a.ID] > count[top.ID] {
					top = a
				}
			}
			pairs, runs := 0, 0
			var cpu, match time.Duration
			for b.Loop() {
				c := *top // a revision: a new value with the same id
				c0 := cpuTime()
				res, err := e.Advisories(context.Background(), []*advisory.Advisory{&c})
				if err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c0
				match += res.MatchTime
				pairs = len(res.Records)
				runs++
			}
			b.ReportMetric(float64(pairs), "findings")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(runs), "cpu-ms/op")
			b.ReportMetric(float64(match.Microseconds())/1000/float64(runs), "match-ms/op")
		})
	}
}
