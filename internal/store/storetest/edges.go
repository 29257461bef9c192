package storetest

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// RunEdges runs the conformance tests of store.EdgeStore (sensor
// ingestion: edges, batch dedupe, the ingest transaction).
func RunEdges(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.EdgeStore, ds store.Store)
	}{
		{"claim_batch_once", testClaimBatch},
		{"upsert_edges_adds_up", testUpsertEdges},
		{"list_edges_filters_and_pages", testListEdges},
		{"ingest_is_all_or_nothing", testIngestAtomic},
		{"device_by_addr", testDeviceByAddr},
		{"inbound_peers", testInboundPeers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			es, ok := s.(store.EdgeStore)
			if !ok {
				t.Fatalf("%s store does not implement store.EdgeStore", s.Dialect())
			}
			tt.fn(t, es, s)
		})
	}
}

var t0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

func edge(src, dst string, port int, app string, bucket time.Time, pkts int64) store.Edge {
	return store.Edge{Bucket: bucket, Interval: time.Hour, SrcMAC: "00:1a:2b:00:00:01", SrcIP: src, DstIP: dst, Proto: "tcp",
		Port: port, App: app, Packets: pkts, Bytes: pkts * 100, FirstSeen: bucket.Add(time.Minute), LastSeen: bucket.Add(2 * time.Minute), Sensor: "s1"}
}

func testClaimBatch(t *testing.T, s store.EdgeStore, _ store.Store) {
	ctx := context.Background()
	claim := func(sensor string, seq uint64) bool {
		var ok bool
		if err := s.Ingest(ctx, func(tx store.IngestTx) error {
			var err error
			ok, err = tx.ClaimBatch(ctx, store.SensorBatch{Sensor: sensor, Seq: seq, Edges: 3})
			return err
		}); err != nil {
			t.Fatalf("claim %s/%d: %v", sensor, seq, err)
		}
		return ok
	}
	if !claim("s1", 1) || !claim("s1", 2) || !claim("s2", 1) {
		t.Fatal("first claims refused")
	}
	if claim("s1", 1) {
		t.Fatal("second claim of s1/1 accepted")
	}
	last, err := s.LastBatches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 2 || last[0].Sensor != "s1" || last[0].Seq != 2 || last[1].Sensor != "s2" || last[0].Edges != 3 {
		t.Fatalf("LastBatches = %+v", last)
	}
}

func upsert(t *testing.T, s store.EdgeStore, es ...store.Edge) {
	t.Helper()
	if err := s.Ingest(context.Background(), func(tx store.IngestTx) error { return tx.UpsertEdges(context.Background(), es) }); err != nil {
		t.Fatalf("UpsertEdges: %v", err)
	}
}

func testUpsertEdges(t *testing.T, s store.EdgeStore, _ store.Store) {
	ctx := context.Background()
	a := edge("10.0.0.1", "10.0.0.2", 104, "dicom", t0, 10)
	b := a
	b.Packets, b.Bytes = 5, 50
	b.FirstSeen, b.LastSeen = t0.Add(30*time.Second), t0.Add(50*time.Minute)
	upsert(t, s, a)
	upsert(t, s, b)
	other := edge("10.0.0.1", "10.0.0.2", 104, "dicom", t0.Add(time.Hour), 1) // next bucket: its own row
	upsert(t, s, other)
	p, err := s.ListEdges(ctx, store.EdgeQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Edges) != 2 {
		t.Fatalf("%d edges, want 2: %+v", len(p.Edges), p.Edges)
	}
	got := p.Edges[1] // older bucket last
	want := a
	want.ID = got.ID
	want.Packets, want.Bytes = 15, 1050
	want.FirstSeen, want.LastSeen = b.FirstSeen, b.LastSeen
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("merged edge (-want +got):\n%s", d)
	}
	if n, err := s.CountEdges(ctx); err != nil || n != 2 {
		t.Errorf("CountEdges = %d, %v", n, err)
	}
}

