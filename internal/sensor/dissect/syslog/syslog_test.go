package syslog

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dissecttest"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Header
		ok   bool
	}{
		{"rfc3164_example", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", Header{34, "mymachine", "su"}, true},
		{"rfc3164_pid", "<13>Feb  5 17:32:18 10.0.0.99 sshd[4242]: Accepted publickey", Header{13, "10.0.0.99", "sshd"}, true},
		{"rfc3164_no_hostname", "<13>Feb  5 17:32:18 sshd[4242]: Accepted publickey", Header{13, "", "sshd"}, true},
		{"rfc3164_no_timestamp", "<13>infusiond: pump 7 occlusion alarm", Header{13, "", "infusiond"}, true},
		{"rfc3164_rsyslog_timestamp", "<13>2013-09-12T19:16:34.457849+04:00 localhost kernel: eth0 up", Header{13, "localhost", "kernel"}, true},
		{"rfc5424_example_1", "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xef\xbb\xbf'su root' failed for lonvick on /dev/pts/8", Header{34, "mymachine.example.com", "su"}, true},
		{"rfc5424_example_4_nil_app", "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com - - - [exampleSDID@32473 iut=\"3\"]", Header{165, "mymachine.example.com", ""}, true},
		{"rfc5424_nil_host", "<165>1 2003-08-24T05:14:15.000003-07:00 - evntslog - ID47 -", Header{165, "", "evntslog"}, true},
		{"pri_too_large", "<192>Oct 11 22:14:15 host app: x", Header{}, false},
		{"pri_leading_zero", "<034>Oct 11 22:14:15 host app: x", Header{}, false},
		{"no_pri", "Oct 11 22:14:15 host app: x", Header{}, false},
		{"cisco_sequence_number", "<189>123: *Mar  1 00:00:00.000: %SYS-5-CONFIG_I: Configured", Header{189, "", "123"}, true},
	}
	for _, tt := range tests {
		got, ok := Parse([]byte(tt.in))
		if ok != tt.ok {
			t.Errorf("Parse(%s) ok = %v, want %v", tt.name, ok, tt.ok)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Parse(%s) (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestUDP(t *testing.T) {
	t.Parallel()
	var all []dissect.Observation
	for _, p := range dissecttest.ReadCapture(t, "testdata/syslog_udp.pcap") {
		if !p.UDP {
			continue
		}
		r := &dissecttest.Recorder{}
		if err := New().(*Dissector).DissectPacket(dissecttest.UDPFlow(p), dissect.FromClient, p.Payload, p.Time, r); err != nil {
			t.Fatal(err)
		}
		all = append(all, r.Obs...)
	}
	want := []string{"syslog.app_name=logger", "syslog.hostname=localhost", "syslog.hostname=through"}
	if diff := cmp.Diff(want, dissecttest.Uniq(all, "")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	ts := dissecttest.TsharkFields(t, "testdata/syslog_udp.pcap", "syslog", "syslog.hostname")
	for _, h := range ts["syslog.hostname"] {
		if !containsStr(dissecttest.Uniq(all, "syslog.hostname"), h) {
			t.Errorf("tshark hostname %q missing", h)
		}
	}
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestTCPFraming feeds the Zeek capture that mixes octet-counting and
// LF framing (zeek-tcp-framing-syslog.log has 4 messages from mymachine).
func TestTCPFraming(t *testing.T) {
	t.Parallel()
	flows, chunks, order := dissecttest.TCPStreams(dissecttest.ReadCapture(t, "testdata/tcp-syslog.pcap"))
	if len(order) != 1 {
		t.Fatalf("%d connections", len(order))
	}
	c := order[0]
	s := NewTCP().(*TCPDissector).NewStream(flows[c])
	r := &dissecttest.Recorder{}
	n := 0
	for _, ch := range chunks[c] {
		if err := s.Feed(ch.Dir, ch.Data, ch.Time, r); err != nil {
			t.Fatal(err)
		}
		n++
	}
	s.End(r)
	if n != 4 {
		t.Errorf("%d segments, want the 4 messages of the zeek baseline", n)
	}
	want := []string{"syslog.hostname=mymachine", "syslog.app_name=su"}
	if diff := cmp.Diff(want, r.Fields()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, o := range r.Obs {
		if o.IP != flows[c].Client.Addr.Addr() || o.Protocol != Name {
			t.Errorf("%s owned by %v protocol %q", o.Field, o.IP, o.Protocol)
		}
	}
}

func TestTCPEndWithoutNewline(t *testing.T) {
	t.Parallel()
	r := &dissecttest.Recorder{}
	s := NewTCP().(*TCPDissector).NewStream(&dissect.Flow{})
	_ = s.Feed(dissect.FromClient, []byte("<14>Oct 11 22:14:16 ventilator vent: ok"), time.Unix(5, 0), r)
	if len(r.Obs) != 0 {
		t.Fatal("emitted before the end of the line")
	}
	s.End(r)
	if diff := cmp.Diff([]string{"syslog.hostname=ventilator", "syslog.app_name=vent"}, r.Fields()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		udp, tcpd bool
	}{
		{"rfc3164", "<34>Oct 11 22:14:15 mymachine su: x", true, true},
		{"octet_counted", "51 <13>Oct 11 22:14:15 mymachine su: x", false, true},
		{"http", "GET / HTTP/1.1\r\n", false, false},
		{"html", "<html><body>", false, false},
		{"xml", "<?xml version=\"1.0\"?>", false, false},
		{"octet_leading_zero", "051 <13>x", false, false},
		{"empty", "", false, false},
	}
	for _, tt := range tests {
		if got := New().Detect(nil, dissect.FromClient, []byte(tt.in)); got != tt.udp {
			t.Errorf("UDP Detect(%s) = %v, want %v", tt.name, got, tt.udp)
		}
		if got := NewTCP().Detect(nil, dissect.FromClient, []byte(tt.in)); got != tt.tcpd {
			t.Errorf("TCP Detect(%s) = %v, want %v", tt.name, got, tt.tcpd)
		}
	}
}

func transcript(t testing.TB) []byte {
	_, chunks, order := dissecttest.TCPStreams(dissecttest.ReadCapture(t, "testdata/tcp-syslog.pcap"))
	var b []byte
	for _, c := range chunks[order[0]] {
		b = append(b, c.Data...)
	}
	return b
}

func feedAll(b []byte, split int) *dissecttest.Recorder {
	r := &dissecttest.Recorder{}
	s := NewTCP().(*TCPDissector).NewStream(&dissect.Flow{})
	if split < 0 {
		_ = s.Feed(dissect.FromClient, b, time.Time{}, r)
	} else {
		_ = s.Feed(dissect.FromClient, b[:split], time.Time{}, r)
		_ = s.Feed(dissect.FromClient, b[split:], time.Time{}, r)
	}
	s.End(r)
	return r
}

func FuzzDissectPacket(f *testing.F) {
	for _, p := range dissecttest.ReadCapture(f, "testdata/syslog_udp.pcap") {
		f.Add(p.Payload)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = New().(*Dissector).DissectPacket(&dissect.Flow{}, dissect.FromClient, b, time.Time{}, &dissecttest.Recorder{})
	})
}

func FuzzStream(f *testing.F) {
	f.Add(transcript(f), uint16(10))
	f.Fuzz(func(t *testing.T, b []byte, _ uint16) { feedAll(b, -1) })
}

func FuzzSplit(f *testing.F) {
	f.Add(transcript(f), uint16(10))
	f.Add([]byte("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - x\n"), uint16(3))
	f.Fuzz(func(t *testing.T, b []byte, at uint16) {
		split := int(at) % (len(b) + 1)
		one, two := feedAll(b, -1), feedAll(b, split)
		if diff := cmp.Diff(one.Fields(), two.Fields()); diff != "" {
			t.Fatalf("split at %d changed observations (-one +two):\n%s", split, diff)
		}
	})
}

func BenchmarkDissectPacket(b *testing.B) {
	in := []byte("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8")
	d := New().(*Dissector)
	f := &dissect.Flow{}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		_ = d.DissectPacket(f, dissect.FromClient, in, time.Time{}, dissecttest.Discard{})
	}
}

func BenchmarkStream(b *testing.B) {
	in := transcript(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		s := NewTCP().(*TCPDissector).NewStream(&dissect.Flow{})
		_ = s.Feed(dissect.FromClient, in, time.Time{}, dissecttest.Discard{})
	}
}
