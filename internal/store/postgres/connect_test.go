package postgres

import (
	"context"
	"net"
	"testing"
	"time"
)

func TestWithConnectTimeout(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"bare_url", "postgres://mw@db.example:5432/medwarden", "postgres://mw@db.example:5432/medwarden?connect_timeout=10"},
		{"with_query", "postgresql://mw:s%40cret@10.0.0.5/mw?sslmode=verify-full", "postgresql://mw:s%40cret@10.0.0.5/mw?sslmode=verify-full&connect_timeout=10"},
		{"explicit_kept", "postgres://mw@db/mw?connect_timeout=3&sslmode=disable", "postgres://mw@db/mw?connect_timeout=3&sslmode=disable"},
		{"keyword_dsn_as_given", "host=db user=mw dbname=mw", "host=db user=mw dbname=mw"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := withConnectTimeout(tt.in); got != tt.want {
				t.Errorf("withConnectTimeout(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestOpenGivesUpOnASilentServer: a server that accepts the connection
// and never answers (a hung or half-dead database) makes Open fail after
// the DSN's connect_timeout, not hang (TestWithConnectTimeout: Open adds
// one when the DSN has none).
func TestOpenGivesUpOnASilentServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := Open(context.Background(), "postgres://mw@"+ln.Addr().String()+"/mw?sslmode=disable&connect_timeout=1")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Open succeeded against a server that never answers")
		}
		t.Logf("Open failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(20 * time.Second):
		t.Fatal("Open still waiting after 20 s with connect_timeout=1")
	}
}