func testListEdges(t *testing.T, s store.EdgeStore, ds store.Store) {
	ctx := context.Background()
	var es []store.Edge
	for h := range 5 {
		for i := range 30 {
			e := edge("10.0.1.1", "10.0.2."+strconv.Itoa(i), 2575, "hl7", t0.Add(time.Duration(h)*time.Hour), int64(i+1))
			if i%3 == 0 {
				e.App, e.Port = "dicom", 104
			}
			e.SrcDevice = 7
			if i == 4 {
				e.SrcDevice, e.DstDevice = 0, 9
			}
			es = append(es, e)
		}
	}
	upsert(t, s, es...)
	var all []store.Edge
	q := store.EdgeQuery{Limit: 17}
	for {
		p, err := s.ListEdges(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Edges...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if len(all) != 150 {
		t.Fatalf("paged through %d edges, want 150", len(all))
	}
	seen := map[int64]bool{}
	for i, e := range all {
		if seen[e.ID] {
			t.Fatalf("edge %d listed twice", e.ID)
		}
		seen[e.ID] = true
		if i > 0 && e.Bucket.After(all[i-1].Bucket) {
			t.Fatalf("not newest first at %d", i)
		}
	}
	count := func(q store.EdgeQuery) int {
		t.Helper()
		q.Limit = 1000
		p, err := s.ListEdges(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Edges)
	}
	for _, c := range []struct {
		name string
		q    store.EdgeQuery
		want int
	}{
		{"device_src", store.EdgeQuery{Device: 7}, 145},
		{"device_dst", store.EdgeQuery{Device: 9}, 5},
		{"app", store.EdgeQuery{App: "dicom"}, 50},
		{"range", store.EdgeQuery{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)}, 60},
		{"device_app_range", store.EdgeQuery{Device: 7, App: "hl7", From: t0.Add(4 * time.Hour)}, 19},
		{"none", store.EdgeQuery{Device: 12345}, 0},
	} {
		if got := count(c.q); got != c.want {
			t.Errorf("%s: %d edges, want %d", c.name, got, c.want)
		}
	}
	if _, err := s.ListEdges(ctx, store.EdgeQuery{Cursor: "garbage!"}); err == nil {
		t.Error("bad cursor accepted")
	}
	_ = ds
}

func testIngestAtomic(t *testing.T, s store.EdgeStore, ds store.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Ingest(ctx, func(tx store.IngestTx) error {
		if ok, err := tx.ClaimBatch(ctx, store.SensorBatch{Sensor: "s1", Seq: 1}); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if err := tx.Insert(ctx, []*inventory.Device{{MACs: []string{"00:1a:2b:00:00:99"}}}); err != nil {
			t.Fatal(err)
		}
		if err := tx.UpsertEdges(ctx, []store.Edge{edge("10.0.0.1", "10.0.0.2", 80, "http", t0, 1)}); err != nil {
			t.Fatal(err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Ingest = %v, want boom", err)
	}
	if n, _ := s.CountEdges(ctx); n != 0 {
		t.Errorf("%d edges after rollback", n)
	}
	if n, _ := ds.CountDevices(ctx); n != 0 {
		t.Errorf("%d devices after rollback", n)
	}
	if last, _ := s.LastBatches(ctx); len(last) != 0 {
		t.Errorf("batch record after rollback: %+v", last)
	}
}

func testDeviceByAddr(t *testing.T, s store.EdgeStore, ds store.Store) {
	ctx := context.Background()
	d1, d2 := Sample(1), Sample(2)
	d2.IPs = append(d2.IPs, "10.9.9.9")
	for _, d := range []*inventory.Device{d1, d2} {
		if err := ds.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	err := s.Ingest(ctx, func(tx store.IngestTx) error {
		for _, c := range []struct {
			mac, ip string
			want    int64
		}{
			{d1.MACs[0], "", d1.ID},
			{"", d2.IPs[0], d2.ID},
			{"", "10.9.9.9", d2.ID},
			{"", "10.9.9.99", 0},
			{"02:00:00:00:00:01", "", 0},
			{"", "10.9.9.%", 0},
			{"", "", 0},
		} {
			got, err := tx.DeviceByAddr(ctx, c.mac, c.ip)
			if err != nil || got != c.want {
				t.Errorf("DeviceByAddr(%q, %q) = %d, %v; want %d", c.mac, c.ip, got, err, c.want)
			}
			d, err := tx.FindDevice(ctx, c.mac, c.ip)
			if err != nil || (d == nil) != (c.want == 0) || d != nil && (d.ID != c.want || d.AssetID == "") {
				t.Errorf("FindDevice(%q, %q) = %+v, %v; want device %d", c.mac, c.ip, d, err, c.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testInboundPeers(t *testing.T, s store.EdgeStore, _ store.Store) {
	ctx := context.Background()
	in := func(src, srcMAC string, dst int64, port int, last time.Time) store.Edge {
		e := edge(src, "10.0.9.9", port, "dicom", last.Truncate(time.Hour), 1)
		e.SrcMAC, e.DstDevice, e.LastSeen, e.FirstSeen = srcMAC, dst, last, last
		return e
	}
	self := in("10.0.9.9", "00:1a:2b:00:00:09", 7, 80, t0)
	self.SrcDevice = 7
	upsert(t, s,
		in("10.0.0.1", "00:1a:2b:00:00:01", 7, 104, t0),
		in("10.0.0.1", "00:1a:2b:00:00:01", 7, 11112, t0), // same peer, other port
		in("10.0.0.2", "00:1a:2b:00:00:02", 7, 104, t0.Add(time.Hour)),
		in("10.0.0.3", "00:1a:2b:00:00:03", 7, 104, t0.Add(-48*time.Hour)), // too old
		in("10.0.0.1", "00:1a:2b:00:00:01", 8, 104, t0),
		self, // a device talking to itself is no peer
	)
	got, err := s.InboundPeers(ctx, t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[int64]int{7: 2, 8: 1}, got); d != "" {
		t.Errorf("InboundPeers (-want +got):\n%s", d)
	}
}
