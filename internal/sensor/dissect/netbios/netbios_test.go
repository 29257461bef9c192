package netbios

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dissecttest"
)

// The shared corpus has no NBNS or NetBIOS datagram capture, so the packets
// below are built field by field from RFC 1002 (§4.2.2 registration,
// §4.2.13 positive query response, §4.2.18 node status response, §4.4.2
// datagram) and MS-BRWS §2.2.1 (HostAnnouncement), with the names a
// Windows-based patient monitor gateway would use.

func encode(name string, suffix byte) []byte {
	var raw [16]byte
	copy(raw[:], name+"                ")
	raw[15] = suffix
	b := []byte{0x20}
	for _, c := range raw {
		b = append(b, 'A'+c>>4, 'A'+c&15)
	}
	return append(b, 0)
}

func header(id, flags, qd, an, ns, ar uint16) []byte {
	b := make([]byte, 12)
	for i, v := range []uint16{id, flags, qd, an, ns, ar} {
		binary.BigEndian.PutUint16(b[2*i:], v)
	}
	return b
}

// nbRR is a resource record pointing back to the question name (0xc00c).
func nbRR(typ uint16, rdata []byte) []byte {
	b := []byte{0xc0, 0x0c, byte(typ >> 8), byte(typ), 0, 1, 0, 0x04, 0x93, 0xe0, byte(len(rdata) >> 8), byte(len(rdata))}
	return append(b, rdata...)
}

func registration(name string, suffix byte, group bool, addr [4]byte) []byte {
	b := header(0x8123, 0x2910, 1, 0, 0, 1) // opcode 5, RD, B
	b = append(b, encode(name, suffix)...)
	b = append(b, 0, 0x20, 0, 1)
	flags := byte(0x60) // H-node
	if group {
		flags |= 0x80
	}
	return append(b, nbRR(typeNB, append([]byte{flags, 0}, addr[:]...))...)
}

func queryResponse(name string, suffix byte, addr [4]byte) []byte {
	b := header(0x8124, 0x8500, 0, 1, 0, 0) // response, AA, RD
	b = append(b, encode(name, suffix)...)
	b = append(b, 0, 0x20, 0, 1, 0, 0x04, 0x93, 0xe0, 0, 6, 0x60, 0)
	return append(b, addr[:]...)
}

func nodeStatus() []byte {
	b := header(0x8125, 0x8400, 0, 1, 0, 0)
	b = append(b, encode("*", 0)...)
	b = append(b, 0, 0x21, 0, 1, 0, 0, 0, 0)
	names := []struct {
		n      string
		suffix byte
		flags  byte
	}{{"ICU3-GW", 0x00, 0x04}, {"ICU3-GW", 0x20, 0x04}, {"HOSPITAL", 0x00, 0x84}, {"HOSPITAL", 0x1e, 0x84}, {"ICU3-GW", 0x03, 0x04}}
	rd := []byte{byte(len(names))}
	for _, x := range names {
		var n [15]byte
		copy(n[:], x.n+"               ")
		rd = append(rd, n[:]...)
		rd = append(rd, x.suffix, x.flags, 0)
	}
	rd = append(rd, 0x00, 0x0c, 0x29, 0x3a, 0x4b, 0x5c) // unit id
	rd = append(rd, make([]byte, 40)...)                // statistics
	b = append(b, byte(len(rd)>>8), byte(len(rd)))
	return append(b, rd...)
}

func hostAnnouncement(src [4]byte) []byte {
	b := []byte{0x11, 0x02, 0x81, 0x26}
	b = append(b, src[:]...)
	b = append(b, 0, 138, 0, 0, 0, 0)
	b = append(b, encode("ICU3-GW", 0x00)...)
	b = append(b, encode("HOSPITAL", 0x1d)...)
	// SMB header and transaction words are irrelevant to the dissector;
	// a real one is 32 + 35 bytes long before the mailslot name.
	b = append(b, append([]byte{0xff, 'S', 'M', 'B', 0x25}, make([]byte, 62)...)...)
	b = append(b, "\\MAILSLOT\\BROWSE\x00"...)
	ann := []byte{0x01, 0x00, 0x60, 0xea, 0, 0}
	var n [16]byte
	copy(n[:], "ICU3-GW")
	ann = append(ann, n[:]...)
	ann = append(ann, 10, 0, 0x03, 0x10, 0x01, 0x00, 15, 1, 0x55, 0xaa)
	ann = append(ann, "Bedside gateway\x00"...)
	return append(b, ann...)
}

