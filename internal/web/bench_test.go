package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx" for creating the benchmark schema

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/feeds"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// benchStore is SQLite in a temporary directory, or a fresh schema on the
// PostgreSQL server named by MEDWARDEN_BENCH_POSTGRES.
func benchStore(b *testing.B) store.Store {
	ctx := context.Background()
	dsn := os.Getenv("MEDWARDEN_BENCH_POSTGRES")
	if dsn == "" {
		st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), sqlite.FileName))
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	st, err := postgres.Open(ctx, storetest.PostgresSchemaDSN(b, dsn))
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// maxPageBytes is the budget for any page.
const maxPageBytes = 300 << 10

// BenchmarkPages measures the server time of every console page over a
// SQLite store holding storetest.BenchSize() demo devices (100,000; 10⁶
// with MEDWARDEN_BENCH_LARGE=1), signed in as an admin, and reports the
// p95 and maximum latency and the page size. It fails when a page exceeds
// 300 KB. MEDWARDEN_BENCH_POSTGRES=<dsn> runs it on PostgreSQL instead.
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	st := benchStore(b)
	defer st.Close()
	n := storetest.BenchSize()
	storetest.LoadDemo(b, st, n)
	hash, _ := auth.HashPassword(testPassword, fastParams)
	u := &store.User{Username: "admin", Role: string(auth.Admin), PasswordHash: hash}
	if err := st.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	advID, findingID, auditN := seedRisk(b, st, n)
	h, err := New(ctx, Deps{Store: st, Params: fastParams})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	cold, err := New(ctx, Deps{Store: st, Params: fastParams, StatsMaxAge: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer cold.Close()
	tok, _ := auth.NewToken()
	now := time.Now()
	if err := st.CreateSession(ctx, &store.Session{IDHash: auth.HashToken(tok), UserID: u.ID, CSRFToken: "t", CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 20; i++ { // a user with saved views
		st.SaveView(ctx, &store.SavedView{UserID: u.ID, Name: fmt.Sprintf("view %d", i), Query: "department=ICU&sort=-criticality"}) //nolint:errcheck // benchmark setup
	}
	qs := storetest.ListQueries(st)
	first, _ := st.ListDevices(ctx, store.DeviceQuery{Sort: "vendor", Limit: 50})
	mid, _ := st.ListDevices(ctx, store.DeviceQuery{Filters: map[string]string{"site": qs[0].Filters["site"]}, Limit: 1})
	site := url.QueryEscape(qs[0].Filters["site"])
	pages := []struct {
		name, path string
		h          *Handler // nil: h
	}{
		{"dashboard", "/", nil},
		{"dashboard-uncached", "/", cold},
		{"devices", "/devices", nil},
		{"devices-site-by-asset", "/devices?site=" + site + "&sort=asset_id", nil},
		{"devices-vendor-by-criticality", "/devices?vendor=Baxter&sort=-criticality", nil},
		{"devices-type-site-by-version", "/devices?device_type=infusion-pump&site=" + site + "&sort=version", nil},
		{"devices-icu-by-updated", "/devices?department=ICU&sort=-updated_at", nil},
		{"devices-eos-past", "/devices?eos_before=2026-11-01&sort=end_of_support", nil},
		{"devices-page2-by-vendor", "/devices?sort=vendor&cursor=" + url.QueryEscape(first.Next), nil},
		{"devices-200-rows", "/devices?limit=200&sort=-criticality", nil},
		{"devices-search", "/devices?q=ventilator", nil},
		{"device", fmt.Sprintf("/devices/%d", mid.Devices[0].ID), nil},
		{"device-with-findings", "/devices/1", nil},
		{"findings", "/findings", nil},
		{"findings-kev-critical", "/findings?kev=yes&band=critical", nil},
		{"finding", fmt.Sprintf("/findings/%d", findingID), nil},
		{"remediations", "/remediations", nil},
		{"advisories", "/advisories", nil},
		{"advisories-search", "/advisories?q=baxter", nil},
		{"advisory", "/advisories/" + advID, nil},
		{"feeds", "/feeds", nil},
		{"audit", "/audit", nil},
		{"audit-filtered", "/audit?actor=bob&action=finding", nil},
		{"imports", "/imports", nil},
		{"settings-users", "/settings/users", nil},
		{"account-password", "/account/password", nil},
	}
	var report []string
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var lat []time.Duration
			var size int
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", p.path, nil)
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: tok})
				rec := httptest.NewRecorder()
				start := time.Now()
				hh := h
				if p.h != nil {
					hh = p.h
				}
				hh.ServeHTTP(rec, req)
				lat = append(lat, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d", p.path, rec.Code)
				}
				size = rec.Body.Len()
			}
			if size > maxPageBytes {
				b.Errorf("GET %s is %d bytes, over the %d budget", p.path, size, maxPageBytes)
			}
			b.SetBytes(int64(size))
			slices.Sort(lat)
			p95 := float64(lat[len(lat)*95/100].Microseconds()) / 1000
			b.ReportMetric(p95, "p95-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
			b.ReportMetric(float64(size), "page-bytes")
			report = append(report, fmt.Sprintf("%s p95=%.1fms bytes=%d", p.name, p95, size))
		})
		// The same list query against the store alone: what the page adds.
		if path, raw, _ := strings.Cut(p.path, "?"); path == "/devices" {
			b.Run(p.name+"/store-only", func(b *testing.B) {
				v, _ := url.ParseQuery(raw)
				q, _ := listQuery(v)
				var lat []time.Duration
				b.ReportAllocs()
				for b.Loop() {
					start := time.Now()
					if _, err := st.ListDevices(ctx, q); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
				b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
			})
		}
	}
	b.Logf("%s (%d audit entries): %s", storetest.SizeName(n), auditN, strings.Join(report, "; "))
}

