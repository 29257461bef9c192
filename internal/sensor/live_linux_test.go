//go:build linux

package sensor

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// TestLiveLoopback captures on lo while sending UDP datagrams to itself.
// It needs root or CAP_NET_RAW and skips otherwise.
func TestLiveLoopback(t *testing.T) {
	live, err := OpenLive("lo", LiveOptions{PollTimeout: 50 * time.Millisecond})
	if err != nil {
		if errors.Is(err, os.ErrPermission) || os.Geteuid() != 0 {
			t.Skipf("no live capture here (needs root or CAP_NET_RAW): %v", err)
		}
		t.Fatalf("OpenLive(lo): %v", err)
	}
	defer live.Close()
	srv, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	port := uint16(srv.LocalAddr().(*net.UDPAddr).Port)
	rec := &recorder{layer: dissect.LayerUDP, ports: []uint16{port}, detect: func(p []byte) bool { return string(p) == "medwarden-live-test" }}
	s := New(Config{Dissectors: []dissect.Dissector{rec}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	go func() {
		c, err := net.Dial("udp4", srv.LocalAddr().String())
		if err != nil {
			return
		}
		defer c.Close()
		for ctx.Err() == nil {
			c.Write([]byte("medwarden-live-test"))
			time.Sleep(20 * time.Millisecond)
		}
	}()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, live) }()
	if err := <-done; err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v", err)
	}
	if len(rec.packets) == 0 {
		t.Fatalf("no datagram to port %d captured on lo (stats %+v)", port, s.Stats())
	}
}
