package indexbuild_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/indexbuild"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// A Runner builds what is pending when kicked, again when kicked during a
// run, and logs each step.
func TestRunnerBuildsPending(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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