// seedRisk gives the benchmark store what a hospital that matches its
// fleet has: the feeds of internal/feeds/testdata (three CSAF advisories,
// KEV, EPSS), findings on 20% of the devices (one to three each, over 40
// advisory ids, scores spread over every band) with device risk rows, 90
// daily risk snapshots and an audit log of auditEntries entries. It
// returns an advisory id, a finding id and the audit size.
func seedRisk(b testing.TB, st store.Store, n int) (string, int64, int) {
	ctx := context.Background()
	im, err := feeds.NewImporter(st, feeds.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"csaf", "kev_subset.json", "epss_scores-2025-08-25.csv"} {
		if _, err := im.Import(ctx, filepath.Join("..", "feeds", "testdata", p), ""); err != nil {
			b.Fatalf("import %s: %v", p, err)
		}
	}
	var fs []*store.Finding
	var risks []*store.DeviceRisk
	for dev := int64(1); dev <= int64(n); dev += 5 {
		k := int(dev/5)%3 + 1
		var top *store.Finding
		for j := 0; j < k; j++ {
			sc := float64((dev*7+int64(j)*31)%100) + 0.5
			f := storetest.SampleFinding(dev, fmt.Sprintf("ICSMA-%02d-%03d-01", 20+j, dev%40), sc)
			f.KEV = dev%17 == 0
			fs = append(fs, f)
			if top == nil || f.Score > top.Score {
				top = f
			}
		}
		risks = append(risks, &store.DeviceRisk{DeviceID: dev, AssetID: top.AssetID, Score: top.Score, Band: top.Band, Findings: k, KEV: top.KEV,
			Factors: top.Factors, Actions: []byte("[]"), Site: "North Campus", DeviceType: "infusion-pump", Vendor: "BD"})
	}
	if _, err := st.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, risks); err != nil {
		b.Fatal(err)
	}
	day := time.Now().UTC().AddDate(0, 0, -89)
	for i := 0; i < 90; i++ {
		reg := fmt.Sprintf(`{"total":{"key":"all","devices":%d,"affected":%d,"findings":%d,"bands":{"critical":%d,"high":%d,"medium":%d,"low":%d,"info":0}},"by_site":[],"by_department":[],"by_device_type":[],"by_vendor":[]}`,
			n, len(risks), len(fs), len(risks)/5+i, len(risks)/5, len(risks)/5-i, len(risks)/5)
		if err := st.PutRiskSnapshot(ctx, day.AddDate(0, 0, i).Format(time.DateOnly), []byte(reg)); err != nil {
			b.Fatal(err)
		}
	}
	sec := st.(store.SecurityStore)
	for i := 0; i < auditEntries; i++ {
		actor, action := "alice", "device.update"
		if i%50 == 0 {
			actor, action = "bob", "finding.workflow"
		}
		e, _ := audit.New(audit.Actor{Name: actor, Kind: audit.KindUser, Source: "10.1.2.3"}, time.Now(), action, fmt.Sprintf("device/%d", i%n+1),
			map[string]string{"version": "8.00.01"}, map[string]string{"version": "8.00.02"})
		if err := sec.AppendAudit(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	return "ICSMA-24-151-01", fs[0].ID, auditEntries
}

// auditEntries are appended to the benchmark store's audit log.
const auditEntries = 5000
