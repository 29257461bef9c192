package tls

// Test helpers shared (by copy) between the dissector packages: reading real
// captures with gopacket's pcapgo and recording what a dissector emits.

import (
	"bytes"
	"net/netip"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// recorder is an Emitter that keeps everything.
type recorder struct {
	obs   []dissect.Observation
	finds []dissect.Finding
}

func (r *recorder) Observe(o dissect.Observation) { r.obs = append(r.obs, o) }
func (r *recorder) Report(f dissect.Finding)      { r.finds = append(r.finds, f) }

// fields returns "field=value" strings, in emission order.
func (r *recorder) fields() []string {
	var out []string
	for _, o := range r.obs {
		out = append(out, o.Field+"="+o.Value)
	}
	return out
}

// kinds returns "kind/severity: detail" strings, in emission order.
func (r *recorder) kinds() []string {
	var out []string
	for _, f := range r.finds {
		out = append(out, f.Kind+"/"+f.Severity+": "+f.Detail)
	}
	return out
}

// discard is an Emitter that drops everything (benchmarks).
type discard struct{}

func (discard) Observe(dissect.Observation) {}
func (discard) Report(dissect.Finding)      {}

// pkt is one decoded packet of a capture.
type pkt struct {
	time      time.Time
	src, dst  netip.AddrPort
	srcMAC    string
	dstMAC    string
	tcp, udp  bool
	syn       bool
	seq       uint32
	etherType uint16
	llc       bool
	snap      uint16
	payload   []byte // transport payload, or link payload for link frames
}

// readCapture decodes every packet of a pcap or pcapng file.
func readCapture(t testing.TB, path string) []pkt {
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
	var out []pkt
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
		var k pkt
		k.time = ci.Timestamp.UTC()
		if eth, ok := p.LinkLayer().(*layers.Ethernet); ok {
			k.srcMAC, k.dstMAC = eth.SrcMAC.String(), eth.DstMAC.String()
			k.etherType = uint16(eth.EthernetType)
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
			k.tcp, k.syn, k.seq = true, tl.SYN, tl.Seq
			k.src = netip.AddrPortFrom(sip, uint16(tl.SrcPort))
			k.dst = netip.AddrPortFrom(dip, uint16(tl.DstPort))
			k.payload = tl.Payload
		case *layers.UDP:
			k.udp = true
			k.src = netip.AddrPortFrom(sip, uint16(tl.SrcPort))
			k.dst = netip.AddrPortFrom(dip, uint16(tl.DstPort))
			k.payload = tl.Payload
		default:
			if snap, ok := p.Layer(layers.LayerTypeSNAP).(*layers.SNAP); ok {
				k.llc, k.snap, k.payload = true, uint16(snap.Type), snap.Payload
			} else if l := p.LinkLayer(); l != nil && k.etherType == 0x88cc {
				k.payload = l.LayerPayload()
			}
		}
		out = append(out, k)
	}
	return out
}

// chunk is one in-order piece of a reassembled TCP stream.
type chunk struct {
	dir  dissect.Direction
	data []byte
	time time.Time
}

// tcpStreams reassembles the TCP connections of a capture (in-order,
// retransmissions dropped), keyed by client address, chunks in capture order.
func tcpStreams(pkts []pkt) (map[netip.AddrPort]*dissect.Flow, map[netip.AddrPort][]chunk, []netip.AddrPort) {
	type key struct{ a, b netip.AddrPort }
	flows := map[key]*dissect.Flow{}
	next := map[key]map[dissect.Direction]uint32{}
	byClient := map[netip.AddrPort]*dissect.Flow{}
	chunks := map[netip.AddrPort][]chunk{}
	var order []netip.AddrPort
	for _, p := range pkts {
		if !p.tcp {
			continue
		}
		k, dir := key{p.src, p.dst}, dissect.FromClient
		f := flows[k]
		if f == nil {
			if f2 := flows[key{p.dst, p.src}]; f2 != nil {
				f, k, dir = f2, key{p.dst, p.src}, dissect.FromServer
			}
		}
		if f == nil {
			f = &dissect.Flow{Client: dissect.Endpoint{MAC: p.srcMAC, Addr: p.src}, Server: dissect.Endpoint{MAC: p.dstMAC, Addr: p.dst}}
			flows[k] = f
			next[k] = map[dissect.Direction]uint32{}
			byClient[p.src] = f
			order = append(order, p.src)
		}
		n := next[k]
		if p.syn {
			n[dir] = p.seq + 1
			continue
		}
		if len(p.payload) == 0 {
			continue
		}
		exp, ok := n[dir]
		if ok && int32(p.seq-exp) < 0 {
			continue // retransmission
		}
		n[dir] = p.seq + uint32(len(p.payload))
		chunks[f.Client.Addr] = append(chunks[f.Client.Addr], chunk{dir, p.payload, p.time})
	}
	return byClient, chunks, order
}

// uniq returns the sorted unique values of field in obs.
func uniq(obs []dissect.Observation, field string) []string {
	seen := map[string]bool{}
	var vals []string
	for _, o := range obs {
		if o.Field == field && !seen[o.Value] {
			seen[o.Value] = true
			vals = append(vals, o.Value)
		}
	}
	sort.Strings(vals)
	return vals
}

func mustAddrPort(t testing.TB, s string) netip.AddrPort {
	t.Helper()
	a, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// extraDir returns $MEDWARDEN_TESTDATA_EXTRA or skips the test.
func extraDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if d == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: the shared capture corpus is needed")
	}
	return d
}
