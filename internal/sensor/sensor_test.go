package sensor

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// recorder is a dissector that keeps what the core hands it.
type recorder struct {
	layer   dissect.Layer
	ports   []uint16
	detect  func([]byte) bool
	packets []string
	streams []*recStream
	gaps    int
}

func (r *recorder) Name() string         { return "recorder" }
func (r *recorder) Layer() dissect.Layer { return r.layer }
func (r *recorder) Ports() []uint16      { return r.ports }
func (r *recorder) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	return r.detect == nil || r.detect(p)
}
func (r *recorder) DissectPacket(f *dissect.Flow, dir dissect.Direction, p []byte, _ time.Time, out dissect.Emitter) error {
	r.packets = append(r.packets, fmt.Sprintf("%s>%s:%s", f.Sender(dir).Addr, f.Sender(1-dir).Addr, p))
	out.Observe(dissect.Observation{Protocol: "rec", Field: "rec.payload", Value: string(p)})
	return nil
}
func (r *recorder) NewStream(f *dissect.Flow) dissect.Stream {
	s := &recStream{r: r, flow: *f}
	r.streams = append(r.streams, s)
	return s
}

type recStream struct {
	r     *recorder
	flow  dissect.Flow
	data  [2]bytes.Buffer
	ended bool
}

func (s *recStream) Feed(dir dissect.Direction, data []byte, _ time.Time, _ dissect.Emitter) error {
	s.data[dir].Write(data)
	return nil
}
func (s *recStream) Gap(dissect.Direction) { s.r.gaps++ }
func (s *recStream) End(dissect.Emitter)   { s.ended = true }

func run(s *Sensor, lt layers.LinkType, frames ...[]byte) {
	t0 := time.Unix(1700000000, 0)
	for i, f := range frames {
		s.Frame(Frame{Data: f, Time: t0.Add(time.Duration(i) * time.Millisecond), Length: len(f), LinkType: lt})
	}
	s.Flush()
}

func TestTCPReassembly(t *testing.T) {
	t.Parallel()
	c, sv := "10.0.0.1", "10.0.0.2"
	seg := func(from, to string, sp, dp uint16, seq uint32, fl uint8, p string) []byte {
		return ipv4(from, to, protoTCP, 1, 0, false, tcpSeg(sp, dp, seq, fl, []byte(p)))
	}
	tests := []struct {
		name       string
		frames     [][]byte
		wantClient string
		wantServer string
		wantCli    string // client address as the core decided
		wantGaps   int
	}{
		{"in_order_with_handshake", [][]byte{
			seg(c, sv, 40000, 8080, 100, tcpSYN, ""),
			seg(sv, c, 8080, 40000, 500, tcpSYN|tcpACK, ""),
			seg(c, sv, 40000, 8080, 101, tcpACK, "hello "),
			seg(c, sv, 40000, 8080, 107, tcpACK, "world"),
			seg(sv, c, 8080, 40000, 501, tcpACK, "ok"),
		}, "hello world", "ok", "10.0.0.1:40000", 0},
		{"out_of_order_and_retransmission", [][]byte{
			seg(c, sv, 40000, 8080, 100, tcpSYN, ""),
			seg(c, sv, 40000, 8080, 107, tcpACK, "world"),
			seg(c, sv, 40000, 8080, 101, tcpACK, "hello "),
			seg(c, sv, 40000, 8080, 101, tcpACK, "hello "), // retransmission
			seg(c, sv, 40000, 8080, 104, tcpACK, "lo wor"), // overlap
			seg(c, sv, 40000, 8080, 112, tcpACK, "!"),
		}, "hello world!", "", "10.0.0.1:40000", 0},
		{"midstream_direction_by_port", [][]byte{
			seg(sv, c, 80, 40000, 900, tcpACK, "HTTP/1.1 200 OK"), // server speaks first, no SYN seen
			seg(c, sv, 40000, 80, 300, tcpACK, "GET /"),
		}, "GET /", "HTTP/1.1 200 OK", "10.0.0.1:40000", 0},
		{"sequence_wraparound", [][]byte{
			seg(c, sv, 40000, 8080, 0xfffffffd, tcpSYN, ""),
			seg(c, sv, 40000, 8080, 0xfffffffe, tcpACK, "ab"),
			seg(c, sv, 40000, 8080, 0, tcpACK, "cd"),
		}, "abcd", "", "10.0.0.1:40000", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{layer: dissect.LayerTCP}
			s := New(Config{Dissectors: []dissect.Dissector{rec}})
			run(s, layers.LinkTypeRaw, tt.frames...)
			if len(rec.streams) != 1 {
				t.Fatalf("%d streams, want 1", len(rec.streams))
			}
			st := rec.streams[0]
			got := []string{st.data[0].String(), st.data[1].String(), st.flow.Client.Addr.String()}
			want := []string{tt.wantClient, tt.wantServer, tt.wantCli}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("reassembled (client bytes, server bytes, client) (-want +got):\n%s", diff)
			}
			if rec.gaps != tt.wantGaps || !st.ended {
				t.Errorf("gaps = %d (want %d), ended = %v", rec.gaps, tt.wantGaps, st.ended)
			}
		})
	}
}

