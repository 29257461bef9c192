// Package dissecttest holds the test helpers the dissector packages share:
// reading real captures with gopacket's pcapgo, recording what a dissector
// emits, rebuilding UDP flows and in-order TCP streams the way the sensor
// core does, and asking tshark for the same fields as an oracle.
//
// It is imported only by _test.go files.
package dissecttest

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"sort"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Recorder is an Emitter that keeps everything.
type Recorder struct {
	Obs   []dissect.Observation
	Finds []dissect.Finding
}

// Observe implements dissect.Emitter.
func (r *Recorder) Observe(o dissect.Observation) { r.Obs = append(r.Obs, o) }

// Report implements dissect.Emitter.
func (r *Recorder) Report(f dissect.Finding) { r.Finds = append(r.Finds, f) }

// Fields returns "field=value" strings, in emission order.
func (r *Recorder) Fields() []string {
	var out []string
	for _, o := range r.Obs {
		out = append(out, o.Field+"="+o.Value)
	}
	return out
}

// Kinds returns "kind/severity: detail" strings, in emission order.
func (r *Recorder) Kinds() []string {
	var out []string
	for _, f := range r.Finds {
		out = append(out, f.Kind+"/"+f.Severity+": "+f.Detail)
	}
	return out
}

// Discard is an Emitter that drops everything (benchmarks).
type Discard struct{}

// Observe implements dissect.Emitter.
func (Discard) Observe(dissect.Observation) {}

// Report implements dissect.Emitter.
func (Discard) Report(dissect.Finding) {}

// Pkt is one decoded packet of a capture.
type Pkt struct {
	Time      time.Time
	Src, Dst  netip.AddrPort
	SrcMAC    string
	DstMAC    string
	TCP, UDP  bool
	SYN       bool
	Seq       uint32
	EtherType uint16
	LLC       bool
	SNAP      uint16
	Payload   []byte // transport payload, or link payload for link frames
}

// ReadCapture decodes every packet of a pcap or pcapng file.
func ReadCapture(t testing.TB, path string) []Pkt {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read capture: %v", err)
	}
	var src gopacket.PacketDataSource
	var lt layers.LinkType
	if bytes.HasPrefix(raw, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		src, lt = r, r.LinkType()
	} else {
		r, err := pcapgo.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		src, lt = r, r.LinkType()
	}
	var out []Pkt
	for {
		data, ci, err := src.ReadPacketData()
		if err != nil {
			break
		}
		var first gopacket.Decoder = lt
		switch {
		case lt == 228 || (lt == 101 || lt == 12) && len(data) > 0 && data[0]>>4 == 4: // raw IPv4
			first = layers.LayerTypeIPv4
		case lt == 229 || (lt == 101 || lt == 12) && len(data) > 0 && data[0]>>4 == 6: // raw IPv6
			first = layers.LayerTypeIPv6
		}
		p := gopacket.NewPacket(data, first, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		var k Pkt
		k.Time = ci.Timestamp.UTC()
		if eth, ok := p.LinkLayer().(*layers.Ethernet); ok {
			k.SrcMAC, k.DstMAC = eth.SrcMAC.String(), eth.DstMAC.String()
			k.EtherType = uint16(eth.EthernetType)
		}
		var sip, dip netip.Addr
		switch nl := p.NetworkLayer().(type) {
		case *layers.IPv4:
			sip, _ = netip.AddrFromSlice(nl.SrcIP.To4())
			dip, _ = netip.AddrFromSlice(nl.DstIP.To4())
		case *layers.IPv6:
			sip, _ = netip.AddrFromSlice(nl.SrcIP)
			dip, _ = netip.AddrFromSlice(nl.DstIP)
		}
		switch tl := p.TransportLayer().(type) {
		case *layers.TCP:
			k.TCP, k.SYN, k.Seq = true, tl.SYN, tl.Seq
			k.Src = netip.AddrPortFrom(sip, uint16(tl.SrcPort))
			k.Dst = netip.AddrPortFrom(dip, uint16(tl.DstPort))
			k.Payload = tl.Payload
		case *layers.UDP:
			k.UDP = true
			k.Src = netip.AddrPortFrom(sip, uint16(tl.SrcPort))
			k.Dst = netip.AddrPortFrom(dip, uint16(tl.DstPort))
			k.Payload = tl.Payload
		default:
			if snap, ok := p.Layer(layers.LayerTypeSNAP).(*layers.SNAP); ok {
				k.LLC, k.SNAP, k.Payload = true, uint16(snap.Type), snap.Payload
			} else if l := p.LinkLayer(); l != nil && k.EtherType == 0x88cc {
				k.Payload = l.LayerPayload()
			}
		}
		out = append(out, k)
	}
	return out
}

