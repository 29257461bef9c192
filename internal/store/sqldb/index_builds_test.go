package sqldb_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/importer"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/csvfile"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/sqldb"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// A large bulk import commits without its indexes and leaves their builds
// to BuildIndexes: meanwhile every list and search must answer exactly as
// after the builds (including devices written after the import, which the
// SQLite search index does not hold until it is rebuilt); an interrupted
// build must resume; afterwards every index exists again and the search
// index follows writes again.
func TestDeferredIndexBuilds(t *testing.T) {
	defer sqldb.SetDeferMinRows(2000)()
	eachDriver(t, checkDeferredIndexBuilds)
}

func deferredCSV(from, n int) string {
	var b strings.Builder
	b.WriteString("asset_id,vendor,model,version,serial,mac,ip,hostname,site,location,department,device_type,criticality,patient_connected,phi,os,end_of_support\n")
	vendors := []string{"Baxter", "Philips", "GE Healthcare", "B. Braun", "Medtronic"}
	types := []string{"infusion-pump", "patient-monitor", "ventilator", "ct-scanner"}
	crit := []string{"life-sustaining", "life-supporting", "therapeutic", "diagnostic", "non-clinical"}
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "DEF-%06d,%s,Model %d,%d.%02d,SN%06d,02:00:00:%02x:%02x:%02x,10.%d.%d.%d,host-%06d,S%d,B1/%d,Dept%d,%s,%s,yes,no,,2027-%02d-15\n",
			i, vendors[i%len(vendors)], i%7, i%9, i%40, i, (i>>16)&255, (i>>8)&255, i&255, i%3, (i>>8)&255, i&255, i,
			i%3, i%5, i%4, types[i%len(types)], crit[i%len(crit)], 1+i%12)
	}
	return b.String()
}