func TestTCPBufferLimitReportsGap(t *testing.T) {
	t.Parallel()
	rec := &recorder{layer: dissect.LayerTCP}
	s := New(Config{Dissectors: []dissect.Dissector{rec}, StreamBuffer: 10})
	c, sv := "10.0.0.1", "10.0.0.2"
	run(s, layers.LinkTypeRaw,
		ipv4(c, sv, protoTCP, 1, 0, false, tcpSeg(40000, 8080, 100, tcpSYN, nil)),
		ipv4(c, sv, protoTCP, 1, 0, false, tcpSeg(40000, 8080, 101, tcpACK, []byte("a"))),
		// hole at 102..111, then more than the 10-byte buffer arrives
		ipv4(c, sv, protoTCP, 1, 0, false, tcpSeg(40000, 8080, 112, tcpACK, []byte("0123456789"))),
		ipv4(c, sv, protoTCP, 1, 0, false, tcpSeg(40000, 8080, 122, tcpACK, []byte("XYZ"))),
	)
	if got := rec.streams[0].data[0].String(); got != "a0123456789XYZ" {
		t.Errorf("bytes after the gap = %q", got)
	}
	if rec.gaps != 1 || s.Stats().ReassemblyGaps != 1 {
		t.Errorf("gaps = %d, stats %d, want 1", rec.gaps, s.Stats().ReassemblyGaps)
	}
	if s.reasmUsed != 0 {
		t.Errorf("reassembly memory not released: %d", s.reasmUsed)
	}
}

func TestFragmentReassembly(t *testing.T) {
	t.Parallel()
	payload := []byte(strings.Repeat("0123456789abcdef", 6)) // 96 bytes of UDP payload
	dgram := udp(1234, 5353, payload)                        // 104 bytes
	v4 := func(off int, more bool, b []byte) []byte {
		return ipv4("10.0.0.1", "10.0.0.2", protoUDP, 77, off, more, b)
	}
	v6 := func(off int, more bool, b []byte) []byte {
		return ipv6("fe80::1", "fe80::2", 44, frag6(protoUDP, off, more, 99, b))
	}
	tests := []struct {
		name   string
		frames [][]byte
		want   int // datagrams delivered
	}{
		{"ipv4_out_of_order", [][]byte{v4(48, true, dgram[48:96]), v4(96, false, dgram[96:]), v4(0, true, dgram[:48])}, 1},
		{"ipv4_duplicate_fragment", [][]byte{v4(0, true, dgram[:48]), v4(0, true, dgram[:48]), v4(48, false, dgram[48:])}, 1},
		{"ipv4_missing_fragment", [][]byte{v4(0, true, dgram[:48]), v4(96, false, dgram[96:])}, 0},
		{"ipv4_inconsistent_end", [][]byte{v4(96, false, dgram[96:]), v4(48, false, dgram[48:96]), v4(0, true, dgram[:48])}, 0},
		{"ipv6_fragments", [][]byte{v6(0, true, dgram[:56]), v6(56, false, dgram[56:])}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{layer: dissect.LayerUDP}
			s := New(Config{Dissectors: []dissect.Dissector{rec}})
			run(s, layers.LinkTypeRaw, tt.frames...)
			if len(rec.packets) != tt.want {
				t.Fatalf("%d datagrams delivered, want %d: %q", len(rec.packets), tt.want, rec.packets)
			}
			if tt.want == 1 && !strings.HasSuffix(rec.packets[0], string(payload)) {
				t.Errorf("reassembled payload = %q", rec.packets[0])
			}
		})
	}
}

