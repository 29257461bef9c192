package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestPutOldestRemoveAndReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := s.NextSeq()
	if first < uint64(time.Now().Add(-time.Minute).UnixMilli()) {
		t.Fatalf("a new spool starts at %d, want the current time in ms", first)
	}
	for i := range 3 {
		if err := s.Put(first+uint64(i), []byte(fmt.Sprintf("batch %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(first, []byte("again")); err == nil {
		t.Fatal("Put below the next sequence accepted")
	}
	seq, data, ok, err := s.Oldest()
	if err != nil || !ok || seq != first || string(data) != "batch 0" {
		t.Fatalf("Oldest = %d %q %v %v", seq, data, ok, err)
	}
	if err := s.Remove(seq); err != nil {
		t.Fatal(err)
	}
	// A crash left a half-written file: it is ignored and removed.
	os.WriteFile(filepath.Join(dir, "junk.batch.json.tmp"), []byte("half"), 0o600)
	s2, err := Open(dir, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := s2.Stats(); st.Pending != 2 || s2.NextSeq() != first+3 {
		t.Fatalf("after reopen: %+v, next %d; want 2 pending, next %d", st, s2.NextSeq(), first+3)
	}
	if _, err := os.Stat(filepath.Join(dir, "junk.batch.json.tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Error("leftover .tmp file not removed")
	}
	seq, data, _, _ = s2.Oldest()
	if seq != first+1 || string(data) != "batch 1" {
		t.Fatalf("oldest after reopen: %d %q", seq, data)
	}
}

func TestBoundDropsOldest(t *testing.T) {
	var dropped []uint64
	s, err := Open(t.TempDir(), 100, func(seq uint64, _ int64) { dropped = append(dropped, seq) })
	if err != nil {
		t.Fatal(err)
	}
	base := s.NextSeq()
	for i := range 5 {
		if err := s.Put(base+uint64(i), bytes.Repeat([]byte("x"), 40)); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.Bytes > 100 || st.Pending != 2 || st.Dropped != 3 || len(dropped) != 3 || dropped[0] != base {
		t.Fatalf("stats %+v, dropped %v; want the 3 oldest dropped and at most 100 bytes kept", st, dropped)
	}
}

func TestSenderResendsInOrderAfterFailures(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var b bytes.Buffer
		b.ReadFrom(r.Body)
		if b.String() == "invalid" {
			http.Error(w, "bad batch", http.StatusBadRequest)
			return
		}
		got = append(got, b.String())
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	s, _ := Open(t.TempDir(), 1<<20, nil)
	base := s.NextSeq()
	for i, d := range []string{"a", "invalid", "b", "c"} {
		s.Put(base+uint64(i), []byte(d))
	}
	snd := &Sender{Spool: s, URL: srv.URL, Token: "tok", MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	if err := snd.Flush(context.Background()); err == nil {
		t.Fatal("Flush succeeded against a failing server")
	}
	if st := s.Stats(); st.Pending != 4 {
		t.Fatalf("%d pending after a failure, want all 4 kept", st.Pending)
	}
	fail.Store(false)
	if err := snd.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("server got %v, want [a b c] in order", got)
	}
	if c := snd.Counters(); c.Sent != 3 || c.Rejected != 1 || c.Failures != 1 || s.Stats().Pending != 0 {
		t.Fatalf("counters %+v, spool %+v", c, s.Stats())
	}
}
