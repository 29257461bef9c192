package sensor

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket/layers"
)

type decoded struct {
	Result       decodeResult
	Src, Dst     string
	Proto        uint8
	Sport, Dport uint16
	Payload      string
	MAC          string
}

func summarize(p *packet, r decodeResult) decoded {
	d := decoded{Result: r}
	if r == decodedIP || r == decodedFrag {
		d.Src, d.Dst, d.Proto, d.Sport, d.Dport, d.Payload = p.src.String(), p.dst.String(), p.proto, p.sport, p.dport, string(p.payload)
	}
	if p.hasMAC {
		d.MAC = formatMAC(p.srcMAC)
	}
	return d
}

func TestDecodeFrame(t *testing.T) {
	t.Parallel()
	u4 := ipv4("10.0.0.1", "10.0.0.2", protoUDP, 1, 0, false, udp(5353, 53, []byte("hi")))
	u6 := ipv6("fe80::1", "ff02::fb", 0, ext6(60, ext6(protoUDP, udp(5353, 5353, []byte("v6")))))
	want4 := decoded{Result: decodedIP, Src: "10.0.0.1", Dst: "10.0.0.2", Proto: protoUDP, Sport: 5353, Dport: 53, Payload: "hi", MAC: "00:1b:21:01:02:03"}
	want6 := decoded{Result: decodedIP, Src: "fe80::1", Dst: "ff02::fb", Proto: protoUDP, Sport: 5353, Dport: 5353, Payload: "v6"}
	noMAC := want4
	noMAC.MAC = ""
	withMAC6 := want6
	withMAC6.MAC = "00:1b:21:01:02:03"
	padded := append(eth(etIPv4, u4), make([]byte, 12)...) // Ethernet padding after the IP datagram
	tests := []struct {
		name string
		lt   layers.LinkType
		in   []byte
		want decoded
	}{
		{"ethernet_ipv4_udp", layers.LinkTypeEthernet, eth(etIPv4, u4), want4},
		{"ethernet_padding_ignored", layers.LinkTypeEthernet, padded, want4},
		{"dot1q", layers.LinkTypeEthernet, eth(etIPv4, u4, etVLAN), want4},
		{"qinq", layers.LinkTypeEthernet, eth(etIPv4, u4, etQinQ, etVLAN), want4},
		{"qinq_pppoe", layers.LinkTypeEthernet, eth(etPPPoE, append([]byte{0x11, 0, 0x55, 0x6a, 0, byte(2 + len(u4)), 0, 0x21}, u4...), etVLAN, etVLAN), want4},
		{"mpls_two_labels", layers.LinkTypeEthernet, eth(etMPLS, append([]byte{0, 1, 0, 64, 0, 2, 1, 64}, u4...)), want4},
		{"ipv6_extension_headers", layers.LinkTypeEthernet, eth(etIPv6, u6), withMAC6},
		{"linux_sll", layers.LinkTypeLinuxSLL, sll(etIPv4, u4), want4},
		{"linux_sll2", layers.LinkTypeLinuxSLL2, sll2(etIPv6, u6), withMAC6},
		{"raw_101", layers.LinkTypeRaw, u4, noMAC},
		{"raw_12", 12, u6, want6},
		{"raw_14", 14, u4, noMAC},
		{"raw_ipv4_228", layers.LinkTypeIPv4, u4, noMAC},
		{"raw_ipv6_229", layers.LinkTypeIPv6, u6, want6},
		{"null_little_endian", layers.LinkTypeNull, null(2, false, u4), noMAC},
		{"null_big_endian", layers.LinkTypeNull, null(2, true, u4), noMAC},
		{"null_ipv6_darwin", layers.LinkTypeNull, null(30, false, u6), want6},
		{"null_ipv6_freebsd_be", layers.LinkTypeNull, null(28, true, u6), want6},
		{"loop", layers.LinkTypeLoop, null(24, true, u6), want6},
		{"truncated_ethernet", layers.LinkTypeEthernet, eth(etIPv4, u4)[:20], decoded{Result: decodedError, MAC: "00:1b:21:01:02:03"}},
		{"truncated_udp", layers.LinkTypeRaw, u4[:24], decoded{Result: decodedError}},
		{"bad_ihl", layers.LinkTypeRaw, append([]byte{0x41}, u4[1:]...), decoded{Result: decodedError}},
		{"ipv6_ext_loop_overrun", layers.LinkTypeRaw, ipv6("::1", "::2", 0, []byte{0, 200, 0, 0, 0, 0, 0, 0}), decoded{Result: decodedError}},
		{"unknown_link_type", 147, u4, decoded{Result: decodedNone}},
		{"empty", layers.LinkTypeRaw, nil, decoded{Result: decodedError}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p packet
			got := summarize(&p, decodeFrame(&p, tt.lt, tt.in))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decodeFrame(%s) (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func TestDecodeARPAndLink(t *testing.T) {
	t.Parallel()
	arp := []byte{0, 1, 8, 0, 6, 4, 0, 2}
	arp = append(arp, macA...)
	arp = append(arp, 192, 168, 1, 20)
	arp = append(arp, macB...)
	arp = append(arp, 192, 168, 1, 1)
	var p packet
	if r := decodeFrame(&p, layers.LinkTypeEthernet, eth(etARP, arp)); r != decodedARP {
		t.Fatalf("ARP: result %v", r)
	}
	if got, want := p.arpSPA, netip.MustParseAddr("192.168.1.20"); got != want {
		t.Errorf("ARP sender = %v, want %v", got, want)
	}
	// CDP: 802.3 length, LLC/SNAP with Cisco OUI and protocol 0x2000.
	cdp := append([]byte{0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00}, []byte("cdp-body")...)
	if r := decodeFrame(&p, layers.LinkTypeEthernet, eth(uint16(len(cdp)), cdp)); r != decodedLink || !p.llc || p.snapProto != 0x2000 || string(p.linkPayload) != "cdp-body" {
		t.Errorf("CDP: result %v llc %v snap %#x payload %q", r, p.llc, p.snapProto, p.linkPayload)
	}
	if r := decodeFrame(&p, layers.LinkTypeEthernet, eth(etLLDP, []byte("lldp"))); r != decodedLink || p.etherType != etLLDP {
		t.Errorf("LLDP: result %v ethertype %#x", r, p.etherType)
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	frames := [][]byte{
		eth(etIPv4, ipv4("10.0.0.1", "10.0.0.2", protoTCP, 1, 0, false, tcpSeg(40000, 80, 1, tcpACK, make([]byte, 1200)))),
		eth(etIPv4, ipv4("10.0.0.1", "10.0.0.2", protoUDP, 1, 0, false, udp(5353, 53, make([]byte, 60))), etVLAN),
		eth(etIPv6, ipv6("fe80::1", "ff02::fb", protoUDP, udp(5353, 5353, make([]byte, 100)))),
	}
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	var p packet
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range frames {
			decodeFrame(&p, layers.LinkTypeEthernet, f)
		}
	}
}
