package ntp

import (
	"bufio"
	"net/netip"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dissecttest"
)

func dissectAll(t testing.TB, path string) map[netip.Addr][]string {
	t.Helper()
	got := map[netip.Addr]map[string]bool{}
	for _, p := range dissecttest.ReadCapture(t, path) {
		if !p.UDP {
			continue
		}
		r := &dissecttest.Recorder{}
		if err := New().(*Dissector).DissectPacket(dissecttest.UDPFlow(p), dissect.FromClient, p.Payload, p.Time, r); err != nil {
			t.Errorf("%v: %v", p.Src, err)
		}
		for _, o := range r.Obs {
			if got[o.IP] == nil {
				got[o.IP] = map[string]bool{}
			}
			got[o.IP][o.Field+"="+o.Value] = true
		}
	}
	res := map[netip.Addr][]string{}
	for ip, m := range got {
		for k := range m {
			res[ip] = append(res[ip], k)
		}
		sort.Strings(res[ip])
	}
	return res
}

func TestDissectPacket(t *testing.T) {
	t.Parallel()
	got := dissectAll(t, "testdata/ntp.pcap")
	tests := []struct {
		ip   string
		want []string
	}{
		{"85.199.214.99", []string{"ntp.mode=server", "ntp.reference_id=GPS", "ntp.stratum=1", "ntp.version=4"}},
		{"80.211.52.109", []string{"ntp.mode=server", "ntp.reference_id=105.237.207.28", "ntp.stratum=4", "ntp.version=4"}},
		{"80.211.88.132", []string{"ntp.mode=server", "ntp.reference_id=185.19.184.35", "ntp.stratum=3", "ntp.version=3"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, got[netip.MustParseAddr(tt.ip)]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.ip, diff)
		}
	}
}

