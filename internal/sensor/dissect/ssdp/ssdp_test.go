package ssdp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dissecttest"
)

// The NOTIFY and search response below are the message templates of the
// UPnP Device Architecture 2.0 (§1.2.2, §1.3.3) filled in the way a
// networked infusion-pump gateway announces itself.
const (
	notify = "NOTIFY * HTTP/1.1\r\n" +
		"HOST: 239.255.255.250:1900\r\n" +
		"CACHE-CONTROL: max-age = 1800\r\n" +
		"LOCATION: http://10.20.30.40:49152/description.xml\r\n" +
		"NT: upnp:rootdevice\r\n" +
		"NTS: ssdp:alive\r\n" +
		"SERVER: Linux/3.14 UPnP/1.0 IpBridge/1.26.0\r\n" +
		"USN: uuid:2f402f80-da50-11e1-9b23-001788255acc::upnp:rootdevice\r\n" +
		"BOOTID.UPNP.ORG: 1\r\n\r\n"
	response = "HTTP/1.1 200 OK\r\n" +
		"CACHE-CONTROL: max-age=100\r\n" +
		"EXT:\r\n" +
		"LOCATION: http://10.20.30.40:80/description.xml\r\n" +
		"SERVER: FreeRTOS/6.0.5, UPnP/1.0, IpBridge/0.1\r\n" +
		"ST: urn:schemas-upnp-org:device:basic:1\r\n" +
		"USN: uuid:2f402f80-da50-11e1-9b23-001788255acc\r\n\r\n"
)

func TestDissectPacket(t *testing.T) {
	t.Parallel()
	var msearch dissecttest.Pkt
	for _, p := range dissecttest.ReadCapture(t, "testdata/ssdp-m-search-ua.pcap") {
		if p.UDP {
			msearch = p
			break
		}
	}
	tests := []struct {
		name string
		in   []byte
		want []string
	}{
		{"m_search_real", msearch.Payload, []string{"ssdp.st=urn:dial-multiscreen-org:service:dial:1", "ssdp.user_agent=Google Chrome/99.0.4844.74 Mac OS X"}},
		{"notify", []byte(notify), []string{
			"ssdp.location=http://10.20.30.40:49152/description.xml", "ssdp.nt=upnp:rootdevice",
			"ssdp.server=Linux/3.14 UPnP/1.0 IpBridge/1.26.0", "ssdp.usn=uuid:2f402f80-da50-11e1-9b23-001788255acc::upnp:rootdevice",
		}},
		{"search_response", []byte(response), []string{
			"ssdp.location=http://10.20.30.40:80/description.xml", "ssdp.server=FreeRTOS/6.0.5, UPnP/1.0, IpBridge/0.1",
			"ssdp.st=urn:schemas-upnp-org:device:basic:1", "ssdp.usn=uuid:2f402f80-da50-11e1-9b23-001788255acc",
		}},
		{"lf_only_lower_case_headers", []byte("NOTIFY * HTTP/1.1\nserver: Acme/1.0 UPnP/1.0 Monitor/2\nusn: uuid:1\n\n"), []string{"ssdp.server=Acme/1.0 UPnP/1.0 Monitor/2", "ssdp.usn=uuid:1"}},
		{"control_characters_dropped", []byte("NOTIFY * HTTP/1.1\r\nSERVER: A\x1b[31mB\r\n\r\n"), []string{"ssdp.server=A[31mB"}},
	}
	src := netip.MustParseAddrPort("10.20.30.40:1900")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &dissecttest.Recorder{}
			f := &dissect.Flow{Client: dissect.Endpoint{MAC: "00:17:88:25:5a:cc", Addr: src}}
			if err := New().(*Dissector).DissectPacket(f, dissect.FromClient, tt.in, time.Unix(1, 0), r); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, dissecttest.Uniq(r.Obs, "")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for _, o := range r.Obs {
				if o.IP != src.Addr() || o.MAC != "00:17:88:25:5a:cc" || o.Protocol != Name {
					t.Errorf("%s owned by %v/%q protocol %q", o.Field, o.IP, o.MAC, o.Protocol)
				}
			}
		})
	}
}

func TestAgainstTshark(t *testing.T) {
	t.Parallel()
	ts := dissecttest.TsharkFields(t, "testdata/ssdp-m-search-ua.pcap", "ssdp", "http.user_agent")
	var all []dissect.Observation
	for _, p := range dissecttest.ReadCapture(t, "testdata/ssdp-m-search-ua.pcap") {
		r := &dissecttest.Recorder{}
		_ = New().(*Dissector).DissectPacket(dissecttest.UDPFlow(p), dissect.FromClient, p.Payload, p.Time, r)
		all = append(all, r.Obs...)
	}
	if diff := cmp.Diff(ts["http.user_agent"], dissecttest.Uniq(all, "ssdp.user_agent")); diff != "" {
		t.Errorf("(-tshark +got):\n%s", diff)
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"notify", notify, true},
		{"search_response", response, true},
		{"m_search", "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n", true},
		{"plain_http_response", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", false},
		{"http_get", "GET / HTTP/1.1\r\n", false},
		{"ws_discovery", "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		if got := New().Detect(nil, dissect.FromClient, []byte(tt.in)); got != tt.want {
			t.Errorf("Detect(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func FuzzDissectPacket(f *testing.F) {
	for _, p := range dissecttest.ReadCapture(f, "testdata/ssdp-m-search-ua.pcap") {
		f.Add(p.Payload)
	}
	f.Add([]byte(notify))
	f.Add([]byte(response))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &dissecttest.Recorder{}
		_ = New().(*Dissector).DissectPacket(&dissect.Flow{}, dissect.FromClient, b, time.Time{}, r)
		for _, o := range r.Obs {
			if len(o.Value) > maxValue {
				t.Fatalf("%s: %d bytes", o.Field, len(o.Value))
			}
		}
	})
}

func BenchmarkDissectPacket(b *testing.B) {
	d := New().(*Dissector)
	in := []byte(notify)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		_ = d.DissectPacket(&dissect.Flow{}, dissect.FromClient, in, time.Time{}, dissecttest.Discard{})
	}
}
