package hl7

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/sensortest"
)

// flatten lists every non-empty value of m as "SEG[k].n[r].c.s=value",
// k counting occurrences of the segment name, all other indices 1-based.
func flatten(m *Message) []string {
	var out []string
	occ := map[string]int{}
	for _, s := range m.Segments {
		k := occ[s.Name]
		occ[s.Name]++
		for n, f := range s.Fields {
			for r, rep := range f {
				for c, comp := range rep {
					for sc, v := range comp {
						// Surrounding white space is not compared: the reference
						// parser trims some values and not others.
						if v = strings.TrimSpace(v); v != "" {
							out = append(out, fmt.Sprintf("%s[%d].%d[%d].%d.%d=%s", s.Name, k, n+1, r, c+1, sc+1, v))
						}
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// extraAllowed: a component beyond the first, a subcomponent beyond the
// first, or a whitespace-only or lone-escape value.
var extraAllowed = regexp.MustCompile(`^[A-Z0-9]{3}\[\d+\]\.\d+\[\d+\]\.(([2-9]|\d\d+)\.\d+|\d+\.([2-9]|\d\d+))=|=[\s\\\\]*$`)

var (
	segKey   = regexp.MustCompile(`^[A-Z][A-Z0-9]{2}$`)
	fieldKey = regexp.MustCompile(`^[A-Z][A-Z0-9]{2}\.(\d+)$`)
	typeKey  = regexp.MustCompile(`^[A-Z0-9_]+\.(\d+)$`)
)

// flattenExpected turns the upstream tree (message → groups → segments →
// fields → repetitions → typed components → typed subcomponents) into the
// same form as flatten. Type and group names are the upstream parser's
// dictionary knowledge and are not compared.
func flattenExpected(t *testing.T, raw []byte) []string {
	t.Helper()
	var root map[string]json.RawMessage
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	var out []string
	occ := map[string]int{}
	var group func(raw json.RawMessage)
	field := func(prefix string, reps []json.RawMessage) {
		for r, rep := range reps {
			p := fmt.Sprintf("%s[%d]", prefix, r)
			var s string
			if json.Unmarshal(rep, &s) == nil {
				if s != "" {
					out = append(out, p+".1.1="+s)
				}
				continue
			}
			var comps map[string][]json.RawMessage
			if err := json.Unmarshal(rep, &comps); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			for ck, cv := range comps {
				c := typeKey.FindStringSubmatch(ck)[1]
				for _, one := range cv {
					var s string
					if json.Unmarshal(one, &s) == nil {
						if s != "" {
							out = append(out, p+"."+c+".1="+s)
						}
						continue
					}
					var subs map[string][]string
					if err := json.Unmarshal(one, &subs); err != nil {
						t.Fatalf("%s.%s: %v", p, c, err)
					}
					for sk, sv := range subs {
						for _, s := range sv {
							if s != "" {
								out = append(out, p+"."+c+"."+typeKey.FindStringSubmatch(sk)[1]+"="+s)
							}
						}
					}
				}
			}
		}
	}
	// Segment order inside groups follows the document; group keys may come
	// in any order in a JSON object but each segment name keeps its order.
	group = func(raw json.RawMessage) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		if _, err := dec.Token(); err != nil { // {
			t.Fatal(err)
		}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			key := kt.(string)
			var list []json.RawMessage
			if err := dec.Decode(&list); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			for _, item := range list {
				if !segKey.MatchString(key) {
					group(item)
					continue
				}
				k := occ[key]
				occ[key]++
				dec2 := json.NewDecoder(bytes.NewReader(item))
				if _, err := dec2.Token(); err != nil {
					t.Fatal(err)
				}
				for dec2.More() {
					ft, _ := dec2.Token()
					fm := fieldKey.FindStringSubmatch(ft.(string))
					var reps []json.RawMessage
					if err := dec2.Decode(&reps); err != nil || fm == nil {
						t.Fatalf("%s field %v: %v", key, ft, err)
					}
					field(fmt.Sprintf("%s[%d].%s", key, k, fm[1]), reps)
				}
			}
		}
	}
	if len(root) != 1 {
		t.Fatalf("expected tree has %d roots", len(root))
	}
	for _, v := range root {
		group(v)
	}
	for i, v := range out {
		k, val, _ := strings.Cut(v, "=")
		out[i] = k + "=" + strings.TrimSpace(val)
	}
	sort.Strings(out)
	return out
}

func testTrees(t *testing.T, dir string) int {
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.hl7"))
	n := 0
	for _, f := range files {
		want, err := os.ReadFile(strings.TrimSuffix(f, ".hl7") + ".expected.json")
		if err != nil {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(b, Options{CROnly: true})
			if err != nil {
				t.Fatalf("Parse(%s): %v", f, err)
			}
			// Every value of the reference tree must be ours, at the same
			// place. The reference parser knows the HL7 dictionary and drops
			// components and subcomponents beyond a data type's definition
			// (CE has 6 components, an ID none) and whitespace-only values;
			// we keep what is on the wire, so extra values are allowed there
			// and only there.
			exp := flattenExpected(t, want)
			got := map[string]bool{}
			for _, v := range flatten(m) {
				got[v] = true
			}
			var missing []string
			for _, v := range exp {
				if !got[v] {
					missing = append(missing, v)
				}
				delete(got, v)
			}
			if diff := cmp.Diff([]string(nil), missing); diff != "" {
				t.Errorf("Parse(%s) misses reference values (-want +got):\n%s", f, diff)
			}
			for v := range got {
				if !extraAllowed.MatchString(v) {
					t.Errorf("Parse(%s): value %q not in the reference tree", f, v)
				}
			}
		})
	}
	return n
}

func TestExpectedTrees(t *testing.T) {
	if n := testTrees(t, "testdata/messages"); n < 10 {
		t.Fatalf("only %d expected trees found", n)
	}
}

func TestExpectedTreesExtra(t *testing.T) {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: the full HL7 corpus is not available")
	}
	testTrees(t, filepath.Join(dir, "hl7v2", "messages", "valid"))
}

// The default options split LF-terminated files into their real segments.
func TestSegmentsLF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		{"athena-health/oru-example.hl7", []string{"MSH", "PID", "NTE", "ORC", "OBR", "TQ1"}},
		{"corepoint-health/siu-example.hl7", []string{"MSH", "SCH", "PID", "PV1", "RGS", "AIL", "NTE", "AIP"}},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(filepath.Join("testdata/messages", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(b, Options{})
		if err != nil {
			t.Fatalf("Parse(%s): %v", tt.file, err)
		}
		var got []string
		for _, s := range m.Segments {
			got = append(got, s.Name)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Parse(%s) segments (-want +got):\n%s", tt.file, diff)
		}
	}
}

func TestParseErrorsAndEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		get     [5]any // seg, field, rep, comp, sub
		want    string
		wantErr string
	}{
		{name: "escapes", in: "MSH|^~\\&|A|B\rNTE|1||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\X41\\\\.br\\\\H\\g", get: [5]any{"NTE", 3, 1, 1, 1}, want: "a|b^c&d~e\\fA\ng"},
		{name: "unterminated_escape", in: "MSH|^~\\&|A\rNTE|1||x\\F", get: [5]any{"NTE", 3, 1, 1, 1}, want: "x\\F"},
		{name: "other_delimiters", in: "MSH#!@$%#APP#FAC\rPID#1##a!b@c", get: [5]any{"PID", 3, 2, 1, 1}, want: "c"},
		{name: "repetition_component_sub", in: "MSH|^~\\&|X\rOBX|1|||||||||||||||||a^b&c~d", get: [5]any{"OBX", 18, 1, 2, 2}, want: "c"},
		{name: "five_encoding_chars", in: "MSH|^~\\&#|A|F|R|G|||ADT^A01|1|P|2.7", get: [5]any{"MSH", 12, 1, 1, 1}, want: "2.7"},
		{name: "msh_1_and_2", in: "MSH|^~\\&|A", get: [5]any{"MSH", 2, 1, 1, 1}, want: "^~\\&"},
		{name: "not_hl7", in: "GET / HTTP/1.1\r\n", wantErr: `message starts with "GET", not MSH, FHS or BHS`},
		{name: "short", in: "MSH|^~", wantErr: "too short"},
		{name: "bad_encoding", in: "MSH|^^\\&|A|B", wantErr: "repeated or invalid delimiter"},
		{name: "alnum_separator", in: "MSHA^~\\&A", wantErr: "invalid"},
		{name: "bad_segment_name", in: "MSH|^~\\&|A\rP-D|1", wantErr: `segment 2: segment name "P-D"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.in), Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := tt.get
			if got := m.Get(g[0].(string), g[1].(int), g[2].(int), g[3].(int), g[4].(int)); got != tt.want {
				t.Errorf("Get%v = %q, want %q", g, got, tt.want)
			}
		})
	}
}

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

var (
	monitor = netip.MustParseAddrPort("10.20.1.31:49152")
	engine  = netip.MustParseAddrPort("10.20.0.5:2575")
	flow    = &dissect.Flow{Client: dissect.Endpoint{Addr: monitor}, Server: dissect.Endpoint{Addr: engine}}
)

func mllp(msgs ...string) []byte {
	var b []byte
	for _, m := range msgs {
		b = append(b, startBlock)
		b = append(b, m...)
		b = append(b, endBlock, carriageRe)
	}
	return b
}

// An IHE PCD-01 style ORU^R01 from a bedside monitor: OBX-18 carries the
// equipment instance identifier (EUI-64), PRT-16 the UDI.
const oruPCD = "MSH|^~\\&|IntelliVue^0007B0FFFE1A2B3C^EUI-64|ICU3|HIS_IE|CARDIO|20260101101500+0100||ORU^R01^ORU_R01|MSG00042|P|2.6|||NE|AL||UNICODE UTF-8\r" +
	"PID|||MRN12345^^^HOSP^MR||DOE^JANE||19700101|F\r" +
	"PV1||I|ICU3^BED7\r" +
	"OBR|1|||69837^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC\r" +
	"PRT|1|UC||EQUIP^Equipment^HL70912||||||||||||(01)10884521062856(21)SN4711^^2.51.1.1^ISO||||SN4711\r" +
	"OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||R|||20260101101500+0100||||0007B0FFFE1A2B3C^EUI-64\r"

const ackAA = "MSH|^~\\&|HIS_IE|CARDIO|IntelliVue|ICU3|20260101101501||ACK^R01^ACK|ACK00042|P|2.6\rMSA|AA|MSG00042\r"

func TestStream(t *testing.T) {
	t.Parallel()
	r := &recorder{}
	s := New().(*Dissector).NewStream(flow)
	ts := time.Unix(1767258900, 0)
	if err := s.Feed(dissect.FromClient, mllp(oruPCD), ts, r); err != nil {
		t.Fatal(err)
	}
	if err := s.Feed(dissect.FromServer, mllp(ackAA), ts, r); err != nil {
		t.Fatal(err)
	}
	s.End(r)
	want := []string{
		"10.20.1.31 hl7.sending_application=IntelliVue",
		"10.20.1.31 hl7.sending_facility=ICU3",
		"10.20.0.5 hl7.receiving_application=HIS_IE",
		"10.20.0.5 hl7.receiving_facility=CARDIO",
		"10.20.1.31 hl7.message_type=ORU^R01",
		"10.20.1.31 hl7.processing_id=P",
		"10.20.1.31 hl7.version=2.6",
		"10.20.1.31 hl7.charset=UNICODE UTF-8",
		"10.20.1.31 hl7.udi=(01)10884521062856(21)SN4711",
		"10.20.1.31 hl7.udi_di=GS1 10884521062856",
		"10.20.1.31 hl7.device_serial=SN4711",
		"10.20.1.31 hl7.udi=0007B0FFFE1A2B3C",
		"10.20.1.31 hl7.phi_segments=OBX,PID,PV1",
		"10.20.0.5 hl7.sending_application=HIS_IE",
		"10.20.0.5 hl7.sending_facility=CARDIO",
		"10.20.1.31 hl7.receiving_application=IntelliVue",
		"10.20.1.31 hl7.receiving_facility=ICU3",
		"10.20.0.5 hl7.message_type=ACK^R01",
		"10.20.0.5 hl7.processing_id=P",
		"10.20.0.5 hl7.version=2.6",
		"10.20.0.5 hl7.ack_code=AA",
		`10.20.0.5 cleartext-phi/high: HL7 v2 ORU^R01 messages from "IntelliVue" travel over MLLP without TLS between 10.20.1.31 and 10.20.0.5:2575: patient data readable and alterable on the network; use HL7 over TLS or a VPN tunnel (HICP practice 6, encryption in transit)`,
	}
	if diff := cmp.Diff(want, r.strings()); diff != "" {
		t.Errorf("Feed (-want +got):\n%s", diff)
	}
	for _, line := range r.strings() {
		for _, phi := range []string{"MRN12345", "DOE", "JANE", "19700101"} {
			if strings.Contains(line, phi) {
				t.Errorf("patient data %q leaked: %s", phi, line)
			}
		}
	}
}

func TestBatchAndNAK(t *testing.T) {
	t.Parallel()
	batch := "FHS|^~\\&|LABSYS|MAINLAB|LIS|HOSP|20260101\rBHS|^~\\&|LABSYS|MAINLAB|LIS|HOSP|20260101\r" +
		"MSH|^~\\&|LABSYS|MAINLAB|LIS|HOSP|20260101||ACK|C1|P|2.5.1\rMSA|AE|X1|unknown patient\rBTS|1\rFTS|1\r"
	r := &recorder{}
	s := New().(*Dissector).NewStream(flow)
	if err := s.Feed(dissect.FromServer, mllp(batch), time.Time{}, r); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, o := range r.obs {
		got[o.Field+"="+o.Value] = true
	}
	for _, w := range []string{"hl7.batch=file", "hl7.batch=batch", "hl7.ack_code=AE", "hl7.message_type=ACK", "hl7.version=2.5.1", "hl7.sending_application=LABSYS"} {
		if !got[w] {
			t.Errorf("missing %s in %v", w, r.strings())
		}
	}
}

func TestFramingErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []byte
		wantErr string
		wantObs int
	}{
		{name: "garbage_between_frames", in: append([]byte("\r\n\x00junk"), mllp(ackAA)...), wantObs: 8},
		{name: "not_hl7_inside_frame", in: mllp("hello world"), wantErr: "not MSH"},
		{name: "missing_cr_after_end_block", in: []byte("\x0b" + ackAA + "\x1c\x0b" + ackAA + "\x1c\r"), wantObs: 16},
		{name: "truncated_mllp_frame", in: []byte("\x0b" + ackAA), wantObs: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{}
			s := New().(*Dissector).NewStream(flow)
			err := s.Feed(dissect.FromServer, tt.in, time.Time{}, r)
			s.End(r) // the second of two identical messages is reported at the end (dedupe)
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if tt.wantErr == "" && err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if len(r.obs) != tt.wantObs {
				t.Errorf("%d observations, want %d: %v", len(r.obs), tt.wantObs, r.strings())
			}
		})
	}
}

func TestOversizedFrame(t *testing.T) {
	t.Parallel()
	s := New().(*Dissector).NewStream(flow)
	r := &recorder{}
	chunk := bytes.Repeat([]byte("OBX|1|ST|x||"), 8192)
	var errs int
	if err := s.Feed(dissect.FromClient, []byte("\x0bMSH|^~\\&|A\r"), time.Time{}, r); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ { // 9.8 MB
		if err := s.Feed(dissect.FromClient, chunk, time.Time{}, r); err != nil {
			errs++
		}
	}
	if errs != 1 {
		t.Errorf("%d errors, want 1 for one oversized frame", errs)
	}
	st := s.(*stream)
	if c := cap(st.dir[0].buf); c > MaxMessage*2 {
		t.Errorf("buffer grew to %d bytes", c)
	}
	// The stream recovers at the next frame.
	if err := s.Feed(dissect.FromClient, append([]byte("\x1c\r"), mllp(ackAA)...), time.Time{}, r); err != nil {
		t.Fatal(err)
	}
	if len(r.obs) == 0 {
		t.Error("no observations after recovering from an oversized frame")
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	d := New().(*Dissector)
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"\x0bMSH|^~\\&|", true},
		{"\x0b\r\nFHS|^~\\&|", true},
		{"\x0bBHS|", true},
		{"MSH|^~\\&|", false},
		{"\x0bGET / HTTP", false},
		{"\x0b", false},
	} {
		if got := d.Detect(flow, dissect.FromClient, []byte(tt.in)); got != tt.want {
			t.Errorf("Detect(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// The real capture: MLLP on tcp/6661 with ADT^A01 (retransmitted), ORM^O01
// and ACKs.
func TestCapture(t *testing.T) {
	t.Parallel()
	res := sensortest.Run(t, "testdata/hl7.pcap", New())
	got := sensortest.Fields(res)
	for _, f := range []string{"hl7.message_type", "hl7.version", "hl7.sending_application", "hl7.ack_code"} {
		if len(got[f]) == 0 {
			t.Errorf("no %s in %v", f, got)
		}
	}
	if diff := cmp.Diff([]string{"ACK", "ADT^A01", "ORM^O01"}, onlyPrefix(got["hl7.message_type"])); diff != "" {
		t.Errorf("message types (-want +got):\n%s", diff)
	}
	n := 0
	for _, f := range res.Findings {
		if f.Kind == "cleartext-phi" {
			n++
		}
	}
	if n == 0 {
		t.Error("no cleartext-phi finding for a cleartext HL7 capture")
	}
	t.Logf("fields: %v, %d cleartext-phi findings", got, n)

	// tshark, an independent decoder, reads the same message types.
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not on PATH: independent cross-check skipped")
	}
	out, err := exec.Command("tshark", "-r", "testdata/hl7.pcap", "-d", "tcp.port==6661,hl7", "-Y", "hl7",
		"-T", "fields", "-e", "hl7.message.type", "-e", "hl7.event.type").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		typ, ev, _ := strings.Cut(line, "\t")
		if ev != "" {
			typ += "^" + ev
		}
		seen[typ] = true
	}
	var ts []string
	for k := range seen {
		ts = append(ts, k)
	}
	sort.Strings(ts)
	if diff := cmp.Diff(onlyPrefix(ts), onlyPrefix(got["hl7.message_type"])); diff != "" {
		t.Errorf("message types (-tshark +ours):\n%s", diff)
	}
}

func onlyPrefix(v []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range v {
		if strings.HasPrefix(s, "ACK") {
			s = "ACK"
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// TestCorpusExtra runs every HL7 capture of the shared corpus (including
// the held-out part in CI) and, when tshark is installed, compares the
// message types with tshark's.
func TestCorpusExtra(t *testing.T) {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: the shared HL7 captures are not available")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "pcap", "hl7", "*.pcap*"))
	if len(files) == 0 {
		t.Skipf("no captures under %s/pcap/hl7", dir)
	}
	_, errTshark := exec.LookPath("tshark")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			got := sensortest.Fields(sensortest.Run(t, f, New()))
			if errTshark != nil {
				return
			}
			out, err := exec.Command("tshark", "-r", f, "-d", "tcp.port==6661,hl7", "-d", "tcp.port==2575,hl7", "-Y", "hl7",
				"-T", "fields", "-e", "hl7.message.type", "-e", "hl7.event.type").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			seen := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				typ, ev, _ := strings.Cut(line, "\t")
				if typ == "" {
					continue
				}
				if ev != "" {
					typ += "^" + ev
				}
				seen[typ] = true
			}
			if len(seen) == 0 {
				return // tshark did not recognise HL7 on these ports
			}
			var ts []string
			for k := range seen {
				ts = append(ts, k)
			}
			sort.Strings(ts)
			if diff := cmp.Diff(onlyPrefix(ts), onlyPrefix(got["hl7.message_type"])); diff != "" {
				t.Errorf("message types (-tshark +ours):\n%s", diff)
			}
		})
	}
}
