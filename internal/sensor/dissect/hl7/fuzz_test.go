package hl7

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/sensortest"
)

func seeds(f *testing.F) [][]byte {
	files, _ := filepath.Glob("testdata/messages/*/*.hl7")
	var out [][]byte
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	out = append(out, []byte(oruPCD), []byte(ackAA))
	return out
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b, Options{})
		if err != nil {
			return
		}
		if len(m.Segments) == 0 || !isHeader(m.Segments[0].Name) {
			t.Fatalf("parsed without a header segment: %+v", m.Segments)
		}
	})
}

// FuzzStreamSplit feeds a stream in one call and in two, split anywhere:
// the observations, findings and errors must be the same.
func FuzzStreamSplit(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(mllp(string(s)), uint16(len(s)/2))
	}
	for _, p := range sensortest.Payloads(f, "testdata/hl7.pcap", dissect.LayerTCP) {
		f.Add(p, uint16(7))
	}
	f.Fuzz(func(t *testing.T, b []byte, at uint16) {
		split := int(at) % (len(b) + 1)
		one, two := &recorder{}, &recorder{}
		s1 := New().(*Dissector).NewStream(flow)
		e1 := s1.Feed(dissect.FromClient, b, time.Unix(1, 0), one)
		s2 := New().(*Dissector).NewStream(flow)
		e2a := s2.Feed(dissect.FromClient, b[:split], time.Unix(1, 0), two)
		e2b := s2.Feed(dissect.FromClient, b[split:], time.Unix(1, 0), two)
		if diff := cmp.Diff(one.strings(), two.strings()); diff != "" {
			t.Fatalf("split at %d changes the result (-one +two):\n%s", split, diff)
		}
		if (e1 != nil) != (e2a != nil || e2b != nil) {
			t.Fatalf("split at %d changes the error: %v vs %v, %v", split, e1, e2a, e2b)
		}
	})
}

func BenchmarkStream(b *testing.B) {
	var data []byte
	for len(data) < 1<<20 {
		data = append(data, mllp(oruPCD, ackAA)...)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s := New().(*Dissector).NewStream(flow)
		if err := s.Feed(dissect.FromClient, data, time.Time{}, discard{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	msg, err := os.ReadFile("testdata/messages/realm/realm-cj-joeslab.hl7")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(msg, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Observe(dissect.Observation) {}
func (discard) Report(dissect.Finding)      {}
