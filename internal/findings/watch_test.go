package findings

import (
	"context"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// On SQLite the watcher starts each device poll at the newest stamp it saw
// (newestStamp), not at its own clock less updateOverlap. A device that
// an import stamped before a poll and committed after it must still reach
// the engine, whatever the service's clock says: here the store's clock is
// months behind it, so a cursor taken from the service's clock (or from it
// less ten minutes, as before) misses the device.
func TestPollSeesLongImportSQLite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	oldNow := store.Now
	defer func() { store.Now = oldNow }()
	t0 := time.Date(2026, time.January, 5, 10, 0, 0, 0, time.UTC)
	store.Now = func() time.Time { return t0 }
	st := openSQLite(t)
	rec := hospital(t, st, 40, nil)
	svc := New(rec, Options{PollInterval: -1})
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := svc.eng.Len()

	// an import stamps a device, then is held open across a poll
	store.Now = func() time.Time { return t0.Add(time.Second) }
	late := &inventory.Device{AssetID: "LATE-0001", Vendor: "Acme", Model: "Late", DeviceType: "infusion-pump", Serial: "SN-LATE"}
	inserted, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- st.Import(ctx, func(tx store.ImportTx) error {
			if err := tx.Insert(ctx, []*inventory.Device{late}); err != nil {
				return err
			}
			close(inserted)
			<-release
			return nil
		})
	}()
	select {
	case <-inserted:
	case err := <-done:
		t.Fatalf("import: %v", err)
	}
	if err := svc.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := svc.eng.Len(); n != before {
		t.Fatalf("an uncommitted device reached the engine: %d devices, want %d", n, before)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, err := rec.GetDeviceByAssetID(ctx, "LATE-0001")
	if err != nil {
		t.Fatal(err)
	}
	store.Now = func() time.Time { return t0.Add(2 * time.Second) }
	if err := svc.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if svc.eng.Device(got.ID) == nil {
		t.Error("the watcher missed a device whose import committed after a poll")
	}
	if n, _ := svc.eng.Len(); n != before+1 {
		t.Errorf("engine holds %d devices, want %d", n, before+1)
	}
	// the poll after it starts near the newest stamp, not at the import
	if want := t0.Add(time.Second).Add(-stampMargin); !svc.devSince.Equal(want) {
		t.Errorf("next poll starts at %v, want %v", svc.devSince, want)
	}
}