func TestFragmentLimits(t *testing.T) {
	t.Parallel()
	s := New(Config{FragmentDatagrams: 4})
	var frames [][]byte
	for id := range 100 { // 100 incomplete datagrams, only 4 may wait
		frames = append(frames, ipv4("10.0.0.1", "10.0.0.2", protoUDP, uint16(id), 0, true, make([]byte, 64)))
	}
	run(s, layers.LinkTypeRaw, frames...)
	if n := len(s.defrag.pending); n > 4 {
		t.Errorf("%d datagrams pending, limit 4", n)
	}
	if st := s.Stats(); st.FragmentsDropped < 96 {
		t.Errorf("FragmentsDropped = %d, want >= 96", st.FragmentsDropped)
	}
}

func TestFlowTableCapEvictsOldest(t *testing.T) {
	t.Parallel()
	s := New(Config{MaxFlows: 100, MaxEdges: -1})
	var frames [][]byte
	for i := range 1000 {
		frames = append(frames, ipv4("10.0.0.1", fmt.Sprintf("10.1.%d.%d", i/256, i%256), protoTCP, 1, 0, false, tcpSeg(40000, 443, 1, tcpSYN, nil)))
	}
	t0 := time.Unix(1700000000, 0)
	for i, f := range frames {
		s.Frame(Frame{Data: f, Time: t0.Add(time.Duration(i) * time.Millisecond), Length: len(f), LinkType: layers.LinkTypeRaw})
		if s.flows.n > 100 {
			t.Fatalf("flow table holds %d flows, cap 100", s.flows.n)
		}
	}
	if st := s.Stats(); st.EvictedFlows != 900 || st.Flows != 1000 {
		t.Errorf("evicted %d (want 900), flows %d (want 1000)", st.EvictedFlows, st.Flows)
	}
	// The newest flow survived, the oldest did not.
	newest, _ := makeKey(mustAddr("10.0.0.1"), mustAddr("10.1.3.231"), 40000, 443, protoTCP)
	oldest, _ := makeKey(mustAddr("10.0.0.1"), mustAddr("10.1.0.0"), 40000, 443, protoTCP)
	if s.flows.get(newest) == nil || s.flows.get(oldest) != nil {
		t.Errorf("eviction did not remove the oldest flow first")
	}
	s.Flush()
	if got := len(s.Result().Edges); got != 1000 {
		t.Errorf("%d edges, want 1000 (evicted flows still count)", got)
	}
}

func TestEdgeLimitFolds(t *testing.T) {
	t.Parallel()
	s := New(Config{MaxEdges: 100})
	var frames [][]byte
	for i := range 1000 { // a port scan of 10 hosts × 100 ports
		frames = append(frames, ipv4("10.0.0.1", fmt.Sprintf("10.1.0.%d", i%10), protoTCP, 1, 0, false, tcpSeg(40000, uint16(1+i/10), 1, tcpSYN, nil)))
	}
	run(s, layers.LinkTypeRaw, frames...)
	r := s.Result()
	if n := len(r.Edges); n > 100+100/4+1 {
		t.Errorf("%d edges kept, limit 100 (+25%% for folded ones)", n)
	}
	var pkts uint64
	for _, e := range r.Edges {
		pkts += e.Packets
	}
	if pkts != 1000 || r.Stats.EdgesFolded != 900 {
		t.Errorf("edges hold %d packets (want 1000), folded %d (want 900)", pkts, r.Stats.EdgesFolded)
	}
}

