package dhcp_test

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dhcp"
	"github.com/medwarden/medwarden/internal/sensor/sensortest"
)

type devField struct{ MAC, Field, Value string }

func observed(t *testing.T, file string) map[devField]bool {
	t.Helper()
	r := sensortest.Run(t, filepath.Join("testdata", file), dhcp.New())
	got := map[devField]bool{}
	for _, o := range r.Observations {
		got[devField{o.MAC, o.Field, o.Value}] = true
	}
	return got
}

func TestDissectCaptures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []devField
	}{
		{"dhcp.pcap", []devField{ // Zeek dhcp.log: host_name btest.is.cool, requested/assigned 128.2.6.189
			{"90:b1:1c:99:49:29", dhcp.FieldHostname, "btest.is.cool"},
			{"90:b1:1c:99:49:29", dhcp.FieldAssignedIP, "128.2.6.189"},
			{"90:b1:1c:99:49:29", dhcp.FieldRequestedIP, "128.2.6.189"},
			{"90:b1:1c:99:49:29", dhcp.FieldMessageType, "decline"},
			{"90:b1:1c:99:49:29", dhcp.FieldMessageType, "inform"},
			{"90:b1:1c:99:49:29", dhcp.FieldMessageType, "nak"},
		}},
		{"dhcp-mud.pcap", []devField{ // tcpdump -vv
			{"b8:27:eb:b8:53:c8", dhcp.FieldHostname, "raspberrypi"},
			{"b8:27:eb:b8:53:c8", dhcp.FieldVendorClass, "dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709"},
			{"b8:27:eb:b8:53:c8", dhcp.FieldClientID, "01:b8:27:eb:b8:53:c8"},
			{"b8:27:eb:b8:53:c8", dhcp.FieldFingerprint, "1,121,33,3,6,12,15,28,42,51,54,58,59,100,101,119"},
		}},
		{"dhcp-rfc3004.pcap", []devField{
			{"00:0c:29:1f:74:06", dhcp.FieldFingerprint, "1,28,2,3,15,6,12"},
			{"00:0c:29:1f:74:06", dhcp.FieldAssignedIP, "192.168.1.4"},
		}},
		{"dhcp_time_and_nameserver.pcap", []devField{
			{"00:90:f5:91:cd:1f", dhcp.FieldHostname, "pop-os"},
			{"00:90:f5:91:cd:1f", dhcp.FieldFingerprint, "1,28,2,3,15,6,119,12,44,47,26,121,42,4,5,249,33,252"},
		}},
		{"dhcpv6-mud.pcap", []devField{ // relayed SOLICIT: belongs to the client in the DUID, not to the relay
			{"b8:27:eb:b8:53:c8", dhcp.FieldVendorClass, "dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709"},
			{"b8:27:eb:b8:53:c8", dhcp.FieldClientFQDN, "raspberrypi"},
			{"b8:27:eb:b8:53:c8", dhcp.FieldDUID, "00:01:00:01:1e:62:77:0b:b8:27:eb:b8:53:c8"},
			{"b8:27:eb:b8:53:c8", dhcp.FieldFingerprint6, "23,24,31,39,82,83"},
			{"b8:27:eb:b8:53:c8", dhcp.FieldMessageType, "solicit"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got := observed(t, tt.file)
			var missing []devField
			for _, w := range tt.want {
				if !got[w] {
					missing = append(missing, w)
				}
			}
			if diff := cmp.Diff([]devField(nil), missing); diff != "" {
				t.Errorf("Dissect(%s) missing observations (-want +got):\n%s\nall: %v", tt.file, diff, got)
			}
		})
	}
}

// A relay agent's view: the DHCPv6 server's reply comes back through it.
func TestNotAttributedToRelay(t *testing.T) {
	t.Parallel()
	got := observed(t, "dhcpv6-mud.pcap")
	for k := range got {
		if k.MAC == "00:23:eb:10:2c:29" {
			t.Errorf("observation %v attributed to the relay agent", k)
		}
	}
}

