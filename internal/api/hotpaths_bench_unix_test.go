//go:build unix

package api_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// BenchmarkAPIHotPaths measures the request kinds of the load proof
// (bench/load.lua) through the real handler as serve wires it (audit
// recorder, token cache, group commit) on SQLite with the demo fleet of
// MEDWARDEN_BENCH_DEVICES devices (default 100,000, imported as a CSV
// import would). Reads run one at a time; writes run from 32 goroutines at
// once, as wrk's connections do, so group commit is exercised. Each
// sub-benchmark reports the process CPU time per request (cpu-ms/op, the
// fair figure on a shared machine) and its p50/p99 latency.
// docs/benchmarks/api.md has the figures.
func BenchmarkAPIHotPaths(b *testing.B) {
	n := benchDevices(b)
	raw, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), sqlite.FileName))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	t0 := time.Now()
	storetest.LoadDemo(b, raw, n)
	b.Logf("fleet: %d devices loaded in %s", n, time.Since(t0).Round(time.Millisecond))
	// The import left the whole fleet in the WAL; the first commit after
	// it would copy it into the database (1.5 s) inside the measurement.
	if _, err := raw.SQL.ExecContext(b.Context(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	rec, err := recorder.Wrap(raw, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv := api.New(api.Deps{Store: rec, RateLimit: api.RateLimit{PerClient: -1, PerAccount: -1}})
	tok := newToken(b, rec, "load", auth.Analyst, "devices:read,devices:write,advisories:read")

	do := func(method, path, body string, hdr ...string) (int, string, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		return w.Code, w.Header().Get("ETag"), w.Body.String()
	}
	report := func(b *testing.B, lat []time.Duration, cpu time.Duration) {
		slices.Sort(lat)
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	first, err := rec.ListDevices(b.Context(), store.DeviceQuery{Limit: 1})
	if err != nil || len(first.Devices) == 0 {
		b.Fatalf("first device: %v", err)
	}
	site := url.QueryEscape(first.Devices[0].Site)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bc := range []struct{ name, path string }{
		{"whoami", "/api/v1/auth/whoami"},
		{"device_by_id", ""}, // random ids
		{"advisories_20", "/api/v1/advisories?limit=20"},
		{"list_50_asset_id", "/api/v1/devices?limit=50&sort=asset_id"},
		{"list_50_type_asset_id", "/api/v1/devices?limit=50&sort=asset_id&device_type=infusion-pump"},
		{"list_50_search_pump", "/api/v1/devices?limit=50&sort=asset_id&q=pump"},
		{"list_50_site_vendor", "/api/v1/devices?limit=50&sort=vendor&site=" + site},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var lat []time.Duration
			cpu0 := cpuTime()
			for b.Loop() {
				p := bc.path
				if p == "" {
					p = fmt.Sprintf("/api/v1/devices/%d", 1+rng.IntN(n))
				}
				t := time.Now()
				if code, _, body := do("GET", p, ""); code != 200 {
					b.Fatalf("%s: %d %.200s", p, code, body)
				}
				lat = append(lat, time.Since(t))
			}
			report(b, lat, cpuTime()-cpu0)
		})
	}
	var seq atomic.Int64
	deviceBody := func(asset string, i int64) string {
		return fmt.Sprintf(`{"asset_id":%q,"vendor":"Load Test Medical","model":"LT-%d","device_type":"infusion-pump","version":"1.%d","site":"NBR","department":"ICU","criticality":"life-supporting","ip":["10.99.%d.%d"]}`,
			asset, i%50, i%9, (i/250)%250, i%250+1)
	}
	parallel := func(b *testing.B, fn func() error) {
		var mu sync.Mutex
		var lat []time.Duration
		cpu0 := cpuTime()
		b.SetParallelism(16) // 32 writers on 2 cores
		b.RunParallel(func(pb *testing.PB) {
			var mine []time.Duration
			for pb.Next() {
				t := time.Now()
				if err := fn(); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
		if len(lat) > 0 {
			report(b, lat, cpuTime()-cpu0)
		}
	}
	b.Run("post_device_32_writers", func(b *testing.B) {
		parallel(b, func() error {
			i := seq.Add(1)
			a := "BENCH-POST-" + strconv.FormatInt(i, 10)
			if code, _, body := do("POST", "/api/v1/devices", deviceBody(a, i)); code != 201 {
				return fmt.Errorf("POST %s: %d %.200s", a, code, body)
			}
			return nil
		})
	})
	b.Run("put_device_32_writers", func(b *testing.B) {
		// each request updates a device created for it, with its ETag
		type target struct{ id, etag, asset string }
		var mu sync.Mutex
		var pool []target
		next := func() (target, error) {
			mu.Lock()
			if len(pool) > 0 {
				t := pool[len(pool)-1]
				pool = pool[:len(pool)-1]
				mu.Unlock()
				return t, nil
			}
			mu.Unlock()
			i := seq.Add(1)
			a := "BENCH-PUT-" + strconv.FormatInt(i, 10)
			code, etag, body := do("POST", "/api/v1/devices", deviceBody(a, i))
			if code != 201 {
				return target{}, fmt.Errorf("POST %s: %d %.200s", a, code, body)
			}
			var d struct {
				ID int64 `json:"id"`
			}
			if err := json.Unmarshal([]byte(body), &d); err != nil {
				return target{}, err
			}
			return target{strconv.FormatInt(d.ID, 10), etag, a}, nil
		}
		for range 64 { // targets made before the clock starts
			t, err := next()
			if err != nil {
				b.Fatal(err)
			}
			pool = append(pool, t)
		}
		parallel(b, func() error {
			t, err := next()
			if err != nil {
				return err
			}
			i := seq.Add(1)
			code, etag, body := do("PUT", "/api/v1/devices/"+t.id, deviceBody(t.asset, i), "If-Match", t.etag)
			if code != 200 {
				return fmt.Errorf("PUT %s: %d %.200s", t.id, code, body)
			}
			mu.Lock()
			pool = append(pool, target{t.id, etag, t.asset})
			mu.Unlock()
			return nil
		})
	})
}