func TestDissectPacket(t *testing.T) {
	t.Parallel()
	gw := netip.MustParseAddrPort("10.1.2.3:137")
	wins := netip.MustParseAddrPort("10.1.0.2:137")
	tests := []struct {
		name   string
		sender netip.AddrPort
		in     []byte
		want   []string
	}{
		{"registration_unique", gw, registration("ICU3-GW", 0x00, false, gw.Addr().As4()), []string{"netbios.name=ICU3-GW"}},
		{"registration_group", gw, registration("HOSPITAL", 0x00, true, gw.Addr().As4()), []string{"netbios.workgroup=HOSPITAL"}},
		{"registration_messenger_ignored", gw, registration("ICU3-GW", 0x03, false, gw.Addr().As4()), nil},
		{"query_response_by_owner", gw, queryResponse("ICU3-GW", 0x20, gw.Addr().As4()), []string{"netbios.name=ICU3-GW"}},
		{"query_response_by_wins_for_other_host", wins, queryResponse("ICU3-GW", 0x20, gw.Addr().As4()), nil},
		{"node_status", gw, nodeStatus(), []string{"netbios.mac=00:0c:29:3a:4b:5c", "netbios.name=ICU3-GW", "netbios.workgroup=HOSPITAL"}},
		{"host_announcement", netip.AddrPortFrom(gw.Addr(), 138), hostAnnouncement(gw.Addr().As4()), []string{
			"netbios.comment=Bedside gateway", "netbios.name=ICU3-GW", "netbios.os_version=10.0", "netbios.workgroup=HOSPITAL",
		}},
		{"relayed_datagram_ignored", wins, hostAnnouncement(gw.Addr().As4()), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &dissecttest.Recorder{}
			f := &dissect.Flow{Client: dissect.Endpoint{MAC: "00:0c:29:3a:4b:5c", Addr: tt.sender}}
			if !New().Detect(f, dissect.FromClient, tt.in) {
				t.Error("Detect rejected the packet")
			}
			if err := New().(*Dissector).DissectPacket(f, dissect.FromClient, tt.in, time.Unix(1, 0), r); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, dissecttest.Uniq(r.Obs, "")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for _, o := range r.Obs {
				if o.IP != tt.sender.Addr() {
					t.Errorf("%s owned by %v, want %v", o.Field, o.IP, tt.sender.Addr())
				}
			}
		})
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	var dnsWildcard dissecttest.Pkt
	for _, p := range dissecttest.ReadCapture(t, "testdata/netbios_wildcard_dns_query.pcap") {
		if p.UDP {
			dnsWildcard = p
		}
	}
	tests := []struct {
		name string
		f    *dissect.Flow
		in   []byte
		want bool
	}{
		{"registration", nil, registration("ICU3-GW", 0, false, [4]byte{10, 1, 2, 3}), true},
		{"datagram", nil, hostAnnouncement([4]byte{10, 1, 2, 3}), true},
		{"dns_query_for_netbios_wildcard", dissecttest.UDPFlow(dnsWildcard), dnsWildcard.Payload, false},
		{"dns_query", nil, []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1}, false},
		{"snmp", nil, []byte{0x30, 0x26, 0x02, 0x01, 0x00, 0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c'}, false},
		{"empty", nil, nil, false},
	}
	for _, tt := range tests {
		if got := New().Detect(tt.f, dissect.FromClient, tt.in); got != tt.want {
			t.Errorf("Detect(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func FuzzDissectPacket(f *testing.F) {
	f.Add(registration("ICU3-GW", 0, false, [4]byte{10, 1, 2, 3}))
	f.Add(queryResponse("ICU3-GW", 0x20, [4]byte{10, 1, 2, 3}))
	f.Add(nodeStatus())
	f.Add(hostAnnouncement([4]byte{10, 1, 2, 3}))
	for _, p := range dissecttest.ReadCapture(f, "testdata/netbios_wildcard_dns_query.pcap") {
		f.Add(p.Payload)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = New().(*Dissector).DissectPacket(&dissect.Flow{}, dissect.FromClient, b, time.Time{}, &dissecttest.Recorder{})
	})
}

func BenchmarkDissectPacket(b *testing.B) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{{"node-status", nodeStatus()}, {"registration", registration("ICU3-GW", 0, false, [4]byte{10, 1, 2, 3})}} {
		b.Run(tc.name, func(b *testing.B) {
			d := New().(*Dissector)
			f := &dissect.Flow{}
			b.SetBytes(int64(len(tc.in)))
			b.ReportAllocs()
			for b.Loop() {
				_ = d.DissectPacket(f, dissect.FromClient, tc.in, time.Time{}, dissecttest.Discard{})
			}
		})
	}
}
