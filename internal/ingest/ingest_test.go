package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/bus"
	"github.com/medwarden/medwarden/internal/bus/memory"
	"github.com/medwarden/medwarden/internal/importer"
	"github.com/medwarden/medwarden/internal/ingest"
	"github.com/medwarden/medwarden/internal/ingest/ingesttest"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/simulate"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sumEdges(t *testing.T, s store.Store) (pkts, bytes int64, rows int) {
	t.Helper()
	q := store.EdgeQuery{Limit: 1000}
	for {
		p, err := s.ListEdges(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Edges {
			pkts += e.Packets
			bytes += e.Bytes
			rows++
		}
		if p.Next == "" {
			return
		}
		q.Cursor = p.Next
	}
}

// registerFrom imports some simulated devices as a hospital register would
// hold them: asset tag, vendor, model, MAC, IP, and for every other one a
// firmware version that differs from what the device reports on the wire.
func registerFrom(t *testing.T, s store.Store, truth *simulate.Truth, n int) []*inventory.Device {
	t.Helper()
	var reg []*inventory.Device
	for i, h := range truth.Devices {
		if h.External || h.Software == "" || len(reg) == n {
			continue
		}
		d := &inventory.Device{AssetID: fmt.Sprintf("BIO-%04d", i), Vendor: h.Vendor, Model: h.Model, MACs: []string{h.MAC}, IPs: []string{h.IP}, Version: h.Software}
		if len(reg)%2 == 1 {
			d.Version = "0.9-register"
		}
		reg = append(reg, d)
	}
	if _, err := importer.Import(context.Background(), s, &inventory.SliceDecoder{Devices: reg}, importer.Options{Source: "register.csv"}); err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestApplySimulatedHospital(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	out := ingesttest.Produce(t, simulate.Config{Devices: 24, Minutes: 5, Seed: 3}, "icu-span-1", time.Minute)
	if len(out.Batches) < 5 {
		t.Fatalf("%d batches from 5 minutes, want at least 5", len(out.Batches))
	}
	st := openStore(t)
	reg := registerFrom(t, st, out.Truth, 10)
	svc := ingest.New(st, nil)
	var changed []int64
	svc.OnChanged = func(_ context.Context, ids []int64) { changed = append(changed, ids...) }
	created, conflicts := 0, 0
	for _, b := range out.Batches {
		res, err := svc.Apply(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if res.Duplicate {
			t.Fatalf("batch %s reported duplicate on first apply", b.ID())
		}
		created += len(res.Created)
		conflicts += res.Conflicts
	}
	pk, by, rows := sumEdges(t, st)
	if pk != int64(out.Packets) || by != int64(out.Bytes) || rows == 0 {
		t.Fatalf("stored edges: %d packets %d bytes in %d rows, want the sensor's %d packets %d bytes", pk, by, rows, out.Packets, out.Bytes)
	}
	// Every batch again (a sensor resending after a lost response, a bus
	// redelivery): nothing changes.
	for _, b := range out.Batches {
		res, err := svc.Apply(ctx, b)
		if err != nil || !res.Duplicate {
			t.Fatalf("re-apply %s: %+v, %v; want duplicate", b.ID(), res, err)
		}
	}
	if pk2, by2, rows2 := sumEdges(t, st); pk2 != pk || by2 != by || rows2 != rows {
		t.Fatalf("after resending: %d/%d/%d, want %d/%d/%d", pk2, by2, rows2, pk, by, rows)
	}
	if c := svc.Counters(); c.Applied != int64(len(out.Batches)) || c.Duplicates != int64(len(out.Batches)) {
		t.Errorf("counters %+v", c)
	}
	if created == 0 || len(changed) == 0 {
		t.Errorf("created %d devices, %d change notices: want new (unregistered) devices and notices", created, len(changed))
	}
	// Registered devices keep their intended values and carry observed ones;
	// the wrong register versions show up as conflicts.
	versionConflicts := 0
	for i, r := range reg {
		d, err := st.GetDeviceByAssetID(ctx, r.AssetID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Version != r.Version || d.Vendor != r.Vendor || d.Provenance["version"].Kind != inventory.SourceImported {
			t.Errorf("%s: intended values changed: version %q vendor %q provenance %+v", r.AssetID, d.Version, d.Vendor, d.Provenance["version"])
		}
		if len(d.Observed) == 0 || d.LastSeen == nil {
			t.Errorf("%s (%s): no observed values", r.AssetID, r.MACs[0])
			continue
		}
		if o := d.Observed["ip"]; o.Source != "icu-span-1" || o.Value != r.IPs[0] {
			t.Errorf("%s: observed ip %+v", r.AssetID, o)
		}
		for _, c := range d.Conflicts() {
			if c.Field == "vendor" {
				t.Errorf("%s: vendor conflict %q vs %q (same maker)", r.AssetID, c.Intended, c.Observed.Value)
			}
			if c.Field == "version" {
				versionConflicts++
				if i%2 == 0 {
					t.Errorf("%s: version conflict although the register holds the reported version: %+v", r.AssetID, c)
				}
			}
		}
	}
	t.Logf("%d batches, %d edge rows, %d packets, %d devices created, %d conflicts (%d on version)", len(out.Batches), rows, pk, created, conflicts, versionConflicts)
	if versionConflicts == 0 || conflicts == 0 {
		t.Errorf("%d version conflicts (%d in results), want the wrong register versions flagged", versionConflicts, conflicts)
	}
	// New devices: addresses only as values (observed provenance), the rest observed.
	page, err := st.ListDevices(ctx, store.DeviceQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	newDevs := 0
	for _, d := range page.Devices {
		if d.AssetID != "" {
			continue
		}
		newDevs++
		if d.Vendor != "" || d.Provenance["mac"].Kind != inventory.SourceObserved && d.Provenance["ip"].Kind != inventory.SourceObserved {
			t.Errorf("new device %d: vendor %q provenance %+v", d.ID, d.Vendor, d.Provenance)
		}
	}
	if newDevs != created {
		t.Errorf("%d devices without asset tag, %d created", newDevs, created)
	}
	// Edges of a registered device resolve to it.
	d, _ := st.GetDeviceByAssetID(ctx, reg[0].AssetID)
	ep, err := st.ListEdges(ctx, store.EdgeQuery{Device: d.ID})
	if err != nil || len(ep.Edges) == 0 {
		t.Fatalf("edges of %s: %d, %v", reg[0].AssetID, len(ep.Edges), err)
	}
}

func TestRunOverMemoryBusRedeliversFailures(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := ingesttest.Produce(t, simulate.Config{Devices: 10, Minutes: 3, Seed: 5}, "lab-1", time.Minute)
	st := openStore(t)
	b := memory.New(memory.Options{AckWait: time.Second})
	defer b.Close()
	svc := ingest.New(st, nil)
	// A poisoned message is dropped and counted, not retried forever.
	if _, err := b.Publish(ctx, bus.Message{ID: "junk/1", Data: []byte(`{"format":"nope"}`)}); err != nil {
		t.Fatal(err)
	}
	for _, bt := range out.Batches {
		data, _ := bt.Encode()
		// Published twice under different ids: the store's (sensor, seq)
		// record still applies it once.
		for i := range 2 {
			if _, err := b.Publish(ctx, bus.Message{ID: fmt.Sprintf("%s#%d", bt.ID(), i), Data: data}); err != nil {
				t.Fatal(err)
			}
		}
	}
	c, _ := b.Consumer(ctx, ingest.ConsumerName)
	done := make(chan error, 1)
	rctx, stop := context.WithCancel(ctx)
	go func() { done <- svc.Run(rctx, c) }()
	for b.Len() > 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	pk, _, _ := sumEdges(t, st)
	if pk != int64(out.Packets) {
		t.Fatalf("%d packets stored, want %d", pk, out.Packets)
	}
	cn := svc.Counters()
	if cn.Applied != int64(len(out.Batches)) || cn.Duplicates != int64(len(out.Batches)) || cn.Rejected != 1 {
		t.Fatalf("counters %+v, want %d applied, %d duplicates, 1 rejected", cn, len(out.Batches), len(out.Batches))
	}
}

func TestSinkWaitsForCommit(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := ingesttest.Produce(t, simulate.Config{Devices: 6, Minutes: 2, Seed: 9}, "ed-1", time.Minute)
	st := openStore(t)
	b := memory.New(memory.Options{})
	defer b.Close()
	svc := ingest.New(st, nil)
	c, _ := b.Consumer(ctx, ingest.ConsumerName)
	go svc.Run(ctx, c)
	sink := ingest.NewSink(b, false, svc)
	for _, bt := range out.Batches {
		data, _ := bt.Encode()
		status, err := sink.Submit(ctx, bt, data)
		if err != nil || status != ingest.StatusApplied {
			t.Fatalf("Submit %s: %q, %v", bt.ID(), status, err)
		}
		// Acknowledged means stored: the batch record is there now.
		last, _ := st.LastBatches(ctx)
		if len(last) != 1 || last[0].Seq != bt.Seq {
			t.Fatalf("after Submit %s: last batches %+v", bt.ID(), last)
		}
		status, err = sink.Submit(ctx, bt, data)
		if err != nil || status != ingest.StatusDuplicate {
			t.Fatalf("resubmit %s: %q, %v", bt.ID(), status, err)
		}
	}
	pk, _, _ := sumEdges(t, st)
	if pk != int64(out.Packets) {
		t.Fatalf("%d packets stored, want %d", pk, out.Packets)
	}
}

func TestBatchesRoundTrip(t *testing.T) {
	t.Parallel()
	out := ingesttest.Produce(t, simulate.Config{Devices: 8, Minutes: 2, Seed: 1}, "s-1", time.Minute)
	for _, b := range out.Batches {
		data, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decode(data); err != nil {
			t.Fatalf("batch %s does not validate: %v", b.ID(), err)
		}
		if !strings.Contains(string(data), `"format":"medwarden-sensor-batch"`) {
			t.Fatal("format marker missing")
		}
	}
}

func decode(data []byte) (any, error) {
	return batchDecode(bytes.NewReader(data))
}
