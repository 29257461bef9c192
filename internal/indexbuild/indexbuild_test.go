package indexbuild_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/indexbuild"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqldb"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// openStore opens a fresh SQLite store, closed when t ends.
func openStore(t *testing.T) *sqldb.DB {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// A Runner builds what is pending when kicked, again when kicked during a
// run, and logs each step.
func TestRunnerBuildsPending(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	drop := func(name string) { storetest.DeferIndexBuild(t, st.SQL, name) }
	exists := func(name string) bool {
		var n int
		if err := st.SQL.QueryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = $1", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	var logs bytes.Buffer
	r := indexbuild.New(ctx, st, slog.New(slog.NewTextHandler(&logs, nil)))
	r.Kick() // nothing pending: returns without logging a build
	r.Wait()
	drop("devices_vendor")
	drop("devices_model")
	r.Kick()
	r.Kick() // during the run (or after it): another run, which finds nothing left
	r.Wait()
	for _, n := range []string{"devices_vendor", "devices_model"} {
		if !exists(n) {
			t.Errorf("%s not rebuilt", n)
		}
	}
	if p, err := st.PendingIndexes(ctx); err != nil || len(p) != 0 {
		t.Fatalf("pending after the run: %v, %v", p, err)
	}
	for _, want := range []string{"index=devices_model", "index=devices_vendor", "deferred index builds done"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	// A cancelled Runner stops; what it did not build stays pending.
	drop("devices_site")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	r = indexbuild.New(cctx, st, slog.New(slog.NewTextHandler(&logs, nil)))
	r.Kick()
	r.Wait()
	if p, _ := st.PendingIndexes(ctx); len(p) != 1 || exists("devices_site") {
		t.Fatalf("after a cancelled run: pending %v, index exists %v", p, exists("devices_site"))
	}
}

// failingBuilds is a real store whose first BuildIndexes calls fail, as on
// a lost database connection.
type failingBuilds struct {
	*sqldb.DB
	mu    sync.Mutex
	fails int
	calls int
}

func (f *failingBuilds) BuildIndexes(ctx context.Context, progress func(store.IndexBuild)) error {
	f.mu.Lock()
	f.calls++
	fail := f.calls <= f.fails
	f.mu.Unlock()
	if fail {
		return errors.New("connection reset by peer")
	}
	return f.DB.BuildIndexes(ctx, progress)
}

// A failed run is tried again after a wait, without another import or a
// restart, and the pending indexes are built.
func TestRunnerRetriesFailedBuilds(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	storetest.DeferIndexBuild(t, st.SQL, "devices_vendor")
	f := &failingBuilds{DB: st, fails: 2}
	var logs bytes.Buffer // read only after Wait, which the run's last log write precedes
	r := indexbuild.New(ctx, f, slog.New(slog.NewTextHandler(&logs, nil)))
	r.RetryMin, r.RetryMax = 20*time.Millisecond, 30*time.Millisecond
	start := time.Now()
	r.Kick()
	r.Wait()
	if p, err := st.PendingIndexes(ctx); err != nil || len(p) != 0 {
		t.Fatalf("pending after the retries: %v, %v", p, err)
	}
	if f.calls != 3 {
		t.Errorf("BuildIndexes called %d times, want 3 (two failures, one success)", f.calls)
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("retried after %v, want the waits (20 ms, then 30 ms) in between", took)
	}
	out := logs.String()
	if strings.Count(out, "deferred index builds failed; retrying") != 2 || !strings.Contains(out, "connection reset by peer") ||
		!strings.Contains(out, "retry_in=20ms") || !strings.Contains(out, "retry_in=30ms") {
		t.Errorf("log does not show two failures with doubling, capped waits:\n%s", out)
	}

	// A Runner whose context ends while it waits to retry stops; the
	// index stays pending for the next start.
	storetest.DeferIndexBuild(t, st.SQL, "devices_model")
	cctx, cancel := context.WithCancel(ctx)
	f = &failingBuilds{DB: st, fails: 1 << 30}
	r = indexbuild.New(cctx, f, slog.New(slog.NewTextHandler(&logs, nil)))
	r.RetryMin = time.Hour
	r.Kick()
	time.AfterFunc(50*time.Millisecond, cancel)
	r.Wait()
	if p, _ := st.PendingIndexes(ctx); len(p) != 1 {
		t.Fatalf("pending after a cancelled retry wait: %v", p)
	}
}
