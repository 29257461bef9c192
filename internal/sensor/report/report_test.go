package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/classify"
	"github.com/medwarden/medwarden/internal/sensor"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

func TestBuildEdgesAndFindings(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	ip := netip.MustParseAddr
	pc, monitor, gw := "00:1b:21:01:02:03", "00:09:fb:11:22:33", "00:00:0c:07:ac:01"
	res := &sensor.Result{
		Edges: []sensor.Edge{
			{EdgeKey: sensor.EdgeKey{SrcMAC: pc, SrcIP: ip("10.0.0.40"), DstMAC: monitor, DstIP: ip("10.0.0.15"), Proto: "tcp", DPort: 80, App: "http"},
				EdgeStats: sensor.EdgeStats{Packets: 10, Bytes: 1000, First: at, Last: at.Add(time.Minute)}},
			{EdgeKey: sensor.EdgeKey{SrcMAC: pc, SrcIP: ip("10.0.0.40"), DstMAC: monitor, DstIP: ip("10.0.0.15"), Proto: "tcp", DPort: 80, App: "http"},
				EdgeStats: sensor.EdgeStats{Packets: 5, Bytes: 500, First: at.Add(-time.Minute), Last: at}},
			{EdgeKey: sensor.EdgeKey{SrcMAC: pc, SrcIP: ip("10.0.0.40"), DstMAC: gw, DstIP: ip("93.184.216.34"), Proto: "tcp", DPort: 443},
				EdgeStats: sensor.EdgeStats{Packets: 3, Bytes: 300, First: at, Last: at}},
			{EdgeKey: sensor.EdgeKey{SrcMAC: monitor, SrcIP: ip("0.0.0.0"), DstMAC: "ff:ff:ff:ff:ff:ff", DstIP: ip("255.255.255.255"), Proto: "udp", DPort: 67, App: "dhcp"},
				EdgeStats: sensor.EdgeStats{Packets: 1, Bytes: 342, First: at, Last: at}},
		},
		Findings: []sensor.FindingRecord{{Finding: dissect.Finding{Protocol: "http", Kind: "cleartext-credentials", Severity: "high",
			Detail: "user \"nurse\"", MAC: pc, IP: ip("10.0.0.40"), Peer: netip.MustParseAddrPort("10.0.0.15:80")}, FirstSeen: at, LastSeen: at, Count: 2}},
	}
	devs := []classify.Device{
		{MAC: monitor, IPs: []netip.Addr{ip("10.0.0.15")}},
		{MAC: pc, IPs: []netip.Addr{ip("10.0.0.40")}},
	}
	r := Build(res, devs)
	var edges []string
	for _, e := range r.Edges {
		edges = append(edges, e.Src+" "+e.Dst+" "+e.Proto+" "+e.App+" "+e.FirstSeen)
	}
	want := []string{
		monitor + " 255.255.255.255 udp dhcp 2026-11-02T09:00:00Z", // a DHCP client before it has an address
		pc + " " + monitor + " tcp http 2026-11-02T08:59:00Z",      // merged: earliest first_seen
		pc + " 93.184.216.34 tcp  2026-11-02T09:00:00Z",            // behind the gateway: the address, not the gateway
	}
	if diff := cmp.Diff(want, edges); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
	if r.Edges[1].Packets != 15 || r.Edges[1].Bytes != 1500 {
		t.Errorf("merged edge = %+v, want 15 packets, 1500 bytes", r.Edges[1])
	}
	if len(r.Findings) != 1 || r.Findings[0].Device != pc || r.Findings[0].Peer != "10.0.0.15:80" {
		t.Errorf("findings = %+v", r.Findings)
	}
}

func TestWriteJSONIsTheReport(t *testing.T) {
	t.Parallel()
	for _, r := range []*Report{
		{Devices: []Device{}, Edges: []Edge{}, Findings: []Finding{}},
		{Devices: []Device{{MAC: "00:09:fb:11:22:33", IPs: []string{"10.0.0.15"}, Observations: []Observation{{Protocol: "dhcp", Field: "dhcp.hostname", Value: "MX450 \"ICU\""}}}},
			Edges: []Edge{{Src: "a", Dst: "b", Proto: "tcp", DPort: 104, App: "dicom"}, {Src: "a", Dst: "*", App: "(folded)"}}, Findings: []Finding{{Kind: "k"}}},
	} {
		var b strings.Builder
		if err := r.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		var back Report
		if err := json.Unmarshal([]byte(b.String()), &back); err != nil {
			t.Fatalf("WriteJSON output does not parse: %v\n%s", err, b.String())
		}
		if diff := cmp.Diff(r, &back); diff != "" {
			t.Errorf("WriteJSON round trip (-want +got):\n%s", diff)
		}
	}
}

