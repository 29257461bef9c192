package app

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestPprofLoopbackOnly: the profiler is refused on a non-loopback
// address and answers on loopback.
func TestPprofLoopbackOnly(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "example.org:6060"} {
		if _, stop, err := startPprof(addr, log); err == nil {
			stop()
			t.Errorf("--pprof %s accepted, want refused (not loopback)", addr)
		}
	}
	bound, stop, err := startPprof("127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://" + bound + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "app.test") {
		t.Errorf("profiler on loopback: %d %q", resp.StatusCode, b)
	}
}
