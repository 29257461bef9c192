package recorder_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/sqldb"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// verifyChain checks the whole audit log and returns its entries.
func verifyChain(t *testing.T, st *sqldb.DB) []*audit.Entry {
	t.Helper()
	v := audit.NewVerifier()
	var es []*audit.Entry
	if err := st.ScanAudit(t.Context(), 0, func(e *audit.Entry) error {
		es = append(es, e)
		return v.Add(e)
	}); err != nil {
		t.Fatalf("audit chain: %v", err)
	}
	return es
}

// concurrentDeviceWrites runs writers that create, update (with the right
// and with a stale revision), re-create an existing asset id and delete,
// all at the same time through the recorder, then checks every
// acknowledged write is in the store with exactly one audit entry, every
// refused one left nothing, and the chain verifies.
func concurrentDeviceWrites(t *testing.T, open func() *sqldb.DB) {
	st := open()
	rec, err := recorder.Wrap(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithActor(t.Context(), audit.Actor{Name: "ana/token:1", Kind: audit.KindToken, Source: "127.0.0.1"})
	const writers, each = 24, 12
	type result struct {
		asset    string
		id       int64
		revision int64 // 0: deleted
		acks     int   // acknowledged writes (each one audit entry)
		refused  int
	}
	results := make([]result, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := &results[w*each+i]
				r.asset = fmt.Sprintf("GC-%02d-%02d", w, i)
				d := &inventory.Device{AssetID: r.asset, Vendor: "Baxter", Model: "Sigma Spectrum", Site: "NBR"}
				if err := rec.CreateDevice(ctx, d); err != nil {
					t.Errorf("create %s: %v", r.asset, err)
					continue
				}
				r.id, r.revision, r.acks = d.ID, d.Revision, 1
				// the same asset id again: refused, nothing written
				if err := rec.CreateDevice(ctx, &inventory.Device{AssetID: r.asset}); !errors.Is(err, store.ErrExists) {
					t.Errorf("duplicate %s: %v, want ErrExists", r.asset, err)
				}
				r.refused++
				// an update with the right revision, then one with a stale one
				d.Version = "2.0"
				if err := rec.UpdateDevice(ctx, d, r.revision); err != nil {
					t.Errorf("update %s: %v", r.asset, err)
					continue
				}
				r.revision, r.acks = d.Revision, r.acks+1
				stale := *d
				stale.Version = "9.9"
				if err := rec.UpdateDevice(ctx, &stale, r.revision-1); !errors.Is(err, store.ErrConflict) {
					t.Errorf("stale update %s: %v, want ErrConflict", r.asset, err)
				}
				r.refused++
				if i%4 == 0 {
					if err := rec.DeleteDevice(ctx, d.ID, r.revision); err != nil {
						t.Errorf("delete %s: %v", r.asset, err)
						continue
					}
					r.revision, r.acks = 0, r.acks+1
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	st.Close()

	st = open() // reopened: only what was committed
	defer st.Close()
	// SQLite reuses the id of a deleted device that had the highest id,
	// so entries are grouped by the asset id they show.
	byAsset := map[string][]string{}
	for _, e := range verifyChain(t, st) {
		var v struct {
			AssetID string `json:"asset_id"`
		}
		body := e.After
		if e.Action == "device.delete" {
			body = e.Before
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("entry %d: %v", e.Seq, err)
		}
		byAsset[v.AssetID] = append(byAsset[v.AssetID], e.Action)
	}
	for _, r := range results {
		d, err := st.GetDeviceByAssetID(t.Context(), r.asset)
		switch {
		case r.revision == 0:
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s was deleted (acknowledged) but reads %v, %v", r.asset, d, err)
			}
		case err != nil:
			t.Errorf("%s acknowledged but missing after reopen: %v", r.asset, err)
		case d.Revision != r.revision || d.Version != "2.0":
			t.Errorf("%s: revision %d version %q, want %d and 2.0 (a refused write changed it?)", r.asset, d.Revision, d.Version, r.revision)
		}
		want := []string{"device.create", "device.update"}
		if r.revision == 0 {
			want = append(want, "device.delete")
		}
		if got := byAsset[r.asset]; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s (device %d): audit entries %v, want %v (one per acknowledged write, none for refused ones)", r.asset, r.id, got, want)
		}
	}
}

// TestConcurrentDeviceWritesSQLite: group-committed writes on SQLite.
func TestConcurrentDeviceWritesSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	concurrentDeviceWrites(t, func() *sqldb.DB {
		st, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// TestConcurrentDeviceWritesPostgres: the same on PostgreSQL (skipped
// without MEDWARDEN_TEST_POSTGRES).
func TestConcurrentDeviceWritesPostgres(t *testing.T) {
	base := os.Getenv("MEDWARDEN_TEST_POSTGRES")
	if base == "" {
		t.Skip("MEDWARDEN_TEST_POSTGRES is not set: PostgreSQL group commit not tested")
	}
	dsn := storetest.PostgresSchemaDSN(t, base)
	concurrentDeviceWrites(t, func() *sqldb.DB {
		st, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

// TestAcknowledgedWritesSurviveSIGKILL: a child process creates devices
// from 16 goroutines through the recorder and prints each asset id once
// its write is acknowledged; the child is killed with SIGKILL mid-stream.
// After reopening, every acknowledged device is there, every device has
// its audit entry (no change without its entry, no entry without its
// change) and the chain verifies.
func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	if os.Getenv("MW_GROUPCOMMIT_CHILD") != "" {
		t.Skip("run as the child")
	}
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	st, err := sqlite.Open(t.Context(), path) // migrate before the child starts
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestGroupCommitChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), "MW_GROUPCOMMIT_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(2 * time.Minute)
	for sc.Scan() && len(acked) < 400 && time.Now().Before(deadline) {
		if a, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			acked[a] = true
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() { // acknowledgements written before the kill landed
		if a, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
			acked[a] = true
		}
	}
	cmd.Wait() //nolint:errcheck // killed
	if len(acked) < 100 {
		t.Fatalf("only %d writes acknowledged before the deadline", len(acked))
	}

	st, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer st.Close()
	entries := verifyChain(t, st)
	devices := map[string]int64{}
	if err := st.ScanDevices(t.Context(), func(d *inventory.Device) error {
		devices[d.AssetID] = d.ID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for a := range acked {
		if _, ok := devices[a]; !ok {
			t.Errorf("acknowledged device %s lost after SIGKILL", a)
		}
	}
	audited := map[string]bool{}
	for _, e := range entries {
		audited[e.Object] = true
	}
	for a, id := range devices {
		if !audited[fmt.Sprintf("device/%d", id)] {
			t.Errorf("device %s (%d) stored without its audit entry", a, id)
		}
	}
	if len(entries) != len(devices) {
		t.Errorf("%d audit entries for %d devices, want one each", len(entries), len(devices))
	}
	t.Logf("%d acknowledged before SIGKILL, %d stored (writes committed but not yet acknowledged are kept too), %d audit entries", len(acked), len(devices), len(entries))
}

// TestGroupCommitChild is the child of TestAcknowledgedWritesSurviveSIGKILL.
func TestGroupCommitChild(t *testing.T) {
	path := os.Getenv("MW_GROUPCOMMIT_CHILD")
	if path == "" {
		t.Skip("only run as the child of TestAcknowledgedWritesSurviveSIGKILL")
	}
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recorder.Wrap(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "child", Kind: audit.KindSystem, Source: "test"})
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				a := fmt.Sprintf("KILL-%02d-%05d", w, i)
				if err := rec.CreateDevice(ctx, &inventory.Device{AssetID: a, Vendor: "GE", Model: "CARESCAPE"}); err != nil {
					fmt.Fprintf(os.Stderr, "create %s: %v\n", a, err)
					return
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ack %s\n", a) // one write(2): after the commit
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
