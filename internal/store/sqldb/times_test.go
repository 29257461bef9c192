package sqldb_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/sqldb"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// Devices changed within one second must list in time order by
// updated_at, on every page, on both drivers; and migration 0015 must turn
// the trimmed RFC 3339 stamps older versions wrote into the fixed-width
// form without changing the times. With trimmed stamps "…:05Z" sorted
// after "…:05.5Z" (this test fails on that layout).
//
// Not parallel: it sets store.Now (restored before the parallel tests of
// the package run).
func TestUpdatedAtTextOrder(t *testing.T) {
	eachDriver(t, checkUpdatedAtOrder)
}

// eachDriver runs check on a fresh SQLite store and, when
// MEDWARDEN_TEST_POSTGRES is set, on a fresh PostgreSQL schema.
// postgresDSN returns the URL of a fresh schema on the test server, or
// skips t when MEDWARDEN_TEST_POSTGRES is not set.
func postgresDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("MEDWARDEN_TEST_POSTGRES")
	if base == "" {
		t.Skip("MEDWARDEN_TEST_POSTGRES not set: PostgreSQL tests skipped")
	}
	return storetest.PostgresSchemaDSN(t, base)
}

func eachDriver(t *testing.T, check func(t *testing.T, st *sqldb.DB)) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), sqlite.FileName))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		check(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(ctx, postgresDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		check(t, st)
	})
}

func checkUpdatedAtOrder(t *testing.T, st *sqldb.DB) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 21, 36, 5, 0, time.UTC)
	offsets := []time.Duration{0, 500 * time.Millisecond, 999999999, 500010 * time.Microsecond, time.Second, 1250 * time.Millisecond, 50 * time.Millisecond}
	oldNow := store.Now
	defer func() { store.Now = oldNow }()
	var want []string // asset ids, oldest first
	type stamp struct {
		asset string
		at    time.Time
	}
	var stamps []stamp
	for i, off := range offsets {
		at := t0.Add(off)
		store.Now = func() time.Time { return at }
		d := storetest.Sample(i)
		if err := st.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		stamps = append(stamps, stamp{d.AssetID, at})
	}
	store.Now = oldNow
	slices.SortFunc(stamps, func(a, b stamp) int { return a.at.Compare(b.at) })
	for _, s := range stamps {
		want = append(want, s.asset)
	}
	list := func(sortBy string) []string {
		t.Helper()
		var got []string
		q := store.DeviceQuery{Sort: sortBy, Limit: 2}
		for range 10 {
			p, err := st.ListDevices(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range p.Devices {
				got = append(got, d.AssetID)
			}
			if p.Next == "" {
				return got
			}
			q.Cursor = p.Next
		}
		t.Fatal("pagination does not end")
		return nil
	}
	check := func(when string) {
		t.Helper()
		if got := list("updated_at"); !slices.Equal(got, want) {
			t.Errorf("%s: sort=updated_at: got %v, want %v", when, got, want)
		}
		rev := slices.Clone(want)
		slices.Reverse(rev)
		if got := list("-updated_at"); !slices.Equal(got, rev) {
			t.Errorf("%s: sort=-updated_at: got %v, want %v", when, got, rev)
		}
		for _, s := range stamps {
			d, err := st.GetDeviceByAssetID(ctx, s.asset)
			if err != nil {
				t.Fatal(err)
			}
			if !d.UpdatedAt.Equal(s.at) || !d.CreatedAt.Equal(s.at) {
				t.Errorf("%s: %s: created %v updated %v, want %v", when, s.asset, d.CreatedAt, d.UpdatedAt, s.at)
			}
		}
	}
	check("as written")

	// What older versions wrote: trailing zeros trimmed. Migration 0015
	// must restore the fixed width (and time order).
	for _, s := range stamps {
		old := s.at.Format(time.RFC3339Nano)
		if _, err := st.SQL.ExecContext(ctx, "UPDATE devices SET created_at = $1, updated_at = $1, first_seen = $1, last_seen = $1 WHERE asset_id = $2", old, s.asset); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := store.Migrations(st.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(m store.Migration) bool { return m.Version == 15 })
	if i < 0 {
		t.Fatal("migration 0015 not found")
	}
	if _, err := st.SQL.ExecContext(ctx, ms[i].SQL); err != nil {
		t.Fatalf("migration 0015: %v", err)
	}
	rows, err := st.SQL.QueryContext(ctx, "SELECT created_at, updated_at, first_seen, last_seen FROM devices")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c [4]string
		if err := rows.Scan(&c[0], &c[1], &c[2], &c[3]); err != nil {
			t.Fatal(err)
		}
		for _, v := range c {
			if len(v) != len("2006-01-02T15:04:05.000000000Z") {
				t.Errorf("after migration 0015: %q is not fixed-width", v)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	check("after migration 0015")
}
