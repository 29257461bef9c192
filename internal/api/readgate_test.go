package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadConcurrencyBounded: with room for one API read, a second GET
// waits until the first has finished, a GET whose client leaves while
// waiting is dropped without running (499, as any request whose client
// went away), and writes and the health probes are never held back.
func TestReadConcurrencyBounded(t *testing.T) {
	s := New(Deps{ReadConcurrency: 1})
	release := make(chan struct{})
	var running, ran atomic.Int32
	blocking := func(w http.ResponseWriter, r *http.Request) {
		if running.Add(1) > 1 {
			t.Error("two API reads ran at once")
		}
		ran.Add(1)
		<-release
		running.Add(-1)
	}
	s.handle("GET", "/api/v1/test-slow", blocking)
	s.handle("POST", "/api/v1/test-write", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	serve := func(ctx context.Context, method, path string) <-chan int {
		done := make(chan int, 1)
		go func() {
			rec := httptest.NewRecorder()
			s.mux.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, method, path, nil))
			done <- rec.Code
		}()
		return done
	}
	first := serve(context.Background(), "GET", "/api/v1/test-slow")
	waitFor(t, func() bool { return ran.Load() == 1 })
	second := serve(context.Background(), "GET", "/api/v1/test-slow")
	ctx, cancel := context.WithCancel(context.Background())
	gone := serve(ctx, "GET", "/api/v1/test-slow")
	// writes and probes pass while the read slot is taken
	if code := <-serve(context.Background(), "POST", "/api/v1/test-write"); code != http.StatusNoContent {
		t.Errorf("write while a read runs: %d", code)
	}
	if code := <-serve(context.Background(), "GET", "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while a read runs: %d", code)
	}
	time.Sleep(50 * time.Millisecond)
	if n := ran.Load(); n != 1 {
		t.Fatalf("%d reads started while the only slot was taken", n)
	}
	cancel()
	if code := <-gone; code != StatusClientClosedRequest { // returns without running
		t.Errorf("read whose client left while waiting: %d, want %d", code, StatusClientClosedRequest)
	}
	close(release)
	<-first
	<-second
	if n := ran.Load(); n != 2 {
		t.Errorf("reads run = %d, want 2 (the first, then the second; not the one whose client left)", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
