package sensor

import (
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// skipStream is a recStream that, after its first client Feed, says it
// does not need the next skipN client bytes (dissect.Skipper).
type skipStream struct {
	recStream
	skipN int
	asked bool
}

func (s *skipStream) Skip(dir dissect.Direction) int {
	if dir != dissect.FromClient || s.asked {
		return 0
	}
	s.asked = true
	return s.skipN
}

type skipRecorder struct {
	recorder
	skipN int
	last  *skipStream
}

func (r *skipRecorder) NewStream(f *dissect.Flow) dissect.Stream {
	r.last = &skipStream{recStream: recStream{r: &r.recorder, flow: *f}, skipN: r.skipN}
	return r.last
}

// TestSkipperPath: bytes a stream skips are not delivered, across segment
// boundaries and in the middle of a segment, out-of-order segments inside
// the skipped range included; the other direction is unaffected and the
// flow's packets and bytes are all counted.
func TestSkipperPath(t *testing.T) {
	t.Parallel()
	c, sv := "10.0.0.1", "10.0.0.2"
	seg := func(from, to string, sp, dp uint16, seq uint32, fl uint8, p string) []byte {
		return ipv4(from, to, protoTCP, 1, 0, false, tcpSeg(sp, dp, seq, fl, []byte(p)))
	}
	rec := &skipRecorder{recorder: recorder{layer: dissect.LayerTCP}, skipN: 14}
	s := New(Config{Dissectors: []dissect.Dissector{rec}})
	run(s, layers.LinkTypeRaw,
		seg(c, sv, 40000, 104, 100, tcpSYN, ""),
		seg(c, sv, 40000, 104, 101, tcpACK, "HEAD"),       // fed; then 14 bytes skipped
		seg(c, sv, 40000, 104, 115, tcpACK, "6789ab"),     // out of order: buffered; "6789" skipped, "ab" fed
		seg(c, sv, 40000, 104, 105, tcpACK, "0123456789"), // skipped
		seg(c, sv, 40000, 104, 121, tcpACK, "TAIL"),       // fed
		seg(sv, c, 104, 40000, 900, tcpACK, "reply"),
	)
	st := rec.last
	if st == nil {
		t.Fatal("no stream")
	}
	// Skipped: seq 105-118, "0123456789" and the "6789" of "6789ab".
	if got := st.data[0].String(); got != "HEADabTAIL" {
		t.Errorf("client bytes fed = %q, want %q (14 bytes skipped)", got, "HEADabTAIL")
	}
	if got := st.data[1].String(); got != "reply" {
		t.Errorf("server bytes fed = %q, want %q", got, "reply")
	}
	var pkts, byts uint64
	for _, e := range s.Result().Edges {
		pkts += e.Packets
		byts += e.Bytes
	}
	if pkts != 6 {
		t.Errorf("edge packets = %d, want 6 (skipped bytes still count)", pkts)
	}
	if byts == 0 {
		t.Error("edge bytes not counted")
	}
}