// TestJSONAppendersMatchEncodingJSON: the hand-written edge and finding
// encoders give exactly what encoding/json gives, escapes included.
func TestJSONAppendersMatchEncodingJSON(t *testing.T) {
	t.Parallel()
	odd := []string{"", "plain", "quote \" backslash \\ tab \t nl \n", "<script>&amp;</script>", "ctl \x01\x1f\x7f",
		"bad utf8 \xff\xfe", "line sep \u2028 para \u2029", "ünïcødé 患者", "10.0.0.1", "fe80::1%eth0"}
	for i, s := range odd {
		e := Edge{Src: s, Dst: odd[(i+1)%len(odd)], Proto: "tcp", DPort: uint16(i * 7919), App: s, Packets: uint64(i) << 40,
			Bytes: 1<<64 - 1, FirstSeen: "2026-11-02T09:00:00.123456789Z", LastSeen: s}
		f := Finding{Kind: s, Severity: "high", Protocol: "http", Detail: odd[(i+2)%len(odd)], Device: s, FirstSeen: s, LastSeen: "x", Count: uint64(i)}
		if i%2 == 0 {
			f.MAC, f.IP, f.Peer = "00:09:fb:11:22:33", s, "10.0.0.15:80"
		}
		for _, prefix := range []string{"", "    "} {
			want, _ := json.MarshalIndent(&e, prefix, "  ")
			if got := appendEdge(nil, &e, prefix); string(got) != string(want) {
				t.Errorf("edge %d:\n got %s\nwant %s", i, got, want)
			}
			want, _ = json.MarshalIndent(&f, prefix, "  ")
			if got := appendFinding(nil, &f, prefix); string(got) != string(want) {
				t.Errorf("finding %d:\n got %s\nwant %s", i, got, want)
			}
		}
	}
}

// TestDeviceAppenderMatchesEncodingJSON: devices too, with nil and empty
// slices, attributes and odd confidences.
func TestDeviceAppenderMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	obs := []Observation{{Protocol: "dhcp", Field: "dhcp.hostname", Value: "MX450 \"ICU\" <b>", FirstSeen: "2026-11-02T09:00:00Z", LastSeen: "z", Count: 3},
		{Protocol: "tls", Field: "tls.sni", Value: "pacs.example", Count: 1 << 60}}
	attrs := []classify.Attribute{{Name: "vendor", Value: "Philips", Confidence: 0.95, Rules: []string{"oui"}, Evidence: []string{"dhcp.vendor_class=x"}},
		{Name: "type", Value: "monitor"}, {Name: "os", Value: "<Linux> \"x\"", Confidence: 1.0 / 3, Rules: []string{}, Evidence: []string{"a", "b\u2028"}},
		{Name: "model", Confidence: 1e-9, Rules: []string{"r1", "r2"}, Evidence: []string{}}}
	for i, d := range []Device{
		{},
		{MAC: "00:09:fb:11:22:33", IPs: []string{}, Observations: []Observation{}},
		{MAC: "00:09:fb:11:22:33", IPs: []string{"10.0.0.15", "fe80::1"}, Hostname: "icu-1", Vendor: "Philips", Model: "MX450",
			Type: "patient-monitor", OS: "Linux", Software: []string{"a", "b&c"}, Confidence: 0.9, Attributes: attrs, Observations: obs},
		{IPs: []string{"10.0.0.1"}, Software: []string{}, Confidence: 1e-7, Observations: obs[:1]},
		{Confidence: 1e21, Attributes: []classify.Attribute{}},
		{Confidence: 1.0 / 3},
	} {
		for _, prefix := range []string{"", "    "} {
			want, _ := json.MarshalIndent(&d, prefix, "  ")
			got, err := appendDevice(nil, &d, prefix)
			if err != nil || string(got) != string(want) {
				t.Errorf("device %d (err %v):\n got %s\nwant %s", i, err, got, want)
			}
		}
	}
	if _, err := appendDevice(nil, &Device{Confidence: math.NaN()}, ""); err == nil {
		t.Error("NaN confidence encoded without error")
	}
	if _, err := appendDevice(nil, &Device{Attributes: []classify.Attribute{{Confidence: math.Inf(1)}}}, ""); err == nil {
		t.Error("infinite attribute confidence encoded without error")
	}
}

