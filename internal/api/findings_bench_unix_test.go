//go:build unix

package api_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/demo"
	"github.com/medwarden/medwarden/internal/findings"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/risk"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

// BenchmarkFindingsAPI measures GET /api/v1/findings, /api/v1/risk/devices
// and /api/v1/remediations through the real handler (authentication
// included) on SQLite with the demo fleet of MEDWARDEN_BENCH_DEVICES
// devices (default 100,000), 30 % of them affected by 1-3 of 200
// advisories. Each sub-benchmark reports the p50 and p95 latency and the
// process CPU time per request. docs/benchmarks/api.md has the figures.
func BenchmarkFindingsAPI(b *testing.B) {
	n := benchDevices(b)
	start := time.Now()
	st, srv, tok, sample, nf := benchFleet(b, n)
	b.Logf("fleet: %d devices, %d findings, loaded in %s", n, nf, time.Since(start).Round(time.Millisecond))

	get := func(path string) (int, map[string]any) {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		var body map[string]any
		json.Unmarshal(w.Body.Bytes(), &body) //nolint:errcheck // checked by the status
		return w.Code, body
	}
	// the second page of the default list, as a client paging would ask
	_, first := get("/api/v1/findings")
	page2 := "/api/v1/findings?cursor=" + url.QueryEscape(first["next"].(string))

	for _, bc := range []struct{ name, path string }{
		{"findings/default", "/api/v1/findings"},
		{"findings/page2", page2},
		{"findings/kev", "/api/v1/findings?kev=true"},
		{"findings/band_critical_by_due", "/api/v1/findings?band=critical&sort=due"},
		{"findings/site_by_due", "/api/v1/findings?sort=due&site=" + url.QueryEscape(benchSite)},
		{"findings/device", "/api/v1/findings?device=" + url.QueryEscape(sample)},
		{"findings/advisory", "/api/v1/findings?advisory=BENCH-ADV-0042"},
		{"findings/limit1000", "/api/v1/findings?limit=1000"},
		{"risk_devices/default", "/api/v1/risk/devices"},
		{"risk_devices/band_high", "/api/v1/risk/devices?band=high"},
		{"risk_devices/site", "/api/v1/risk/devices?site=" + url.QueryEscape(benchSite)},
		{"remediations/default", "/api/v1/remediations"},
		{"remediations/overdue", "/api/v1/remediations?sla=overdue"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if code, body := get(bc.path); code != 200 {
				b.Fatalf("%s: %d %v", bc.path, code, body)
			}
			var lat []time.Duration
			cpu0 := cpuTime()
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				req := httptest.NewRequest("GET", bc.path, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, req)
				lat = append(lat, time.Since(t0))
				if w.Code != 200 {
					b.Fatalf("%s: %d", bc.path, w.Code)
				}
			}
			cpu := cpuTime() - cpu0
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[(len(lat)*95)/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
		})
	}
	// the dashboard's counts (store.FindingStats), straight from the store
	b.Run("store/finding_stats", func(b *testing.B) {
		var lat []time.Duration
		cpu0 := cpuTime()
		var st0 *store.FindingStats
		for b.Loop() {
			t0 := time.Now()
			var err error
			if st0, err = st.FindingStats(b.Context(), store.FindingStatsOptions{}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(st0.Active), "active-findings")
		b.ReportMetric(float64(lat[(len(lat)*95)/100].Microseconds())/1000, "p95-ms")
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
	})
	b.Run("risk_register", func(b *testing.B) {
		var lat []time.Duration
		cpu0 := cpuTime()
		for b.Loop() {
			t0 := time.Now()
			if code, _ := get("/api/v1/risk/register"); code != 200 {
				b.Fatalf("register: %d", code)
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[(len(lat)*95)/100].Microseconds())/1000, "p95-ms")
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
	})
	// With the findings service wired (as serve does), the register comes
	// from its in-memory engine. Its recompute replaces the synthetic
	// findings (no stored advisory matches them), so this runs last.
	b.Run("risk_register_service", func(b *testing.B) {
		svc := findings.New(st, findings.Options{})
		if _, err := svc.RecomputeAll(b.Context()); err != nil {
			b.Fatal(err)
		}
		srv.EnableFindingsService(svc)
		var lat []time.Duration
		cpu0 := cpuTime()
		for b.Loop() {
			t0 := time.Now()
			if code, _ := get("/api/v1/risk/register"); code != 200 {
				b.Fatalf("register: %d", code)
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[(len(lat)*95)/100].Microseconds())/1000, "p95-ms")
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
	})
}

