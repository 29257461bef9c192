package findings

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/store"
)

// TestPollFindsDeletionsUnderSteadyCreates: a device deleted while other
// devices are being created (more of them after each poll's walk than the
// deletions) leaves the store holding more devices than the engine, so
// the counts never show the deletion; the watcher must still find it,
// within idScanEvery, and must not scan every identity at every poll
// meanwhile.
func TestPollFindsDeletionsUnderSteadyCreates(t *testing.T) {
	for name, open := range openers(t) {
		t.Run(name, func(t *testing.T) { testPollDeletions(t, open(t)) })
	}
}

func testPollDeletions(t *testing.T, raw store.Store) {
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "alice", Kind: audit.KindUser, Source: "test"})
	st := hospital(t, raw, 300, icsma(t))
	var mu sync.Mutex
	now := time.Now().UTC()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	svc := New(st, Options{PollInterval: -1, Now: clock})
	if _, err := svc.RecomputeAll(ctx); err != nil {
		t.Fatal(err)
	}
	fs := all(t, st, store.FindingQuery{})
	if len(fs) == 0 {
		t.Fatal("no findings in the test hospital")
	}
	gone := fs[0].DeviceID
	template, err := st.GetDevice(ctx, fs[len(fs)-1].DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	created := 0
	create := func() {
		d := *template
		created++
		d.ID, d.Revision = 0, 0
		d.AssetID, d.Serial = fmt.Sprintf("STEADY-%04d", created), fmt.Sprintf("SN-STEADY-%04d", created)
		d.MACs, d.IPs, d.Hostname = nil, nil, ""
		if err := st.CreateDevice(ctx, &d); err != nil {
			t.Fatal(err)
		}
	}
	svc.lastIDScan = clock() // a deletion scan has just run
	deleted := false
	afterDeviceWalk = func() {
		// after each walk: two creations, and once the deletion
		if !deleted {
			deleted = true
			if err := st.DeleteDevice(ctx, gone, 0); err != nil {
				t.Fatal(err)
			}
		}
		create()
		create()
	}
	defer func() { afterDeviceWalk = nil }()
	open := func() int { return len(all(t, st, store.FindingQuery{DeviceID: gone})) }
	before := open()
	scanned := svc.lastIDScan
	for i := 0; i < 2; i++ {
		mu.Lock()
		now = now.Add(time.Second) // a scan now would move lastIDScan
		mu.Unlock()
		if err := svc.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !svc.lastIDScan.Equal(scanned) {
		t.Errorf("an identity scan ran within idScanEvery of the last (at %v, last %v)", svc.lastIDScan, scanned)
	}
	if n := open(); n != before {
		t.Errorf("open findings of the deleted device %d → %d before any scan", before, n)
	}
	mu.Lock()
	now = now.Add(idScanEvery + time.Second)
	mu.Unlock()
	if err := svc.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if n := open(); n != 0 {
		t.Errorf("the device deleted behind steady creations keeps %d open findings after idScanEvery", n)
	}
	if !svc.lastIDScan.Equal(clock()) {
		t.Errorf("no deletion scan at the poll after idScanEvery (last %v, now %v)", svc.lastIDScan, clock())
	}
}