// TestTimestampsAsRFC3339Nano: ts gives what Format(RFC3339Nano) gives in
// UTC, for any time zone, sub-second precision and year.
func TestTimestampsAsRFC3339Nano(t *testing.T) {
	t.Parallel()
	zone := time.FixedZone("X", -5*3600-30*60)
	times := []time.Time{time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 1, 30, 0, 500000000, zone), time.Unix(1700000000, 120).Local()}
	for i := range 2000 {
		times = append(times, time.Unix(int64(i)*7919*3571, int64(i)*104729%1e9).In(zone), time.Unix(-int64(i)*7919*3571-1, int64(i)*104729%1e9),
			time.Unix(1795000000+int64(i%7)*86399+int64(i), int64(i%3)*100))
	}
	times = append(times, time.Unix(minFixedUnix, 0), time.Unix(minFixedUnix-1, 5), time.Unix(maxFixedUnix-1, 999), time.Unix(maxFixedUnix, 0))
	// Every number of trailing zeros in the fraction, each digit position.
	for ns, k := 1, 0; k < 9; ns, k = ns*10, k+1 {
		times = append(times, time.Unix(1795000000+int64(k), int64(ns)), time.Unix(1795000000, int64(ns*(1+k%9))),
			time.Unix(1795000000, int64(999999999/ns*ns)), time.Unix(1795000000, int64(123456789/ns*ns)))
	}
	var st stamper
	for _, tm := range times {
		want := tm.UTC().Format(time.RFC3339Nano)
		if got := ts(tm); got != want {
			t.Errorf("ts(%v) = %q, want %q", tm, got, want)
		}
		if got := st.ts(tm); got != want {
			t.Errorf("stamper.ts(%v) = %q, want %q", tm, got, want)
		}
	}
	if ts(time.Time{}) != "" {
		t.Error("zero time not empty")
	}
}

// BenchmarkWriteJSON writes a report of 1,000 devices (5 observations
// each), 10,000 edges and 1,000 findings: the encoders of scan output.
func BenchmarkWriteJSON(b *testing.B) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 123456789, time.UTC)
	r := &Report{}
	for i := range 1000 {
		d := Device{MAC: fmt.Sprintf("00:09:fb:00:%02x:%02x", i>>8, i&255), IPs: []string{fmt.Sprintf("10.0.%d.%d", i>>8, i&255)},
			Hostname: "icu-monitor", Vendor: "Philips", Confidence: 0.9}
		for j := range 5 {
			d.Observations = append(d.Observations, Observation{Protocol: "dhcp", Field: "dhcp.hostname", Value: fmt.Sprint("host", j),
				FirstSeen: ts(at), LastSeen: ts(at.Add(time.Hour)), Count: 3})
		}
		r.Devices = append(r.Devices, d)
		r.Findings = append(r.Findings, Finding{Kind: "cleartext-credentials", Severity: "high", Protocol: "http", Detail: "user \"nurse\"",
			Device: d.MAC, MAC: d.MAC, IP: d.IPs[0], FirstSeen: ts(at), LastSeen: ts(at), Count: 1})
	}
	for i := range 10000 {
		r.Edges = append(r.Edges, Edge{Src: r.Devices[i%1000].MAC, Dst: fmt.Sprintf("192.168.%d.%d", i>>8, i&255), Proto: "tcp", DPort: 443,
			App: "tls", Packets: 10, Bytes: 12345, FirstSeen: ts(at), LastSeen: ts(at.Add(time.Duration(i)))})
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := r.WriteJSON(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTimestamp is ts, called for every observation, edge and finding.
func BenchmarkTimestamp(b *testing.B) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 123456789, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		_ = ts(at)
	}
}

// TestAppendStringEveryByte: every byte value, alone and inside text,
// is written as encoding/json writes it.
func TestAppendStringEveryByte(t *testing.T) {
	t.Parallel()
	for c := range 256 {
		for _, s := range []string{string([]byte{byte(c)}), "a" + string([]byte{byte(c)}) + "b"} {
			want, _ := json.Marshal(s)
			if got := appendString(nil, s); string(got) != string(want) {
				t.Errorf("appendString(%q) = %s, want %s", s, got, want)
			}
		}
		// At every position of a text checked eight bytes at a time, next
		// to every plain byte value that bounds the tests (0x1f..0x7f).
		for _, fill := range []byte{' ', '!', '#', '%', '\'', ';', '=', '?', '[', ']', '~', 0x7f} {
			for pos := range 20 {
				b := bytes.Repeat([]byte{fill}, 20)
				b[pos] = byte(c)
				want, _ := json.Marshal(string(b))
				if got := appendString(nil, string(b)); string(got) != string(want) {
					t.Errorf("appendString(%q) = %s, want %s", b, got, want)
				}
			}
		}
	}
}
