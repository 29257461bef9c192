package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/bus"
	"github.com/medwarden/medwarden/internal/bus/memory"
	"github.com/medwarden/medwarden/internal/ingest"
	"github.com/medwarden/medwarden/internal/ingest/ingesttest"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/simulate"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// auditLog reads the whole log, checking the chain as the CLI's
// 'audit verify' does.
func auditLog(t *testing.T, st store.Store) []*audit.Entry {
	t.Helper()
	var out []*audit.Entry
	v := audit.NewVerifier()
	if err := st.(store.SecurityStore).ScanAudit(context.Background(), 0, func(e *audit.Entry) error {
		out = append(out, e)
		return v.Add(e)
	}); err != nil {
		t.Fatalf("audit verify: %v", err)
	}
	return out
}

// TestIngestAudited: sensor batches sent through the real path (the API's
// sink with the sender's identity, the in-process bus, the ingester)
// leave one audit entry per device change — created devices, changed
// observed values, raised conflicts — naming the sensor and its address,
// chained after the entries already there; resent batches add none.
func TestIngestAudited(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); testIngestAudited(t, openStore(t)) })
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("MEDWARDEN_TEST_POSTGRES")
		if base == "" {
			t.Skip("MEDWARDEN_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable): skipping the PostgreSQL run")
		}
		t.Parallel()
		st, err := postgres.Open(context.Background(), storetest.PostgresSchemaDSN(t, base))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		testIngestAudited(t, st)
	})
}

