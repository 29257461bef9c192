package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqldb"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

// The search cache (search_cache.go) against the plain LIKE query, run on
// the same store without the cache, after every kind of write: creates,
// updates and deletes, plain and audited (group commit), small and bulk
// imports, all through the searching DB object or through a second one
// on the same file (another process: the cache hears nothing from it),
// writes concurrent with searches, and writes under a clock that does not
// move (every stamp equal). Device texts and search texts mix upper and
// lower case, non-ASCII letters (which LIKE does not fold: "é"/"É",
// Kelvin sign, long s, dotted I), the LIKE metacharacters %, _ and \,
// spaces and separators.

// cacheAlphabet is what random device and search texts are made of.
var cacheAlphabet = []string{"a", "A", "b", "B", "c", "C", "p", "u", "m", "P", "%", "_", `\`, " ", "-", ":", ";", ".",
	"0", "1", "é", "É", "ä", "Ä", "ß", "\u212a" /* Kelvin sign */, "k", "K", "ſ" /* long s */, "s", "S", "İ", "i", "I", "😀"}

func cacheText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(cacheAlphabet[r.IntN(len(cacheAlphabet))])
	}
	return b.String()
}

// cacheDevice is a random device; seq keeps asset ids unique (or none).
func cacheDevice(r *rand.Rand, seq int) *inventory.Device {
	t := func() string { return cacheText(r, r.IntN(9)) }
	d := &inventory.Device{
		AssetID: fmt.Sprintf("%s#%d", cacheText(r, r.IntN(4)), seq), Vendor: t(), Model: t(), DeviceType: t(),
		Hostname: t(), Serial: t(), Site: t(), Location: t(), Department: t(),
		Criticality: inventory.Diagnostic,
	}
	if r.IntN(8) == 0 {
		d.AssetID = "" // stored as NULL: sorts first by asset_id
	}
	for range r.IntN(3) {
		d.MACs = append(d.MACs, fmt.Sprintf("00:1a:%02x:%02x:%02x:%02x", r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256)))
	}
	for range r.IntN(3) {
		d.IPs = append(d.IPs, fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), r.IntN(256)))
	}
	return d
}

// mutate changes some search columns of d.
func mutate(r *rand.Rand, d *inventory.Device) {
	for range 1 + r.IntN(3) {
		v := cacheText(r, r.IntN(9))
		switch r.IntN(7) {
		case 0:
			d.Vendor = v
		case 1:
			d.Model = v
		case 2:
			d.Hostname = v
		case 3:
			d.Location = v
		case 4:
			d.Serial = v
		case 5:
			d.MACs = []string{fmt.Sprintf("00:1b:%02x:%02x:%02x:%02x", r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256))}
		case 6:
			d.Department = v
		}
	}
}

// likeIDs is the reference: the LIKE condition of searchWhere over every
// device, in the sort's order, without the cache or the index.
func likeIDs(t *testing.T, st *sqldb.DB, text, sortBy string) []int64 {
	t.Helper()
	pattern := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text) + "%"
	var ors []string
	for _, c := range []string{"asset_id", "vendor", "model", "device_type", "hostname", "serial", "site",
		"location", "department", "macs", "ips"} {
		ors = append(ors, c+` LIKE $1 ESCAPE '\'`)
	}
	field, desc := strings.CutPrefix(sortBy, "-")
	dir := map[bool]string{false: "ASC", true: "DESC"}[desc]
	order := "id " + dir
	switch field {
	case "vendor", "model", "hostname":
		order = field + " COLLATE NOCASE " + dir + ", id " + dir
	case "asset_id", "updated_at":
		order = field + " " + dir + ", id " + dir
	}
	rows, err := st.SQL.QueryContext(context.Background(), "SELECT id FROM devices WHERE ("+strings.Join(ors, " OR ")+") ORDER BY "+order, pattern)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// listIDs pages through a search (pages of limit) and returns the ids.
