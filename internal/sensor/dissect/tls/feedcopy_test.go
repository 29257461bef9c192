package tls

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dissecttest"
)

// feedCopy is Feed as it was before records were parsed in place: every
// byte appended to h.rec, every handshake body to h.hs. The reference the
// in-place Feed is checked against.
func (s *stream) feedCopy(dir dissect.Direction, data []byte, t time.Time, out dissect.Emitter) error {
	h := &s.dir[dir]
	if h.done {
		return nil
	}
	h.rec = append(h.rec, data...)
	if !h.started && len(h.rec) >= 2 && h.rec[0]&0x80 != 0 {
		n := int(h.rec[0]&0x7f)<<8 | int(h.rec[1])
		if len(h.rec) < 2+n {
			return nil
		}
		h.started = true
		msg := h.rec[2 : 2+n]
		h.rec = h.rec[2+n:]
		if err := s.sslv2(dir, msg, t, out); err != nil {
			h.done, h.rec = true, nil
			return err
		}
	}
	for !h.done && len(h.rec) >= 5 {
		h.started = true
		typ, n := h.rec[0], int(h.rec[3])<<8|int(h.rec[4])
		if h.rec[1] != 3 || n > maxRecord || typ < recChangeCipherSpec || typ > recApplicationData+1 {
			h.done, h.rec, h.hs = true, nil, nil
			return fmt.Errorf("tls %s: record type %d of length %d: %w", dir, typ, n, errGiveUp)
		}
		if len(h.rec) < 5+n {
			break
		}
		body := h.rec[5 : 5+n]
		switch typ {
		case recHandshake:
			if len(h.hs)+len(body) > maxHandshake {
				h.done = true
				return fmt.Errorf("tls %s: handshake larger than %d bytes, giving up", dir, maxHandshake)
			}
			h.hs = append(h.hs, body...)
			if err := s.handshakes(dir, h, t, out); err != nil {
				h.done = true
				return err
			}
		case recChangeCipherSpec, recApplicationData:
			h.done = true
		}
		h.rec = h.rec[5+n:]
	}
	if h.done {
		h.rec, h.hs = nil, nil
	} else if len(h.rec) == 0 {
		h.rec = nil
	}
	return nil
}

// feedChunks feeds cli and srv, interleaved, in chunks whose lengths come
// from cuts (cycled; 0 means the rest), through Feed (each chunk from a
// scratch buffer overwritten after the call, so anything Feed kept of it
// would be seen) or through feedCopy. It returns what was emitted and the
// errors, in order.
func feedChunks(cli, srv []byte, cuts []byte, copyPath bool) (*dissecttest.Recorder, []string) {
	s := New().(*Dissector).NewStream(&dissect.Flow{}).(*stream)
	r := &dissecttest.Recorder{}
	var errs []string
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	parts := [2][]byte{cli, srv}
	scratch := make([]byte, 0, 1<<16)
	for i := 0; len(parts[0])+len(parts[1]) > 0; i++ {
		d := dissect.Direction(i & 1)
		if len(parts[d]) == 0 {
			continue
		}
		n := len(parts[d])
		if len(cuts) > 0 {
			if c := int(cuts[i%len(cuts)]) * 7; c > 0 && c < n {
				n = c
			}
		}
		chunk := parts[d][:n]
		parts[d] = parts[d][n:]
		var err error
		if copyPath {
			err = s.feedCopy(d, chunk, t0.Add(time.Duration(i)), r)
		} else {
			buf := append(scratch[:0], chunk...)
			err = s.Feed(d, buf, t0.Add(time.Duration(i)), r)
			for j := range buf {
				buf[j] = 0xa5
			}
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("%d %v %v", i, err, errors.Is(err, errGiveUp)))
		}
	}
	s.End(r)
	return r, errs
}

func checkFeedAgainstCopy(t *testing.T, cli, srv, cuts []byte) {
	t.Helper()
	want, werr := feedChunks(cli, srv, cuts, true)
	got, gerr := feedChunks(cli, srv, cuts, false)
	if diff := cmp.Diff(want.Obs, got.Obs, eq); diff != "" {
		t.Fatalf("cuts %v: observations differ (-copy +in place):\n%s", cuts, diff)
	}
	if diff := cmp.Diff(want.Finds, got.Finds, eq); diff != "" {
		t.Fatalf("cuts %v: findings differ (-copy +in place):\n%s", cuts, diff)
	}
	if diff := cmp.Diff(werr, gerr); diff != "" {
		t.Fatalf("cuts %v: errors differ (-copy +in place):\n%s", cuts, diff)
	}
}

// TestFeedAgainstCopy: on every test capture, whole and cut into chunks
// of many sizes (1 byte, inside record headers, across records and
// handshake messages), Feed emits exactly what the copying Feed did, with
// the same errors, and keeps nothing of the bytes it was given.
func TestFeedAgainstCopy(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.pcap")
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no test captures")
	}
	cutSets := [][]byte{nil, {0}, {1, 0}, {3, 200, 1}, {20, 5, 9, 0}, {150, 150, 150}, {255, 1, 37}}
	for _, p := range files {
		cli, srv := transcript(t, p)
		obs := 0
		for _, cuts := range cutSets {
			checkFeedAgainstCopy(t, cli, srv, cuts)
			r, _ := feedChunks(cli, srv, cuts, false)
			obs += len(r.Obs)
		}
		// One byte at a time (feedChunks' cuts are multiples of 7).
		s1 := New().(*Dissector).NewStream(&dissect.Flow{}).(*stream)
		s2 := New().(*Dissector).NewStream(&dissect.Flow{}).(*stream)
		r1, r2 := &dissecttest.Recorder{}, &dissecttest.Recorder{}
		for _, part := range []struct {
			d dissect.Direction
			b []byte
		}{{dissect.FromClient, cli}, {dissect.FromServer, srv}} {
			for i := range part.b {
				b := []byte{part.b[i]}
				_ = s1.feedCopy(part.d, b, time.Time{}, r1)
				_ = s2.Feed(part.d, b, time.Time{}, r2)
				b[0] = 0
			}
		}
		if diff := cmp.Diff(r1.Obs, r2.Obs, eq); diff != "" {
			t.Fatalf("%s byte by byte: observations differ:\n%s", p, diff)
		}
		if obs == 0 && filepath.Base(p) != "tls_alert.pcap" {
			t.Errorf("%s: no observations at all: the comparison tests nothing", p)
		}
	}
}

// FuzzFeedAgainstCopy: any bytes, cut anywhere, give what the copying
// Feed gives.
func FuzzFeedAgainstCopy(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pcap")
	sort.Strings(files)
	for i, p := range files {
		c, s := transcript(f, p)
		f.Add(c, s, []byte{byte(i * 13), 1, 0})
	}
	f.Fuzz(func(t *testing.T, cli, srv, cuts []byte) {
		if len(cuts) > 64 {
			cuts = cuts[:64]
		}
		checkFeedAgainstCopy(t, cli, srv, cuts)
	})
}

var eq = cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{})