func TestIdleTimeoutAndEdgeBuckets(t *testing.T) {
	t.Parallel()
	rec := &recorder{layer: dissect.LayerUDP}
	s := New(Config{Dissectors: []dissect.Dissector{rec}, IdleTimeout: time.Minute, EdgeInterval: time.Hour, EdgeBuckets: true})
	t0 := time.Date(2026, 1, 1, 10, 59, 0, 0, time.UTC)
	f := ipv4("10.0.0.1", "10.0.0.2", protoUDP, 1, 0, false, udp(40000, 53, []byte("q")))
	for _, d := range []time.Duration{0, 30 * time.Second, 90 * time.Second, 10 * time.Minute} {
		s.Frame(Frame{Data: f, Time: t0.Add(d), Length: len(f), LinkType: layers.LinkTypeRaw})
	}
	s.Flush()
	r := s.Result()
	// 10:59:00, 10:59:30 in one flow; 11:00:30 crosses into the next bucket;
	// 11:09 comes after an idle timeout, so it is a new flow.
	if r.Stats.Flows != 2 {
		t.Errorf("flows = %d, want 2", r.Stats.Flows)
	}
	var got []string
	for _, b := range s.EdgeBuckets() {
		for _, e := range b.Edges {
			got = append(got, fmt.Sprintf("%s %s>%s %s/%d %d", b.Start.Format("15:04"), e.SrcIP, e.DstIP, e.Proto, e.DPort, e.Packets))
		}
	}
	want := []string{"10:00 10.0.0.1>10.0.0.2 udp/53 2", "11:00 10.0.0.1>10.0.0.2 udp/53 2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("edge buckets (-want +got):\n%s", diff)
	}
	if len(r.Edges) != 1 || r.Edges[0].Packets != 4 {
		t.Errorf("total edges = %+v, want one edge with 4 packets", r.Edges)
	}
}

func TestDispatchPortHintThenFallback(t *testing.T) {
	t.Parallel()
	hinted := &recorder{layer: dissect.LayerUDP, ports: []uint16{9999}, detect: func(p []byte) bool { return bytes.HasPrefix(p, []byte("H")) }}
	other := &recorder{layer: dissect.LayerUDP, detect: func(p []byte) bool { return bytes.HasPrefix(p, []byte("O")) }}
	s := New(Config{Dissectors: []dissect.Dissector{other, hinted}})
	run(s, layers.LinkTypeRaw,
		ipv4("10.0.0.1", "10.0.0.2", protoUDP, 1, 0, false, udp(40000, 9999, []byte("Hello"))),
		ipv4("10.0.0.1", "10.0.0.2", protoUDP, 1, 0, false, udp(40000, 9999, []byte("Other"))), // same flow: stays with hinted
		ipv4("10.0.0.1", "10.0.0.3", protoUDP, 1, 0, false, udp(40001, 7777, []byte("Other"))), // no hint: fallback
	)
	if len(hinted.packets) != 2 || len(other.packets) != 1 {
		t.Errorf("hinted got %q, other got %q", hinted.packets, other.packets)
	}
	// Observations default to the sender.
	for _, o := range s.Result().Observations {
		if !o.IP.IsValid() || o.IP.String() != "10.0.0.1" {
			t.Errorf("observation %+v not attributed to the sender 10.0.0.1", o.Observation)
		}
	}
}

// panicky dissector must not take the sensor down.
type panicky struct{ recorder }

func (p *panicky) DissectPacket(*dissect.Flow, dissect.Direction, []byte, time.Time, dissect.Emitter) error {
	panic("boom")
}

func TestDissectorPanicIsContained(t *testing.T) {
	t.Parallel()
	d := &panicky{recorder{layer: dissect.LayerUDP}}
	s := New(Config{Dissectors: []dissect.Dissector{d}})
	run(s, layers.LinkTypeRaw, ipv4("10.0.0.1", "10.0.0.2", protoUDP, 1, 0, false, udp(1, 2, []byte("x"))))
	if s.Stats().DissectorErrors != 1 {
		t.Errorf("DissectorErrors = %d, want 1", s.Stats().DissectorErrors)
	}
}

func writePcap(t testing.TB, lt layers.LinkType, frames ...[]byte) []byte {
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if err := w.WriteFileHeader(65535, lt); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000+int64(i), 0), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

func countFrames(t *testing.T, data []byte) ([]layers.LinkType, error) {
	src, err := OpenCapture(bytes.NewReader(data), "test")
	if err != nil {
		return nil, err
	}
	var lts []layers.LinkType
	for {
		fr, err := src.Next()
		if errors.Is(err, io.EOF) {
			return lts, nil
		}
		if err != nil {
			return lts, err
		}
		lts = append(lts, fr.LinkType)
	}
}