func TestDissectPacketMalformed(t *testing.T) {
	t.Parallel()
	f := &dissect.Flow{Client: dissect.Endpoint{Addr: netip.MustParseAddrPort("0.0.0.0:68")}, Server: dissect.Endpoint{Addr: netip.MustParseAddrPort("255.255.255.255:67")}}
	d := dhcp.New().(dissect.PacketDissector)
	msg := make([]byte, 240)
	msg[0], msg[1], msg[2] = 1, 1, 6
	copy(msg[236:], []byte{0x63, 0x82, 0x53, 0x63})
	tests := []struct {
		name    string
		in      []byte
		wantErr bool
		want    []string
	}{
		{"short", []byte{1, 1, 6}, true, nil},
		{"no_options", msg, false, nil},
		{"option_overruns", append(append([]byte(nil), msg...), 12, 200, 'a'), true, nil},
		{"hostname_with_control_chars", append(append([]byte(nil), msg...), 12, 5, 'a', 0, 'b', '\n', 'c', 255), false, []string{"abc"}},
		{"fqdn_wire_format", append(append([]byte(nil), msg...), 81, 12, 0x04, 0, 0, 3, 'p', 'c', '1', 3, 'l', 'a', 'n', 0, 255), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e collector
			err := d.DissectPacket(f, dissect.FromClient, tt.in, time.Unix(0, 0), &e)
			if (err != nil) != tt.wantErr {
				t.Fatalf("DissectPacket(%s) error = %v, wantErr %v", tt.name, err, tt.wantErr)
			}
			var hosts []string
			for _, o := range e.obs {
				if o.Field == dhcp.FieldHostname {
					hosts = append(hosts, o.Value)
				}
				if o.Field == dhcp.FieldClientFQDN && o.Value != "pc1.lan" {
					t.Errorf("client_fqdn = %q, want pc1.lan", o.Value)
				}
			}
			if diff := cmp.Diff(tt.want, hosts); diff != "" {
				t.Errorf("hostnames (-want +got):\n%s", diff)
			}
		})
	}
}

type collector struct {
	obs []dissect.Observation
	fnd []dissect.Finding
}

func (c *collector) Observe(o dissect.Observation) { c.obs = append(c.obs, o) }
func (c *collector) Report(f dissect.Finding)      { c.fnd = append(c.fnd, f) }

func FuzzDissectPacket(f *testing.F) {
	for _, file := range sensortest.SeedFiles(f, "testdata") {
		for _, p := range sensortest.Payloads(f, file, dissect.LayerUDP) {
			f.Add(p, uint16(68), uint16(67))
			f.Add(p, uint16(546), uint16(547))
		}
	}
	d := dhcp.New().(dissect.PacketDissector)
	f.Fuzz(func(t *testing.T, p []byte, cport, sport uint16) {
		fl := &dissect.Flow{Client: dissect.Endpoint{Addr: netip.AddrPortFrom(netip.IPv6LinkLocalAllNodes(), cport)},
			Server: dissect.Endpoint{Addr: netip.AddrPortFrom(netip.IPv6LinkLocalAllNodes(), sport)}}
		var e collector
		if d.Detect(fl, dissect.FromClient, p) {
			_ = d.DissectPacket(fl, dissect.FromClient, p, time.Unix(0, 0), &e)
		}
		_ = d.DissectPacket(fl, dissect.FromServer, p, time.Unix(0, 0), &e)
		for _, o := range e.obs {
			if len(o.Value) > 255 {
				t.Fatalf("value of %s longer than 255 bytes", o.Field)
			}
		}
	})
}

func BenchmarkDissectPacket(b *testing.B) {
	payloads := sensortest.Payloads(b, "testdata/dhcp-mud.pcap", dissect.LayerUDP)
	fl := &dissect.Flow{Client: dissect.Endpoint{Addr: netip.MustParseAddrPort("0.0.0.0:68")}, Server: dissect.Endpoint{Addr: netip.MustParseAddrPort("255.255.255.255:67")}}
	d := dhcp.New().(dissect.PacketDissector)
	var e discard
	n := 0
	for _, p := range payloads {
		n += len(p)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range payloads {
			_ = d.DissectPacket(fl, dissect.FromClient, p, time.Time{}, e)
		}
	}
}

type discard struct{}

func (discard) Observe(dissect.Observation) {}
func (discard) Report(dissect.Finding)      {}
