package ssdp

// Test helpers shared (by copy) between the dissector packages: reading real
// captures with gopacket's pcapgo and recording what a dissector emits.

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

// recorder is an Emitter that keeps everything.
type recorder struct {
	obs   []dissect.Observation
	finds []dissect.Finding
}

func (r *recorder) Observe(o dissect.Observation) { r.obs = append(r.obs, o) }
func (r *recorder) Report(f dissect.Finding)      { r.finds = append(r.finds, f) }

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

// udpFlow builds the flow of a datagram as the core does (sender = client).
func udpFlow(p pkt) *dissect.Flow {
	return &dissect.Flow{Client: dissect.Endpoint{MAC: p.srcMAC, Addr: p.src}, Server: dissect.Endpoint{MAC: p.dstMAC, Addr: p.dst}}
}

// tsharkFields runs tshark once on a capture and returns, per field, the
// sorted unique non-empty values; it skips when tshark is not installed.
func tsharkFields(t testing.TB, path, filter string, fields ...string) map[string][]string {
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

// uniq returns the sorted unique values of field in obs (all
// "field=value" pairs when field is empty).
func uniq(obs []dissect.Observation, field string) []string {
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
