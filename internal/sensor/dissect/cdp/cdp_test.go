package cdp

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/dissecttest"
)

func linkFlow(p dissecttest.Pkt) *dissect.Flow {
	return &dissect.Flow{Client: dissect.Endpoint{MAC: p.SrcMAC}, EtherType: p.EtherType, LLC: p.LLC, SNAPProtocol: p.SNAP, DstMAC: p.DstMAC}
}

func frames(t testing.TB, path string) ([]*dissect.Flow, []dissecttest.Pkt) {
	t.Helper()
	var fl []*dissect.Flow
	var ps []dissecttest.Pkt
	for _, p := range dissecttest.ReadCapture(t, path) {
		if p.LLC && p.SNAP == SNAPProtocol {
			fl, ps = append(fl, linkFlow(p)), append(ps, p)
		}
	}
	return fl, ps
}

func TestDissectPacket(t *testing.T) {
	t.Parallel()
	const ios = "Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE SOFTWARE (fc1) Copyright (c) 1986-2008 by Cisco Systems, Inc. Compiled Sat 05-Jan-08 00:15 by weiliu"
	// Expected values as decoded by tcpdump (testdata/*.out).
	tests := []struct {
		file  string
		frame int
		want  []string
	}{
		{
			file: "LLDP_and_CDP.pcap", frame: 0,
			want: []string{
				"cdp.device_id=S1", "cdp.software_version=" + ios, "cdp.platform=cisco WS-C3560-24TS",
				"cdp.port_id=FastEthernet0/13", "cdp.capabilities=switch,igmp", "cdp.native_vlan=1", "cdp.duplex=full",
			},
		},
		{
			file: "3560_CDP.pcap", frame: 0,
			want: []string{
				"cdp.device_id=Switch",
				"cdp.software_version=Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(25)SEB4, RELEASE SOFTWARE (fc1) Copyright (c) 1986-2005 by Cisco Systems, Inc. Compiled Tue 30-Aug-05 17:56 by yenanh",
				"cdp.platform=cisco WS-C3560G-24PS", "cdp.address=192.168.0.1", "cdp.port_id=GigabitEthernet0/5",
				"cdp.capabilities=switch,igmp", "cdp.vtp_domain=Lab", "cdp.native_vlan=1", "cdp.duplex=full",
				"cdp.mgmt_address=192.168.0.1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			fl, ps := frames(t, filepath.Join("testdata", tt.file))
			r := &dissecttest.Recorder{}
			if err := New().(*Dissector).DissectPacket(fl[tt.frame], dissect.FromClient, ps[tt.frame].Payload, ps[tt.frame].Time, r); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, r.Fields()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			for _, o := range r.Obs {
				if o.MAC != ps[tt.frame].SrcMAC || o.Protocol != Name || o.Time.IsZero() {
					t.Errorf("%s: MAC %q protocol %q time %v", o.Field, o.MAC, o.Protocol, o.Time)
				}
			}
		})
	}
}

// TestWithSNAPHeader: the dissector copes with a core that leaves the
// LLC/SNAP header in the payload.
func TestWithSNAPHeader(t *testing.T) {
	t.Parallel()
	fl, ps := frames(t, "testdata/3560_CDP.pcap")
	plain, snap := &dissecttest.Recorder{}, &dissecttest.Recorder{}
	d := New().(*Dissector)
	_ = d.DissectPacket(fl[0], dissect.FromClient, ps[0].Payload, time.Time{}, plain)
	withHdr := append([]byte{0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00}, ps[0].Payload...)
	if !d.Detect(fl[0], dissect.FromClient, withHdr) {
		t.Error("Detect rejected a payload with its LLC/SNAP header")
	}
	_ = d.DissectPacket(fl[0], dissect.FromClient, withHdr, time.Time{}, snap)
	if diff := cmp.Diff(plain.Fields(), snap.Fields()); diff != "" {
		t.Errorf("(-without +with header):\n%s", diff)
	}
}

func TestAgainstTshark(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/*.pcap")
	checkTshark(t, files)
}

// TestCorpusAgainstTshark runs the same comparison over the whole shared
// corpus group.
func TestCorpusAgainstTshark(t *testing.T) {
	t.Parallel()
	checkTshark(t, extraFiles(t, "lldp_cdp"))
}

func checkTshark(t *testing.T, files []string) {
	checks := map[string]string{"cdp.deviceid": "cdp.device_id", "cdp.platform": "cdp.platform", "cdp.portid": "cdp.port_id", "cdp.native_vlan": "cdp.native_vlan"}
	names := []string{"cdp.deviceid", "cdp.native_vlan", "cdp.platform", "cdp.portid"}
	for _, f := range files {
		ts := dissecttest.TsharkFields(t, f, "cdp", names...)
		var all []dissect.Observation
		fl, ps := frames(t, f)
		for i, p := range ps {
			r := &dissecttest.Recorder{}
			_ = New().(*Dissector).DissectPacket(fl[i], dissect.FromClient, p.Payload, p.Time, r)
			all = append(all, r.Obs...)
		}
		for _, k := range names {
			if diff := cmp.Diff(ts[k], dissecttest.Uniq(all, checks[k])); diff != "" {
				t.Errorf("%s %s (-tshark +got):\n%s", f, k, diff)
			}
		}
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	fl, ps := frames(t, "testdata/3560_CDP.pcap")
	lldp := []byte{0x02, 0x07, 0x04, 0x00, 0x19, 0x2f, 0xa7, 0xb2, 0x8d}
	tests := []struct {
		name string
		f    *dissect.Flow
		in   []byte
		want bool
	}{
		{"cdp", fl[0], ps[0].Payload, true},
		{"lldp", &dissect.Flow{EtherType: 0x88cc}, lldp, false},
		{"other_snap_protocol", &dissect.Flow{LLC: true, SNAPProtocol: 0x2004}, ps[0].Payload, false}, // DTP
		{"stp_llc", &dissect.Flow{LLC: true}, []byte{0, 0, 0, 0, 0}, false},
		{"nil_flow", nil, ps[0].Payload, false},
	}
	for _, tt := range tests {
		if got := New().Detect(tt.f, dissect.FromClient, tt.in); got != tt.want {
			t.Errorf("Detect(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func FuzzDissectPacket(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pcap")
	for _, path := range files {
		_, ps := frames(f, path)
		for _, p := range ps {
			f.Add(p.Payload)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = New().(*Dissector).DissectPacket(&dissect.Flow{LLC: true, SNAPProtocol: SNAPProtocol}, dissect.FromClient, b, time.Time{}, &dissecttest.Recorder{})
	})
}

func BenchmarkDissectPacket(b *testing.B) {
	fl, ps := frames(b, "testdata/3560_CDP.pcap")
	d := New().(*Dissector)
	b.SetBytes(int64(len(ps[0].Payload)))
	b.ReportAllocs()
	for b.Loop() {
		_ = d.DissectPacket(fl[0], dissect.FromClient, ps[0].Payload, time.Time{}, dissecttest.Discard{})
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
