package storetest

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/demo"
	"github.com/medwarden/medwarden/internal/importer"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// BenchSize is the fleet the list benchmarks load: 100,000 devices, or
// 1,000,000 with MEDWARDEN_BENCH_LARGE=1.
func BenchSize() int {
	if os.Getenv("MEDWARDEN_BENCH_LARGE") == "1" {
		return 1_000_000
	}
	return 100_000
}

// LoadDemo imports n demo devices into st.
func LoadDemo(tb testing.TB, st store.Store, n int) {
	tb.Helper()
	cfg := demo.DefaultConfig()
	cfg.Devices, cfg.Sites = n, 0
	cfg.Now = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var ds []*inventory.Device
	if err := demo.Generate(cfg, func(d *inventory.Device) error { ds = append(ds, d); return nil }); err != nil {
		tb.Fatal(err)
	}
	if _, err := importer.Import(context.Background(), st, &inventory.SliceDecoder{Devices: ds}, importer.Options{Source: "bench"}); err != nil {
		tb.Fatal(err)
	}
	// A large fill leaves its indexes for after the commit: lists are
	// measured with them.
	if err := st.BuildIndexes(context.Background(), nil); err != nil {
		tb.Fatal(err)
	}
}

// ListQueries are the filtered, sorted list queries a console user runs.
func ListQueries(st store.Store) []store.DeviceQuery {
	ctx := context.Background()
	first, _ := st.ListDevices(ctx, store.DeviceQuery{Limit: 1})
	site, vendor := "NBR", "Baxter"
	if len(first.Devices) > 0 {
		site = first.Devices[0].Site
	}
	return []store.DeviceQuery{
		{Filters: map[string]string{"site": site}, Sort: "asset_id"},
		{Filters: map[string]string{"vendor": vendor}, Sort: "-criticality"},
		{Filters: map[string]string{"device_type": "infusion-pump", "site": site}, Sort: "version"},
		{Filters: map[string]string{"criticality": "life-sustaining"}, Sort: "end_of_support"},
		{Filters: map[string]string{"department": "ICU"}, Sort: "-updated_at"},
		{Sort: "vendor"},
		{EOSBefore: "2026-11-01", Sort: "end_of_support"},
		// Added in session 2 (docs/benchmarks/inventory.md): a two-field
		// filter no single index serves, and a type by end of support.
		{Filters: map[string]string{"site": site, "criticality": "life-sustaining"}, Sort: "vendor"},
		{Filters: map[string]string{"device_type": "patient-monitor"}, Sort: "end_of_support"},
	}
}

// SearchQueries are free-text searches (the console's search box, the
// API's q=): the terms and sorts bench/load.lua sends (a device type word
// or fragment, four sorts each), then fragments of a manufacturer, a model,
// one device's host name, a host name tail, an asset id prefix and a MAC.
// Their p95 is reported separately from ListQueries'.
func SearchQueries(st store.Store) []store.DeviceQuery {
	ctx := context.Background()
	host := "nbr-rad-fl0001"
	if p, _ := st.ListDevices(ctx, store.DeviceQuery{Filters: map[string]string{"department": "Radiology"}, Limit: 1}); p != nil && len(p.Devices) > 0 && p.Devices[0].Hostname != "" {
		host = p.Devices[0].Hostname
	}
	var qs []store.DeviceQuery
	for _, term := range []string{"pump", "monitor", "ventilator", "analyzer", "ct", "mri"} {
		for _, sortBy := range []string{"asset_id", "-updated_at", "vendor", "model"} {
			qs = append(qs, store.DeviceQuery{Search: term, Sort: sortBy})
		}
	}
	return append(qs,
		store.DeviceQuery{Search: "philips", Sort: "vendor"},
		store.DeviceQuery{Search: "infusomat", Sort: "-updated_at"},
		store.DeviceQuery{Search: host},
		store.DeviceQuery{Search: host[max(0, len(host)-6):], Sort: "asset_id"},
		store.DeviceQuery{Search: "BIOMED-0001", Sort: "vendor"},
		store.DeviceQuery{Search: "00:12:21", Sort: "hostname"},
	)
}