// UDPFlow builds the flow of a datagram as the core does (sender = client).
func UDPFlow(p Pkt) *dissect.Flow {
	return &dissect.Flow{Client: dissect.Endpoint{MAC: p.SrcMAC, Addr: p.Src}, Server: dissect.Endpoint{MAC: p.DstMAC, Addr: p.Dst}}
}

// Chunk is one in-order piece of a reassembled TCP stream.
type Chunk struct {
	Dir  dissect.Direction
	Data []byte
	Time time.Time
}

// TCPStreams reassembles the TCP connections of a capture (in-order,
// retransmissions dropped), keyed by client address, chunks in capture
// order; the third result lists the clients in order of first packet.
func TCPStreams(pkts []Pkt) (map[netip.AddrPort]*dissect.Flow, map[netip.AddrPort][]Chunk, []netip.AddrPort) {
	type key struct{ a, b netip.AddrPort }
	flows := map[key]*dissect.Flow{}
	next := map[key]map[dissect.Direction]uint32{}
	byClient := map[netip.AddrPort]*dissect.Flow{}
	chunks := map[netip.AddrPort][]Chunk{}
	var order []netip.AddrPort
	for _, p := range pkts {
		if !p.TCP {
			continue
		}
		k, dir := key{p.Src, p.Dst}, dissect.FromClient
		f := flows[k]
		if f == nil {
			if f2 := flows[key{p.Dst, p.Src}]; f2 != nil {
				f, k, dir = f2, key{p.Dst, p.Src}, dissect.FromServer
			}
		}
		if f == nil {
			f = &dissect.Flow{Client: dissect.Endpoint{MAC: p.SrcMAC, Addr: p.Src}, Server: dissect.Endpoint{MAC: p.DstMAC, Addr: p.Dst}}
			flows[k] = f
			next[k] = map[dissect.Direction]uint32{}
			byClient[p.Src] = f
			order = append(order, p.Src)
		}
		n := next[k]
		if p.SYN {
			n[dir] = p.Seq + 1
			continue
		}
		if len(p.Payload) == 0 {
			continue
		}
		exp, ok := n[dir]
		if ok && int32(p.Seq-exp) < 0 {
			continue // retransmission
		}
		n[dir] = p.Seq + uint32(len(p.Payload))
		chunks[f.Client.Addr] = append(chunks[f.Client.Addr], Chunk{dir, p.Payload, p.Time})
	}
	return byClient, chunks, order
}

// TsharkFields runs tshark once on a capture and returns, per field, the
// sorted unique non-empty values; it skips when tshark is not installed.
func TsharkFields(t testing.TB, path, filter string, fields ...string) map[string][]string {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not on PATH")
	}
	args := []string{"-n", "-r", path, "-Y", filter, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=\x1f", "-E", "separator=\x1e"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", path, err)
	}
	res := map[string][]string{}
	seen := map[string]bool{}
	for _, line := range bytes.Split(out, []byte("\n")) {
		for i, col := range bytes.Split(line, []byte("\x1e")) {
			if i >= len(fields) {
				break
			}
			for _, v := range bytes.Split(col, []byte("\x1f")) {
				s := string(bytes.TrimSpace(v))
				if s != "" && !seen[fields[i]+"\x00"+s] {
					seen[fields[i]+"\x00"+s] = true
					res[fields[i]] = append(res[fields[i]], s)
				}
			}
		}
	}
	for _, v := range res {
		sort.Strings(v)
	}
	return res
}

// Uniq returns the sorted unique values of field in obs (all "field=value"
// pairs when field is empty).
func Uniq(obs []dissect.Observation, field string) []string {
	seen := map[string]bool{}
	var vals []string
	for _, o := range obs {
		v := o.Value
		if field == "" {
			v = o.Field + "=" + o.Value
		} else if o.Field != field {
			continue
		}
		if !seen[v] {
			seen[v] = true
			vals = append(vals, v)
		}
	}
	sort.Strings(vals)
	return vals
}

// MustAddrPort parses "addr:port" or fails the test.
func MustAddrPort(t testing.TB, s string) netip.AddrPort {
	t.Helper()
	a, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// ExtraDir returns $MEDWARDEN_TESTDATA_EXTRA or skips the test.
func ExtraDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if d == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: the shared capture corpus is needed")
	}
	return d
}
