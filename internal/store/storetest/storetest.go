// Package storetest is the conformance suite every store driver passes.
// Drivers call Run from their own tests with a function that opens a fresh,
// empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// Opener returns a fresh empty store; the suite closes it.
type Opener func(t *testing.T) store.Store

// Run runs the whole suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"schema_version", testSchemaVersion},
		{"create_get_update_delete", testCRUD},
		{"revision_conflict", testRevisionConflict},
		{"unique_asset_id", testUniqueAssetID},
		{"import_is_all_or_nothing", testImportAtomic},
		{"import_bulk_and_scan", testImportBulk},
		{"identities_since_mark", testIdentitiesSince},
		{"list_filters", testListFilters},
		{"list_sort_and_pages", testListPages},
		{"list_pages_null_keys", testListPagesNullKeys}, // nullkeys.go
		{"list_after_writes", testListAfterWrites},      // listfresh.go
		{"list_search", testListSearch},
		{"search_index", testSearchIndex},              // search.go
		{"search_after_writes", testSearchAfterWrites}, // search.go
		{"list_bad_query", testListBadQuery},
		{"provenance_and_observed_round_trip", testProvenance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// Sample returns a realistic device.
func Sample(i int) *inventory.Device {
	eos := inventory.NewDate(2027, time.March, 31)
	types := []string{"infusion pump", "patient monitor", "ventilator", "CT scanner"}
	vendors := []string{"Baxter", "Philips", "Dräger", "GE HealthCare"}
	sites := []string{"North Campus", "South Campus", "Children's"}
	crit := []inventory.Criticality{inventory.LifeSupporting, inventory.Diagnostic, inventory.LifeSustaining, inventory.Diagnostic}
	return &inventory.Device{
		AssetID:          fmt.Sprintf("BIO-%06d", i),
		Vendor:           vendors[i%4],
		Model:            fmt.Sprintf("Model %d", i%7),
		DeviceType:       types[i%4],
		Version:          fmt.Sprintf("8.%d.%d", i%3, i%10),
		Serial:           fmt.Sprintf("SN%08d", i),
		MACs:             []string{fmt.Sprintf("00:1a:2b:%02x:%02x:%02x", (i>>16)&0xff, (i>>8)&0xff, i&0xff)},
		IPs:              []string{fmt.Sprintf("10.%d.%d.%d", i%3, (i>>8)&0xff, i&0xff)},
		Hostname:         fmt.Sprintf("dev-%d", i),
		Site:             sites[i%3],
		Location:         fmt.Sprintf("Building %c / Floor %d", 'A'+rune(i%3), i%5),
		Department:       []string{"ICU", "ED", "Radiology", "Lab"}[i%4],
		Criticality:      crit[i%4],
		PatientConnected: ptr(i%2 == 0),
		PHI:              ptr(i%3 == 0),
		Zone:             fmt.Sprintf("VLAN %d", 100+i%4*10),
		OS:               "VxWorks 6.9",
		EndOfSupport:     &eos,
	}
}

var ignoreStoreFields = cmpopts.IgnoreFields(inventory.Device{}, "ID", "Revision", "CreatedAt", "UpdatedAt")

func testSchemaVersion(t *testing.T, s store.Store) {
	v, err := s.SchemaVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v != store.SchemaVersion() {
		t.Errorf("SchemaVersion = %d, want %d", v, store.SchemaVersion())
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testCRUD(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := Sample(1)
	want := *Sample(1)
	if err := s.CreateDevice(ctx, d); err != nil {
		t.Fatalf("CreateDevice: %v", err)
	}
	if d.ID == 0 || d.Revision != 1 {
		t.Fatalf("after create: id %d revision %d, want id set and revision 1", d.ID, d.Revision)
	}
	got, err := s.GetDevice(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&want, got, ignoreStoreFields); diff != "" {
		t.Errorf("GetDevice (-want +got):\n%s", diff)
	}
	byAsset, err := s.GetDeviceByAssetID(ctx, "BIO-000001")
	if err != nil || byAsset.ID != d.ID {
		t.Fatalf("GetDeviceByAssetID = %v, %v", byAsset, err)
	}
	got.Version = "9.0.1"
	got.PHI = nil
	if err := s.UpdateDevice(ctx, got, 1); err != nil {
		t.Fatalf("UpdateDevice: %v", err)
	}
	if got.Revision != 2 {
		t.Errorf("revision after update = %d, want 2", got.Revision)
	}
	again, _ := s.GetDevice(ctx, d.ID)
	if again.Version != "9.0.1" || again.PHI != nil || again.Revision != 2 {
		t.Errorf("after update: version %q phi %v revision %d", again.Version, again.PHI, again.Revision)
	}
	if err := s.DeleteDevice(ctx, d.ID, 2); err != nil {
		t.Fatalf("DeleteDevice: %v", err)
	}
	if _, err := s.GetDevice(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetDevice after delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteDevice(ctx, d.ID, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
}

func testRevisionConflict(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := Sample(2)
	if err := s.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	a, _ := s.GetDevice(ctx, d.ID)
	b, _ := s.GetDevice(ctx, d.ID)
	a.Hostname = "first-writer"
	if err := s.UpdateDevice(ctx, a, a.Revision); err != nil {
		t.Fatal(err)
	}
	b.Hostname = "second-writer"
	if err := s.UpdateDevice(ctx, b, b.Revision); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict", err)
	}
	if err := s.DeleteDevice(ctx, d.ID, 1); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale delete: %v, want ErrConflict", err)
	}
	got, _ := s.GetDevice(ctx, d.ID)
	if got.Hostname != "first-writer" {
		t.Errorf("hostname = %q, want first-writer", got.Hostname)
	}
	missing := Sample(3)
	missing.ID = 999999
	if err := s.UpdateDevice(ctx, missing, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of missing device: %v, want ErrNotFound", err)
	}
}

func testUniqueAssetID(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.CreateDevice(ctx, Sample(4)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDevice(ctx, Sample(4)); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate asset id: %v, want ErrExists", err)
	}
	// devices without an asset tag do not collide
	for i := 0; i < 2; i++ {
		d := Sample(10 + i)
		d.AssetID = ""
		if err := s.CreateDevice(ctx, d); err != nil {
			t.Fatalf("device without asset id #%d: %v", i, err)
		}
	}
	n, _ := s.CountDevices(ctx)
	if n != 3 {
		t.Errorf("CountDevices = %d, want 3", n)
	}
}

func testImportAtomic(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.CreateDevice(ctx, Sample(1)); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("row 3 is bad")
	err := s.Import(ctx, func(tx store.ImportTx) error {
		if err := tx.Insert(ctx, []*inventory.Device{Sample(2), Sample(3)}); err != nil {
			return err
		}
		d, err := tx.Get(ctx, 1)
		if err != nil {
			return err
		}
		d.Version = "changed"
		if err := tx.Update(ctx, d); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Import = %v, want %v", err, boom)
	}
	n, _ := s.CountDevices(ctx)
	if n != 1 {
		t.Errorf("after failed import CountDevices = %d, want 1", n)
	}
	d, _ := s.GetDeviceByAssetID(ctx, "BIO-000001")
	if d.Version == "changed" || d.Revision != 1 {
		t.Errorf("failed import left an update behind: version %q revision %d", d.Version, d.Revision)
	}
}

func testImportBulk(t *testing.T, s store.Store) {
	ctx := context.Background()
	var batch []*inventory.Device
	for i := 0; i < 500; i++ {
		batch = append(batch, Sample(i))
	}
	if err := s.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, batch) }); err != nil {
		t.Fatalf("Import: %v", err)
	}
	seen := map[int64]bool{}
	for _, d := range batch {
		if d.ID == 0 || seen[d.ID] {
			t.Fatalf("device %s got id %d (duplicate or unset)", d.AssetID, d.ID)
		}
		seen[d.ID] = true
	}
	var ids, full int
	if err := s.ScanIdentities(ctx, func(d *inventory.Device) error {
		if d.AssetID == "" || len(d.MACs) != 1 || d.Serial == "" {
			return fmt.Errorf("identity of %d incomplete: %+v", d.ID, d)
		}
		ids++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.ScanDevices(ctx, func(d *inventory.Device) error { full++; return nil }); err != nil {
		t.Fatal(err)
	}
	if ids != 500 || full != 500 {
		t.Errorf("scanned %d identities and %d devices, want 500 each", ids, full)
	}
	got, err := s.GetDeviceByAssetID(ctx, "BIO-000123")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Sample(123), got, ignoreStoreFields); diff != "" {
		t.Errorf("bulk-inserted device (-want +got):\n%s", diff)
	}
}

// testIdentitiesSince: an import transaction reads every device created
// or changed since a mark (and may read others) with its identity fields
// as they are now, and the count that shows deletions.
func testIdentitiesSince(t *testing.T, s store.Store) {
	ctx := context.Background()
	var ds []*inventory.Device
	for i := 0; i < 3; i++ {
		d := Sample(i)
		if err := s.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	mark, err := s.IdentityMark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ds[1].MACs = []string{"00:1a:2b:ff:ff:01"}
	if err := s.UpdateDevice(ctx, ds[1], 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDevice(ctx, ds[2].ID, 0); err != nil {
		t.Fatal(err)
	}
	added := Sample(3)
	if err := s.CreateDevice(ctx, added); err != nil {
		t.Fatal(err)
	}
	var n int64
	since := map[int64]*inventory.Device{}
	var all []int64
	err = s.Import(ctx, func(tx store.ImportTx) error {
		var err error
		if n, err = tx.IdentitiesSince(ctx, mark, func(d *inventory.Device) error {
			since[d.ID] = d
			return nil
		}); err != nil {
			return err
		}
		return tx.ScanIdentities(ctx, func(d *inventory.Device) error {
			all = append(all, d.ID)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if n != 3 {
		t.Errorf("IdentitiesSince counted %d devices, want 3", n)
	}
	type ident struct {
		Asset, Vendor, Serial string
		MACs                  []string
	}
	for _, want := range []*inventory.Device{ds[1], added} {
		got := since[want.ID]
		if got == nil {
			t.Errorf("device %d (%s), written after the mark, not read", want.ID, want.AssetID)
			continue
		}
		if diff := cmp.Diff(ident{want.AssetID, want.Vendor, want.Serial, want.MACs}, ident{got.AssetID, got.Vendor, got.Serial, got.MACs}); diff != "" {
			t.Errorf("identity of device %d (-want +got):\n%s", want.ID, diff)
		}
	}
	// (SQLite gives the new device the deleted one's id.)
	if d := since[ds[2].ID]; d != nil && d.AssetID == ds[2].AssetID {
		t.Errorf("deleted device %d (%s) read", ds[2].ID, ds[2].AssetID)
	}
	if want := []int64{ds[0].ID, ds[1].ID, added.ID}; !slices.Equal(all, want) {
		t.Errorf("ScanIdentities in the transaction: ids %v, want %v", all, want)
	}
}

func load(t *testing.T, s store.Store, n int) {
	t.Helper()
	ctx := context.Background()
	var batch []*inventory.Device
	for i := 0; i < n; i++ {
		batch = append(batch, Sample(i))
	}
	if err := s.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, batch) }); err != nil {
		t.Fatal(err)
	}
}

func assets(p *store.DevicePage) []string {
	var out []string
	for _, d := range p.Devices {
		out = append(out, d.AssetID)
	}
	return out
}

func testListFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	load(t, s, 40)
	tests := []struct {
		name    string
		filters map[string]string
		want    func(d *inventory.Device) bool
	}{
		{"vendor_case_insensitive", map[string]string{"vendor": "baxter"}, func(d *inventory.Device) bool { return d.Vendor == "Baxter" }},
		{"site_and_type", map[string]string{"site": "North Campus", "device_type": "ventilator"}, func(d *inventory.Device) bool {
			return d.Site == "North Campus" && d.DeviceType == "ventilator"
		}},
		{"criticality", map[string]string{"criticality": "Life Sustaining"}, func(d *inventory.Device) bool { return d.Criticality == inventory.LifeSustaining }},
		{"mac_any_spelling", map[string]string{"mac": "00-1A-2B-00-00-07"}, func(d *inventory.Device) bool { return d.AssetID == "BIO-000007" }},
		{"ip", map[string]string{"ip": "10.1.0.13"}, func(d *inventory.Device) bool { return d.AssetID == "BIO-000013" }},
		{"patient_connected", map[string]string{"patient_connected": "yes"}, func(d *inventory.Device) bool { return *d.PatientConnected }},
		{"no_match", map[string]string{"vendor": "Nobody"}, func(*inventory.Device) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for i := 0; i < 40; i++ {
				if d := Sample(i); tt.want(d) {
					want = append(want, d.AssetID)
				}
			}
			page, err := s.ListDevices(ctx, store.DeviceQuery{Filters: tt.filters, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			got := assets(page)
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ListDevices(%v) (-want +got):\n%s", tt.filters, diff)
			}
		})
	}
	eos, err := s.ListDevices(ctx, store.DeviceQuery{EOSBefore: "2027-04-01", Limit: 1000})
	if err != nil || len(eos.Devices) != 40 {
		t.Errorf("EOSBefore 2027-04-01: %d devices, %v; want 40", len(eos.Devices), err)
	}
	eos, _ = s.ListDevices(ctx, store.DeviceQuery{EOSBefore: "2027-03-31"})
	if len(eos.Devices) != 0 {
		t.Errorf("EOSBefore 2027-03-31: %d devices, want 0", len(eos.Devices))
	}
}

func testListPages(t *testing.T, s store.Store) {
	ctx := context.Background()
	load(t, s, 53)
	for _, sortBy := range []string{"", "asset_id", "-asset_id", "vendor", "-criticality", "site", "version", "-updated_at"} {
		t.Run("sort="+sortBy, func(t *testing.T) {
			var got []*inventory.Device
			q := store.DeviceQuery{Sort: sortBy, Limit: 10}
			pages := 0
			for {
				p, err := s.ListDevices(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, p.Devices...)
				pages++
				if p.Next == "" {
					break
				}
				if pages > 10 {
					t.Fatal("pagination does not end")
				}
				q.Cursor = p.Next
			}
			if len(got) != 53 || pages != 6 {
				t.Fatalf("got %d devices in %d pages, want 53 in 6", len(got), pages)
			}
			seen := map[int64]bool{}
			for _, d := range got {
				if seen[d.ID] {
					t.Fatalf("device %s listed twice", d.AssetID)
				}
				seen[d.ID] = true
			}
			field, desc := sortBy, false
			if len(field) > 0 && field[0] == '-' {
				field, desc = field[1:], true
			}
			key := func(d *inventory.Device) string {
				switch field {
				case "", "id":
					return fmt.Sprintf("%012d", d.ID)
				case "criticality":
					return fmt.Sprint(d.Criticality.Rank())
				case "updated_at":
					return d.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z") // text order = time order
				}
				return d.Get(field)
			}
			ok := sort.SliceIsSorted(got, func(i, j int) bool {
				a, b := key(got[i]), key(got[j])
				if a == b {
					if desc {
						return got[i].ID > got[j].ID
					}
					return got[i].ID < got[j].ID
				}
				if desc {
					return a > b
				}
				return a < b
			})
			if !ok {
				t.Errorf("sort %q: result not sorted", sortBy)
			}
		})
	}
}

func testListSearch(t *testing.T, s store.Store) {
	ctx := context.Background()
	load(t, s, 30)
	p, err := s.ListDevices(ctx, store.DeviceQuery{Search: "dräger", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range p.Devices {
		if d.Vendor != "Dräger" {
			t.Errorf("search dräger returned %s (%s)", d.AssetID, d.Vendor)
		}
	}
	if len(p.Devices) != 7 {
		t.Errorf("search dräger: %d devices, want 7", len(p.Devices))
	}
	p, _ = s.ListDevices(ctx, store.DeviceQuery{Search: "sn00000017"})
	if diff := cmp.Diff([]string{"BIO-000017"}, assets(p)); diff != "" {
		t.Errorf("search by serial (-want +got):\n%s", diff)
	}
	p, _ = s.ListDevices(ctx, store.DeviceQuery{Search: "100%_"})
	if len(p.Devices) != 0 {
		t.Errorf("LIKE wildcards in search text were not escaped: %d hits", len(p.Devices))
	}
}

func testListBadQuery(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, q := range []store.DeviceQuery{
		{Filters: map[string]string{"nonsense": "x"}},
		{Filters: map[string]string{"mac": "zz:zz"}},
		{Filters: map[string]string{"criticality": "very"}},
		{Sort: "provenance"},
		{Cursor: "!!!"},
		{EOSBefore: "31/12/2026"},
	} {
		if _, err := s.ListDevices(ctx, q); err == nil {
			t.Errorf("ListDevices(%+v) succeeded, want an error", q)
		}
	}
}

func testProvenance(t *testing.T, s store.Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	d := Sample(5)
	d.Provenance = map[string]inventory.Provenance{"version": {Kind: inventory.SourceImported, Source: "cmms.csv", At: at}}
	d.Observed = map[string]inventory.Observation{"version": {Value: "8.1.0", Source: "sensor-north", At: at, Confidence: 0.9}}
	fs := at.Add(-time.Hour)
	d.FirstSeen, d.LastSeen = &fs, &at
	if err := s.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetDevice(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d.Provenance, got.Provenance); diff != "" {
		t.Errorf("provenance (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(d.Observed, got.Observed); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
	if !got.FirstSeen.Equal(fs) || !got.LastSeen.Equal(at) {
		t.Errorf("first/last seen = %v/%v", got.FirstSeen, got.LastSeen)
	}
	// A typical imported device: every field from one file, one edited by a
	// person, one without provenance; stored compactly, read back exactly.
	e := Sample(6)
	imp := inventory.Provenance{Kind: inventory.SourceImported, Source: "cmms.csv", At: at}
	e.Provenance = map[string]inventory.Provenance{}
	for _, f := range inventory.Fields {
		if e.Get(f) != "" && f != "os" {
			e.Provenance[f] = imp
		}
	}
	e.Provenance["version"] = inventory.Provenance{Kind: inventory.SourceEdited, Source: "alice", At: at.Add(time.Hour)}
	if err := s.CreateDevice(ctx, e); err != nil {
		t.Fatal(err)
	}
	gotE, err := s.GetDevice(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e.Provenance, gotE.Provenance); diff != "" {
		t.Errorf("compact provenance round trip (-want +got):\n%s", diff)
	}
	if c := got.Conflicts(); len(c) != 1 || c[0].Field != "version" || c[0].Observed.Value != "8.1.0" {
		t.Errorf("Conflicts = %+v, want the version conflict", c)
	}
}
