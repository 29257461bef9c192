package sqldb_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqldb"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// TestAuditedUpdateWritesChangedColumns: an audited update (the API's
// PUT) writes only the columns whose value changes. Edit by edit, one
// field or several, searched or not, set, changed and cleared: the stored
// device is the written one, its filter and search find it by the new
// value and no longer by the old one, and the untouched devices beside it
// stay as they were.
func TestAuditedUpdateWritesChangedColumns(t *testing.T) {
	eachDriver(t, checkChangedColumns) // times_test.go
}

func checkChangedColumns(t *testing.T, st *sqldb.DB) {
	ctx := context.Background()
	var batch []*inventory.Device
	for i := range 12 {
		batch = append(batch, storetest.Sample(i))
	}
	if err := st.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, batch) }); err != nil {
		t.Fatal(err)
	}
	others := map[int64]*inventory.Device{}
	for _, d := range batch[1:] {
		got, err := st.GetDevice(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		others[d.ID] = got
	}
	id := batch[0].ID
	edits := []struct {
		name   string
		edit   func(d *inventory.Device)
		filter [2]string // field, new value
		search string    // finds the device after the edit
		gone   string    // no longer finds it
	}{
		{"searched field", func(d *inventory.Device) { d.Model = "Quasar 9000" }, [2]string{"model", "Quasar 9000"}, "quasar", "Model 0"},
		{"unsearched field", func(d *inventory.Device) { d.Criticality = inventory.LifeSustaining }, [2]string{"criticality", "life-sustaining"}, "quasar", ""},
		{"several, addresses", func(d *inventory.Device) {
			d.Vendor, d.IPs, d.Department = "Mindray", []string{"10.77.1.2", "10.77.1.3"}, "Oncology"
		}, [2]string{"department", "Oncology"}, "10.77.1.3", "Baxter"},
		{"provenance only", func(d *inventory.Device) {
			d.Provenance = map[string]inventory.Provenance{"vendor": {Kind: inventory.SourceEdited, Source: "alice", At: d.UpdatedAt}}
		}, [2]string{"vendor", "Mindray"}, "mindray", ""},
		{"cleared", func(d *inventory.Device) { d.Hostname, d.EndOfSupport = "", nil }, [2]string{"department", "Oncology"}, "oncology", "dev-0"},
		{"asset id", func(d *inventory.Device) { d.AssetID = "BIO-RENAMED" }, [2]string{"asset_id", "BIO-RENAMED"}, "bio-renamed", "BIO-000000"},
		{"nothing", func(d *inventory.Device) {}, [2]string{"asset_id", "BIO-RENAMED"}, "renamed", ""},
	}
	for _, e := range edits {
		d, err := st.GetDevice(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		rev := d.Revision
		e.edit(d)
		if err := st.UpdateDeviceAudited(ctx, d, rev, noEntry); err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		if d.Revision != rev+1 {
			t.Errorf("%s: revision %d, want %d", e.name, d.Revision, rev+1)
		}
		got, err := st.GetDevice(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(d, got); diff != "" {
			t.Fatalf("%s: stored device differs from the written one (-written +stored):\n%s", e.name, diff)
		}
		find := func(q store.DeviceQuery) bool {
			t.Helper()
			q.Limit = 100
			p, err := st.ListDevices(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range p.Devices {
				if l.ID == id {
					return true
				}
			}
			return false
		}
		if !find(store.DeviceQuery{Filters: map[string]string{e.filter[0]: e.filter[1]}}) {
			t.Errorf("%s: filter %s=%q does not find the device", e.name, e.filter[0], e.filter[1])
		}
		if !find(store.DeviceQuery{Search: e.search}) {
			t.Errorf("%s: search %q does not find the device", e.name, e.search)
		}
		if e.gone != "" && find(store.DeviceQuery{Search: e.gone}) {
			t.Errorf("%s: search %q still finds the device", e.name, e.gone)
		}
	}
	for oid, want := range others {
		got, err := st.GetDevice(ctx, oid)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("device %d changed by another device's edits:\n%s", oid, diff)
		}
	}
}