// benchSite is a site of the demo fleet (set by benchFleet).
var benchSite string

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchFleet loads n demo devices and their synthetic findings into a
// fresh SQLite store and returns the server, an analyst token, one affected
// asset id and the number of findings.
func benchFleet(b *testing.B, n int) (store.Store, *api.Server, string, string, int) {
	b.Helper()
	ctx := b.Context()
	st, err := sqlite.Open(ctx, b.TempDir()+"/"+sqlite.FileName)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	now := time.Now().UTC().Truncate(24 * time.Hour)
	var batch, all []*inventory.Device
	flush := func() error {
		err := st.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, batch) })
		all = append(all, batch...)
		batch = nil
		return err
	}
	err = demo.Generate(demo.Config{Seed: 1, Devices: n, Now: now}, func(d *inventory.Device) error {
		batch = append(batch, d)
		if len(batch) == 5000 {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		b.Fatal(err)
	}
	benchSite = all[0].Site
	rng := rand.New(rand.NewPCG(1, 2))
	bands := func(score float64) string {
		switch {
		case score >= 80:
			return "critical"
		case score >= 60:
			return "high"
		case score >= 40:
			return "medium"
		case score >= 20:
			return "low"
		}
		return "info"
	}
	var fs []*store.Finding
	var risks []*store.DeviceRisk
	sample := ""
	for i, d := range all {
		if i%10 >= 3 {
			continue
		}
		if sample == "" {
			sample = d.AssetID
		}
		k := 1 + rng.IntN(3)
		dr := &store.DeviceRisk{DeviceID: d.ID, AssetID: d.AssetID, Findings: k, Actions: json.RawMessage("[]"),
			Site: d.Site, Department: d.Department, DeviceType: d.DeviceType, Vendor: d.Vendor}
		for j := range k {
			adv := fmt.Sprintf("BENCH-ADV-%04d", (i*7+j*31)%200)
			score := float64(int(rng.Float64()*1000)) / 10
			cvss := float64(int(rng.Float64()*100)) / 10
			kev := rng.IntN(20) == 0
			due := now.AddDate(0, 0, rng.IntN(200)-60).Format(time.DateOnly)
			fx, _ := json.Marshal([]risk.Factor{{Name: risk.FactorSeverity, Value: fmt.Sprintf("CVSS %.1f", cvss), Contribution: score * 0.6},
				{Name: risk.FactorClinical, Value: string(d.Criticality), Contribution: score * 0.4}})
			fs = append(fs, &store.Finding{DeviceID: d.ID, AssetID: d.AssetID, AdvisoryID: adv, AdvisoryTitle: "Synthetic advisory " + adv,
				ProductID: "CSAFPID-0001", ProductName: d.Vendor + " " + d.Model, BranchPath: []string{d.Vendor, d.Model, "<" + d.Version},
				Method: "vendor_model_version", Confidence: 0.5 + rng.Float64()/2, MatchStatus: "known_affected", Reasons: []string{"vendor, model and version"},
				CVEs: []string{fmt.Sprintf("CVE-2024-%05d", (i*7+j*31)%200)}, CVSS: cvss, KEV: kev, EPSS: rng.Float64(),
				Remediations: json.RawMessage(`[{"category":"vendor_fix","details":"update"}]`), Score: score, Band: bands(score), Factors: fx,
				Action: "patch", Due: due, DueRule: "band policy", SLA: "on_track", Actions: json.RawMessage(`[{"action":"patch"}]`)})
			if score > dr.Score {
				dr.Score, dr.Band, dr.Factors = score, bands(score), fx
			}
			dr.KEV = dr.KEV || kev
		}
		risks = append(risks, dr)
	}
	if _, err := st.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, risks); err != nil {
		b.Fatal(err)
	}
	srv := api.New(api.Deps{Store: st, RateLimit: api.RateLimit{PerClient: -1, PerAccount: -1}})
	return st, srv, newToken(b, st, "ana", auth.Analyst, "findings:read"), sample, len(fs)
}

// benchDevices is the fleet size of the API benchmarks:
// MEDWARDEN_BENCH_DEVICES, default 100,000.
func benchDevices(b *testing.B) int {
	b.Helper()
	v := os.Getenv("MEDWARDEN_BENCH_DEVICES")
	if v == "" {
		return 100_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 100 {
		b.Fatalf("MEDWARDEN_BENCH_DEVICES=%q: want a number ≥ 100", v)
	}
	return n
}