func TestOpenCaptureFormats(t *testing.T) {
	t.Parallel()
	u4 := ipv4("10.0.0.1", "10.0.0.2", protoUDP, 1, 0, false, udp(1, 2, []byte("x")))
	classic := writePcap(t, layers.LinkTypeEthernet, eth(etIPv4, u4), eth(etIPv4, u4))
	// pcapng with two interfaces of different link types.
	var ng bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&ng, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535}, pcapgo.NgWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := w.AddInterface(pcapgo.NgInterface{Name: "tun0", LinkType: layers.LinkTypeRaw, SnapLength: 65535})
	if err != nil {
		t.Fatal(err)
	}
	w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(u4) + 14, Length: len(u4) + 14}, eth(etIPv4, u4))
	w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(2, 0), CaptureLength: len(u4), Length: len(u4), InterfaceIndex: raw}, u4)
	w.Flush()
	eth2 := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeEthernet}
	mixed := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw}
	tests := []struct {
		name    string
		in      []byte
		want    []layers.LinkType
		wantErr error
	}{
		{"classic", classic, eth2, nil},
		{"classic_gzip", gz(classic), eth2, nil},
		{"pcapng_mixed_link_types", ng.Bytes(), mixed, nil},
		{"pcapng_gzip", gz(ng.Bytes()), mixed, nil},
		{"empty", nil, nil, ErrUnknownFormat},
		{"wrong_magic", []byte("this is not a capture file at all"), nil, ErrUnknownFormat},
		{"gzip_of_text", gz([]byte("hello world, not a capture")), nil, ErrUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := countFrames(t, tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("link types (-want +got):\n%s", diff)
			}
		})
	}
	// Truncated in the middle of a record: the frames before it are read, then an error.
	got, err := countFrames(t, classic[:len(classic)-10])
	if err == nil || len(got) != 1 {
		t.Errorf("truncated: %d frames, err %v; want 1 frame and an error", len(got), err)
	}
}

func TestCapturesInTestdata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file                    string
		packets, minFlows       uint64
		wantErr, wantUnknownLTs bool
	}{
		{"null-loopback-rdp.pcap", 0, 1, false, false},
		{"rawipv4-tcp-syslog.pcap", 0, 1, false, false},
		{"raw101-ml-dsa-44-cert.pcap", 0, 1, false, false},
		{"bigendian-dssetup.cap", 0, 1, false, false},
		{"classic-named-pcapng-tcp_scan.pcapng", 0, 1, false, false},
		{"pcapng-named-pcap-dns.pcap", 0, 1, false, false},
		{"ethernet-http-get.pcap", 0, 1, false, false},
		{"snmp-heapoverflow-1.pcap", 0, 1, false, false}, // link type 0x30000001: FCS bits over Ethernet
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			src, err := OpenCapture(bytes.NewReader(data), tt.file)
			if err != nil {
				t.Fatal(err)
			}
			s := New(Config{})
			err = s.Run(context.Background(), src)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Run: %v", err)
			}
			s.Flush()
			st := s.Stats()
			if st.Packets == 0 || st.Flows < tt.minFlows || (st.UnknownLinkTypes > 0) != tt.wantUnknownLTs {
				t.Errorf("stats = %+v", st)
			}
			if !tt.wantUnknownLTs && st.DecodeErrors > 0 {
				t.Errorf("%d decode errors in a clean capture", st.DecodeErrors)
			}
		})
	}
}

// TestSharedCorpusNoCrashNoHang runs every capture of the shared corpus with
// all dissectors of the list this package's tests can see (none: the
// registry lives above this package) — see the CLI test for the full set.
func TestSharedCorpusNoCrashNoHang(t *testing.T) {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: no shared corpus to run")
	}
	var files []string
	filepath.WalkDir(filepath.Join(dir, "pcap"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.Contains(p, "/expected/") && !strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatalf("no captures under %s/pcap", dir)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			src, err := OpenCapture(fh, f)
			if err != nil {
				t.Fatalf("OpenCapture: %v", err)
			}
			s := New(Config{Dissectors: []dissect.Dissector{&recorder{layer: dissect.LayerTCP}, &recorder{layer: dissect.LayerUDP}}})
			if err := s.Run(ctx, src); errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s: no result within 20 s (hang?)", f)
			}
			s.Flush()
			_ = s.Result()
		})
	}
}

func FuzzCapture(f *testing.F) {
	ms, _ := filepath.Glob("testdata/*.*p*")
	for _, m := range ms {
		if b, err := os.ReadFile(m); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := OpenCapture(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		s := New(Config{MaxFlows: 64, Dissectors: []dissect.Dissector{&recorder{layer: dissect.LayerTCP}, &recorder{layer: dissect.LayerUDP}}})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Run(ctx, src)
		s.Flush()
		_ = s.Result()
	})
}

