package dns_test

import (
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dns"
	"github.com/medwarden/medwarden/internal/sensor/sensortest"
)

func TestDissectCaptures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want map[string][]string
	}{
		{"mdns-no-assoc.pcap", map[string][]string{ // Zeek dns.log: queries and unsolicited answers
			dns.FieldQuery:    {"initial-query-a.local", "initial-query-aaaa.local", "v6-initial.local"},
			dns.FieldMDNSName: {"unrelated-reply-a.local", "unrelated-reply-aaaa.local", "v6-unrelated.local"},
		}},
		{"mdns.pcap", map[string][]string{
			dns.FieldQuery: {
				"4.c.d.4.1.e.e.f.f.f.6.d.c.3.8.8.5.3.2.8.c.3.0.c.e.9.2.4.2.5.d.f.ip6.arpa",
				"7.2.0.10.in-addr.arpa",
				"_ipp._tcp.local",
				"_ipps._tcp.local",
				"f.2.8.f.3.6.5.1.6.c.b.5.8.6.9.5.5.3.2.8.c.3.0.c.e.9.2.4.2.5.d.f.ip6.arpa",
				"johanna-QEMU-Virtual-Machine.local",
			},
			dns.FieldMDNSName: {"johanna-QEMU-Virtual-Machine.local"},
		}},
		{"ndpi-dns.pcap", map[string][]string{ // e7.whatsapp.net is over QinQ + PPPoE
			dns.FieldQuery: {"e7.whatsapp.net", "www.example.com", "www.l.google.com"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			r := sensortest.Run(t, filepath.Join("testdata", tt.file), dns.New())
			if diff := cmp.Diff(tt.want, sensortest.Fields(r)); diff != "" {
				t.Errorf("Dissect(%s) (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

// msg builds a DNS message: header fields then raw sections.
func msg(flags uint16, qd, an uint16, body ...[]byte) []byte {
	h := make([]byte, 12)
	binary.BigEndian.PutUint16(h[2:], flags)
	binary.BigEndian.PutUint16(h[4:], qd)
	binary.BigEndian.PutUint16(h[6:], an)
	for _, b := range body {
		h = append(h, b...)
	}
	return h
}

func name(labels ...string) []byte {
	var b []byte
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

func rr(n []byte, typ uint16, rdata []byte) []byte {
	b := append([]byte(nil), n...)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint32(b, 120)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rdata)))
	return append(b, rdata...)
}

type collector struct{ obs []dissect.Observation }

func (c *collector) Observe(o dissect.Observation) { c.obs = append(c.obs, o) }
func (c *collector) Report(dissect.Finding)        {}

func flow(port uint16) *dissect.Flow {
	return &dissect.Flow{
		Client: dissect.Endpoint{MAC: "00:11:22:33:44:55", Addr: netip.AddrPortFrom(netip.MustParseAddr("192.168.1.10"), port)},
		Server: dissect.Endpoint{MAC: "01:00:5e:00:00:fb", Addr: netip.AddrPortFrom(netip.MustParseAddr("224.0.0.251"), port)},
	}
}

func TestDissectPacket(t *testing.T) {
	t.Parallel()
	loop := msg(0, 1, 0, []byte{0xc0, 12, 0, 1, 0, 1}) // a name pointing at itself
	tests := []struct {
		name    string
		port    uint16
		in      []byte
		want    []string // "field=value"
		wantErr bool
	}{
		{"mdns_printer_announcement", 5353, msg(0x8400, 0, 4,
			rr(name("_ipp", "_tcp", "local"), 12, name("Ward 3 Printer", "_ipp", "_tcp", "local")),
			rr(name("Ward 3 Printer", "_ipp", "_tcp", "local"), 33, append([]byte{0, 0, 0, 0, 2, 0x77}, name("npi1234", "local")...)),
			rr(name("Ward 3 Printer", "_ipp", "_tcp", "local"), 16, []byte("\x0fty=HP LaserJet\x07rp=ipp")),
			rr(name("npi1234", "local"), 1, []byte{192, 168, 1, 10}),
		), []string{
			"mdns.service=_ipp._tcp.local", "mdns.name=Ward 3 Printer._ipp._tcp.local", "mdns.name=Ward 3 Printer._ipp._tcp.local",
			"mdns.name=npi1234.local", "mdns.txt=ty=HP LaserJet", "mdns.name=npi1234.local",
		}, false},
		{"llmnr_query", 5355, msg(0, 1, 0, name("fileserver"), []byte{0, 1, 0, 1}), []string{"dns.query=fileserver", "llmnr.query=fileserver"}, false},
		{"llmnr_answer", 5355, msg(0x8000, 1, 1, name("ws-17"), []byte{0, 1, 0, 1}, rr(name("ws-17"), 1, []byte{10, 0, 0, 17})),
			[]string{"dns.query=ws-17", "llmnr.name=ws-17"}, false},
		{"compression_loop", 53, loop, nil, true},
		{"truncated_header", 53, []byte{0, 1, 2}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c collector
			err := dns.New().(dissect.PacketDissector).DissectPacket(flow(tt.port), dissect.FromClient, tt.in, time.Unix(1, 0), &c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("DissectPacket(%s) error = %v, wantErr %v", tt.name, err, tt.wantErr)
			}
			var got []string
			for _, o := range c.obs {
				got = append(got, o.Field+"="+o.Value)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DissectPacket(%s) (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func FuzzDissectPacket(f *testing.F) {
	for _, file := range sensortest.SeedFiles(f, "testdata") {
		for _, p := range sensortest.Payloads(f, file, dissect.LayerUDP) {
			f.Add(p, uint16(5353))
			f.Add(p, uint16(53))
		}
	}
	d := dns.New().(dissect.PacketDissector)
	f.Fuzz(func(t *testing.T, p []byte, port uint16) {
		var c collector
		fl := flow(port)
		_ = d.Detect(fl, dissect.FromClient, p)
		_ = d.DissectPacket(fl, dissect.FromServer, p, time.Unix(0, 0), &c)
		for _, o := range c.obs {
			if len(o.Value) > 255 {
				t.Fatalf("%s value longer than 255 bytes", o.Field)
			}
		}
	})
}

func BenchmarkDissectPacket(b *testing.B) {
	payloads := sensortest.Payloads(b, "testdata/mdns.pcap", dissect.LayerUDP)
	d := dns.New().(dissect.PacketDissector)
	fl := flow(5353)
	n := 0
	for _, p := range payloads {
		n += len(p)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range payloads {
			_ = d.DissectPacket(fl, dissect.FromServer, p, time.Time{}, discard{})
		}
	}
}

type discard struct{}

func (discard) Observe(dissect.Observation) {}
func (discard) Report(dissect.Finding)      {}
