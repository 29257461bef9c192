package assess

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
)

// BenchmarkEngineSBOMs is the full recompute with SBOM findings at scale:
// 100,000 devices, the 96 ICSMA advisories and 200 SBOMs of 500
// components (one per most common vendor+model+firmware group; 25
// vulnerable components each: every 10th suppressed by VEX, every 7th a
// low-confidence name match, every 5th a CVE an advisory of the group
// also names). "all" is LoadSBOMs + All (match, SBOM pairs, risk, queue);
// "attach" re-assesses after one SBOM gets a new version (SBOMs).
// cpu-ms/op is the process's user+system CPU during the run.
func BenchmarkEngineSBOMs(b *testing.B) {
	as := icsma(b)
	const n = 100_000
	devs := benchFleet(b, n)
	base, err := NewEngine(Config{Now: testNow}, devs, as)
	if err != nil {
		b.Fatal(err)
	}
	first, err := base.All(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	sboms := fleetSBOMs(devs, groupCVEs(base, first), 200, 500, 20)
	covered := 0
	for _, s := range sboms {
		covered += len(base.repl[base.covKeyOf(&s).model])
	}
	b.Run(fmt.Sprintf("all/devices=%d/sboms=%d", n, len(sboms)), func(b *testing.B) {
		var res *Result
		var cpu, match, score time.Duration
		runs := 0
		for b.Loop() {
			e, err := NewEngine(Config{Now: testNow}, devs, as)
			if err != nil {
				b.Fatal(err)
			}
			c0 := cpuTime()
			e.LoadSBOMs(sboms)
			if res, err = e.All(context.Background()); err != nil {
				b.Fatal(err)
			}
			cpu += cpuTime() - c0
			match += res.MatchTime
			score += res.ScoreTime
			runs++
		}
		own, merged := 0, 0
		for i := range res.Records {
			switch res.Records[i].Source {
			case SourceSBOM:
				own++
			case SourceAdvisorySBOM:
				merged++
			}
		}
		b.ReportMetric(float64(cpu.Milliseconds())/float64(runs), "cpu-ms/op")
		b.ReportMetric(float64(match.Milliseconds())/float64(runs), "match-ms/op")
		b.ReportMetric(float64(score.Milliseconds())/float64(runs), "score-ms/op")
		b.ReportMetric(float64(len(res.Records)), "findings")
		b.ReportMetric(float64(own), "sbom-findings")
		b.ReportMetric(float64(merged), "advisory+sbom")
		b.ReportMetric(float64(covered), "covered-devices")
		b.ReportMetric(float64(len(res.Devices)), "devices-at-risk")
	})
	b.Run(fmt.Sprintf("attach/devices=%d/sboms=%d", n, len(sboms)), func(b *testing.B) {
		e, err := NewEngine(Config{Now: testNow}, devs, as)
		if err != nil {
			b.Fatal(err)
		}
		e.LoadSBOMs(sboms)
		if _, err := e.All(context.Background()); err != nil {
			b.Fatal(err)
		}
		next := slices.Clone(sboms)
		var cpu time.Duration
		runs, scope, recs := 0, 0, 0
		for i := 0; b.Loop(); i++ {
			next[0].Mark = fmt.Sprintf("v%d", i) // a new version of the biggest group's SBOM
			c0 := cpuTime()
			res, err := e.SBOMs(context.Background(), next)
			if err != nil {
				b.Fatal(err)
			}
			cpu += cpuTime() - c0
			runs++
			scope, recs = len(res.DeviceScope), len(res.Records)
		}
		b.ReportMetric(float64(cpu.Milliseconds())/float64(runs), "cpu-ms/op")
		b.ReportMetric(float64(scope), "scope-devices")
		b.ReportMetric(float64(recs), "findings")
	})
	// with SBOMs loaded, a revised advisory re-assesses every pair of the
	// devices it hits (it may take an SBOM pair in or give it back)
	b.Run(fmt.Sprintf("advisory/devices=%d/sboms=%d", n, len(sboms)), func(b *testing.B) {
		e, err := NewEngine(Config{Now: testNow}, devs, as)
		if err != nil {
			b.Fatal(err)
		}
		e.LoadSBOMs(sboms)
		full, err := e.All(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		count := map[string]int{}
		for _, r := range full.Records {
			if r.Source != SourceSBOM {
				count[r.AdvisoryID]++
			}
		}
		var top *advisory.Advisory
		for _, a := range as {
			if top == nil || count[a.ID] > count[top.ID] {
				top = a
			}
		}
		var cpu time.Duration
		runs, scope, recs := 0, 0, 0
		for b.Loop() {
			c := *top
			c0 := cpuTime()
			res, err := e.Advisories(context.Background(), []*advisory.Advisory{&c})
			if err != nil {
				b.Fatal(err)
			}
			cpu += cpuTime() - c0
			runs++
			scope, recs = len(res.DeviceScope), len(res.Records)
		}
		b.ReportMetric(float64(cpu.Milliseconds())/float64(runs), "cpu-ms/op")
		b.ReportMetric(float64(scope), "scope-devices")
		b.ReportMetric(float64(recs), "findings")
	})
}
