package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// Free-text search with the trigram index (migration 0010): the same
// devices as a plain "some column contains the text" check, through every
// path the list takes (index candidates, the sort-index walk, short texts
// the index cannot serve), and the index follows every write: bulk import,
// rejected bulk import, create, update, delete.

// searchedText is what a device's search matches: the columns named in
// store.DeviceQuery.Search.
func searchedText(d *inventory.Device) []string {
	return []string{d.AssetID, d.Vendor, d.Model, d.DeviceType, d.Hostname, d.Serial, d.Site,
		d.Location, d.Department, joinSemi(d.MACs), joinSemi(d.IPs)}
}

func joinSemi(a []string) string {
	if len(a) == 0 {
		return ""
	}
	return ";" + strings.Join(a, ";") + ";"
}

// searchMatches is the reference: a search column contains text, ASCII
// case-insensitively (the texts below are ASCII).
func searchMatches(d *inventory.Device, text string) bool {
	for _, c := range searchedText(d) {
		if strings.Contains(strings.ToLower(c), strings.ToLower(text)) {
			return true
		}
	}
	return false
}

// allDevices lists every device without search (the reference's input).
func allDevices(t *testing.T, s store.Store) []*inventory.Device {
	t.Helper()
	var out []*inventory.Device
	q := store.DeviceQuery{Limit: 1000}
	for {
		p, err := s.ListDevices(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Devices...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
}

// searchAll pages through a search with small pages and returns the asset
// ids in the order received.
func searchAll(t *testing.T, s store.Store, q store.DeviceQuery) []string {
	t.Helper()
	q.Limit = 7
	var out []string
	for range 1000 {
		p, err := s.ListDevices(context.Background(), q)
		if err != nil {
			t.Fatalf("search %+v: %v", q, err)
		}
		out = append(out, assets(p)...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
	t.Fatalf("search %+v: more than 1000 pages", q)
	return nil
}

// checkSearch compares a search (every page, in each of several sorts, with
// and without a filter) with the reference.
func checkSearch(t *testing.T, s store.Store, text string) {
	t.Helper()
	all := allDevices(t, s)
	for _, sortBy := range []string{"", "vendor", "-asset_id", "hostname", "-updated_at"} {
		for _, site := range []string{"", "South Campus"} {
			var want []string
			for _, d := range all {
				if searchMatches(d, text) && (site == "" || d.Site == site) {
					want = append(want, d.AssetID)
				}
			}
			q := store.DeviceQuery{Search: text, Sort: sortBy}
			if site != "" {
				q.Filters = map[string]string{"site": site}
			}
			got := searchAll(t, s, q)
			sorted := slices.Clone(got)
			slices.Sort(sorted)
			slices.Sort(want)
			if diff := cmp.Diff(want, sorted); diff != "" {
				t.Errorf("search %q sort %q site %q: devices differ from a scan (-scan +search):\n%s", text, sortBy, site, diff)
			}
			if len(slices.Compact(sorted)) != len(got) {
				t.Errorf("search %q sort %q: a device came twice across pages", text, sortBy)
			}
		}
	}
}

func testSearchIndex(t *testing.T, s store.Store) {
	ctx := context.Background()
	// 600 devices in one import into an empty store: the bulk path (index
	// and search triggers dropped, the index refilled before commit).
	var batch []*inventory.Device
	for i := range 600 {
		batch = append(batch, Sample(i))
	}
	if err := s.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, batch) }); err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"dev-12",               // host names dev-12, dev-120 … dev-129
		"bio-0004",             // 100 asset ids, several pages, lower case
		"SN0000059",            // serials, upper case
		"00:1a:2b:00:02",       // MAC fragment
		";10.2.1.",             // IP fragment, with the address separator
		"floor 3",              // location, with a space
		"ilips",                // inside a vendor name
		"campus",               // a third of the fleet: the sort-index walk fills the page
		"ph",                   // two characters: no trigram, every device checked
		"icu",                  // department, three characters
		`a"b`,                  // a quote in the FTS query
		"Children's\nBuilding", // crosses two columns in the index's joined text: no device
		"no such device",
	}
	for _, text := range texts {
		checkSearch(t, s, text)
	}

	// A rejected bulk import (as large as the store) changes nothing.
	var rejected []*inventory.Device
	for i := range 700 {
		d := Sample(10_000 + i)
		d.Hostname = fmt.Sprintf("rejected-host-%d", i)
		rejected = append(rejected, d)
	}
	errBad := errors.New("bad record")
	err := s.Import(ctx, func(tx store.ImportTx) error {
		if err := tx.Insert(ctx, rejected); err != nil {
			return err
		}
		return errBad
	})
	if !errors.Is(err, errBad) {
		t.Fatalf("rejected import: %v", err)
	}
	if got := searchAll(t, s, store.DeviceQuery{Search: "rejected-host"}); len(got) != 0 {
		t.Errorf("search finds %d devices of a rejected import", len(got))
	}
	checkSearch(t, s, "dev-12")

	// Single writes keep the index current.
	d, err := s.GetDeviceByAssetID(ctx, "BIO-000125")
	if err != nil {
		t.Fatal(err)
	}
	d.Hostname = "renamed-infusion-7"
	if err := s.UpdateDevice(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	if got := searchAll(t, s, store.DeviceQuery{Search: "renamed-infusion"}); !slices.Equal(got, []string{"BIO-000125"}) {
		t.Errorf("search for the new host name after an update: %v", got)
	}
	checkSearch(t, s, "dev-12") // dev-125 is gone
	gone, err := s.GetDeviceByAssetID(ctx, "BIO-000121")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDevice(ctx, gone.ID, 0); err != nil {
		t.Fatal(err)
	}
	checkSearch(t, s, "dev-12") // dev-121 is gone
	fresh := Sample(5000)
	fresh.Hostname = "dev-12-spare"
	if err := s.CreateDevice(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	checkSearch(t, s, "dev-12") // dev-12-spare is new

	// A second bulk import, larger than the store: old and new devices.
	var more []*inventory.Device
	for i := range 700 {
		more = append(more, Sample(20_000+i))
	}
	if err := s.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, more) }); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"dev-12", "dev-2012", "bio-0200", "renamed-infusion"} {
		checkSearch(t, s, text)
	}
}