// FuzzFrame feeds raw bytes as frames of every link type.
func FuzzFrame(f *testing.F) {
	u4 := ipv4("10.0.0.1", "10.0.0.2", protoUDP, 1, 0, false, udp(1, 2, []byte("x")))
	f.Add(eth(etIPv4, u4, etVLAN), uint16(1))
	f.Add(ipv6("fe80::1", "fe80::2", 44, frag6(protoUDP, 0, true, 1, make([]byte, 16))), uint16(101))
	f.Add(null(30, false, ipv6("::1", "::2", 0, ext6(protoTCP, tcpSeg(1, 2, 3, tcpSYN, nil)))), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, lt uint16) {
		s := New(Config{MaxFlows: 16, Dissectors: []dissect.Dissector{&recorder{layer: dissect.LayerTCP}, &recorder{layer: dissect.LayerUDP}}})
		for i := range 3 {
			s.Frame(Frame{Data: data, Time: time.Unix(int64(i), 0), Length: len(data), LinkType: layers.LinkType(lt)})
		}
		s.Flush()
	})
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// BenchmarkPipeline measures read+decode+flows+dissect on the testdata
// captures merged in memory.
func BenchmarkPipeline(b *testing.B) {
	ms, _ := filepath.Glob("testdata/ethernet-*.pcap")
	var frames [][]byte
	for _, m := range ms {
		data, _ := os.ReadFile(m)
		src, err := OpenCapture(bytes.NewReader(data), m)
		if err != nil {
			b.Fatal(err)
		}
		for {
			fr, err := src.Next()
			if err != nil {
				break
			}
			frames = append(frames, bytes.Clone(fr.Data))
		}
	}
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	rec := &recorder{layer: dissect.LayerTCP}
	for b.Loop() {
		s := New(Config{Dissectors: []dissect.Dissector{rec}})
		for i, f := range frames {
			s.Frame(Frame{Data: f, Time: time.Unix(1700000000, int64(i)), Length: len(f), LinkType: layers.LinkTypeEthernet})
		}
		s.Flush()
		rec.streams = rec.streams[:0]
	}
}

// BenchmarkFlowUpdate measures the per-packet cost of an existing flow.
func BenchmarkFlowUpdate(b *testing.B) {
	frames := make([][]byte, 1024)
	for i := range frames {
		frames[i] = eth(etIPv4, ipv4("10.0.0.1", fmt.Sprintf("10.2.%d.%d", i/256, i%256), protoUDP, 1, 0, false, udp(40000, 4000, make([]byte, 64))))
	}
	s := New(Config{})
	t0 := time.Unix(1700000000, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := frames[i&1023]
		s.Frame(Frame{Data: f, Time: t0.Add(time.Duration(i)), Length: len(f), LinkType: layers.LinkTypeEthernet})
		i++
	}
}

// TestMillionFlowsMemory creates 1,000,000 concurrent TCP flows and checks
// the heap stays within the 512 MB budget. It takes a few seconds and about
// half a gigabyte, so it runs only with MEDWARDEN_TEST_MEMORY=1.
func TestMillionFlowsMemory(t *testing.T) {
	if os.Getenv("MEDWARDEN_TEST_MEMORY") == "" {
		t.Skip("MEDWARDEN_TEST_MEMORY not set: the 1,000,000-flow memory test is long")
	}
	const n = 1_000_000
	s := New(Config{})
	frame := eth(etIPv4, ipv4("10.0.0.1", "10.0.0.2", protoTCP, 1, 0, false, tcpSeg(40000, 443, 1, tcpSYN, nil)))
	ip := frame[14:]
	t0 := time.Unix(1700000000, 0)
	for i := range n {
		ip[17], ip[18], ip[19] = byte(i>>16), byte(i>>8), byte(i) // destination 10.x.y.z
		s.Frame(Frame{Data: frame, Time: t0.Add(time.Duration(i) * time.Microsecond), Length: len(frame), LinkType: layers.LinkTypeEthernet})
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d flows: heap in use %d MB, sys %d MB", s.flows.n, ms.HeapInuse>>20, ms.Sys>>20)
	if s.flows.n != n || s.Stats().EvictedFlows != 0 {
		t.Errorf("flows in table = %d, evicted %d", s.flows.n, s.Stats().EvictedFlows)
	}
	if ms.Sys > 512<<20 {
		t.Errorf("memory obtained from the OS = %d MB, budget 512 MB", ms.Sys>>20)
	}
}
