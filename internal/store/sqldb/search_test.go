package sqldb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/sqldb"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// The conformance suite's search store is too small to leave the "few
// candidates" plan. With thresholds of 5 candidates and a 20-device walk,
// its searches take all three SQLite plans (candidates only; a bounded
// sort-index walk that fills the page; a walk that does not, then the
// candidates), on first and later pages, and must give the same devices.
func TestSearchPlansSmallThresholds(t *testing.T) {
	defer sqldb.SetSearchLimits(5, 20)()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	storetest.SearchIndex(t, st)
}

// The same with the short walk before the walk with the candidate probe
// fixed at 2 devices (it rarely fills a page: the probe walk, bounded by
// nothing but the page, answers) and at 1 (never fills one).
func TestSearchPlansShortWalk(t *testing.T) {
	defer sqldb.SetSearchLimits(5, 20)()
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
	base := os.Getenv("MEDWARDEN_TEST_POSTGRES")
	if base == "" {
		t.Skip("MEDWARDEN_TEST_POSTGRES not set: PostgreSQL tests skipped")
	}
	ctx := context.Background()
	dsn := storetest.PostgresSchemaDSN(t, base)
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
