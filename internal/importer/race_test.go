package importer_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/importer"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// bothDrivers opens a fresh store of each driver (PostgreSQL when
// MEDWARDEN_TEST_POSTGRES is set).
var bothDrivers = map[string]func(t *testing.T) store.Store{
	"sqlite": open,
	"postgres": func(t *testing.T) store.Store {
		dsn := os.Getenv("MEDWARDEN_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("MEDWARDEN_TEST_POSTGRES not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		}
		st, err := postgres.Open(context.Background(), storetest.PostgresSchemaDSN(t, dsn))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	},
}

// TestImportSeesWritesAfterItsScan: the importer reads the stored
// identities before its transaction; a device created, changed or deleted
// by another writer in between (the hook) must be merged as the
// transaction sees it, not as the scan did. Before the catch-up the
// created and changed cases made duplicate devices and the deleted case
// failed the import (device not found).
func TestImportSeesWritesAfterItsScan(t *testing.T) {
	tests := []struct {
		name string
		// stored before the import; the hook then runs against them
		stored []dev
		hook   func(ctx context.Context, t *testing.T, st store.Store, ids []int64)
		csv    string
		want   []dev // devices after the import, by asset id, vendor, serial
		wantC  int   // created
		wantU  int   // updated
	}{{
		name: "created",
		hook: func(ctx context.Context, t *testing.T, st store.Store, _ []int64) {
			create(ctx, t, st, dev{Vendor: "Baxter", Serial: "SN-RACE-1", MAC: "00:11:22:33:44:01", Model: "Sigma"})
		},
		csv:   ",Baxter,Sigma Spectrum,8.1,SN-RACE-1,,,,NBR,,ICU,infusion-pump,life-supporting,yes,no,,\n",
		want:  []dev{{Vendor: "Baxter", Serial: "SN-RACE-1", MAC: "00:11:22:33:44:01", Model: "Sigma Spectrum"}},
		wantU: 1,
	}, {
		name:   "changed",
		stored: []dev{{Vendor: "Philips", Serial: "SN-A", MAC: "00:11:22:33:44:02", Model: "IntelliVue"}},
		hook: func(ctx context.Context, t *testing.T, st store.Store, ids []int64) {
			d, err := st.GetDevice(ctx, ids[0])
			if err != nil {
				t.Fatal(err)
			}
			d.MACs = []string{"00:11:22:33:44:03"}
			if err := st.UpdateDevice(ctx, d, 0); err != nil {
				t.Fatal(err)
			}
		},
		csv:   ",,IntelliVue MX450,,,00:11:22:33:44:03,,,NBR,,ICU,patient-monitor,life-supporting,yes,yes,,\n",
		want:  []dev{{Vendor: "Philips", Serial: "SN-A", MAC: "00:11:22:33:44:03", Model: "IntelliVue MX450"}},
		wantU: 1,
	}, {
		name:   "deleted",
		stored: []dev{{Vendor: "GE Healthcare", Serial: "SN-B", Model: "CARESCAPE"}},
		hook: func(ctx context.Context, t *testing.T, st store.Store, ids []int64) {
			if err := st.DeleteDevice(ctx, ids[0], 0); err != nil {
				t.Fatal(err)
			}
		},
		csv:   ",GE Healthcare,CARESCAPE B650,,SN-B,,,,NBR,,ICU,patient-monitor,life-supporting,yes,yes,,\n",
		want:  []dev{{Vendor: "GE Healthcare", Serial: "SN-B", Model: "CARESCAPE B650"}},
		wantC: 1,
	}, {
		// The last device deleted and another created: on SQLite the new
		// one takes the deleted one's id, so the count alone sees nothing.
		name: "replaced",
		stored: []dev{
			{Asset: "A-1", Vendor: "Mindray", Serial: "SN-C0", Model: "BeneView"},
			{Vendor: "Mindray", Serial: "SN-C1", Model: "BeneView"},
		},
		hook: func(ctx context.Context, t *testing.T, st store.Store, ids []int64) {
			if err := st.DeleteDevice(ctx, ids[1], 0); err != nil {
				t.Fatal(err)
			}
			create(ctx, t, st, dev{Vendor: "Mindray", Serial: "SN-C2", MAC: "00:11:22:33:44:05", Model: "BeneView"})
		},
		csv: ",Mindray,BeneView T8,,SN-C1,,,,NBR,,ICU,patient-monitor,life-supporting,yes,yes,,\n" +
			",Mindray,BeneView T5,,SN-C2,,,,NBR,,ICU,patient-monitor,life-supporting,yes,yes,,\n",
		want: []dev{
			{Asset: "A-1", Vendor: "Mindray", Serial: "SN-C0", Model: "BeneView"},
			{Vendor: "Mindray", Serial: "SN-C1", Model: "BeneView T8"},
			{Vendor: "Mindray", Serial: "SN-C2", MAC: "00:11:22:33:44:05", Model: "BeneView T5"},
		},
		wantC: 1, wantU: 1,
	}}
	for name, openStore := range bothDrivers {
		t.Run(name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ctx := context.Background()
					st := openStore(t)
					var ids []int64
					for _, d := range tt.stored {
						ids = append(ids, create(ctx, t, st, d))
					}
					defer importer.SetAfterScan(func(ctx context.Context) { tt.hook(ctx, t, st, ids) })()
					res, err := importCSV(t, st, "race.csv", hdr+tt.csv, importer.Options{})
					if err != nil {
						t.Fatalf("import: %v", err)
					}
					if res.Created != tt.wantC || res.Updated != tt.wantU {
						t.Errorf("created %d, updated %d; want %d, %d", res.Created, res.Updated, tt.wantC, tt.wantU)
					}
					var got []dev
					if err := st.ScanDevices(ctx, func(d *inventory.Device) error {
						got = append(got, dev{d.AssetID, d.Vendor, d.Serial, strings.Join(d.MACs, ";"), d.Model})
						return nil
					}); err != nil {
						t.Fatal(err)
					}
					slices.SortFunc(got, func(a, b dev) int { return strings.Compare(a.Serial, b.Serial) })
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Errorf("devices after the import (-want +got):\n%s", diff)
					}
				})
			}
		})
	}
}

// dev is what TestImportSeesWritesAfterItsScan checks of a device.
type dev struct{ Asset, Vendor, Serial, MAC, Model string }

func create(ctx context.Context, t *testing.T, st store.Store, d dev) int64 {
	t.Helper()
	nd := &inventory.Device{AssetID: d.Asset, Vendor: d.Vendor, Serial: d.Serial, Model: d.Model}
	if d.MAC != "" {
		nd.MACs = []string{d.MAC}
	}
	if err := st.CreateDevice(ctx, nd); err != nil {
		t.Fatal(err)
	}
	return nd.ID
}
