package sqldb_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/sqldb"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// The conformance suite's search store is too small to leave the "few
// candidates" plan. With thresholds of 5 candidates and a 20-device walk,
// its searches take all three SQLite index plans (candidates only; a
// bounded sort-index walk that fills the page; a walk that does not, then
// the candidates) with the search cache off, or both plans of the cache
// (by id; a walk testing the exact set), on first and later pages, and
// must give the same devices.
func TestSearchPlansSmallThresholds(t *testing.T) {
	defer sqldb.SetSearchLimits(5, 20)()
	for _, off := range []bool{true, false} {
		t.Run(fmt.Sprintf("cache_off=%v", off), func(t *testing.T) {
			defer sqldb.SetSearchCacheOff(off)()
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			storetest.SearchIndex(t, st)
		})
	}
}

// The same on PostgreSQL, whose bounded walk then falls short on most
// searches: each of the two plans searchHedged races, and the race
// itself, must give the same pages.
func TestSearchPlansSmallThresholdsPostgres(t *testing.T) {
	defer sqldb.SetSearchLimits(5, 20)()
	for _, arm := range []int{1, 2, 0} {
		t.Run(fmt.Sprintf("arm=%d", arm), func(t *testing.T) {
			defer sqldb.SetSearchHedgeArm(arm)()
			st, err := postgres.Open(context.Background(), postgresDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			storetest.SearchIndex(t, st)
		})
	}
}

// The same with the short walk before the walk with the candidate probe
// fixed at 2 devices (it rarely fills a page: the probe walk, bounded by
// nothing but the page, answers) and at 1 (never fills one).
func TestSearchPlansShortWalk(t *testing.T) {
	defer sqldb.SetSearchLimits(5, 20)()
	defer sqldb.SetSearchCacheOff(true)() // the index paths
	for _, n := range []int{1, 2} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			defer sqldb.SetSearchShortWalk(n)()
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			storetest.SearchIndex(t, st)
		})
	}
}

// A store that recorded migration 0010 before its search index existed
// (the placeholder, or a draft during its session) has no index: search
// must still find the same devices, by the per-column match.
func TestSearchWithoutIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TRIGGER devices_search_ai", "DROP TRIGGER devices_search_au",
		"DROP TRIGGER devices_search_ad", "DROP TABLE devices_search"} {
		if _, err := st.SQL.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	if st, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	storetest.SearchIndex(t, st)
}

func TestSearchWithoutIndexPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := postgresDSN(t)
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SQL.ExecContext(ctx, "ALTER TABLE devices DROP COLUMN search_text"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if st, err = postgres.Open(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	storetest.SearchIndex(t, st)
}

// The trigram estimates that choose a search's plan are cached
// (trigramStats): a search after writes that made a rare text common, or a
// common one rare, must still find exactly the matching devices on every
// page, whichever plan the stale estimate picks (the index paths: the
// search cache off).
func TestSearchStaleTrigramEstimates(t *testing.T) {
	defer sqldb.SetSearchLimits(5, 20)()
	defer sqldb.SetSearchCacheOff(true)()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var batch []*inventory.Device
	for i := range 200 {
		batch = append(batch, storetest.Sample(i))
	}
	if err := st.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, batch) }); err != nil {
		t.Fatal(err)
	}
	search := func(text string) []string {
		t.Helper()
		var got []string
		for _, sortBy := range []string{"", "vendor", "-updated_at"} {
			var pages []string
			q := store.DeviceQuery{Search: text, Sort: sortBy, Limit: 7}
			for {
				p, err := st.ListDevices(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range p.Devices {
					pages = append(pages, d.AssetID)
				}
				if p.Next == "" {
					break
				}
				q.Cursor = p.Next
			}
			slices.Sort(pages)
			if got != nil && !slices.Equal(got, pages) {
				t.Fatalf("search %q sorted by %q: %v, sorted by id: %v", text, sortBy, pages, got)
			}
			got = pages
		}
		return got
	}
	// Rare when estimated, then common.
	if got := search("qzxw-host"); len(got) != 0 {
		t.Fatalf("before any match: %v", got)
	}
	var want []string
	for i := range 40 {
		d := storetest.Sample(1000 + i)
		d.Hostname = fmt.Sprintf("qzxw-host-%d", i)
		if err := st.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		want = append(want, d.AssetID)
	}
	slices.Sort(want)
	if got := search("qzxw-host"); !slices.Equal(got, want) {
		t.Errorf("after 40 matching devices were added: %v, want %v", got, want)
	}
	// Common when estimated, then rare: all but one renamed.
	for i := range 39 {
		d, err := st.GetDeviceByAssetID(ctx, want[i])
		if err != nil {
			t.Fatal(err)
		}
		d.Hostname = "renamed"
		if err := st.UpdateDevice(ctx, d, 0); err != nil {
			t.Fatal(err)
		}
	}
	if got := search("qzxw-host"); !slices.Equal(got, want[39:]) {
		t.Errorf("after renaming 39 of them: %v, want %v", got, want[39:])
	}
}
