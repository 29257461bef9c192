package smb

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dissecttest"
)

func newStream(f *dissect.Flow) dissect.Stream { return New().(*Dissector).NewStream(f) }

func run(t testing.TB, path string) map[string]*dissecttest.Recorder {
	t.Helper()
	flows, chunks, order := dissecttest.TCPStreams(dissecttest.ReadCapture(t, path))
	got := map[string]*dissecttest.Recorder{}
	for _, c := range order {
		s := newStream(flows[c])
		r := &dissecttest.Recorder{}
		for _, ch := range chunks[c] {
			_ = s.Feed(ch.Dir, ch.Data, ch.Time, r)
		}
		s.End(r)
		got[c.String()] = r
	}
	return got
}

const smb1Advice = " (SMB1 is deprecated and exploited by EternalBlue/WannaCry; disable it)"

func TestStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, client string
		wantFields         []string
		wantFindings       []string
	}{
		{
			name: "smb1_lanman_negotiate", file: "cifs_negotiate_lanman.pcap", client: "10.0.0.2:23574",
			wantFields:   []string{"smb.dialects_offered=PC NETWORK PROGRAM 1.0,LANMAN1.0,LM1.2X002,LANMAN2.1", "smb.dialect=LANMAN2.1"},
			wantFindings: []string{`smb1-in-use/high: server negotiated SMB1 dialect "LANMAN2.1"` + smb1Advice},
		},
		{
			name: "smb1_session_setup_native_os", file: "smb_frags.pcap", client: "10.202.211.125:54120",
			wantFields: []string{
				"smb.dialects_offered=NT LM 0.12", "smb.dialect=NT LM 0.12",
				"smb.native_os=SpinCifsClient V1", "smb.native_lanman=SpinCifsClient LanMan",
				"smb.native_os=Windows Server 2016 Standard 14393", "smb.native_lanman=Windows Server 2016 Standard 6.3",
			},
			wantFindings: []string{`smb1-in-use/high: server negotiated SMB1 dialect "NT LM 0.12"` + smb1Advice},
		},
		{
			name: "smb311_ntlmssp", file: "smb311.pcap", client: "192.168.100.168:44718",
			wantFields: []string{
				"smb.dialects_offered=SMB 3.1.1", "smb.dialect=SMB 3.1.1",
				"ntlm.os_version=10.0.14393", "ntlm.nb_domain_name=FOO", "ntlm.nb_computer_name=AD",
				"ntlm.dns_domain_name=foo.test", "ntlm.dns_computer_name=AD.foo.test", "ntlm.dns_tree_name=foo.test",
				"ntlm.user=administrator",
			},
		},
		{
			name: "smb1_multiprotocol_then_smb3", file: "smb3_negotiate_context.pcap", client: "192.168.1.89:47918",
			wantFields: []string{
				"smb.dialects_offered=PC NETWORK PROGRAM 1.0,MICROSOFT NETWORKS 1.03,MICROSOFT NETWORKS 3.0,LANMAN1.0,LM1.2X002,DOS LANMAN2.1,LANMAN2.1,Samba,NT LANMAN 1.0,NT LM 0.12,SMB 2.002,SMB 2.???",
				"smb.dialects_offered=SMB 2.0.2,SMB 2.1,SMB 2.2.2,SMB 2.2.4,SMB 3.0,SMB 3.0.2,SMB 3.1.0,SMB 3.1.1",
				"smb.dialect=SMB 3.1.1",
			},
			wantFindings: []string{"smb-signing-not-required/low: SMB 3.1.1 server does not require message signing"},
		},
		{
			name: "smb1_mid_stream", file: "dssetup_DsRoleGetPrimaryDomainInformation_standalone_workstation.cap", client: "205.227.227.226:49467",
			wantFindings: []string{"smb1-in-use/high: SMB1 command 0x04 exchanged" + smb1Advice},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := run(t, filepath.Join("testdata", tt.file))[tt.client]
			if got == nil {
				t.Fatalf("no connection from %s", tt.client)
			}
			if diff := cmp.Diff(tt.wantFields, got.Fields()); diff != "" {
				t.Errorf("observations (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFindings, got.Kinds()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOwnership: the server's names belong to the server, the user to the
// client.
func TestOwnership(t *testing.T) {
	t.Parallel()
	flows, _, _ := dissecttest.TCPStreams(dissecttest.ReadCapture(t, "testdata/smb311.pcap"))
	f := flows[dissecttest.MustAddrPort(t, "192.168.100.168:44718")]
	for _, o := range run(t, "testdata/smb311.pcap")["192.168.100.168:44718"].Obs {
		want := f.Server.Addr.Addr()
		if o.Field == "ntlm.user" || o.Field == "smb.dialects_offered" {
			want = f.Client.Addr.Addr()
		}
		if o.IP != want {
			t.Errorf("%s=%s belongs to %v, want %v", o.Field, o.Value, o.IP, want)
		}
	}
}

// TestAgainstTshark compares dialects, native OS and NTLM names with
// Wireshark's SMB dissectors.
func TestAgainstTshark(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/*.*ap")
	checkTshark(t, files)
}

// TestCorpusAgainstTshark runs the same comparison over the whole shared
// corpus group.
func TestCorpusAgainstTshark(t *testing.T) {
	t.Parallel()
	checkTshark(t, extraFiles(t, "smb"))
}

func checkTshark(t *testing.T, files []string) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not on PATH")
	}
	checks := []struct{ tshark, ours string }{
		{"smb.native_os", "smb.native_os"},
		{"smb.native_lanman", "smb.native_lanman"},
		{"ntlmssp.auth.username", "ntlm.user"},
		{"ntlmssp.auth.hostname", "ntlm.hostname"},
		{"ntlmssp.auth.domain", "ntlm.domain"},
		{"ntlmssp.challenge.target_info.nb_computer_name", "ntlm.nb_computer_name"},
		{"ntlmssp.challenge.target_info.dns_domain_name", "ntlm.dns_domain_name"},
	}
	for _, f := range files {
		var all []dissect.Observation
		for _, r := range run(t, f) {
			all = append(all, r.Obs...)
		}
		var names []string
		for _, c := range checks {
			names = append(names, c.tshark)
		}
		ts := dissecttest.TsharkFields(t, f, "smb || smb2", names...)
		for _, c := range checks {
			want := ts[c.tshark]
			want = removeValue(want, "NULL") // tshark's rendering of an empty field
			if diff := cmp.Diff(want, dissecttest.Uniq(all, c.ours)); diff != "" {
				t.Errorf("%s %s (-tshark +got):\n%s", f, c.ours, diff)
			}
		}
		// SMB2 dialect of negotiate responses: tshark prints "SMB 3.1.1".
		out, err := exec.Command("tshark", "-n", "-r", f, "-Y", "smb2.cmd==0 && smb2.flags.response==1", "-V").Output()
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, m := range regexp.MustCompile(`Dialect: (SMB [0-9.]+) \(`).FindAllSubmatch(out, -1) {
			want = append(want, string(m[1]))
		}
		sort.Strings(want)
		var got []string
		for _, d := range dissecttest.Uniq(all, "smb.dialect") {
			if d[:4] == "SMB " {
				got = append(got, d)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s SMB2 dialect (-tshark +got):\n%s", f, diff)
		}
	}
}

func removeValue(in []string, v string) []string {
	var out []string
	for _, s := range in {
		if s != v {
			out = append(out, s)
		}
	}
	return out
}

// authenticate builds an NTLMSSP AUTHENTICATE message with the values of
// the MS-NLMP §4.2.2 examples (user "User", domain "Domain", workstation
// "COMPUTER") and an NT response of ntLen bytes.
func authenticate(ntLen int) []byte {
	u16 := func(s string) []byte {
		var b []byte
		for _, c := range utf16.Encode([]rune(s)) {
			b = binary.LittleEndian.AppendUint16(b, c)
		}
		return b
	}
	payload := [][]byte{make([]byte, 24), make([]byte, ntLen), u16("Domain"), u16("User"), u16("COMPUTER"), nil}
	m := append([]byte("NTLMSSP\x00"), 3, 0, 0, 0)
	off := 72
	for _, p := range payload {
		m = binary.LittleEndian.AppendUint16(m, uint16(len(p)))
		m = binary.LittleEndian.AppendUint16(m, uint16(len(p)))
		m = binary.LittleEndian.AppendUint32(m, uint32(off))
		off += len(p)
	}
	m = binary.LittleEndian.AppendUint32(m, 0xe2028235) // flags: unicode, version, …
	m = append(m, 6, 0, 0x70, 0x17, 0, 0, 0, 15)        // Windows 6.0.6000
	for _, p := range payload {
		m = append(m, p...)
	}
	return m
}

// sessionSetupMsg wraps a security blob in an NBSS + SMB2 SESSION_SETUP request.
func sessionSetupMsg(blob []byte) []byte {
	h := make([]byte, 64+24)
	copy(h, "\xfeSMB")
	h[4] = 64
	binary.LittleEndian.PutUint16(h[12:], smb2SessionSetup)
	binary.LittleEndian.PutUint16(h[64:], 25)
	binary.LittleEndian.PutUint16(h[64+12:], 64+24)
	binary.LittleEndian.PutUint16(h[64+14:], uint16(len(blob)))
	m := append(h, blob...)
	return append([]byte{0, 0, byte(len(m) >> 8), byte(len(m))}, m...)
}

func TestNTLMAuthenticate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		ntLen        int
		wantFindings []string
	}{
		{"ntlmv2", 72, nil},
		{"ntlmv1", 24, []string{`ntlmv1/high: NTLMv1 authentication by "Domain\\User" (NTLMv1 responses can be cracked to the password hash; require NTLMv2)`}},
	}
	for _, tt := range tests {
		r := &dissecttest.Recorder{}
		s := newStream(&dissect.Flow{})
		if err := s.Feed(dissect.FromClient, sessionSetupMsg(authenticate(tt.ntLen)), time.Time{}, r); err != nil {
			t.Fatal(err)
		}
		want := []string{"ntlm.user=User", "ntlm.domain=Domain", "ntlm.hostname=COMPUTER", "ntlm.os_version=6.0.6000"}
		if diff := cmp.Diff(want, r.Fields()); diff != "" {
			t.Errorf("%s observations (-want +got):\n%s", tt.name, diff)
		}
		if diff := cmp.Diff(tt.wantFindings, r.Kinds()); diff != "" {
			t.Errorf("%s findings (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestOversizedMessageSkipped: a 1 MiB SMB2 WRITE is skipped without being
// buffered, and the next message is still read.
func TestOversizedMessageSkipped(t *testing.T) {
	t.Parallel()
	big := make([]byte, 4+1<<20)
	big[1] = 0x10 // length 0x100000
	copy(big[4:], "\xfeSMB")
	msg := append(big, sessionSetupMsg(authenticate(72))...)
	r := &dissecttest.Recorder{}
	s := newStream(&dissect.Flow{}).(*stream)
	for off := 0; off < len(msg); off += 1500 {
		if err := s.Feed(dissect.FromClient, msg[off:min(off+1500, len(msg))], time.Time{}, r); err != nil {
			t.Fatal(err)
		}
		if c := cap(s.dir[0].buf); c > maxMessage+4 {
			t.Fatalf("buffer grew to %d bytes", c)
		}
	}
	if diff := cmp.Diff([]string{"ntlm.user=User", "ntlm.domain=Domain", "ntlm.hostname=COMPUTER", "ntlm.os_version=6.0.6000"}, r.Fields()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	_, chunks, order := dissecttest.TCPStreams(dissecttest.ReadCapture(t, "testdata/smb311.pcap"))
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"smb2_negotiate", chunks[order[0]][0].Data, true},
		{"smb1_negotiate", firstChunk(t, "testdata/cifs_negotiate_lanman.pcap"), true},
		{"tls_client_hello", []byte{0x16, 3, 1, 0, 0xc8, 1, 0, 0, 0xc4, 3, 3}, false},
		{"http", []byte("GET / HTTP/1.1\r\n\r\n"), false},
		{"dicom_associate_rq", []byte{1, 0, 0, 0, 0, 0xcd, 0, 1, 0, 0}, false},
		{"hl7_mllp", []byte("\x0bMSH|^~\\&|"), false},
		{"short", []byte{0, 0, 0}, false},
	}
	for _, tt := range tests {
		if got := New().Detect(nil, dissect.FromClient, tt.in); got != tt.want {
			t.Errorf("Detect(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func firstChunk(t testing.TB, path string) []byte {
	t.Helper()
	_, chunks, order := dissecttest.TCPStreams(dissecttest.ReadCapture(t, path))
	return chunks[order[0]][0].Data
}

func transcript(t testing.TB, path string) (cli, srv []byte) {
	t.Helper()
	_, chunks, order := dissecttest.TCPStreams(dissecttest.ReadCapture(t, path))
	for _, c := range chunks[order[0]] {
		if c.Dir == dissect.FromClient {
			cli = append(cli, c.Data...)
		} else {
			srv = append(srv, c.Data...)
		}
	}
	return cli, srv
}

func seeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*ap")
	for _, p := range files {
		c, s := transcript(f, p)
		f.Add(c, s, uint16(len(c)/2))
	}
	f.Add(sessionSetupMsg(authenticate(24)), []byte{}, uint16(70))
}

func feedAll(cli, srv []byte, split int) *dissecttest.Recorder {
	r := &dissecttest.Recorder{}
	s := newStream(&dissect.Flow{})
	if split < 0 {
		_ = s.Feed(dissect.FromClient, cli, time.Time{}, r)
		_ = s.Feed(dissect.FromServer, srv, time.Time{}, r)
	} else {
		_ = s.Feed(dissect.FromClient, cli[:split], time.Time{}, r)
		_ = s.Feed(dissect.FromClient, cli[split:], time.Time{}, r)
		sp := min(split, len(srv))
		_ = s.Feed(dissect.FromServer, srv[:sp], time.Time{}, r)
		_ = s.Feed(dissect.FromServer, srv[sp:], time.Time{}, r)
	}
	s.End(r)
	return r
}

func FuzzStream(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, cli, srv []byte, _ uint16) { feedAll(cli, srv, -1) })
}

func FuzzSplit(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, cli, srv []byte, at uint16) {
		split := int(at) % (len(cli) + 1)
		one, two := feedAll(cli, srv, -1), feedAll(cli, srv, split)
		if diff := cmp.Diff(one.Fields(), two.Fields()); diff != "" {
			t.Fatalf("split at %d changed observations (-one +two):\n%s", split, diff)
		}
		if diff := cmp.Diff(one.Kinds(), two.Kinds()); diff != "" {
			t.Fatalf("split at %d changed findings (-one +two):\n%s", split, diff)
		}
	})
}

func BenchmarkSession(b *testing.B) {
	for _, name := range []string{"smb311.pcap", "smb_frags.pcap"} {
		b.Run(name, func(b *testing.B) {
			cli, srv := transcript(b, filepath.Join("testdata", name))
			b.SetBytes(int64(len(cli) + len(srv)))
			b.ReportAllocs()
			for b.Loop() {
				s := newStream(&dissect.Flow{})
				_ = s.Feed(dissect.FromClient, cli, time.Time{}, dissecttest.Discard{})
				_ = s.Feed(dissect.FromServer, srv, time.Time{}, dissecttest.Discard{})
			}
		})
	}
}

// extraFiles returns the captures of $MEDWARDEN_TESTDATA_EXTRA/pcap/<group>
// or skips the test.
func extraFiles(t testing.TB, group string) []string {
	t.Helper()
	d := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if d == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: the shared capture corpus is needed")
	}
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.cap"} {
		m, _ := filepath.Glob(filepath.Join(d, "pcap", group, pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no captures in %s/pcap/%s", d, group)
	}
	return files
}

// TestSessionRequest: a NetBIOS SESSION REQUEST (RFC 1002 §4.3.2) on port
// 139 names both ends.
func TestSessionRequest(t *testing.T) {
	t.Parallel()
	enc := func(name string, suffix byte) []byte {
		var raw [16]byte
		copy(raw[:], name+"                ")
		raw[15] = suffix
		b := []byte{0x20}
		for _, c := range raw {
			b = append(b, 'A'+c>>4, 'A'+c&15)
		}
		return append(b, 0)
	}
	body := append(enc("PACS-SERVER", 0x20), enc("US-WS01", 0x00)...)
	msg := append([]byte{0x81, 0, 0, byte(len(body))}, body...)
	f := &dissect.Flow{
		Client: dissect.Endpoint{Addr: dissecttest.MustAddrPort(t, "10.3.0.20:1042")},
		Server: dissect.Endpoint{Addr: dissecttest.MustAddrPort(t, "10.3.0.5:139")},
	}
	if !New().Detect(f, dissect.FromClient, msg) {
		t.Error("Detect rejected a session request")
	}
	r := &dissecttest.Recorder{}
	if err := newStream(f).Feed(dissect.FromClient, msg, time.Unix(1, 0), r); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range r.Obs {
		got = append(got, o.IP.String()+" "+o.Field+"="+o.Value)
	}
	want := []string{"10.3.0.5 smb.netbios_name=PACS-SERVER", "10.3.0.20 smb.netbios_name=US-WS01"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
