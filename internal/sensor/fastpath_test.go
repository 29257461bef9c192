package sensor

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// doneStream is a recStream that says it is done once it has doneAfter
// bytes from the client.
type doneStream struct {
	recStream
	doneAfter int
}

func (s *doneStream) Done() bool { return s.data[0].Len() >= s.doneAfter }

type doneRecorder struct {
	recorder
	doneAfter int
	last      *doneStream
}

func (r *doneRecorder) NewStream(f *dissect.Flow) dissect.Stream {
	r.last = &doneStream{recStream: recStream{r: &r.recorder, flow: *f}, doneAfter: r.doneAfter}
	return r.last
}

// TestFinisherFastPath: once a stream is Done the core ends it, feeds it
// nothing more, frees the flow's out-of-order buffer and still counts the
// flow's packets and bytes in its edge.
func TestFinisherFastPath(t *testing.T) {
	c, sv := "10.0.0.1", "10.0.0.2"
	seg := func(from, to string, sp, dp uint16, seq uint32, fl uint8, p string) []byte {
		return ipv4(from, to, protoTCP, 1, 0, false, tcpSeg(sp, dp, seq, fl, []byte(p)))
	}
	rec := &doneRecorder{recorder: recorder{layer: dissect.LayerTCP}, doneAfter: 5}
	s := New(Config{Dissectors: []dissect.Dissector{rec}})
	run(s, layers.LinkTypeRaw,
		seg(c, sv, 40000, 8443, 100, tcpSYN, ""),
		seg(c, sv, 40000, 8443, 106, tcpACK, "later"), // out of order: buffered
		seg(c, sv, 40000, 8443, 130, tcpACK, "far"),   // buffered behind a hole
		seg(c, sv, 40000, 8443, 101, tcpACK, "hello"), // fills the hole; done after these 5 bytes
		seg(c, sv, 40000, 8443, 111, tcpACK, "more bytes"),
		seg(sv, c, 8443, 40000, 900, tcpACK, "reply"),
	)
	st := rec.last
	if st == nil {
		t.Fatal("no stream")
	}
	if !st.ended {
		t.Error("a Done stream was not ended")
	}
	if got := st.data[0].String(); got != "hello" {
		t.Errorf("client bytes fed = %q, want %q (nothing after Done)", got, "hello")
	}
	if got := st.data[1].String(); got != "" {
		t.Errorf("server bytes fed = %q, want none", got)
	}
	if s.reasmUsed != 0 {
		t.Errorf("reassembly memory still in use: %d bytes", s.reasmUsed)
	}
	var pkts uint64
	for _, e := range s.Result().Edges {
		pkts += e.Packets
	}
	if pkts != 6 {
		t.Errorf("edge packets = %d, want 6 (the fast path still counts)", pkts)
	}
}
