package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

// Full multi-row INSERTs leave out the columns every row holds at its
// default (insertStmt); a column one row fills is bound for all. Every
// device must read back exactly as written either way.
func TestBulkInsertLeavesDefaultsOut(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	yes := true
	seen := time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)
	eol := inventory.NewDate(2030, time.January, 1)
	var ds []*inventory.Device
	for i := range 64*3 + 5 { // three full INSERTs and a short one
		d := &inventory.Device{Vendor: "Baxter", Model: fmt.Sprintf("Sigma %d", i%5), DeviceType: "infusion-pump"}
		if i >= 64 { // the second and later INSERTs: tags, and one device with everything
			d.AssetID = fmt.Sprintf("OMIT-%04d", i)
		}
		if i == 100 {
			d.Hostname, d.Location, d.UDIDI, d.Zone, d.OS = "pump-100", "B1/2/ICU", "00812345678901", "vlan-20", "VxWorks 6.9"
			d.PHI, d.PatientConnected, d.EndOfLife, d.FirstSeen, d.LastSeen = &yes, &yes, &eol, &seen, &seen
			d.Observed = map[string]inventory.Observation{"ip": {Value: "10.0.0.100", Source: "sensor-1", At: seen}}
		}
		if i == 190 { // in the short INSERT
			d.Hostname = "pump-190"
		}
		ds = append(ds, d)
	}
	want := make([]string, len(ds))
	for i, d := range ds {
		want[i] = fields(d)
	}
	if err := st.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, ds) }); err != nil {
		t.Fatal(err)
	}
	for i, d := range ds {
		got, err := st.GetDevice(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g := fields(got); g != want[i] {
			t.Errorf("device %d read back\n got %s\nwant %s", i, g, want[i])
		}
	}
}

// fields prints what a device holds, pointers as their values.
func fields(d *inventory.Device) string {
	pb := func(b *bool) string {
		if b == nil {
			return "nil"
		}
		return fmt.Sprint(*b)
	}
	pt := func(t *time.Time) string {
		if t == nil {
			return "nil"
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	pd := func(d *inventory.Date) string {
		if d == nil {
			return "nil"
		}
		return d.String()
	}
	obs := fmt.Sprint(len(d.Observed))
	for k, o := range d.Observed {
		obs += fmt.Sprintf(" %s=%s/%s/%s", k, o.Value, o.Source, o.At.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("asset=%q vendor=%q model=%q type=%q host=%q loc=%q udi=%q zone=%q os=%q phi=%s pc=%s eol=%s first=%s last=%s observed=%s",
		d.AssetID, d.Vendor, d.Model, d.DeviceType, d.Hostname, d.Location, d.UDIDI, d.Zone, d.OS,
		pb(d.PHI), pb(d.PatientConnected), pd(d.EndOfLife), pt(d.FirstSeen), pt(d.LastSeen), obs)
}
