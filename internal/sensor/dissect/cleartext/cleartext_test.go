package cleartext

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dissecttest"
)

var (
	cli = dissect.FromClient
	srv = dissect.FromServer
)

type step struct {
	dir  dissect.Direction
	data string
}

func flowTo(port uint16) *dissect.Flow {
	return &dissect.Flow{
		Client: dissect.Endpoint{MAC: "00:11:22:33:44:55", Addr: netip.MustParseAddrPort("10.2.0.50:50123")},
		Server: dissect.Endpoint{MAC: "66:77:88:99:aa:bb", Addr: netip.AddrPortFrom(netip.MustParseAddr("10.2.0.9"), port)},
	}
}

func run(f *dissect.Flow, steps []step) *dissecttest.Recorder {
	r := &dissecttest.Recorder{}
	s := New().(*Dissector).NewStream(f)
	for _, st := range steps {
		_ = s.Feed(st.dir, []byte(st.data), time.Unix(1700000000, 0), r)
	}
	s.End(r)
	return r
}

// Transcripts follow the examples of RFC 959 (FTP), RFC 1939 §7 and §9
// (POP3), RFC 3501 §6.2.3 and §8 (IMAP), RFC 4954 §4 and RFC 4616 (SMTP
// AUTH PLAIN / LOGIN).
func TestLineProtocols(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		port   uint16
		steps  []step
		fields []string
		finds  []string
	}{
		{
			name: "ftp_user_pass", port: 21,
			steps: []step{
				{srv, "220 pacs-archive FTP server (Version wu-2.6.2) ready.\r\n"},
				{cli, "USER radiology\r\n"}, {srv, "331 Password required for radiology.\r\n"},
				{cli, "PASS Rad!2024\r\n"}, {srv, "230 User radiology logged in.\r\n"},
				{cli, "SYST\r\n"}, {srv, "215 UNIX Type: L8\r\n"},
			},
			fields: []string{"ftp.banner=pacs-archive FTP server (Version wu-2.6.2) ready."},
			finds:  []string{`cleartext-credentials/high: FTP login by user "radiology" with a password in clear`},
		},
		{
			name: "ftp_anonymous", port: 21,
			steps: []step{
				{srv, "220-Welcome\r\n220 ready\r\n"}, {cli, "USER anonymous\r\n"}, {srv, "331 Guest login ok\r\n"},
				{cli, "PASS guest@\r\n"},
			},
			fields: []string{"ftp.banner=Welcome"},
			finds:  []string{"cleartext-credentials/low: anonymous FTP login (the server allows access without an account)"},
		},
		{
			name: "ftp_auth_tls_stops", port: 21,
			steps: []step{
				{srv, "220 FileZilla Server 1.8.0\r\n"}, {cli, "AUTH TLS\r\n"}, {srv, "234 Using authentication type TLS.\r\n"},
				{cli, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03USER x\r\nPASS y\r\n"},
			},
			fields: []string{"ftp.banner=FileZilla Server 1.8.0"},
		},
		{
			name: "pop3_rfc1939", port: 110,
			steps: []step{
				{srv, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"},
				{cli, "USER mrose\r\n"}, {srv, "+OK mrose is a real hoopy frood\r\n"},
				{cli, "PASS secret\r\n"}, {srv, "+OK mrose's maildrop has 2 messages (320 octets)\r\n"},
			},
			fields: []string{"pop3.banner=POP3 server ready <1896.697170952@dbc.mtview.ca.us>"},
			finds:  []string{`cleartext-credentials/high: POP3 login by user "mrose" with a password in clear`},
		},
		{
			name: "imap_login_rfc3501", port: 143,
			steps: []step{
				{srv, "* OK IMAP4rev1 Service Ready\r\n"},
				{cli, "a001 LOGIN SMITH SESAME\r\n"}, {srv, "a001 OK LOGIN completed\r\n"},
			},
			fields: []string{"imap.banner=IMAP4rev1 Service Ready"},
			finds:  []string{`cleartext-credentials/high: IMAP login by user "SMITH" with a password in clear`},
		},
		{
			name: "imap_quoted_and_literal", port: 143,
			steps: []step{
				{srv, "* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n"},
				{cli, "A1 login \"dr \\\"who\\\"\" \"pw\"\r\n"}, {srv, "A1 NO [AUTHENTICATIONFAILED]\r\n"},
				{cli, "A2 LOGIN {5}\r\n"},
			},
			fields: []string{"imap.banner=[CAPABILITY IMAP4rev1] Dovecot ready."},
			finds: []string{
				`cleartext-credentials/high: IMAP login by user "dr \"who\"" with a password in clear`,
				"cleartext-credentials/high: IMAP login with a password in clear (user name sent as a literal)",
			},
		},
		{
			name: "imap_authenticate_plain", port: 143,
			steps: []step{
				{srv, "* OK ready\r\n"}, {cli, "a AUTHENTICATE PLAIN\r\n"}, {srv, "+ \r\n"},
				{cli, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"}, // RFC 4616 §4: "\0tim\0tanstaaftanstaaf"
			},
			fields: []string{"imap.banner=ready"},
			finds:  []string{`cleartext-credentials/high: IMAP login by user "tim" with a password in clear`},
		},
		{
			name: "smtp_auth_plain_rfc4954", port: 587,
			steps: []step{
				{srv, "220 smtp.example.com ESMTP server ready\r\n"}, {cli, "EHLO jgm.example.com\r\n"},
				{srv, "250-smtp.example.com\r\n250 AUTH GSSAPI DIGEST-MD5 PLAIN\r\n"},
				{cli, "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n"}, {srv, "235 2.7.0 Authentication successful\r\n"},
			},
			fields: []string{"smtp.banner=smtp.example.com ESMTP server ready"},
			finds:  []string{`cleartext-credentials/high: SMTP login by user "test" with a password in clear`},
		},
		{
			name: "smtp_auth_login", port: 25,
			steps: []step{
				{srv, "220 mail.hospital.example ESMTP Postfix\r\n"}, {cli, "EHLO lab-analyzer\r\n"}, {srv, "250 AUTH LOGIN\r\n"},
				{cli, "AUTH LOGIN\r\n"}, {srv, "334 VXNlcm5hbWU6\r\n"}, {cli, "bGFiLWFuYWx5emVy\r\n"},
				{srv, "334 UGFzc3dvcmQ6\r\n"}, {cli, "c2VjcmV0\r\n"}, {srv, "235 ok\r\n"},
			},
			fields: []string{"smtp.banner=mail.hospital.example ESMTP Postfix"},
			finds:  []string{`cleartext-credentials/high: SMTP login by user "lab-analyzer" with a password in clear`},
		},
		{
			name: "smtp_starttls_stops", port: 25,
			steps: []step{
				{srv, "220 mx ESMTP\r\n"}, {cli, "EHLO x\r\n"}, {srv, "250 STARTTLS\r\n"}, {cli, "STARTTLS\r\n"},
				{srv, "220 go ahead\r\n"}, {cli, "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n"},
			},
			fields: []string{"smtp.banner=mx ESMTP"},
		},
		{
			name: "http_is_ignored", port: 8080,
			steps: []step{{cli, "GET / HTTP/1.1\r\n\r\n"}, {srv, "HTTP/1.1 200 OK\r\n\r\n"}, {cli, "USER a\r\nPASS b\r\n"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := flowTo(tt.port)
			r := run(f, tt.steps)
			if diff := cmp.Diff(tt.fields, r.Fields()); diff != "" {
				t.Errorf("observations (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.finds, r.Kinds()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, fd := range r.Finds {
				if fd.IP != f.Server.Addr.Addr() || fd.MAC != f.Server.MAC || fd.Peer != f.Client.Addr {
					t.Errorf("finding on %v/%s peer %v", fd.IP, fd.MAC, fd.Peer)
				}
				for _, secret := range []string{"Rad!2024", "secret", "SESAME", "tanstaaf", "1234", "c2VjcmV0"} {
					if strings.Contains(fd.Detail, secret) {
						t.Errorf("password in finding: %s", fd.Detail)
					}
				}
			}
		})
	}
}

// TestTelnetCapture replays nDPI's telnet.pcap: an OpenBSD login where the
// user "fake" types a password.
func TestTelnetCapture(t *testing.T) {
	t.Parallel()
	flows, chunks, order := dissecttest.TCPStreams(dissecttest.ReadCapture(t, "testdata/telnet.pcap"))
	c := order[0]
	s := New().(*Dissector).NewStream(flows[c])
	r := &dissecttest.Recorder{}
	for _, ch := range chunks[c] {
		if err := s.Feed(ch.Dir, ch.Data, ch.Time, r); err != nil {
			t.Fatal(err)
		}
	}
	s.End(r)
	if diff := cmp.Diff([]string{"telnet.banner=OpenBSD/i386 (oof) (ttyp2)"}, r.Fields()); diff != "" {
		t.Errorf("observations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`cleartext-credentials/high: Telnet login by user "fake" with a password in clear`}, r.Kinds()); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(r.Finds) == 1 && r.Finds[0].IP != flows[c].Server.Addr.Addr() {
		t.Errorf("finding on %v, want the Telnet server", r.Finds[0].IP)
	}
}

// TestTelnetEcho: character-at-a-time input with server echo and a
// backspace, as a serial-to-Ethernet converter's Telnet console does.
func TestTelnetEcho(t *testing.T) {
	t.Parallel()
	steps := []step{{srv, "\xff\xfb\x01\xff\xfb\x03Moxa NPort 5110\r\n\r\nlogin: "}}
	for _, c := range "admx\x7fin\r\n" {
		steps = append(steps, step{cli, string(c)}, step{srv, string(c)})
	}
	steps = append(steps, step{srv, "\r\npassword: "})
	for _, c := range "moxa\r\n" {
		steps = append(steps, step{cli, string(c)})
	}
	r := run(flowTo(23), steps)
	if diff := cmp.Diff([]string{`cleartext-credentials/high: Telnet login by user "admin" with a password in clear`}, r.Kinds()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"telnet.banner=Moxa NPort 5110"}, r.Fields()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestTelnetLastLogin: "Last login:" is not a prompt, and a su password
// prompt later in the session is still caught.
func TestTelnetLastLogin(t *testing.T) {
	t.Parallel()
	steps := []step{
		{srv, "login: "}, {cli, "nurse\r\n"}, {srv, "Password:"}, {cli, "pw\r\n"},
		{srv, "\r\nLast login: Mon Nov  2 10:00:00 from 10.2.0.7\r\n$ "}, {cli, "ls\r\n"},
		{srv, "chart.txt\r\n$ "}, {cli, "su -\r\n"}, {srv, "Password: "}, {cli, "rootpw\r\n"},
	}
	want := []string{
		`cleartext-credentials/high: Telnet login by user "nurse" with a password in clear`,
		"cleartext-credentials/high: Telnet login with a password in clear (user name not seen)",
	}
	if diff := cmp.Diff(want, run(flowTo(23), steps).Kinds()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    *dissect.Flow
		dir  dissect.Direction
		in   string
		want bool
	}{
		{"ftp_greeting", flowTo(21), srv, "220 ready\r\n", true},
		{"pop3_greeting", flowTo(110), srv, "+OK ready\r\n", true},
		{"imap_greeting", flowTo(143), srv, "* OK IMAP4rev1\r\n", true},
		{"telnet_negotiation", flowTo(2323), srv, "\xff\xfd\x18\xff\xfd\x20", true},
		{"telnet_port_text", flowTo(23), srv, "\r\nlogin: ", true},
		{"http_response", flowTo(80), srv, "HTTP/1.1 200 OK\r\n", false},
		{"ssh_banner", flowTo(22), srv, "SSH-2.0-OpenSSH_9.6\r\n", false},
		{"tls", flowTo(443), cli, "\x16\x03\x01\x00\xc8\x01", false},
		{"greeting_from_client", flowTo(21), cli, "220 ready\r\n", false},
	}
	for _, tt := range tests {
		if got := New().Detect(tt.f, tt.dir, []byte(tt.in)); got != tt.want {
			t.Errorf("Detect(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// encode packs a transcript for the fuzzer: dir(1) len(2) data.
func encode(steps []step) []byte {
	var b []byte
	for _, s := range steps {
		b = append(b, byte(s.dir))
		b = binary.BigEndian.AppendUint16(b, uint16(len(s.data)))
		b = append(b, s.data...)
	}
	return b
}

func decode(b []byte) []step {
	var out []step
	for len(b) >= 3 {
		dir := dissect.Direction(b[0] & 1)
		n := min(int(binary.BigEndian.Uint16(b[1:])), len(b)-3)
		out = append(out, step{dir, string(b[3 : 3+n])})
		b = b[3+n:]
	}
	return out
}

func seeds(f *testing.F) {
	flows, chunks, order := dissecttest.TCPStreams(dissecttest.ReadCapture(f, "testdata/telnet.pcap"))
	_ = flows
	var tel []step
	for _, c := range chunks[order[0]] {
		tel = append(tel, step{c.Dir, string(c.Data)})
	}
	f.Add(encode(tel), uint16(7), uint16(3))
	f.Add(encode([]step{{srv, "220 x\r\n"}, {cli, "USER a\r\n"}, {cli, "PASS b\r\n"}}), uint16(1), uint16(2))
	f.Add(encode([]step{{srv, "* OK x\r\n"}, {cli, "a AUTHENTICATE PLAIN\r\n"}, {cli, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"}}), uint16(2), uint16(9))
	f.Add(encode([]step{{srv, "220 mx ESMTP\r\n"}, {cli, "AUTH LOGIN\r\n"}, {cli, "bGFiLWFuYWx5emVy\r\n"}, {cli, "c2VjcmV0\r\n"}}), uint16(0), uint16(4))
}

func FuzzStream(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte, _, _ uint16) {
		run(flowTo(23), decode(b))
		run(flowTo(21), decode(b))
	})
}

// FuzzSplit splits one dissecttest.Chunk of the transcript in two: the result must
// not change.
func FuzzSplit(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte, which, at uint16) {
		steps := decode(b)
		if len(steps) == 0 {
			return
		}
		i := int(which) % len(steps)
		cut := int(at) % (len(steps[i].data) + 1)
		split := append(append(append([]step{}, steps[:i]...), step{steps[i].dir, steps[i].data[:cut]}, step{steps[i].dir, steps[i].data[cut:]}), steps[i+1:]...)
		for _, port := range []uint16{21, 23} {
			one, two := run(flowTo(port), steps), run(flowTo(port), split)
			if diff := cmp.Diff(append(one.Fields(), one.Kinds()...), append(two.Fields(), two.Kinds()...)); diff != "" {
				t.Fatalf("port %d, split of dissecttest.Chunk %d at %d (-one +two):\n%s", port, i, cut, diff)
			}
		}
	})
}

func BenchmarkFTPLogin(b *testing.B) {
	steps := []step{
		{srv, "220 pacs-archive FTP server ready.\r\n"}, {cli, "USER radiology\r\n"}, {srv, "331 Password required.\r\n"},
		{cli, "PASS x\r\n"}, {srv, "230 logged in.\r\n"},
	}
	f := flowTo(21)
	n := 0
	for _, s := range steps {
		n += len(s.data)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		s := New().(*Dissector).NewStream(f)
		for _, st := range steps {
			_ = s.Feed(st.dir, []byte(st.data), time.Time{}, dissecttest.Discard{})
		}
	}
}

func BenchmarkTelnetCapture(b *testing.B) {
	flows, chunks, order := dissecttest.TCPStreams(dissecttest.ReadCapture(b, "testdata/telnet.pcap"))
	c := order[0]
	n := 0
	for _, ch := range chunks[c] {
		n += len(ch.Data)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		s := New().(*Dissector).NewStream(flows[c])
		for _, ch := range chunks[c] {
			_ = s.Feed(ch.Dir, ch.Data, ch.Time, dissecttest.Discard{})
		}
	}
}
