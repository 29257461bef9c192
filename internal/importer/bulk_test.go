package importer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/importer"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/sqldb"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// bulkCSV is n valid devices, then one invalid record when bad is set.
func bulkCSV(n, from int, bad bool) string {
	var b strings.Builder
	b.WriteString(hdr)
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "BULK-%06d,Baxter,Sigma Spectrum,8.%02d,SN%06d,,,,S%d,,ICU,infusion-pump,life-supporting,yes,no,,2027-01-31\n",
			i, i%50, i, i%3)
	}
	if bad {
		b.WriteString("BULK-BAD,Baxter,Sigma Spectrum,8,SNBAD,,,,S1,,ICU,infusion pump,very-important,yes,no,,2027-01-31\n")
	}
	return b.String()
}

// TestBulkLoadIndexes: a bulk load drops the secondary indexes inside its
// transaction, so a rejected one must leave every index (and no rows), and
// a successful one must rebuild every index, then serve the sorted lists.
func TestBulkLoadIndexes(t *testing.T) {
	drivers := map[string]func(t *testing.T) *sqldb.DB{
		"sqlite": func(t *testing.T) *sqldb.DB {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		"postgres": func(t *testing.T) *sqldb.DB {
			dsn := os.Getenv("MEDWARDEN_TEST_POSTGRES")
			if dsn == "" {
				t.Skip("MEDWARDEN_TEST_POSTGRES not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
			}
			st, err := postgres.Open(context.Background(), storetest.PostgresSchemaDSN(t, dsn))
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
	}
	for name, open := range drivers {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			defer st.Close()
			ctx := context.Background()
			want := storetest.DeviceIndexNames(t, st, false)
			if len(want) < 10 {
				t.Fatalf("only %d device indexes before the import: %v", len(want), want)
			}
			// 5,000 rows into an empty store: the indexes are dropped after
			// the first batch; the bad last record rolls everything back.
			_, err := importCSV(t, st, "bulk.csv", bulkCSV(5000, 0, true), importer.Options{})
			if !errors.Is(err, importer.ErrRejected) {
				t.Fatalf("import with a bad record: %v, want rejected", err)
			}
			if got := storetest.DeviceIndexNames(t, st, false); !slices.Equal(got, want) {
				t.Fatalf("indexes after a rejected bulk load:\n got %v\nwant %v", got, want)
			}
			if n, _ := st.CountDevices(ctx); n != 0 {
				t.Fatalf("%d devices after a rejected import", n)
			}
			// The same rows without the bad one: committed, indexes rebuilt.
			res, err := importCSV(t, st, "bulk.csv", bulkCSV(5000, 0, false), importer.Options{})
			if err != nil || res.Created != 5000 {
				t.Fatalf("bulk import: %+v, %v", res, err)
			}
			if got := storetest.DeviceIndexNames(t, st, false); !slices.Equal(got, want) {
				t.Fatalf("indexes after a bulk load:\n got %v\nwant %v", got, want)
			}
			if st.Dialect() == "postgres" {
				// Vacuumed after commit: every page all-visible, so that
				// index-only scans need not read the heap.
				var visible, pages int
				if err := st.SQL.QueryRow("SELECT relallvisible, relpages FROM pg_class WHERE oid = 'devices'::regclass").Scan(&visible, &pages); err != nil {
					t.Fatal(err)
				}
				if pages == 0 || visible != pages {
					t.Errorf("after a bulk load %d of %d pages are all-visible, want all", visible, pages)
				}
			}
			// A small import into the now large store stays row by row;
			// re-importing changes nothing.
			res, err = importCSV(t, st, "more.csv", bulkCSV(600, 5000, false), importer.Options{})
			if err != nil || res.Created != 600 {
				t.Fatalf("second import: %+v, %v", res, err)
			}
			res, err = importCSV(t, st, "more.csv", bulkCSV(600, 5000, false), importer.Options{})
			if err != nil || res.Unchanged != 600 || res.Created != 0 {
				t.Fatalf("re-import: %+v, %v", res, err)
			}
			// The composite (device_type, version) index serves this page.
			p, err := st.ListDevices(ctx, store.DeviceQuery{Filters: map[string]string{"device_type": "infusion-pump", "site": "S1"},
				Sort: "version", Limit: 3})
			if err != nil || len(p.Devices) != 3 {
				t.Fatalf("list: %v, %v", p, err)
			}
			for _, d := range p.Devices {
				if d.Version != "8.00" || d.Site != "S1" {
					t.Errorf("first page has %s version %s site %s, want version 8.00 at S1", d.AssetID, d.Version, d.Site)
				}
			}
		})
	}
}