func testIngestAudited(t *testing.T, st store.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := ingesttest.Produce(t, simulate.Config{Devices: 20, Minutes: 4, Seed: 7}, "icu-span-2", time.Minute)
	reg := registerFrom(t, st, out.Truth, 8)
	// An entry already in the log: the sensor's entries chain after it.
	first, err := audit.New(audit.Actor{Name: "alice", Kind: audit.KindUser, Source: "10.0.0.9"}, time.Now(), "import.run", "inventory", nil, map[string]int{"created": len(reg)})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.(store.SecurityStore).AppendAudit(ctx, first); err != nil {
		t.Fatal(err)
	}

	b := memory.New(memory.Options{})
	defer b.Close()
	svc := ingest.New(st, nil)
	c, err := b.Consumer(ctx, ingest.ConsumerName)
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx, c) }()
	defer func() { stop(); <-done }()
	sink := ingest.NewSink(b, false, svc)
	who := audit.Actor{Name: "sensor:icu-span-2", Kind: audit.KindSensor, Source: "10.20.0.5"}
	sctx := audit.WithActor(ctx, who) // what the API's authentication puts there
	for _, bt := range out.Batches {
		data, _ := bt.Encode()
		if status, err := sink.Submit(sctx, bt, data); err != nil || status != ingest.StatusApplied {
			t.Fatalf("Submit %s: %q, %v", bt.ID(), status, err)
		}
	}
	log := auditLog(t, st)
	if log[0].Hash != first.Hash {
		t.Fatalf("the first entry changed: %+v", log[0])
	}
	sensorEntries := log[1:]
	if len(sensorEntries) == 0 {
		t.Fatal("sensor ingestion wrote no audit entry")
	}
	byObject := map[string][]*audit.Entry{}
	for _, e := range sensorEntries {
		if e.Actor != who.Name || e.ActorKind != who.Kind || e.Source != who.Source {
			t.Errorf("entry %d %s %s: actor %q/%q from %q, want %+v", e.Seq, e.Action, e.Object, e.Actor, e.ActorKind, e.Source, who)
		}
		var after struct {
			Batch string `json:"batch"`
		}
		if err := json.Unmarshal(e.After, &after); err != nil || !strings.HasPrefix(after.Batch, "icu-span-2/") {
			t.Errorf("entry %d %s: after does not name the batch: %s", e.Seq, e.Action, e.After)
		}
		byObject[e.Object] = append(byObject[e.Object], e)
	}

	// Every device the sensor created has exactly one creation entry,
	// holding the device as created.
	page, err := st.ListDevices(ctx, store.DeviceQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	created := 0
	for _, d := range page.Devices {
		obj := fmt.Sprintf("device/%d", d.ID)
		if d.AssetID != "" {
			continue
		}
		created++
		es := byObject[obj]
		if len(es) == 0 || es[0].Action != ingest.ActionCreate || es[0].Before == nil || string(es[0].Before) != "null" {
			t.Errorf("%s (created by the sensor): entries %v", obj, actions(es))
			continue
		}
		for _, e := range es[1:] {
			if e.Action == ingest.ActionCreate {
				t.Errorf("%s created twice in the log", obj)
			}
		}
		var after struct {
			Device inventory.Device `json:"device"`
		}
		if err := json.Unmarshal(es[0].After, &after); err != nil || after.Device.ID != d.ID || len(after.Device.MACs)+len(after.Device.IPs) == 0 {
			t.Errorf("%s: creation entry holds %s (%v)", obj, es[0].After, err)
		}
	}
	if created == 0 {
		t.Fatal("the simulated ward created no device: nothing checked")
	}

	// Registered devices: their observed values are audited, with the
	// value before (none at first); a wrong register version is a conflict.
	for i, r := range reg {
		d, err := st.GetDeviceByAssetID(ctx, r.AssetID)
		if err != nil {
			t.Fatal(err)
		}
		es := byObject[fmt.Sprintf("device/%d", d.ID)]
		if len(es) == 0 {
			t.Errorf("%s: observed values %v but no audit entry", r.AssetID, keys(d.Observed))
			continue
		}
		var before struct {
			Observed map[string]*inventory.Observation `json:"observed"`
		}
		if err := json.Unmarshal(es[0].Before, &before); err != nil || len(before.Observed) == 0 {
			t.Errorf("%s: first entry's before %s (%v)", r.AssetID, es[0].Before, err)
		}
		for f, o := range before.Observed {
			if o != nil {
				t.Errorf("%s: field %s had an observed value %+v before the first batch", r.AssetID, f, o)
			}
		}
		conflict := false
		for _, e := range es {
			if e.Action == ingest.ActionCreate {
				t.Errorf("%s: a registered device audited as created", r.AssetID)
			}
			var after struct {
				Observed  map[string]inventory.Observation `json:"observed"`
				Conflicts []inventory.Conflict             `json:"conflicts"`
			}
			if err := json.Unmarshal(e.After, &after); err != nil || len(after.Observed) == 0 {
				t.Errorf("%s: entry %d after %s (%v)", r.AssetID, e.Seq, e.After, err)
			}
			for _, c := range after.Conflicts {
				if c.Field == "version" && c.Intended == "0.9-register" && e.Action == ingest.ActionConflict {
					conflict = true
				}
			}
		}
		if wantConflict := i%2 == 1 && d.Observed["version"].Value != ""; conflict != wantConflict {
			t.Errorf("%s: version conflict audited %v, want %v (entries %v)", r.AssetID, conflict, wantConflict, actions(es))
		}
	}

	// Sent again (a sensor resending after a lost answer): no new entry.
	n := len(log)
	for _, bt := range out.Batches {
		data, _ := bt.Encode()
		if status, err := sink.Submit(sctx, bt, data); err != nil || status != ingest.StatusDuplicate {
			t.Fatalf("resubmit %s: %q, %v", bt.ID(), status, err)
		}
	}
	if got := len(auditLog(t, st)); got != n {
		t.Errorf("resent batches added %d audit entries", got-n)
	}
	t.Logf("%d batches: %d audit entries for %d created devices and %d registered ones", len(out.Batches), len(sensorEntries), created, len(reg))
}

