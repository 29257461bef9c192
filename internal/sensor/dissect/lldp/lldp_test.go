package lldp

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

func linkFlow(p dissecttest.Pkt) *dissect.Flow {
	return &dissect.Flow{Client: dissect.Endpoint{MAC: p.SrcMAC}, EtherType: p.EtherType, LLC: p.LLC, SNAPProtocol: p.SNAP, DstMAC: p.DstMAC}
}

// frames returns the LLDP frames of a capture with their flows.
func frames(t testing.TB, path string) ([]*dissect.Flow, []dissecttest.Pkt) {
	t.Helper()
	var fl []*dissect.Flow
	var ps []dissecttest.Pkt
	for _, p := range dissecttest.ReadCapture(t, path) {
		if p.EtherType == EtherType {
			fl, ps = append(fl, linkFlow(p)), append(ps, p)
		}
	}
	return fl, ps
}

// summary returns the sorted unique "mac field=value" strings of a capture.
func summary(t testing.TB, path string) ([]string, int) {
	t.Helper()
	seen := map[string]bool{}
	errs := 0
	fl, ps := frames(t, path)
	for i, p := range ps {
		r := &dissecttest.Recorder{}
		if err := New().(*Dissector).DissectPacket(fl[i], dissect.FromClient, p.Payload, p.Time, r); err != nil {
			errs++
		}
		for _, o := range r.Obs {
			seen[o.MAC+" "+o.Field+"="+o.Value] = true
		}
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, errs
}

func TestDissectPacket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		want     []string
		wantErrs int
	}{
		{
			file: "LLDP_and_CDP.pcap",
			want: []string{
				"00:18:ba:98:68:8f lldp.capabilities=bridge",
				"00:18:ba:98:68:8f lldp.chassis_id=00:18:ba:98:68:8f",
				"00:18:ba:98:68:8f lldp.port_description=FastEthernet0/13",
				"00:18:ba:98:68:8f lldp.port_id=Fa0/13",
				"00:18:ba:98:68:8f lldp.system_description=Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE SOFTWARE (fc1) Copyright (c) 1986-2008 by Cisco Systems, Inc. Compiled Sat 05-Jan-08 00:15 by weiliu",
				"00:18:ba:98:68:8f lldp.system_name=S1.cisco.com",
				"00:19:2f:a7:b2:8d lldp.capabilities=bridge",
				"00:19:2f:a7:b2:8d lldp.chassis_id=00:19:2f:a7:b2:8d",
				"00:19:2f:a7:b2:8d lldp.port_description=GigabitEthernet0/13",
				"00:19:2f:a7:b2:8d lldp.port_id=Uplink to S1",
				"00:19:2f:a7:b2:8d lldp.system_description=Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(44)SE, RELEASE SOFTWARE (fc1) Copyright (c) 1986-2008 by Cisco Systems, Inc. Compiled Sat 05-Jan-08 00:15 by weiliu",
				"00:19:2f:a7:b2:8d lldp.system_name=S2.cisco.com",
			},
		},
		{
			file: "lldp.pcap",
			want: []string{
				"00:22:2d:81:db:10 lldp.capabilities=bridge",
				"00:22:2d:81:db:10 lldp.chassis_id=00:22:2d:81:db:10",
				"00:22:2d:81:db:10 lldp.mgmt_address=192.168.2.10",
				"00:22:2d:81:db:10 lldp.port_description=Port #1",
				"00:22:2d:81:db:10 lldp.port_id=1",
				"00:22:2d:81:db:10 lldp.system_description=SMCGS8P-Smart - SMCGS8P-Smart v3.20",
				"00:22:2d:81:db:10 lldp.system_name=SMCGS8P-Smart",
			},
		},
		{
			file: "lldp-infinite-loop-2.pcap",
			want: []string{
				"08:00:27:0d:f1:3c lldp.chassis_id=08:00:27:0d:f1:3c",
				"08:00:27:0d:f1:3c lldp.port_id=08:00:27:0d:f1:3c",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, errs := summary(t, filepath.Join("testdata", tt.file))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if errs != tt.wantErrs {
				t.Errorf("%d frames failed, want %d", errs, tt.wantErrs)
			}
		})
	}
}

