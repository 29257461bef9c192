package findings

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// benchStores opens an empty store per driver (PostgreSQL only with
// MEDWARDEN_TEST_POSTGRES).
func benchStores(b *testing.B) map[string]func(b *testing.B) store.Store {
	out := map[string]func(b *testing.B) store.Store{"sqlite": func(b *testing.B) store.Store { return openSQLite(b) }}
	if base := os.Getenv("MEDWARDEN_TEST_POSTGRES"); base != "" {
		out["postgres"] = func(b *testing.B) store.Store {
			st, err := postgres.Open(context.Background(), storetest.PostgresSchemaDSN(b, base))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}
	}
	return out
}

var benchSizes = []int{100_000, 1_000_000}

// loaded is a store holding the demo hospital of n devices, the ICSMA
// advisories and the first full recompute.
func loaded(b *testing.B, open func(b *testing.B) store.Store, n int) (*Service, store.Store, *Summary) {
	st := open(b)
	t := time.Now()
	hospital(b, st, n, icsma(b))
	b.Logf("loaded %d devices in %s", n, time.Since(t).Round(time.Millisecond))
	svc := New(st, Options{PollInterval: -1})
	sum, err := svc.RecomputeAll(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return svc, st, sum
}

func report(b *testing.B, sums []*Summary, cpu time.Duration) {
	var load, assess, stored time.Duration
	for _, s := range sums {
		load += s.Load
		assess += s.Assess
		stored += s.Store
	}
	n := float64(len(sums))
	b.ReportMetric(float64(load.Milliseconds())/n, "load-ms/op")
	b.ReportMetric(float64(assess.Milliseconds())/n, "assess-ms/op")
	b.ReportMetric(float64(stored.Milliseconds())/n, "store-ms/op")
	b.ReportMetric(float64(cpu.Milliseconds())/n, "cpu-ms/op")
	b.ReportMetric(float64(sums[len(sums)-1].Findings), "findings")
}

// BenchmarkRecomputeAll is a full recompute of a stored hospital: read
// devices, advisories and stored findings (load), match and score
// (assess), write findings and device risk in one transaction (store).
// The first recompute (every finding new) is reported as a log line;
// the timed ones are steady state (every finding still matching).
func BenchmarkRecomputeAll(b *testing.B) {
	for name, open := range benchStores(b) {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/devices=%d", name, n), func(b *testing.B) {
				svc, _, first := loaded(b, open, n)
				b.Logf("first recompute: load %s assess %s store %s (%d findings new)", first.Load, first.Assess, first.Store, first.New)
				var sums []*Summary
				var cpu time.Duration
				for b.Loop() {
					c0 := cpuTime()
					sum, err := svc.RecomputeAll(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					cpu += cpuTime() - c0
					sums = append(sums, sum)
				}
				report(b, sums, cpu)
			})
		}
	}
}

// BenchmarkDevicesChanged: one device edited (read it, re-match it,
// rescore it and its care-area peers, write its findings and risk).
func BenchmarkDevicesChanged(b *testing.B) {
	for name, open := range benchStores(b) {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/devices=%d", name, n), func(b *testing.B) {
				svc, st, _ := loaded(b, open, n)
				p, err := st.ListFindings(context.Background(), store.FindingQuery{Limit: 1})
				if err != nil || len(p.Findings) == 0 {
					b.Fatal("no findings", err)
				}
				id := p.Findings[0].DeviceID
				var sums []*Summary
				var cpu time.Duration
				for i := 0; b.Loop(); i++ {
					d, err := st.GetDevice(context.Background(), id)
					if err != nil {
						b.Fatal(err)
					}
					d.Location = fmt.Sprintf("Room %d", i)
					if err := st.UpdateDevice(context.Background(), d, 0); err != nil {
						b.Fatal(err)
					}
					c0 := cpuTime()
					sum, err := svc.DevicesChanged(context.Background(), []int64{id})
					if err != nil {
						b.Fatal(err)
					}
					cpu += cpuTime() - c0
					sums = append(sums, sum)
				}
				report(b, sums, cpu)
			})
		}
	}
}

// BenchmarkAdvisoriesChanged: the advisory with the most findings is
// revised (read it, match it against the whole fleet, rescore the
// devices it hits, write its findings and their device risk).
func BenchmarkAdvisoriesChanged(b *testing.B) {
	for name, open := range benchStores(b) {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/devices=%d", name, n), func(b *testing.B) {
				svc, st, _ := loaded(b, open, n)
				count := map[string]int{}
				if err := st.ScanFindings(context.Background(), func(f *store.Finding) error {
					count[f.AdvisoryID]++
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				var top string
				for id, c := range count {
					if c > count[top] || c == count[top] && id < top {
						top = id
					}
				}
				var sums []*Summary
				var cpu time.Duration
				for b.Loop() {
					c0 := cpuTime()
					sum, err := svc.AdvisoriesChanged(context.Background(), []string{top})
					if err != nil {
						b.Fatal(err)
					}
					cpu += cpuTime() - c0
					sums = append(sums, sum)
				}
				report(b, sums, cpu)
			})
		}
	}
}