// SearchIndex runs the search checks of the conformance suite on s: for
// driver tests that change the search plan's thresholds so that a small
// store takes every path.
func SearchIndex(t *testing.T, s store.Store) { testSearchIndex(t, s) }

// testSearchAfterWrites: searches repeated between writes of every kind
// (so a driver that remembers earlier searches, as SQLite's search cache
// does, must follow each write) find exactly the devices a scan finds:
// after creates, updates that add or remove a match, deletes, a small
// import (inserts and updates), a bulk import, and writes from several
// goroutines running while the same texts are searched.
func testSearchAfterWrites(t *testing.T, s store.Store) {
	ctx := context.Background()
	var batch []*inventory.Device
	for i := range 300 {
		batch = append(batch, Sample(i))
	}
	if err := s.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, batch) }); err != nil {
		t.Fatal(err)
	}
	texts := []string{"zq-cache", "ZQ-CACHE-1", "ph", "dev-2", "philips", "50%_off", `back\slash`}
	checkAll := func(when string) {
		t.Helper()
		for _, text := range texts {
			checkSearch(t, s, text)
			if t.Failed() {
				t.Fatalf("after %s", when)
			}
		}
	}
	checkAll("the first import")
	// Creates that match a text searched before.
	for i := range 12 {
		d := Sample(1000 + i)
		d.Hostname = fmt.Sprintf("zq-cache-%d", i)
		if i%4 == 0 {
			d.Location = "50%_off " + `back\slash`
		}
		if err := s.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	checkAll("creates")
	// Updates: a match added to old devices, one taken from new ones.
	for i := range 10 {
		d, err := s.GetDeviceByAssetID(ctx, fmt.Sprintf("BIO-%06d", 7*i))
		if err != nil {
			t.Fatal(err)
		}
		d.Model = "ZQ-Cache-1 rev " + fmt.Sprint(i)
		if err := s.UpdateDevice(ctx, d, 0); err != nil {
			t.Fatal(err)
		}
		n, err := s.GetDeviceByAssetID(ctx, fmt.Sprintf("BIO-%06d", 1000+i))
		if err != nil {
			t.Fatal(err)
		}
		n.Hostname, n.Location, n.Vendor = "plain", "plain", "Baxter"
		if err := s.UpdateDevice(ctx, n, 0); err != nil {
			t.Fatal(err)
		}
	}
	checkAll("updates")
	// Deletes.
	for _, a := range []string{"BIO-001010", "BIO-000014", "BIO-000021"} {
		d, err := s.GetDeviceByAssetID(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteDevice(ctx, d.ID, 0); err != nil {
			t.Fatal(err)
		}
	}
	checkAll("deletes")
	// A small import: inserts and an update in one transaction.
	err := s.Import(ctx, func(tx store.ImportTx) error {
		var ins []*inventory.Device
		for i := range 3 {
			d := Sample(2000 + i)
			d.Serial = fmt.Sprintf("ZQ-CACHE-import-%d", i)
			ins = append(ins, d)
		}
		if err := tx.Insert(ctx, ins); err != nil {
			return err
		}
		d, err := s.GetDeviceByAssetID(ctx, "BIO-000007")
		if err != nil {
			return err
		}
		d.Model = "plain"
		return tx.Update(ctx, d)
	})
	if err != nil {
		t.Fatal(err)
	}
	checkAll("a small import")
	// A bulk import larger than the store.
	var more []*inventory.Device
	for i := range 400 {
		d := Sample(3000 + i)
		if i%9 == 0 {
			d.Department = fmt.Sprintf("zq-cache ward %d", i)
		}
		more = append(more, d)
	}
	if err := s.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, more) }); err != nil {
		t.Fatal(err)
	}
	checkAll("a bulk import")
	// Writes from four goroutines while the texts are searched.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 8 {
				d := Sample(5000 + 100*w + i)
				d.Hostname = fmt.Sprintf("zq-cache-w%d-%d", w, i)
				if err := s.CreateDevice(ctx, d); err != nil {
					t.Errorf("concurrent create: %v", err)
					return
				}
				if i%2 == 1 {
					d.Hostname = "plain"
					if err := s.UpdateDevice(ctx, d, 0); err != nil {
						t.Errorf("concurrent update: %v", err)
						return
					}
				}
			}
		})
	}
	for i := range 20 {
		if _, err := s.ListDevices(ctx, store.DeviceQuery{Search: texts[i%len(texts)], Limit: 5}); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	checkAll("concurrent writes")
}
