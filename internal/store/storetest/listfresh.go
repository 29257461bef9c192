package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// testListAfterWrites: lists read again and again while devices are
// updated, deleted and created (the SQL store keeps recently listed
// devices decoded) always give every device exactly as GetDevice reads it
// at that moment, and changing a listed device does not change the next
// list.
func testListAfterWrites(t *testing.T, s store.Store) {
	ctx := context.Background()
	var batch []*inventory.Device
	for i := 0; i < 40; i++ {
		batch = append(batch, Sample(i))
	}
	if err := s.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, batch) }); err != nil {
		t.Fatal(err)
	}
	queries := []store.DeviceQuery{
		{Limit: 100},
		{Sort: "-updated_at", Limit: 10},
		{Sort: "vendor", Filters: map[string]string{"site": "North Campus"}, Limit: 100},
		{Filters: map[string]string{"department": "ICU"}, Sort: "model", Limit: 100},
		{Search: "dev-1", Sort: "asset_id", Limit: 100},
		{Search: "Model", Limit: 100},
	}
	// check lists every query twice (the second from what the first
	// left in a cache) and compares each device with a fresh read.
	check := func(step string) {
		t.Helper()
		for _, q := range queries {
			for round := 0; round < 2; round++ {
				p, err := s.ListDevices(ctx, q)
				if err != nil {
					t.Fatalf("%s: %+v: %v", step, q, err)
				}
				if len(p.Devices) == 0 {
					t.Fatalf("%s: %+v: no devices", step, q)
				}
				for _, d := range p.Devices {
					want, err := s.GetDevice(ctx, d.ID)
					if err != nil {
						t.Fatalf("%s: %+v: listed device %d: %v", step, q, d.ID, err)
					}
					if diff := cmp.Diff(want, d); diff != "" {
						t.Fatalf("%s: %+v round %d: listed device %d differs from the stored one (-stored +listed):\n%s", step, q, round, d.ID, diff)
					}
				}
				// what a caller does to its page stays in its page
				for _, d := range p.Devices {
					d.Vendor, d.Provenance, d.Revision = "changed by the caller", nil, -1
				}
			}
		}
	}
	check("after import")

	// an update: new values and provenance, same id
	p, err := s.ListDevices(ctx, store.DeviceQuery{Sort: "asset_id", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.GetDevice(ctx, p.Devices[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	d.Vendor, d.Model, d.Department = "Philips", "Model 1 rev B", "ICU"
	d.Provenance = map[string]inventory.Provenance{"vendor": {Kind: inventory.SourceEdited, Source: "alice", At: d.UpdatedAt}}
	if err := s.UpdateDevice(ctx, d, d.Revision); err != nil {
		t.Fatal(err)
	}
	check("after an update")
	got, err := s.ListDevices(ctx, store.DeviceQuery{Filters: map[string]string{"model": "Model 1 rev B"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Devices) != 1 || got.Devices[0].ID != d.ID || got.Devices[0].Department != "ICU" {
		t.Fatalf("the updated device is not listed with its new values: %+v", got.Devices)
	}

	// the newest device deleted and one created (SQLite may give it the
	// same id): the list shows the new one
	last, err := s.ListDevices(ctx, store.DeviceQuery{Sort: "-id", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDevice(ctx, last.Devices[0].ID, 0); err != nil {
		t.Fatal(err)
	}
	check("after a delete")
	n := Sample(77)
	n.Vendor, n.Site = "Baxter", "North Campus"
	if err := s.CreateDevice(ctx, n); err != nil {
		t.Fatal(err)
	}
	check("after a create")
	got, err = s.ListDevices(ctx, store.DeviceQuery{Sort: "-id", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got.Devices[0].AssetID != n.AssetID {
		t.Fatalf("newest device = %q, want %q", got.Devices[0].AssetID, n.AssetID)
	}
}