func importDeferred(t *testing.T, st *sqldb.DB, name, body string) {
	t.Helper()
	dec, err := csvfile.NewDecoder(strings.NewReader(body), name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := importer.Import(context.Background(), st, dec, importer.Options{Source: name})
	if err != nil || !res.Written {
		t.Fatalf("import %s: %+v, %v", name, res, err)
	}
}

var deferredQueries = []store.DeviceQuery{
	{Sort: "asset_id", Limit: 40},
	{Sort: "-updated_at", Limit: 40},
	{Filters: map[string]string{"site": "S1"}, Sort: "vendor", Limit: 40},
	{Filters: map[string]string{"device_type": "ventilator"}, Sort: "version", Limit: 40},
	{Filters: map[string]string{"criticality": "life-sustaining"}, Sort: "end_of_support", Limit: 40},
	{EOSBefore: "2027-04-01", Sort: "end_of_support", Limit: 40},
	{Search: "philips", Sort: "model", Limit: 40},
	{Search: "host-0012", Sort: "asset_id", Limit: 40},
	{Search: "late-arrival", Sort: "asset_id", Limit: 40},
	{Search: "renamed-after", Sort: "asset_id", Limit: 40},
	{Search: "S2", Sort: "-updated_at", Limit: 40},
}

// listAll runs each query over two pages and returns the asset ids.
func listAll(t *testing.T, st *sqldb.DB) []string {
	t.Helper()
	var out []string
	for i, q := range deferredQueries {
		for page := 0; page < 2; page++ {
			p, err := st.ListDevices(context.Background(), q)
			if err != nil {
				t.Fatalf("query %d %+v: %v", i, q, err)
			}
			ids := make([]string, 0, len(p.Devices))
			for _, d := range p.Devices {
				ids = append(ids, d.AssetID)
			}
			out = append(out, fmt.Sprintf("q%d p%d: %s", i, page, strings.Join(ids, " ")))
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
	}
	return out
}

func checkDeferredIndexBuilds(t *testing.T, st *sqldb.DB) {
	ctx := context.Background()
	want := storetest.DeviceIndexNames(t, st, true)
	importDeferred(t, st, "first.csv", deferredCSV(0, 3000))
	pending, err := st.PendingIndexes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) < 20 || !slices.Contains(pending[:2], "devices_updated") {
		t.Fatalf("pending after a deferred bulk load: %v", pending)
	}
	if got := storetest.DeviceIndexNames(t, st, true); len(got) >= len(want) {
		t.Fatalf("indexes right after a deferred bulk load: %v (before: %v)", got, want)
	}
	// Written after the import, before the builds: not in the SQLite
	// search index until it is rebuilt.
	late := &inventory.Device{AssetID: "LATE-1", Vendor: "Draeger", Hostname: "late-arrival", Site: "S1"}
	if err := st.CreateDevice(ctx, late); err != nil {
		t.Fatal(err)
	}
	d, err := st.GetDeviceByAssetID(ctx, "DEF-000007")
	if err != nil {
		t.Fatal(err)
	}
	d.Hostname = "renamed-after"
	if err := st.UpdateDevice(ctx, d, d.Revision); err != nil {
		t.Fatal(err)
	}
	var before [2][]string // search cache on, off
	before[0] = listAll(t, st)
	restore := sqldb.SetSearchCacheOff(true)
	before[1] = listAll(t, st)
	restore()
	for _, page := range before[0] {
		if strings.HasPrefix(page, "q8 p0:") && page != "q8 p0: LATE-1" || strings.HasPrefix(page, "q9 p0:") && page != "q9 p0: DEF-000007" {
			t.Errorf("search while the index build is pending: %s", page)
		}
	}
	if !slices.Equal(before[0], before[1]) {
		t.Errorf("pending builds: search cache and direct search differ:\n%v\n%v", before[0], before[1])
	}

	// Interrupted after the first step: the rest stays pending.
	cctx, cancel := context.WithCancel(ctx)
	steps := 0
	err = st.BuildIndexes(cctx, func(b store.IndexBuild) {
		steps++
		cancel()
	})
	if err == nil || steps < 1 {
		t.Fatalf("interrupted build: %d steps, err %v", steps, err)
	}
	// Every reported step is done; a step interrupted midway is not.
	left, _ := st.PendingIndexes(ctx)
	if len(left) != len(pending)-steps || len(left) == 0 {
		t.Fatalf("pending after %d steps: %v (before: %v)", steps, left, pending)
	}
	for _, n := range left {
		if !slices.Contains(pending, n) {
			t.Fatalf("pending after an interrupted build: %v holds %s, not pending before", left, n)
		}
	}
	var names []string
	if err := st.BuildIndexes(ctx, func(b store.IndexBuild) { names = append(names, b.Name) }); err != nil {
		t.Fatal(err)
	}
	wantSteps := len(left)
	if st.Dialect() == "sqlite" {
		wantSteps++ // the search index's merge, added by its fill
	}
	if len(names) != wantSteps {
		t.Errorf("built %v, want %d steps", names, wantSteps)
	}

	if left, _ := st.PendingIndexes(ctx); len(left) != 0 {
		t.Fatalf("pending after BuildIndexes: %v", left)
	}
	if got := storetest.DeviceIndexNames(t, st, true); !slices.Equal(got, want) {
		t.Fatalf("indexes after the builds:\n got %v\nwant %v", got, want)
	}
	for cache := range 2 {
		restore := sqldb.SetSearchCacheOff(cache == 1)
		if after := listAll(t, st); !slices.Equal(after, before[cache]) {
			t.Errorf("cache off %v: lists after the builds differ from before:\n%v\n%v", cache == 1, after, before[cache])
		}
		restore()
	}
	// The search index follows writes again.
	d.Hostname = "renamed-again"
	if err := st.UpdateDevice(ctx, d, d.Revision); err != nil {
		t.Fatal(err)
	}
	p, err := st.ListDevices(ctx, store.DeviceQuery{Search: "renamed-again"})
	if err != nil || len(p.Devices) != 1 || p.Devices[0].AssetID != "DEF-000007" {
		t.Fatalf("search after the builds: %+v, %v", p, err)
	}
	if st.Dialect() == "postgres" && names[len(names)-1] != "statistics" {
		t.Errorf("PostgreSQL builds %v: want the statistics (VACUUM ANALYZE) last", names)
	}
	// A second large import while nothing is pending defers again, and
	// an import into a store with pending builds keeps them.
	importDeferred(t, st, "second.csv", deferredCSV(3000, 3100))
	p1, _ := st.PendingIndexes(ctx)
	importDeferred(t, st, "third.csv", deferredCSV(6100, 100))
	p2, _ := st.PendingIndexes(ctx)
	if len(p1) != len(pending) || !slices.Equal(p1, p2) {
		t.Fatalf("pending after a second and a small third import: %v, %v", p1, p2)
	}
	// The second builds: writes between the transactions of the search
	// fill (SQLite fills 500 devices per transaction here): a device already filled renamed,
	// one created, one deleted; the finished index must hold them.
	fills := 0
	restoreChunk := sqldb.SetSearchFillChunk(500, func(step string) {
		if step != "devices_search" {
			return
		}
		fills++
		if fills != 3 {
			return
		}
		d, err := st.GetDeviceByAssetID(ctx, "DEF-000010")
		if err != nil {
			t.Error(err)
			return
		}
		d.Hostname = "mid-fill-rename"
		if err := st.UpdateDevice(ctx, d, d.Revision); err != nil {
			t.Error(err)
		}
		if err := st.CreateDevice(ctx, &inventory.Device{AssetID: "MID-1", Vendor: "Mindray", Hostname: "mid-fill-new"}); err != nil {
			t.Error(err)
		}
		gone, err := st.GetDeviceByAssetID(ctx, "DEF-000020")
		if err != nil {
			t.Error(err)
			return
		}
		if err := st.DeleteDevice(ctx, gone.ID, gone.Revision); err != nil {
			t.Error(err)
		}
	})
	names = nil
	if err := st.BuildIndexes(ctx, func(b store.IndexBuild) { names = append(names, b.Name) }); err != nil {
		t.Fatal(err)
	}
	restoreChunk()
	if st.Dialect() == "sqlite" {
		if fills < 6 {
			t.Errorf("the search index was filled in %d transactions, want at least 6", fills)
		}
		if !slices.Contains(names, "search index") || !slices.Contains(names, "search index merge") {
			t.Errorf("SQLite builds %v: want the search index and its merge", names)
		}
	}
	if fills >= 3 {
		for cache := range 2 {
			restore := sqldb.SetSearchCacheOff(cache == 1)
			for q, want := range map[string]string{"mid-fill-rename": "DEF-000010", "mid-fill-new": "MID-1", "host-000020": "", "host-000010": ""} {
				p, err := st.ListDevices(ctx, store.DeviceQuery{Search: q, Limit: 5})
				if err != nil {
					t.Fatal(err)
				}
				got := ""
				for _, d := range p.Devices {
					got += d.AssetID
				}
				if got != want {
					t.Errorf("cache off %v: search %q after the fill = %q, want %q", cache == 1, q, got, want)
				}
			}
			restore()
		}
	}
	if got := storetest.DeviceIndexNames(t, st, true); !slices.Equal(got, want) {
		t.Fatalf("indexes after the second builds:\n got %v\nwant %v", got, want)
	}
	if n, _ := st.CountDevices(ctx); n != 6201 {
		t.Fatalf("%d devices, want 6201", n)
	}
}

// PostgreSQL builds the deferred GIN trigram index with CREATE INDEX
// CONCURRENTLY: device writes go on while it runs, an index left INVALID
// by an interrupted build is dropped and built again, a build whose row
// outlived it only deletes the row, and a second builder waits for the
// first and then finds the step done.
func TestPostgresSearchIndexBuiltConcurrently(t *testing.T) {
	ctx := context.Background()
	dsn := postgresDSN(t)
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	importDeferred(t, st, "small.csv", deferredCSV(0, 200)) // below deferMinRows: indexes built inline
	var ddl string
	if err := st.SQL.QueryRow("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'devices_search'").Scan(&ddl); err != nil {
		t.Fatalf("the trigram index: %v", err)
	}
	if !strings.Contains(ddl, "USING gin") {
		t.Skipf("devices_search is not a GIN index here (pg_trgm missing?): %s", ddl)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := st.SQL.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	deferGIN := func() {
		exec("DROP INDEX IF EXISTS devices_search")
		exec("INSERT INTO deferred_index_builds (name, kind, ddl, seq) VALUES ('devices_search', 'index', $1, 1000)", ddl)
	}
	index := func() (oid int64, def string, valid bool) {
		t.Helper()
		err := st.SQL.QueryRow(`SELECT c.oid::bigint, pg_get_indexdef(c.oid), i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE c.relname = 'devices_search' AND c.relnamespace = current_schema()::regnamespace`).Scan(&oid, &def, &valid)
		if err != nil {
			t.Fatalf("devices_search: %v", err)
		}
		return
	}
	build := func(what string) {
		t.Helper()
		if err := st.BuildIndexes(ctx, nil); err != nil {
			t.Fatalf("%s: BuildIndexes: %v", what, err)
		}
		if p, err := st.PendingIndexes(ctx); err != nil || len(p) != 0 {
			t.Fatalf("%s: pending after BuildIndexes: %v, %v", what, p, err)
		}
		if _, def, valid := index(); def != ddl || !valid {
			t.Fatalf("%s: devices_search is %q (valid %v), want %q", what, def, valid, ddl)
		}
		p, err := st.ListDevices(ctx, store.DeviceQuery{Search: "host-000123"})
		if err != nil || len(p.Devices) != 1 || p.Devices[0].AssetID != "DEF-000123" {
			t.Fatalf("%s: search after the build: %+v, %v", what, p, err)
		}
	}

	// Device writes go on during the build. An open transaction that
	// wrote devices makes the build wait for it; a plain CREATE INDEX,
	// queued for its lock, would hold every later write behind it.
	deferGIN()
	tx, err := st.SQL.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() // on failure: lets the build and st.Close end
	if _, err := tx.Exec("UPDATE devices SET location = location WHERE asset_id = 'DEF-000001'"); err != nil {
		t.Fatal(err)
	}
	built := make(chan error, 1)
	go func() { built <- st.BuildIndexes(ctx, nil) }()
	time.Sleep(300 * time.Millisecond) // the build is waiting for tx
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	start := time.Now()
	err = st.CreateDevice(wctx, &inventory.Device{AssetID: "DURING-1", Vendor: "Mindray", Hostname: "written-during-build"})
	cancel()
	if err != nil {
		t.Fatalf("a device write while the trigram index builds: %v (after %v)", err, time.Since(start))
	}
	select {
	case err := <-built:
		t.Fatalf("BuildIndexes returned while a writing transaction was open: %v", err)
	default:
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	build("after writes during the build")
	if p, err := st.ListDevices(ctx, store.DeviceQuery{Search: "written-during"}); err != nil || len(p.Devices) != 1 {
		t.Fatalf("search for the device written during the build: %+v, %v", p, err)
	}

	// Interrupted midway: an INVALID index of that name is left (here by
	// a concurrent build that fails), which the next run replaces.
	deferGIN()
	if _, err := st.SQL.Exec("CREATE UNIQUE INDEX CONCURRENTLY devices_search ON devices (vendor)"); err == nil {
		t.Fatal("a unique index on vendor was built; want it to fail and stay invalid")
	}
	if _, _, valid := index(); valid {
		t.Fatal("the failed concurrent build left a valid index")
	}
	build("after an interrupted build")

	// Built, but the row outlived it: the run only deletes the row.
	before, _, _ := index()
	exec("INSERT INTO deferred_index_builds (name, kind, ddl, seq) VALUES ('devices_search', 'index', $1, 1000)", ddl)
	build("with the index already built")
	if after, _, _ := index(); after != before {
		t.Fatal("an index already built was built again")
	}

	// Another builder holds the step: this one waits, then finds it done.
	deferGIN()
	other, err := st.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext(current_schema() || ' medwarden deferred index devices_search'))"); err != nil {
		t.Fatal(err)
	}
	go func() { built <- st.BuildIndexes(ctx, nil) }()
	select {
	case err := <-built:
		t.Fatalf("BuildIndexes returned while another builder held the step: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	for _, q := range []string{ddl, "DELETE FROM deferred_index_builds WHERE name = 'devices_search'", "SELECT pg_advisory_unlock(hashtext(current_schema() || ' medwarden deferred index devices_search'))"} {
		if _, err := other.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	before, _, _ = index()
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	build("after another builder")
	if after, _, _ := index(); after != before {
		t.Fatal("the index another builder built was built again")
	}

	// Two stores (two serve processes) build at once: one builds, the
	// other waits without holding a statement open that the concurrent
	// build would wait for in turn (a deadlock PostgreSQL breaks by
	// failing one).
	st2, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	for round := range 3 {
		deferGIN()
		errs := make(chan error, 2)
		for _, s := range []*sqldb.DB{st, st2} {
			go func() { errs <- s.BuildIndexes(ctx, nil) }()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: two builders at once: %v", round, err)
			}
		}
		build(fmt.Sprintf("round %d of two builders", round))
	}
}
