package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// testListPagesNullKeys: devices without an asset id (stored as NULL, as
// for every device a sensor found and nobody tagged yet) among tagged
// ones, listed by asset id in small pages: every device comes exactly
// once, in the order one large page gives (where the NULLs go is each
// database's own order), with and without a filter and a search.
func testListPagesNullKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	var batch []*inventory.Device
	for i := 0; i < 31; i++ {
		d := Sample(i)
		if i%3 != 1 { // 21 of 31 untagged
			d.AssetID = ""
		}
		batch = append(batch, d)
	}
	if err := s.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, batch) }); err != nil {
		t.Fatal(err)
	}
	queries := []store.DeviceQuery{
		{},
		{Filters: map[string]string{"site": "North Campus"}},
		{Filters: map[string]string{"department": "ICU"}},
		{Search: "dev-1"},
		{Search: "Model"},
	}
	for _, base := range queries {
		for _, sortBy := range []string{"asset_id", "-asset_id"} {
			for _, limit := range []int{1, 4, 7} {
				q := base
				q.Sort, q.Limit = sortBy, 1000
				all, err := s.ListDevices(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				want := ids(all.Devices)
				if len(want) == 0 {
					t.Fatalf("%+v: no devices", q)
				}
				q.Limit = limit
				var got []int64
				for pages := 0; ; pages++ {
					if pages > len(want)+1 {
						t.Fatalf("%+v: pagination does not end", q)
					}
					p, err := s.ListDevices(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, ids(p.Devices)...)
					if p.Next == "" {
						break
					}
					q.Cursor = p.Next
				}
				if !slices.Equal(got, want) {
					t.Errorf("sort=%s limit=%d filters=%v q=%q: pages give ids %v, one page gives %v", sortBy, limit, base.Filters, base.Search, got, want)
				}
			}
		}
	}
}

func ids(ds []*inventory.Device) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}