// BenchListDevices measures the list queries over a loaded store and
// reports the 95th-percentile latency in ms (p95-ms), the 95th percentile
// of this process's CPU time per query overall (cpu-p95-ms) and per query
// shape (q0-cpu-p95-ms …), the latency p95 per shape (q0-p95-ms …), and,
// outside those figures, the free-text searches' (benchSearches).
func BenchListDevices(b *testing.B, st store.Store) {
	ctx := context.Background()
	qs := ListQueries(st)
	var lat, cpu []time.Duration
	perShape := make([][]time.Duration, len(qs))  // CPU per query, by shape
	wallShape := make([][]time.Duration, len(qs)) // latency, by shape
	i := 0
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	for b.Loop() {
		q := qs[i%len(qs)]
		q.Limit = 50
		if i%2 == 1 { // every other query asks for the second page
			p, err := st.ListDevices(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			q.Cursor = p.Next
		}
		c0, cok := threadCPU()
		start := time.Now()
		p, err := st.ListDevices(ctx, q)
		if err != nil {
			b.Fatalf("query %+v: %v", q, err)
		}
		lat = append(lat, time.Since(start))
		wallShape[i%len(qs)] = append(wallShape[i%len(qs)], time.Since(start))
		if c1, ok := threadCPU(); ok && cok {
			cpu = append(cpu, c1-c0)
			perShape[i%len(qs)] = append(perShape[i%len(qs)], c1-c0)
		}
		if len(p.Devices) == 0 && q.Cursor == "" {
			b.Fatalf("query %+v returned nothing: the benchmark measures empty results", q)
		}
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	if len(cpu) > 0 { // CPU time of this process per query (thread clock, ~µs resolution)
		slices.Sort(cpu)
		b.ReportMetric(float64(cpu[len(cpu)*95/100].Microseconds())/1000, "cpu-p95-ms")
	}
	for k, l := range perShape {
		if len(l) > 0 {
			slices.Sort(l)
			b.ReportMetric(float64(l[len(l)*95/100].Microseconds())/1000, fmt.Sprintf("q%d-cpu-p95-ms", k))
		}
	}
	for k, l := range wallShape {
		if len(l) > 0 {
			slices.Sort(l)
			b.ReportMetric(float64(l[len(l)*95/100].Microseconds())/1000, fmt.Sprintf("q%d-p95-ms", k))
		}
	}
	b.StopTimer()
	benchSearches(b, st)
}

// benchSearches runs each SearchQueries shape searchRuns times (every
// other run the second page) and reports the p95 latency and CPU time over
// all of them (search-p95-ms, search-cpu-p95-ms) and each shape's p95
// latency (sN-p95-ms); -v logs the shapes.
func benchSearches(b *testing.B, st store.Store) {
	const searchRuns = 20
	ctx := context.Background()
	var lat, cpu []time.Duration
	for k, q := range SearchQueries(st) {
		var shape, shapeCPU []time.Duration
		q.Limit = 50
		first, err := st.ListDevices(ctx, q)
		if err != nil {
			b.Fatalf("search %+v: %v", q, err)
		}
		for r := range searchRuns {
			qr := q
			if r%2 == 1 {
				qr.Cursor = first.Next
			}
			c0, cok := threadCPU()
			start := time.Now()
			if _, err := st.ListDevices(ctx, qr); err != nil {
				b.Fatalf("search %+v: %v", qr, err)
			}
			shape = append(shape, time.Since(start))
			if c1, ok := threadCPU(); ok && cok {
				cpu = append(cpu, c1-c0)
				shapeCPU = append(shapeCPU, c1-c0)
			}
		}
		lat = append(lat, shape...)
		slices.Sort(shape)
		p95 := float64(shape[len(shape)*95/100].Microseconds()) / 1000
		b.ReportMetric(p95, fmt.Sprintf("s%d-p95-ms", k))
		cpuMed := -1.0 // CPU per run, median (-1: no thread clock)
		if len(shapeCPU) > 0 {
			slices.Sort(shapeCPU)
			cpuMed = float64(shapeCPU[len(shapeCPU)/2].Microseconds()) / 1000
		}
		b.Logf("s%d search %q sort %q: %d on page 1, p95 %.1f ms, CPU median %.2f ms", k, q.Search, q.Sort, len(first.Devices), p95, cpuMed)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "search-p95-ms")
	if len(cpu) > 0 {
		slices.Sort(cpu)
		b.ReportMetric(float64(cpu[len(cpu)*95/100].Microseconds())/1000, "search-cpu-p95-ms")
	}
}

// SizeName names a sub-benchmark by fleet size ("devices-1e5").
func SizeName(n int) string {
	e := 0
	for m := n; m >= 10 && m%10 == 0; m /= 10 {
		e++
	}
	return fmt.Sprintf("devices-%de%d", n/pow(e), e)
}

func pow(e int) int {
	p := 1
	for range e {
		p *= 10
	}
	return p
}
