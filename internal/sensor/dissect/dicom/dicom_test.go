package dicom

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/sensortest"
)

type recorder struct {
	obs   []dissect.Observation
	finds []dissect.Finding
}

func (r *recorder) Observe(o dissect.Observation) { r.obs = append(r.obs, o) }
func (r *recorder) Report(f dissect.Finding)      { r.finds = append(r.finds, f) }

func (r *recorder) strings() []string {
	var out []string
	for _, o := range r.obs {
		out = append(out, o.IP.String()+" "+o.Field+"="+o.Value)
	}
	for _, f := range r.finds {
		out = append(out, f.IP.String()+" "+f.Kind+"/"+f.Severity+": "+f.Detail)
	}
	return out
}

type discard struct{}

func (discard) Observe(dissect.Observation) {}
func (discard) Report(dissect.Finding)      {}

var (
	ct   = netip.MustParseAddrPort("10.30.2.11:50112")
	pacs = netip.MustParseAddrPort("10.30.0.20:104")
	flow = &dissect.Flow{Client: dissect.Endpoint{Addr: ct}, Server: dissect.Endpoint{Addr: pacs}}
)

func pdu(typ byte, body []byte) []byte {
	b := []byte{typ, 0}
	b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	return append(b, body...)
}

func item(typ byte, v []byte) []byte {
	b := []byte{typ, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

func ae(s string) []byte { return []byte((s + strings.Repeat(" ", 16))[:16]) }

func evenUID(s string) []byte {
	if len(s)%2 == 1 {
		return append([]byte(s), 0)
	}
	return []byte(s)
}

type pctx struct {
	id       byte
	abstract string
	ts       []string
}

func associate(typ byte, called, calling string, ctxs []pctx, implUID, implVer string) []byte {
	b := []byte{0, 1, 0, 0}
	b = append(b, ae(called)...)
	b = append(b, ae(calling)...)
	b = append(b, make([]byte, 32)...)
	b = append(b, item(0x10, []byte("1.2.840.10008.3.1.1.1"))...)
	for _, c := range ctxs {
		v := []byte{c.id, 0, 0, 0}
		if typ == pduAssociateRQ {
			v = append(v, item(0x30, evenUID(c.abstract))...)
		}
		for _, ts := range c.ts {
			v = append(v, item(0x40, evenUID(ts))...)
		}
		it := byte(0x20)
		if typ == pduAssociateAC {
			it = 0x21
		}
		b = append(b, item(it, v)...)
	}
	ui := item(0x51, binary.BigEndian.AppendUint32(nil, 16384))
	ui = append(ui, item(0x52, evenUID(implUID))...)
	ui = append(ui, item(0x55, []byte(implVer))...)
	b = append(b, item(0x50, ui)...)
	return pdu(typ, b)
}

func elem(e uint16, v []byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, 0)
	b = binary.LittleEndian.AppendUint16(b, e)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

func us(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

func commandSet(field uint16, sop string, status int) []byte {
	var body []byte
	if sop != "" {
		body = append(body, elem(0x0002, evenUID(sop))...)
	}
	body = append(body, elem(0x0100, us(field))...)
	body = append(body, elem(0x0800, us(0x0101))...)
	if status >= 0 {
		body = append(body, elem(0x0900, us(uint16(status)))...)
	}
	return append(elem(0x0000, binary.LittleEndian.AppendUint32(nil, uint32(len(body)))), body...)
}

func pdv(id, mch byte, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)+2))
	b = append(b, id, mch)
	return append(b, data...)
}

const (
	ctStorage = "1.2.840.10008.5.1.4.1.1.2"
	echo      = "1.2.840.10008.1.1"
	explicit  = "1.2.840.10008.1.2.1"
	implicit  = "1.2.840.10008.1.2"
)

func ctSession() (cli, srv []byte) {
	cli = associate(pduAssociateRQ, "PACS_MAIN", "CT_SCANNER_1", []pctx{{1, ctStorage, []string{explicit, implicit}}, {3, echo, []string{implicit}}}, "1.2.840.113619.6.336", "GE_CT_R7.2")
	cmd := commandSet(0x0001, ctStorage, -1)
	dataset := bytes.Repeat([]byte{0xAB}, 40000) // pixel data: skipped, never read
	cli = append(cli, pdu(pduData, append(pdv(1, 0x03, cmd), pdv(1, 0x00, dataset[:20000])...))...)
	cli = append(cli, pdu(pduData, pdv(1, 0x02, dataset[20000:]))...)
	cli = append(cli, pdu(pduReleaseRQ, make([]byte, 4))...)
	srv = associate(pduAssociateAC, "PACS_MAIN", "CT_SCANNER_1", []pctx{{1, "", []string{explicit}}, {3, "", []string{implicit}}}, "1.2.40.0.13.1.3", "dcm4che-5.31")
	srv = append(srv, pdu(pduData, pdv(1, 0x03, commandSet(0x8001, ctStorage, 0xA700)))...)
	srv = append(srv, pdu(pduReleaseRP, make([]byte, 4))...)
	return cli, srv
}

