package storetest

import (
	"context"
	"fmt"
	"os"
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
	}
}

// BenchListDevices measures the list queries over a loaded store and
// reports the 95th-percentile latency in ms.
func BenchListDevices(b *testing.B, st store.Store) {
	ctx := context.Background()
	qs := ListQueries(st)
	var lat []time.Duration
	i := 0
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
		start := time.Now()
		p, err := st.ListDevices(ctx, q)
		if err != nil {
			b.Fatalf("query %+v: %v", q, err)
		}
		lat = append(lat, time.Since(start))
		if len(p.Devices) == 0 && q.Cursor == "" {
			b.Fatalf("query %+v returned nothing: the benchmark measures empty results", q)
		}
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
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
