package app

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// serve builds, in the background, the index builds a large import left
// pending (here: one, as a deferred bulk load records it).
func TestServeBuildsDeferredIndexes(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	storetest.DeferIndexBuild(t, st.SQL, "devices_model")
	ctx, cancel := context.WithCancel(context.Background())
	up, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServerConfig{Addr: "127.0.0.1:0", RateLimit: api.RateLimit{PerClient: -1, PerAccount: -1},
			OnListening: func(net.Addr) { close(up) }}, st, slog.New(slog.DiscardHandler))
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-up:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, err := st.PendingIndexes(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still pending 20 s after serve started: %v", p)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var n int
	if err := st.SQL.QueryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'devices_model'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("devices_model after serve built it: %d, %v", n, err)
	}
}