func TestStream(t *testing.T) {
	t.Parallel()
	cli, srv := ctSession()
	for _, split := range []int{0, 1, 5, 6, 7, 100, 333, len(cli) - 1} {
		r := &recorder{}
		s := New().(*Dissector).NewStream(flow)
		for _, x := range []struct {
			dir dissect.Direction
			b   []byte
		}{{dissect.FromClient, cli[:len(cli)-10]}, {dissect.FromServer, srv}, {dissect.FromClient, cli[len(cli)-10:]}} {
			at := min(split, len(x.b))
			for _, part := range [][]byte{x.b[:at], x.b[at:]} {
				if err := s.Feed(x.dir, part, time.Time{}, r); err != nil {
					t.Fatalf("split %d: %v", split, err)
				}
			}
		}
		want := []string{
			"10.30.2.11 dicom.calling_ae=CT_SCANNER_1",
			"10.30.0.20 dicom.called_ae=PACS_MAIN",
			"10.30.2.11 dicom.sop_class=CT Image Storage",
			"10.30.2.11 dicom.sop_class=Verification",
			"10.30.2.11 dicom.role=modality",
			"10.30.0.20 dicom.role=pacs",
			"10.30.2.11 dicom.modality=CT",
			"10.30.2.11 dicom.implementation_class_uid=1.2.840.113619.6.336",
			"10.30.2.11 dicom.implementation_version=GE_CT_R7.2",
			"10.30.2.11 dicom.implementation_vendor=GE HealthCare",
			"10.30.0.20 dicom.association=accepted",
			"10.30.0.20 dicom.sop_class_accepted=CT Image Storage",
			"10.30.0.20 dicom.sop_class_accepted=Verification",
			"10.30.0.20 dicom.transfer_syntax=Explicit VR Little Endian",
			"10.30.0.20 dicom.transfer_syntax=Implicit VR Little Endian",
			"10.30.0.20 dicom.implementation_class_uid=1.2.40.0.13.1.3",
			"10.30.0.20 dicom.implementation_version=dcm4che-5.31",
			"10.30.0.20 dicom.implementation_vendor=dcm4che",
			"10.30.0.20 dicom.implementation_product=dcm4che",
			"10.30.2.11 dicom.command=C-STORE-RQ",
			"10.30.2.11 dicom.sop_class=CT Image Storage",
			"10.30.0.20 dicom.command=C-STORE-RSP",
			"10.30.0.20 dicom.status=C-STORE-RSP failure 0xA700",
			`10.30.0.20 cleartext-phi/high: DICOM from AE "CT_SCANNER_1" travels without TLS between 10.30.2.11 and 10.30.0.20:104: images and patient data readable on the network; use DICOM TLS (PS3.15 Annex B, port 2762) or a VPN (HICP practice 6, encryption in transit)`,
		}
		got := r.strings()
		sort.Strings(want)
		sort.Strings(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("split %d (-want +got):\n%s", split, diff)
		}
	}
}

func TestRejectAbortEcho(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	s := New().(*Dissector).NewStream(flow)
	_ = s.Feed(dissect.FromClient, associate(pduAssociateRQ, "ARCHIVE", "WS7", []pctx{{1, "1.2.840.10008.5.1.4.1.2.2.1", []string{implicit}}, {3, "1.2.840.10008.5.1.4.1.2.2.2", []string{implicit}}}, "1.2.276.0.7230010.3.0.3.6.7", "OFFIS_DCMTK_367"), time.Time{}, r)
	_ = s.Feed(dissect.FromServer, pdu(pduAssociateRJ, []byte{0, 1, 1, 3}), time.Time{}, r)
	_ = s.Feed(dissect.FromClient, pdu(pduAbort, []byte{0, 0, 0, 0}), time.Time{}, r)
	got := map[string]bool{}
	for _, l := range r.strings() {
		got[l] = true
	}
	for _, w := range []string{
		"10.30.2.11 dicom.role=workstation", "10.30.0.20 dicom.role=pacs",
		"10.30.2.11 dicom.implementation_vendor=OFFIS", "10.30.2.11 dicom.implementation_product=DCMTK",
		"10.30.2.11 dicom.sop_class=Study Root Query/Retrieve Information Model - MOVE",
		"10.30.0.20 dicom.association=rejected (permanent: calling AE title not recognized)",
		"10.30.2.11 dicom.association=aborted by service user",
	} {
		if !got[w] {
			t.Errorf("missing %q in %v", w, r.strings())
		}
	}
}