// TestIngestAuditWithoutSender: a batch published to the bus without the
// API's sender line (a sensor publishing to NATS directly) is audited as
// its sensor id, source "-".
func TestIngestAuditWithoutSender(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := ingesttest.Produce(t, simulate.Config{Devices: 6, Minutes: 2, Seed: 4}, "lab-2", time.Minute)
	st := openStore(t)
	b := memory.New(memory.Options{})
	defer b.Close()
	svc := ingest.New(st, nil)
	c, _ := b.Consumer(ctx, ingest.ConsumerName)
	bt := out.Batches[0]
	data, _ := bt.Encode()
	if _, err := b.Publish(ctx, bus.Message{ID: bt.ID(), Data: data}); err != nil {
		t.Fatal(err)
	}
	d, err := c.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	svc.Handle(ctx, d)
	if cn := svc.Counters(); cn.Applied != 1 {
		t.Fatalf("counters %+v", cn)
	}
	log := auditLog(t, st)
	if len(log) == 0 {
		t.Fatal("no audit entry")
	}
	for _, e := range log {
		if e.Actor != "sensor:lab-2" || e.ActorKind != audit.KindSensor || e.Source != "-" {
			t.Errorf("entry %d: %q/%q from %q, want sensor:lab-2/sensor from -", e.Seq, e.Actor, e.ActorKind, e.Source)
		}
	}
}

func actions(es []*audit.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestIngestBesideDeviceWrites: sensor batches observing the devices that
// API users edit at the same moment. On PostgreSQL both lock device rows
// and the audit log; taken in different orders they would deadlock (and
// PostgreSQL would abort one side after a second). Every batch and every
// edit must succeed, and the chain verifies.
func TestIngestBesideDeviceWrites(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, st store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out := ingesttest.Produce(t, simulate.Config{Devices: 20, Minutes: 6, Seed: 12}, "or-1", time.Minute)
		reg := registerFrom(t, st, out.Truth, 10)
		rec, err := recorder.Wrap(st, nil)
		if err != nil {
			t.Fatal(err)
		}
		svc := ingest.New(st, nil)
		errc := make(chan error, 2)
		go func() {
			for i := range 3 { // each pass a new sensor id: every device's observed values change
				for _, bt := range out.Batches {
					c := *bt
					c.SensorID = fmt.Sprintf("or-%d", i)
					if _, err := svc.Apply(audit.WithActor(ctx, audit.Actor{Name: "sensor:" + c.SensorID, Kind: audit.KindSensor, Source: "10.3.0.1"}), &c); err != nil {
						errc <- err
						return
					}
				}
			}
			errc <- nil
		}()
		go func() {
			actx := audit.WithActor(ctx, audit.Actor{Name: "bob", Kind: audit.KindUser, Source: "10.0.0.2"})
			for i := range 60 {
				d, err := st.GetDeviceByAssetID(ctx, reg[i%len(reg)].AssetID)
				if err == nil {
					d.Location = fmt.Sprintf("OR %d", i)
					err = rec.UpdateDevice(actx, d, 0)
				}
				if err != nil {
					errc <- fmt.Errorf("edit %d: %w", i, err)
					return
				}
			}
			errc <- nil
		}()
		for range 2 {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
		log := auditLog(t, st)
		kinds := map[string]int{}
		for _, e := range log {
			kinds[e.ActorKind]++
		}
		if kinds[audit.KindUser] != 60 || kinds[audit.KindSensor] == 0 {
			t.Fatalf("audit entries by kind %v, want 60 edits and the sensors' changes", kinds)
		}
	}
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); run(t, openStore(t)) })
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("MEDWARDEN_TEST_POSTGRES")
		if base == "" {
			t.Skip("MEDWARDEN_TEST_POSTGRES is not set: skipping the PostgreSQL run")
		}
		t.Parallel()
		st, err := postgres.Open(context.Background(), storetest.PostgresSchemaDSN(t, base))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		run(t, st)
	})
}