func listIDs(t *testing.T, st *sqldb.DB, text, sortBy string, limit int) []int64 {
	t.Helper()
	q := store.DeviceQuery{Search: text, Sort: sortBy, Limit: limit}
	var ids []int64
	for range 10_000 {
		p, err := st.ListDevices(context.Background(), q)
		if err != nil {
			t.Fatalf("search %q sort %q: %v", text, sortBy, err)
		}
		for _, d := range p.Devices {
			ids = append(ids, d.ID)
		}
		if p.Next == "" {
			return ids
		}
		q.Cursor = p.Next
	}
	t.Fatalf("search %q: too many pages", text)
	return nil
}

func noEntry(before, after *inventory.Device) (*audit.Entry, error) {
	return audit.New(audit.Actor{Name: "test", Kind: audit.KindSystem}, store.Now(), "device.test", "device/x", before, after)
}

func TestSearchCacheDifferential(t *testing.T) {
	// Thresholds so that a small store takes every page plan of the
	// cache (ids, walk) and of the index paths.
	defer sqldb.SetSearchLimits(40, 20)()
	// A short shared change log: entries searched less often fall out of
	// it and are built again, the others catch up from it.
	defer sqldb.SetSearchFeedMax(24)()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	a, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sqlite.Open(ctx, path) // another writer the cache hears nothing from
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := rand.New(rand.NewPCG(9, 2026))
	seq := 0
	next := func() *inventory.Device { seq++; return cacheDevice(r, seq) }
	var seed []*inventory.Device
	for range 400 {
		seed = append(seed, next())
	}
	if err := a.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, seed) }); err != nil {
		t.Fatal(err)
	}
	// texts: a pool searched every round (cached entries that must catch
	// up), plus fresh ones, some taken from stored texts with their case
	// changed.
	pool := []string{"a", "pu", "é", "É", "%", "_", `\`, "a%", "1_", `\_`, "ſ", "k", "K", "İ", ":1a:", ";10.", "😀", "b c", "Pum"}
	stored := func() string {
		ids := likeIDs(t, a, "#", "")
		if len(ids) == 0 {
			return "a"
		}
		d, err := a.GetDevice(ctx, ids[r.IntN(len(ids))])
		if err != nil {
			return "a"
		}
		s := []rune(d.Vendor + d.Hostname + d.Model)
		if len(s) == 0 {
			return "b"
		}
		i := r.IntN(len(s))
		j := i + 1 + r.IntN(min(4, len(s)-i))
		out := []byte(string(s[i:j]))
		for k := range out { // flip ASCII case at random
			if c := out[k]; r.IntN(2) == 0 && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				out[k] ^= 0x20
			}
		}
		return string(out)
	}
	randomID := func(st *sqldb.DB) (*inventory.Device, bool) {
		ids := likeIDs(t, st, "#", "")
		if len(ids) == 0 {
			return nil, false
		}
		d, err := st.GetDevice(ctx, ids[r.IntN(len(ids))])
		return d, err == nil
	}
	write := func(st *sqldb.DB, rr *rand.Rand, d *inventory.Device, kind int) error {
		switch kind {
		case 0:
			return st.CreateDevice(ctx, d)
		case 1:
			return st.CreateDeviceAudited(ctx, d, noEntry)
		case 2:
			return st.UpdateDevice(ctx, d, 0)
		case 3:
			return st.UpdateDeviceAudited(ctx, d, 0, noEntry)
		case 4:
			return st.DeleteDevice(ctx, d.ID, 0)
		case 5:
			return st.DeleteDeviceAudited(ctx, d.ID, 0, noEntry)
		}
		return nil
	}
	check := func(round int, texts []string) {
		t.Helper()
		for _, text := range texts {
			text = strings.TrimSpace(text)
			if text == "" {
				continue
			}
			sortBy := []string{"", "vendor", "-updated_at", "asset_id", "-model", "hostname"}[r.IntN(6)]
			limit := 1 + r.IntN(12)
			want := likeIDs(t, a, text, sortBy)
			got := listIDs(t, a, text, sortBy, limit)
			if !slices.Equal(got, want) {
				t.Fatalf("round %d: search %q sort %q: %d devices %v, LIKE %d %v", round, text, sortBy, len(got), got, len(want), want)
			}
		}
	}
	check(-1, pool)
	oldNow := store.Now
	defer func() { store.Now = oldNow }()
	// 40 rounds, the last 10 with a frozen clock; under the race
	// detector (about 80 times slower here: 28 minutes for 40) 8, the last 2 (about a minute).
	rounds, frozen := 40, 30
	if raceEnabled {
		rounds, frozen = 8, 6
	}
	for round := range rounds {
		if round >= frozen { // a clock that does not move: every write stamped alike
			at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
			store.Now = func() time.Time { return at }
		}
		st := a
		if r.IntN(3) == 0 && round < frozen {
			st = b // the other writer (its stamps move: see search_cache.go)
		}
		switch op := r.IntN(10); {
		case op < 6: // single writes
			for range 1 + r.IntN(8) {
				kind := r.IntN(6)
				d := next()
				if kind >= 2 {
					var ok bool
					if d, ok = randomID(st); !ok {
						continue
					}
					mutate(r, d)
				}
				if err := write(st, r, d, kind); err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("round %d write %d: %v", round, kind, err)
				}
			}
		case op < 8: // a small import: inserts and updates
			err := st.Import(ctx, func(tx store.ImportTx) error {
				var ins []*inventory.Device
				for range 1 + r.IntN(5) {
					ins = append(ins, next())
				}
				if err := tx.Insert(ctx, ins); err != nil {
					return err
				}
				if d, ok := randomID(st); ok {
					mutate(r, d)
					return tx.Update(ctx, d)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("round %d import: %v", round, err)
			}
		case op < 9: // a bulk import as large as the store
			var many []*inventory.Device
			for range 500 {
				many = append(many, next())
			}
			if err := st.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, many) }); err != nil {
				t.Fatalf("round %d bulk import: %v", round, err)
			}
		default: // writes by both, concurrent with searches
			var wg sync.WaitGroup
			for w, ws := range []*sqldb.DB{a, a, b} {
				if round >= frozen && ws == b {
					continue
				}
				wr := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				ds := make([]*inventory.Device, 0, 10)
				for range 10 {
					ds = append(ds, next())
				}
				wg.Go(func() {
					for i, d := range ds {
						kind := []int{0, 1, 3}[i%3]
						if kind == 3 {
							if err := ws.CreateDeviceAudited(ctx, d, noEntry); err != nil {
								t.Errorf("concurrent create: %v", err)
								return
							}
							mutate(wr, d)
						}
						if err := write(ws, wr, d, kind); err != nil {
							t.Errorf("concurrent write: %v", err)
							return
						}
					}
				})
			}
			for range 5 {
				text := pool[r.IntN(len(pool))]
				if _, err := a.ListDevices(ctx, store.DeviceQuery{Search: text, Sort: "vendor", Limit: 5}); err != nil {
					t.Fatal(err)
				}
			}
			wg.Wait()
		}
		texts := []string{pool[r.IntN(len(pool))], pool[r.IntN(len(pool))], stored(), stored(), cacheText(r, 1+r.IntN(3))}
		if round%10 == 9 {
			texts = append(texts, pool...)
		}
		check(round, texts)
	}
}

// The index paths (cache off) give the same pages as the cache.
func TestSearchCacheOffSame(t *testing.T) {
	defer sqldb.SetSearchLimits(40, 20)()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := rand.New(rand.NewPCG(3, 5))
	var ds []*inventory.Device
	for i := range 600 {
		ds = append(ds, cacheDevice(r, i))
	}
	if err := st.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, ds) }); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"a", "pu", "é", "%", `\`, "a_b", "k", "😀", ":1a:", "ab", "A p"} {
		for _, sortBy := range []string{"", "vendor", "-updated_at"} {
			on := listIDs(t, st, text, sortBy, 9)
			restore := sqldb.SetSearchCacheOff(true)
			off := listIDs(t, st, text, sortBy, 9)
			restore()
			if !slices.Equal(on, off) || !slices.Equal(on, likeIDs(t, st, text, sortBy)) {
				t.Errorf("search %q sort %q: cache %v, index paths %v", text, sortBy, on, off)
			}
		}
	}
}