// medFrame is an LLDPDU laid out per ANSI/TIA-1057 §10.2.6 (inventory
// TLVs) as sent by an LLDP-MED endpoint, with the values a Philips
// IntelliVue-style monitor would report.
func medFrame() []byte {
	tlv := func(typ byte, v ...byte) []byte {
		return append([]byte{typ<<1 | byte(len(v)>>8), byte(len(v))}, v...)
	}
	med := func(sub byte, s string) []byte {
		return tlv(127, append([]byte{0x00, 0x12, 0xbb, sub}, s...)...)
	}
	var b []byte
	b = append(b, tlv(1, 4, 0x00, 0x09, 0xfb, 0x12, 0x34, 0x56)...)
	b = append(b, tlv(2, 3, 0x00, 0x09, 0xfb, 0x12, 0x34, 0x56)...)
	b = append(b, tlv(3, 0, 120)...)
	b = append(b, tlv(7, 0, 0x80, 0, 0x80)...) // station
	b = append(b, tlv(8, 5, 1, 10, 20, 30, 40, 2, 0, 0, 0, 1, 0)...)
	b = append(b, tlv(127, 0x00, 0x12, 0xbb, 1, 0x00, 0x33, 3)...) // MED capabilities, class III
	b = append(b, med(5, "A.01")...)
	b = append(b, med(6, "M.00.03")...)
	b = append(b, med(7, "L.01.23")...)
	b = append(b, med(8, "DE12345678")...)
	b = append(b, med(9, "Philips Medical Systems")...)
	b = append(b, med(10, "MX450")...)
	b = append(b, med(11, "ICU-BED-07")...)
	return append(b, tlv(0)...)
}

func TestMEDInventory(t *testing.T) {
	t.Parallel()
	r := &dissecttest.Recorder{}
	f := &dissect.Flow{Client: dissect.Endpoint{MAC: "00:09:fb:12:34:56"}, EtherType: EtherType}
	if err := New().(*Dissector).DissectPacket(f, dissect.FromClient, medFrame(), time.Time{}, r); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"lldp.chassis_id=00:09:fb:12:34:56", "lldp.port_id=00:09:fb:12:34:56", "lldp.capabilities=station",
		"lldp.mgmt_address=10.20.30.40",
		"lldp.med_hardware_revision=A.01", "lldp.med_firmware_revision=M.00.03", "lldp.med_software_revision=L.01.23",
		"lldp.med_serial_number=DE12345678", "lldp.med_manufacturer=Philips Medical Systems", "lldp.med_model=MX450",
		"lldp.med_asset_id=ICU-BED-07",
	}
	if diff := cmp.Diff(want, r.Fields()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, o := range r.Obs {
		if o.MAC != "00:09:fb:12:34:56" || o.Protocol != Name {
			t.Errorf("%s: MAC %q protocol %q", o.Field, o.MAC, o.Protocol)
		}
	}
}

// TestAgainstTshark compares system names, chassis MACs and port
// descriptions with Wireshark's LLDP dissector.
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
	checks := map[string]string{
		"lldp.tlv.system.name": "lldp.system_name",
		"lldp.port.desc":       "lldp.port_description",
		"lldp.tlv.system.desc": "lldp.system_description",
	}
	var names []string
	for k := range checks {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, f := range files {
		ts := dissecttest.TsharkFields(t, f, "lldp", names...)
		var all []dissect.Observation
		fl, ps := frames(t, f)
		for i, p := range ps {
			r := &dissecttest.Recorder{}
			_ = New().(*Dissector).DissectPacket(fl[i], dissect.FromClient, p.Payload, p.Time, r)
			all = append(all, r.Obs...)
		}
		for _, k := range names {
			want := ts[k]
			if k == "lldp.tlv.system.desc" {
				for i := range want {
					want[i] = text([]byte(strings.ReplaceAll(want[i], `\n`, "\n")))
				}
				sort.Strings(want)
			}
			if diff := cmp.Diff(want, dissecttest.Uniq(all, checks[k])); diff != "" {
				t.Errorf("%s %s (-tshark +got):\n%s", f, k, diff)
			}
		}
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	fl, ps := frames(t, "testdata/lldp.pcap")
	tests := []struct {
		name string
		f    *dissect.Flow
		in   []byte
		want bool
	}{
		{"lldp", fl[0], ps[0].Payload, true},
		{"wrong_ethertype", &dissect.Flow{EtherType: 0x0800}, ps[0].Payload, false},
		{"cdp_snap", &dissect.Flow{LLC: true, SNAPProtocol: 0x2000}, []byte{2, 180, 0x0b, 0xea, 0, 1, 0, 6, 'S', '1'}, false},
		{"lldp_not_chassis_first", &dissect.Flow{EtherType: EtherType}, []byte{0x06, 0x02, 0, 120}, false},
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
	f.Add(medFrame())
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = New().(*Dissector).DissectPacket(&dissect.Flow{EtherType: EtherType}, dissect.FromClient, b, time.Time{}, &dissecttest.Recorder{})
	})
}

func BenchmarkDissectPacket(b *testing.B) {
	fl, ps := frames(b, "testdata/LLDP_and_CDP.pcap")
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