func TestBadPDUs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"absurd_length", []byte{0x04, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 10, 1, 3}, "P-DATA-TF of 4294967295 bytes"},
		{"absurd_associate", []byte{0x01, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1}, "A-ASSOCIATE-RQ of 2147483647 bytes"},
		{"unknown_type", []byte{0x09, 0, 0, 0, 0, 4, 0, 0, 0, 0}, "unknown pdu type 0x09"},
		{"release_wrong_length", pdu(pduReleaseRQ, make([]byte, 9)), "A-RELEASE-RQ of 9 bytes, want 4"},
		{"pdv_overruns_pdu", pdu(pduData, append(binary.BigEndian.AppendUint32(nil, 100), 1, 3)), "PDV of 100 bytes"},
		{"item_overruns", func() []byte {
			b := associate(pduAssociateRQ, "A", "B", nil, "1.2", "x")
			i := bytes.LastIndex(b, []byte{0x50, 0})
			b[i+2] = 0x7f // user information item longer than the PDU
			return b
		}(), "overrun"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New().(*Dissector).NewStream(flow)
			err := s.Feed(dissect.FromClient, tt.in, time.Time{}, discard{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Feed error %v, want %q", err, tt.wantErr)
			}
			// The stream is abandoned: more bytes are ignored without allocation.
			if err := s.Feed(dissect.FromClient, bytes.Repeat([]byte{1}, 1<<16), time.Time{}, discard{}); err != nil && tt.name != "item_overruns" {
				t.Errorf("abandoned stream still decodes: %v", err)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	d := New().(*Dissector)
	cli, srv := ctSession()
	for _, tt := range []struct {
		name string
		in   []byte
		want bool
	}{
		{"rq", cli, true}, {"ac", srv, true},
		{"http", []byte("GET / HTTP/1.1\r\n"), false},
		{"pdata", pdu(pduData, pdv(1, 3, nil)), false},
		{"bad_version", append([]byte{1, 0, 0, 0, 0, 100, 0, 2}, make([]byte, 100)...), false},
		{"header_alone", cli[:6], true},
		{"header_too_short", cli[:5], false},
		{"absurd_length", []byte{1, 0, 0x7f, 0, 0, 0, 0, 1}, false},
	} {
		if got := d.Detect(flow, dissect.FromClient, tt.in); got != tt.want {
			t.Errorf("Detect(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The real capture, and an independent decoder: tshark's AE titles and
// implementation class UID must equal ours.
func TestCapture(t *testing.T) {
	t.Parallel()
	res := sensortest.Run(t, "testdata/dicom.pcap", New())
	got := sensortest.Fields(res)
	want := map[string][]string{
		"dicom.calling_ae":               {"testclient"},
		"dicom.called_ae":                {"testserver"},
		"dicom.implementation_class_uid": {"1.2.826.0.1.3680043.9.7133.1.1"},
		"dicom.implementation_version":   {"GODICOM_1_1"},
		"dicom.implementation_vendor":    {"grailbio"},
		"dicom.role":                     {"pacs", "workstation"},
	}
	for f, w := range want {
		if diff := cmp.Diff(w, got[f]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", f, diff)
		}
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not on PATH: independent cross-check skipped")
	}
	out, err := exec.Command("tshark", "-r", "testdata/dicom.pcap", "-d", "tcp.port==104,dicom", "-Y", "dicom.pdu.type==1",
		"-T", "fields", "-e", "dicom.assoc.ae.calling", "-e", "dicom.assoc.ae.called", "-e", "dicom.userinfo.uid").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("tshark line %q", line)
		}
		ts := []string{strings.TrimSpace(f[0]), strings.TrimSpace(f[1]), strings.TrimSpace(f[2])}
		ours := []string{got["dicom.calling_ae"][0], got["dicom.called_ae"][0], got["dicom.implementation_class_uid"][0]}
		if diff := cmp.Diff(ts, ours); diff != "" {
			t.Errorf("tshark vs ours (-tshark +ours):\n%s", diff)
		}
	}
}

// TestCorpusExtra runs every DICOM capture of the shared corpus (including
// the held-out part in CI) and, when tshark is installed, compares the
// calling and called AE titles with tshark's.
func TestCorpusExtra(t *testing.T) {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: the shared DICOM captures are not available")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "pcap", "dicom", "*.pcap*"))
	if len(files) == 0 {
		t.Skipf("no captures under %s/pcap/dicom", dir)
	}
	_, errTshark := exec.LookPath("tshark")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			got := sensortest.Fields(sensortest.Run(t, f, New()))
			if errTshark != nil {
				return
			}
			for field, ts := range map[string]string{"dicom.calling_ae": "dicom.assoc.ae.calling", "dicom.called_ae": "dicom.assoc.ae.called"} {
				out, err := exec.Command("tshark", "-r", f, "-Y", "dicom.pdu.type==1", "-T", "fields", "-e", ts).Output()
				if err != nil {
					t.Fatalf("tshark: %v", err)
				}
				seen := map[string]bool{}
				for _, l := range strings.Split(string(out), "\n") {
					if l = strings.TrimSpace(l); l != "" {
						seen[l] = true
					}
				}
				var want []string
				for v := range seen {
					want = append(want, v)
				}
				sort.Strings(want)
				if len(want) == 0 {
					continue // tshark did not recognise DICOM on this port
				}
				if diff := cmp.Diff(want, got[field]); diff != "" {
					t.Errorf("%s (-tshark +ours):\n%s", field, diff)
				}
			}
		})
	}
}
