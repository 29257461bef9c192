package dicom

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/sensortest"
)

// FuzzStreamSplit: any bytes, fed in one call or split in two, give the
// same observations, findings and error status, and never panic.
func FuzzStreamSplit(f *testing.F) {
	cli, srv := ctSession()
	f.Add(cli, uint16(7))
	f.Add(srv, uint16(300))
	for _, p := range sensortest.Payloads(f, "testdata/dicom.pcap", dissect.LayerTCP) {
		f.Add(p, uint16(70))
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
	cli, _ := ctSession()
	b.SetBytes(int64(len(cli)))
	d := New().(*Dissector)
	b.ReportAllocs()
	for b.Loop() {
		s := d.NewStream(flow)
		if err := s.Feed(dissect.FromClient, cli, time.Time{}, discard{}); err != nil {
			b.Fatal(err)
		}
	}
}
