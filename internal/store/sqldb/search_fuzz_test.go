package sqldb_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqldb"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// FuzzSearchText: any search text a client sends (q=) becomes an FTS5
// query of its trigrams (quotes, operators, invalid UTF-8, …). The list
// must never fail on it and must return exactly the devices a column of
// which contains the text (ASCII case-insensitively, like LIKE), on every
// plan (thresholds 3/5 so that 40 devices take all of them). A text with a
// NUL (FTS5 failed on it: "unterminated string") or that is not UTF-8 (a
// lone byte of "ä" matched nothing on SQLite; PostgreSQL refuses it) is
// refused with an error naming q; both were found by this fuzz test.
func FuzzSearchText(f *testing.F) {
	for _, s := range []string{"dev-1", `a"b`, `"`, `""`, "NEAR(a b)", "a OR b", "x*", "^ab", "dev-1\x00", "\xff\xfeab", "Dräger",
		"children's\nbuilding", "\xc3", "%_", `\`, "  ab  ", "00:1a:2b", ";10.1.", "AND", "(((", "béb", "ǅǆǄ"} {
		f.Add(s)
	}
	defer sqldb.SetSearchLimits(3, 5)()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), sqlite.FileName))
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	var ds []*inventory.Device
	for i := range 40 {
		ds = append(ds, storetest.Sample(i))
	}
	ds[3].Hostname = `quote"host AND NEAR(x)`
	ds[4].Location = "Ward ǅ / béb"
	if err := st.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, ds) }); err != nil {
		f.Fatal(err)
	}
	all, err := st.ListDevices(ctx, store.DeviceQuery{Limit: 1000})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		trimmed := strings.TrimSpace(text)
		var want []string
		for _, d := range all.Devices {
			if trimmed == "" || matchesASCIIFold(d, trimmed) {
				want = append(want, d.AssetID)
			}
		}
		if strings.ContainsRune(trimmed, 0) || !utf8.ValidString(trimmed) {
			if _, err := st.ListDevices(ctx, store.DeviceQuery{Search: text}); err == nil {
				t.Fatalf("search %q (NUL or not UTF-8): no error", text)
			}
			return
		}
		for _, sortBy := range []string{"", "vendor"} {
			q := store.DeviceQuery{Search: text, Sort: sortBy, Limit: 7}
			var got []string
			for range 100 {
				p, err := st.ListDevices(ctx, q)
				if err != nil {
					t.Fatalf("search %q: %v", text, err)
				}
				for _, d := range p.Devices {
					got = append(got, d.AssetID)
				}
				if p.Next == "" {
					break
				}
				q.Cursor = p.Next
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("search %q sort %q: got %v, want %v", text, sortBy, got, want)
			}
		}
	})
}

// matchesASCIIFold is SQLite's LIKE '%text%' on one of the search columns:
// case-insensitive for ASCII letters only.
func matchesASCIIFold(d *inventory.Device, text string) bool {
	join := func(a []string) string {
		if len(a) == 0 {
			return ""
		}
		return ";" + strings.Join(a, ";") + ";"
	}
	for _, c := range []string{d.AssetID, d.Vendor, d.Model, d.DeviceType, d.Hostname, d.Serial, d.Site,
		d.Location, d.Department, join(d.MACs), join(d.IPs)} {
		if strings.Contains(asciiLower(c), asciiLower(text)) {
			return true
		}
	}
	return false
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
