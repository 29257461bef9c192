package snmp

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dissecttest"
)

func dissectPacket(f *dissect.Flow, p []byte, t time.Time, out dissect.Emitter) error {
	return New().(*Dissector).DissectPacket(f, dissect.FromClient, p, t, out)
}

// summary dissects every UDP datagram of a capture and returns the sorted
// unique "ip field=value" and "ip kind/severity: detail" strings.
func summary(t testing.TB, path string) (fields, findings []string, errs int) {
	t.Helper()
	fs, ks := map[string]bool{}, map[string]bool{}
	for _, p := range dissecttest.ReadCapture(t, path) {
		if !p.UDP {
			continue
		}
		r := &dissecttest.Recorder{}
		if err := dissectPacket(dissecttest.UDPFlow(p), p.Payload, p.Time, r); err != nil {
			errs++
		}
		for _, o := range r.Obs {
			fs[o.IP.String()+" "+o.Field+"="+o.Value] = true
		}
		for _, f := range r.Finds {
			ks[f.IP.String()+" "+f.Kind+"/"+f.Severity+": "+f.Detail] = true
		}
	}
	return keys(fs), keys(ks), errs
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestDissectPacket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file         string
		wantFields   []string
		wantFindings []string
	}{
		{
			file: "snmpv1_get.pcap",
			wantFields: []string{
				"172.31.19.73 snmp.sys_location=Chandra's cube",
				"172.31.19.73 snmp.sys_name=B6300",
				"172.31.19.73 snmp.sys_object_id=1.3.6.1.4.1.2001.1.1.1.297.93.1.27.2.2.1",
				"172.31.19.73 snmp.version=1",
			},
			wantFindings: []string{
				"172.31.19.73 snmp-community/high: SNMPv1 default community 'public' accepted by the agent (response in clear)",
				"172.31.19.73 snmp-community/high: SNMPv1 default community 'public' sent in clear",
				"172.31.19.73 snmp-community/high: SNMPv1 default community 'public' sent in clear with write access (set-request)",
			},
		},
		{
			file:         "snmpv1_trap.pcap",
			wantFields:   []string{"127.0.0.1 snmp.trap_enterprise=1.3.6.1.4.1.31337.0", "127.0.0.1 snmp.version=1"},
			wantFindings: []string{"127.0.0.1 snmp-community/high: SNMPv1 default community 'public' sent in clear"},
		},
		{
			file:       "snmpv2_get_next.pcap",
			wantFields: []string{"10.144.246.161 snmp.version=2c"},
			wantFindings: []string{
				"10.144.246.161 snmp-community/medium: SNMPv2c a non-default community string (11 characters) accepted by the agent (response in clear)",
				"10.144.246.161 snmp-community/medium: SNMPv2c a non-default community string (11 characters) sent in clear",
			},
		},
		{
			file: "snmpv3_get_next.pcap",
			wantFields: []string{
				"127.0.0.1 snmp.v3_engine_id=80001f8880a9498e5e3a2c3043",
				"127.0.0.1 snmp.v3_user=username",
				"127.0.0.1 snmp.version=3",
			},
			wantFindings: []string{`127.0.0.1 snmp-v3-noauth/medium: SNMPv3 user "username" used with noAuthNoPriv (no authentication, no encryption)`},
		},
		{file: "snmp-heapoverflow-1.pcap"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			fields, findings, _ := summary(t, filepath.Join("testdata", tt.file))
			if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
				t.Errorf("observations (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFindings, findings); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSystemGroupAndV3 checks the nDPI capture that mixes v1, v2c and v3
// (noAuthNoPriv, authNoPriv, authPriv) against a few facts.
func TestSystemGroupAndV3(t *testing.T) {
	t.Parallel()
	fields, findings, errs := summary(t, "testdata/snmp.pcap")
	for _, want := range []string{
		"97.0.115.163 snmp.sys_contact=nick@globomantics.com",
		"97.0.115.163 snmp.sys_location=GlobomanticsHQ",
		"97.0.115.163 snmp.sys_name=R1.lab.local",
		"250.58.112.87 snmp.v3_user=NOAUTHNOPRIV",
		"254.158.1.169 snmp.v3_user=SHA1AES128",
		"254.158.1.169 snmp.v3_engine_id=800000090300aabbcc000100",
	} {
		if !contains(fields, want) {
			t.Errorf("missing observation %q in %q", want, fields)
		}
	}
	for _, f := range findings {
		if strings.Contains(f, "SHA1") {
			t.Errorf("authenticated v3 user reported: %s", f)
		}
	}
	if errs != 0 {
		t.Errorf("%d datagrams failed to parse", errs)
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

// TestNeverLeaksCommunity: the community string of the capture must appear
// in no observation or finding.
func TestNeverLeaksCommunity(t *testing.T) {
	t.Parallel()
	for _, p := range dissecttest.ReadCapture(t, "testdata/snmpv2_get_next.pcap") {
		r := &dissecttest.Recorder{}
		_ = dissectPacket(dissecttest.UDPFlow(p), p.Payload, p.Time, r)
		b := ber{b: p.Payload}
		msg, _ := b.next(0x30)
		msg.next(0x02)
		comm, _ := msg.next(0x04)
		secret := string(comm.b)
		if secret == "" {
			t.Fatal("no community in test packet")
		}
		for _, s := range append(r.Fields(), r.Kinds()...) {
			if strings.Contains(s, secret) {
				t.Fatalf("community string leaked: %q", s)
			}
		}
	}
}

// TestAgainstTshark compares sysObjectID values and v3 user names.
func TestAgainstTshark(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/snmp*_*.pcap")
	checkTshark(t, files)
}

// TestCorpusAgainstTshark runs the same comparison over the whole shared
// corpus group.
func TestCorpusAgainstTshark(t *testing.T) {
	t.Parallel()
	checkTshark(t, extraFiles(t, "snmp"))
}

func checkTshark(t *testing.T, files []string) {
	for _, f := range files {
		ts := dissecttest.TsharkFields(t, f, "snmp", "snmp.msgUserName")
		var all []dissect.Observation
		for _, p := range dissecttest.ReadCapture(t, f) {
			r := &dissecttest.Recorder{}
			_ = dissectPacket(dissecttest.UDPFlow(p), p.Payload, p.Time, r)
			all = append(all, r.Obs...)
		}
		if diff := cmp.Diff(ts["snmp.msgUserName"], dissecttest.Uniq(all, "snmp.v3_user")); diff != "" {
			t.Errorf("%s v3 user (-tshark +got):\n%s", f, diff)
		}
		if filepath.Base(f) != "snmpv1_get.pcap" {
			continue
		}
		oids := dissecttest.TsharkFields(t, f, "snmp.name == 1.3.6.1.2.1.1.2.0 && snmp.value.oid", "snmp.value.oid")
		if diff := cmp.Diff(oids["snmp.value.oid"], dissecttest.Uniq(all, "snmp.sys_object_id")); diff != "" {
			t.Errorf("%s sysObjectID (-tshark +got):\n%s", f, diff)
		}
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"v1_get", firstUDP(t, "testdata/snmpv1_get.pcap"), true},
		{"v3_get", firstUDP(t, "testdata/snmpv3_get_next.pcap"), true},
		{"dns_query", []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w', 0, 0, 1, 0, 1}, false},
		{"ldap_bind", []byte{0x30, 0x0c, 0x02, 0x01, 0x05, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00}, false},
		{"ntp", append([]byte{0x23, 2, 6, 0xe9}, make([]byte, 44)...), false},
		{"ssdp", []byte("M-SEARCH * HTTP/1.1\r\n"), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		if got := New().Detect(nil, dissect.FromClient, tt.in); got != tt.want {
			t.Errorf("Detect(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func firstUDP(t testing.TB, path string) []byte {
	t.Helper()
	for _, p := range dissecttest.ReadCapture(t, path) {
		if p.UDP {
			return p.Payload
		}
	}
	t.Fatalf("%s: no udp", path)
	return nil
}

func FuzzDissectPacket(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pcap")
	for _, path := range files {
		for _, p := range dissecttest.ReadCapture(f, path) {
			if p.UDP {
				f.Add(p.Payload)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &dissecttest.Recorder{}
		_ = dissectPacket(&dissect.Flow{}, b, time.Time{}, r)
		for _, fd := range r.Finds {
			if fd.Kind == "snmp-community" && !strings.Contains(fd.Detail, "default community") && !strings.Contains(fd.Detail, "non-default") {
				t.Fatalf("unexpected detail %q", fd.Detail)
			}
		}
	})
}

func BenchmarkDissectPacket(b *testing.B) {
	var resp []byte
	for _, p := range dissecttest.ReadCapture(b, "testdata/snmpv1_get.pcap") {
		if p.UDP && p.Src.Port() == 161 && len(p.Payload) > len(resp) {
			resp = p.Payload
		}
	}
	d := New().(*Dissector)
	f := &dissect.Flow{}
	b.SetBytes(int64(len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		_ = d.DissectPacket(f, dissect.FromServer, resp, time.Time{}, dissecttest.Discard{})
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
