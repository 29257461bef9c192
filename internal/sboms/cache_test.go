package sboms

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

// storeWithNVD is a SQLite store holding n NVD records (copies of
// testdata's CVE-2020-12039 under other ids) in one "nvd" feed import.
func storeWithNVD(tb testing.TB, n int) store.Store {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), sqlite.FileName))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	putNVD(tb, st, 0, n)
	return st
}

func putNVD(tb testing.TB, st store.Store, from, n int) {
	tb.Helper()
	ctx := context.Background()
	tmpl, err := os.ReadFile(filepath.Join("testdata", "nvd", "CVE-2020-12039.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.ImportFeeds(ctx, func(tx store.FeedTx) error {
		for i := from; i < from+n; i++ {
			id := fmt.Sprintf("CVE-2030-%05d", i)
			raw := bytes.Replace(tmpl, []byte(`"CVE-2020-12039"`), []byte(`"`+id+`"`), 1)
			if err := tx.PutNVD(ctx, id, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), raw); err != nil {
				return err
			}
		}
		return tx.SetFeed(ctx, store.FeedStatus{Name: "nvd", Kind: store.FeedNVD, Source: "test", ImportedAt: store.Now(), Items: int64(from + n)})
	}); err != nil {
		tb.Fatal(err)
	}
}

// TestCachedMatchers: the matchers are built once per feed generation and
// rebuilt after an import.
func TestCachedMatchers(t *testing.T) {
	ctx := context.Background()
	st := storeWithNVD(t, 3)
	m1, s1, err := CachedMatchers(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	m2, _, err := CachedMatchers(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if s1.NVD != 3 || m1.NVD == nil || m1.NVD != m2.NVD {
		t.Fatalf("second call rebuilt the index (%p, %p) or wrong count %d", m1.NVD, m2.NVD, s1.NVD)
	}
	putNVD(t, st, 3, 2) // an NVD import: a new generation
	m3, s3, err := CachedMatchers(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if m3.NVD == m1.NVD || s3.NVD != 5 || m3.NVD.CVE("CVE-2030-00004") == nil {
		t.Errorf("after an import: same index %v, %d records", m3.NVD == m1.NVD, s3.NVD)
	}
	// another store has its own matchers
	other := storeWithNVD(t, 1)
	if _, so, err := CachedMatchers(ctx, other); err != nil || so.NVD != 1 {
		t.Errorf("other store: %d records, %v", so.NVD, err)
	}
	if m4, _, _ := CachedMatchers(ctx, st); m4.NVD != m3.NVD {
		t.Error("first store's matchers were dropped by a second store")
	}
}

// BenchmarkAttachMatchers is the matcher load an SBOM attach (API,
// console) does with 5,000 stored NVD records: "stored" reads and indexes
// them every time (before), "cached" once per feed import (after).
func BenchmarkAttachMatchers(b *testing.B) {
	st := storeWithNVD(b, 5000)
	ctx := context.Background()
	b.Run("stored", func(b *testing.B) {
		for b.Loop() {
			if _, s, err := StoredMatchers(ctx, st); err != nil || s.NVD != 5000 {
				b.Fatal(s, err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		if _, _, err := CachedMatchers(ctx, st); err != nil { // the load after the import
			b.Fatal(err)
		}
		for b.Loop() {
			if _, s, err := CachedMatchers(ctx, st); err != nil || s.NVD != 5000 {
				b.Fatal(s, err)
			}
		}
	})
}