// TestAgainstZeek compares version, mode, stratum and reference id of every
// server response with Zeek's ntp.log for the same capture.
func TestAgainstZeek(t *testing.T) {
	t.Parallel()
	fh, err := os.Open("testdata/zeek-ntp.log")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	want := map[string]bool{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 14 || strings.HasPrefix(f[0], "#") {
			continue
		}
		// Each line is one message of the connection orig→resp; mode 4
		// lines were sent by the responder.
		sender := f[2]
		if f[7] == "4" {
			sender = f[4]
		}
		want[sender+" ntp.version="+f[6]] = true
		want[sender+" ntp.mode="+modeNames[f[7][0]-'0']] = true
		want[sender+" ntp.stratum="+f[8]] = true
		want[sender+" ntp.reference_id="+strings.TrimSuffix(f[13], `\x00`)] = true // zeek escapes the NUL of "GPS\0"
	}
	got := dissectAll(t, "testdata/ntp.pcap")
	for w := range want {
		ip, kv, _ := strings.Cut(w, " ")
		if !contains(got[netip.MustParseAddr(ip)], kv) {
			t.Errorf("zeek has %s for %s; got %v", kv, ip, got[netip.MustParseAddr(ip)])
		}
	}
	if len(want) < 20 {
		t.Fatalf("only %d zeek facts read", len(want))
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestAgainstTshark(t *testing.T) {
	t.Parallel()
	ts := dissecttest.TsharkFields(t, "testdata/ntp.pcap", "ntp", "ntp.stratum", "ntp.flags.vn")
	var all []dissect.Observation
	for _, p := range dissecttest.ReadCapture(t, "testdata/ntp.pcap") {
		r := &dissecttest.Recorder{}
		_ = New().(*Dissector).DissectPacket(dissecttest.UDPFlow(p), dissect.FromClient, p.Payload, p.Time, r)
		all = append(all, r.Obs...)
	}
	if diff := cmp.Diff(ts["ntp.stratum"], dissecttest.Uniq(all, "ntp.stratum")); diff != "" {
		t.Errorf("stratum (-tshark +got):\n%s", diff)
	}
	if diff := cmp.Diff(ts["ntp.flags.vn"], dissecttest.Uniq(all, "ntp.version")); diff != "" {
		t.Errorf("version (-tshark +got):\n%s", diff)
	}
}

// TestModes6And7: a server answering ntpq (mode 6) or ntpdc monlist
// (mode 7) is reported; the queries themselves are not. Packets follow
// RFC 1305 Appendix B and ntpd's ntp_request.h.
func TestModes6And7(t *testing.T) {
	t.Parallel()
	srv := netip.MustParseAddrPort("10.0.0.5:123")
	cli := netip.MustParseAddrPort("10.0.0.9:40000")
	tests := []struct {
		name string
		dir  dissect.Direction
		in   []byte
		want []string
	}{
		{"mode6_readvar_request", dissect.FromClient, []byte{0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, nil},
		{"mode6_readvar_response", dissect.FromServer, append([]byte{0x16, 0x82, 0, 1, 0x06, 0x15, 0, 0, 0, 0, 0, 5}, "vers="...), []string{"ntp-mode6/medium"}},
		{"mode7_monlist_request", dissect.FromClient, append([]byte{0x17, 0x00, 0x03, 0x2a}, make([]byte, 44)...), nil},
		{"mode7_monlist_response", dissect.FromServer, append([]byte{0x97, 0x00, 0x03, 0x2a, 0x00, 0x06, 0x00, 0x48}, make([]byte, 72)...), []string{"ntp-mode7/high"}},
	}
	for _, tt := range tests {
		r := &dissecttest.Recorder{}
		f := &dissect.Flow{Client: dissect.Endpoint{Addr: cli}, Server: dissect.Endpoint{Addr: srv}}
		if err := New().(*Dissector).DissectPacket(f, tt.dir, tt.in, time.Unix(1, 0), r); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got []string
		for _, fd := range r.Finds {
			got = append(got, fd.Kind+"/"+fd.Severity)
			if fd.IP != srv.Addr() || fd.Peer != cli {
				t.Errorf("%s: finding on %v peer %v", tt.name, fd.IP, fd.Peer)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	var first dissecttest.Pkt
	for _, p := range dissecttest.ReadCapture(t, "testdata/ntp.pcap") {
		first = p
		break
	}
	ntpFlow := dissecttest.UDPFlow(first)
	dnsFlow := &dissect.Flow{Client: dissect.Endpoint{Addr: netip.MustParseAddrPort("10.0.0.1:5000")}, Server: dissect.Endpoint{Addr: netip.MustParseAddrPort("10.0.0.2:53")}}
	tests := []struct {
		name string
		f    *dissect.Flow
		in   []byte
		want bool
	}{
		{"ntp", ntpFlow, first.Payload, true},
		{"ntp_payload_on_other_port", dnsFlow, first.Payload, false},
		{"short", ntpFlow, first.Payload[:20], false},
		{"version_0", ntpFlow, append([]byte{0x03}, first.Payload[1:]...), false},
		{"snmp_on_123", ntpFlow, []byte{0x30, 0x26, 0x02, 0x01, 0x00, 0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c'}, false},
	}
	for _, tt := range tests {
		if got := New().Detect(tt.f, dissect.FromClient, tt.in); got != tt.want {
			t.Errorf("Detect(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func FuzzDissectPacket(f *testing.F) {
	for _, p := range dissecttest.ReadCapture(f, "testdata/ntp.pcap") {
		f.Add(p.Payload)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = New().(*Dissector).DissectPacket(&dissect.Flow{}, dissect.FromClient, b, time.Time{}, &dissecttest.Recorder{})
	})
}

func BenchmarkDissectPacket(b *testing.B) {
	var in []byte
	for _, p := range dissecttest.ReadCapture(b, "testdata/ntp.pcap") {
		in = p.Payload
		break
	}
	d := New().(*Dissector)
	f := &dissect.Flow{}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		_ = d.DissectPacket(f, dissect.FromServer, in, time.Time{}, dissecttest.Discard{})
	}
}
