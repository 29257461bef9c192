// Package hl7 dissects HL7 v2 messages carried over MLLP (the Minimal Lower
// Layer Protocol: 0x0B, message, 0x1C 0x0D) on any TCP port. It reads the
// MSH header (sending and receiving application and facility, message
// type, version, character set; not the per-message control id), ACK codes (MSA-1), batch
// headers (FHS/BHS), device identifiers (PRT-16 UDI, PRT-20 serial, OBX-18
// equipment instance identifier), and notes which patient-data segments
// are present. It never stores patient identifiers, names or values, and
// reports every cleartext HL7 flow as a cleartext-phi finding.
package hl7

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/udi"
)

// Name is the dissector's stable name.
const Name = "hl7"

// MLLP framing bytes.
const (
	startBlock = 0x0B
	endBlock   = 0x1C
	carriageRe = 0x0D
)

// Dissector is the HL7 v2 / MLLP dissector.
type Dissector struct{}

// New returns an HL7 v2 over MLLP dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.StreamDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerTCP }

// Ports implements dissect.Dissector: 2575 is IANA's HL7 port, 6661 the
// common interface-engine default. Detection is by framing on any port.
func (*Dissector) Ports() []uint16 { return []uint16{2575, 6661} }

// Detect accepts a payload that opens an MLLP block with a header segment.
func (*Dissector) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	if len(p) < 4 || p[0] != startBlock {
		return false
	}
	h := bytes.TrimLeft(p[1:], "\r\n")
	if len(h) < 3 {
		return false
	}
	return isHeader(string(h[:3]))
}

// NewStream implements dissect.StreamDissector.
func (*Dissector) NewStream(f *dissect.Flow) dissect.Stream { return &stream{flow: f} }

// ErrOversized is returned for an MLLP frame larger than MaxMessage.
var ErrOversized = errors.New("mllp frame too large")

type direction struct {
	inFrame  bool
	skipping bool // oversized frame: drop bytes up to its end
	buf      []byte
}

type stream struct {
	flow     *dissect.Flow
	dir      [2]direction
	reported bool // cleartext-phi finding made for this flow
	messages int
}

// Feed implements dissect.Stream.
func (s *stream) Feed(dir dissect.Direction, data []byte, t time.Time, out dissect.Emitter) error {
	d := &s.dir[dir&1]
	var errs []error
	for len(data) > 0 {
		if !d.inFrame {
			i := bytes.IndexByte(data, startBlock)
			if i < 0 {
				return errors.Join(errs...) // bytes between frames (the CR after 0x1C, keep-alives)
			}
			data = data[i+1:]
			d.inFrame, d.skipping, d.buf = true, false, d.buf[:0]
			continue
		}
		i := bytes.IndexByte(data, endBlock)
		chunk := data
		if i >= 0 {
			chunk = data[:i]
		}
		if !d.skipping {
			if len(d.buf)+len(chunk) > MaxMessage {
				errs = append(errs, fmt.Errorf("hl7 %s: frame over %d bytes: %w", dir, MaxMessage, ErrOversized))
				d.skipping, d.buf = true, nil
			} else {
				d.buf = append(d.buf, chunk...)
			}
		}
		if i < 0 {
			return errors.Join(errs...)
		}
		data = data[i+1:]
		if !d.skipping {
			if err := s.message(dir, d.buf, t, out); err != nil {
				errs = append(errs, err)
			}
		}
		d.inFrame, d.skipping = false, false
		d.buf = d.buf[:0]
		if cap(d.buf) > 64<<10 {
			d.buf = nil // do not pin a large buffer for the life of the flow
		}
	}
	return errors.Join(errs...)
}

// Gap implements dissect.Stream: a hole drops the frame being read.
func (s *stream) Gap(dir dissect.Direction) {
	s.dir[dir&1] = direction{}
}

// End implements dissect.Stream.
func (s *stream) End(dissect.Emitter) {}

// phiSegments carry patient data; only their names are ever reported.
var phiSegments = []string{"PID", "PD1", "NK1", "PV1", "PV2", "MRG", "GT1", "IN1", "IN2", "ROL", "DG1", "OBX", "NTE", "AL1", "SPM"}

func (s *stream) message(dir dissect.Direction, b []byte, t time.Time, out dissect.Emitter) error {
	m, err := parseSelected(b)
	if err != nil {
		return fmt.Errorf("hl7 %s message %d: %w", dir, s.messages+1, err)
	}
	s.messages++
	snd, rcv := s.flow.Sender(dir), s.flow.Client
	if dir == dissect.FromClient {
		rcv = s.flow.Server
	}
	emit := func(ep dissect.Endpoint, field, value string) {
		value = clean(value)
		if value != "" {
			out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
		}
	}
	// emitUDI reports a device identifier and, when it parses as a GS1,
	// HIBCC or ICCBBA UDI, its device identifier part.
	emitUDI := func(ep dissect.Endpoint, v string) {
		emit(ep, "hl7.udi", v)
		if v == "" {
			return
		}
		if u, err := udi.Parse(v); err == nil {
			emit(ep, "hl7.udi_di", u.Issuer+" "+u.DI)
		}
	}
	var phi []string
	var firstType, firstApp string
	for i := range m {
		seg := &m[i].Segment
		switch seg.Name {
		case "FHS", "BHS":
			emit(snd, "hl7.batch", map[string]string{"FHS": "file", "BHS": "batch"}[seg.Name])
			emit(snd, "hl7.sending_application", hd(seg, 3))
			emit(snd, "hl7.sending_facility", hd(seg, 4))
			emit(rcv, "hl7.receiving_application", hd(seg, 5))
			emit(rcv, "hl7.receiving_facility", hd(seg, 6))
		case "MSH":
			emit(snd, "hl7.sending_application", hd(seg, 3))
			emit(snd, "hl7.sending_facility", hd(seg, 4))
			emit(rcv, "hl7.receiving_application", hd(seg, 5))
			emit(rcv, "hl7.receiving_facility", hd(seg, 6))
			typ := seg.Get(9, 1, 1, 1)
			if ev := seg.Get(9, 1, 2, 1); ev != "" {
				typ += "^" + ev
			}
			emit(snd, "hl7.message_type", typ)
			emit(snd, "hl7.processing_id", seg.Get(11, 1, 1, 1))
			emit(snd, "hl7.version", seg.Get(12, 1, 1, 1))
			emit(snd, "hl7.charset", seg.Get(18, 1, 1, 1))
			if firstType == "" {
				firstType, firstApp = typ, hd(seg, 3)
			}
		case "MSA":
			emit(snd, "hl7.ack_code", seg.Get(1, 1, 1, 1))
		case "PRT":
			emitUDI(snd, ei(seg, 16, 1))
			emit(snd, "hl7.device_serial", seg.Get(20, 1, 1, 1))
		case "OBX":
			for r := 1; r <= 4; r++ {
				emitUDI(snd, ei(seg, 18, r))
			}
		}
		if m[i].phi && !slices.Contains(phi, seg.Name) {
			phi = append(phi, seg.Name)
		}
	}
	if len(phi) > 0 {
		slices.Sort(phi)
		emit(snd, "hl7.phi_segments", strings.Join(phi, ","))
	}
	if !s.reported {
		s.reported = true
		what := "HL7 v2 messages"
		if firstType != "" {
			what = fmt.Sprintf("HL7 v2 %s messages", clean(firstType))
		}
		if firstApp != "" {
			what += fmt.Sprintf(" from %q", clean(firstApp))
		}
		out.Report(dissect.Finding{
			Time: t, Protocol: Name, Kind: "cleartext-phi", Severity: "high",
			Detail: fmt.Sprintf("%s travel over MLLP without TLS between %s and %s: patient data readable and alterable on the network; use HL7 over TLS or a VPN tunnel (HICP practice 6, encryption in transit)", what, s.flow.Client.Addr.Addr(), s.flow.Server.Addr),
			MAC:    s.flow.Server.MAC, IP: s.flow.Server.Addr.Addr(), Peer: s.flow.Client.Addr,
		})
	}
	return nil
}

// hd renders a hierarchic designator (HD: namespace id ^ universal id ^
// universal id type) by its namespace id, else its universal id.
func hd(seg *Segment, n int) string {
	if v := seg.Get(n, 1, 1, 1); v != "" {
		return v
	}
	return seg.Get(n, 1, 2, 1)
}

// ei renders an entity identifier (EI) repetition by its entity
// identifier, else its universal id.
func ei(seg *Segment, n, rep int) string {
	if v := seg.Get(n, rep, 1, 1); v != "" {
		return v
	}
	return seg.Get(n, rep, 3, 1)
}

// clean makes a wire value safe to store: valid UTF-8, no control
// characters, at most 256 bytes.
func clean(s string) string {
	if len(s) > 256 {
		s = s[:256]
	}
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = s[i] > 0x20 && s[i] < 0x7f || s[i] == ' ' && i > 0 && i < len(s)-1
	}
	if plain {
		return s
	}
	s = strings.ToValidUTF8(s, "")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s))
}

// selected is a segment the dissector reads, or only the name of one that
// carries patient data.
type selected struct {
	Segment
	phi bool
}

// parseSelected is Parse for the dissector: it splits every segment but
// only decodes the fields of the segments it reads (headers, MSA, PRT,
// OBX-18), so a large ORU costs few allocations, and never decodes
// patient-data segments.
func parseSelected(b []byte) ([]selected, error) {
	b = bytes.TrimLeft(b, "\r\n")
	if len(b) < 8 || !isHeader(string(b[:3])) {
		n := min(len(b), 3)
		return nil, fmt.Errorf("message starts with %q, not MSH, FHS or BHS: %w", b[:n], ErrMalformed)
	}
	d, err := delimiters(b)
	if err != nil {
		return nil, err
	}
	var out []selected
	for n := 1; len(b) > 0; n++ {
		var seg []byte
		seg, b = nextSegment(b, false)
		if len(seg) < 3 {
			continue
		}
		if n > MaxSegments {
			return nil, fmt.Errorf("more than %d segments: %w", MaxSegments, ErrMalformed)
		}
		name := string(seg[:3])
		switch {
		case isHeader(name):
			if len(seg) < 4 || seg[3] != d.Field {
				return nil, fmt.Errorf("segment %d: %s uses a different field separator: %w", n, name, ErrMalformed)
			}
			out = append(out, selected{Segment: partial(seg, &d, true, 3, 4, 5, 6, 9, 10, 11, 12, 18)})
		case name == "MSA":
			out = append(out, selected{Segment: partial(seg, &d, false, 1)})
		case name == "PRT":
			out = append(out, selected{Segment: partial(seg, &d, false, 16, 20)})
		case name == "OBX":
			sg := Segment{Name: name}
			if f := nthField(seg, d.Field, 18); f != nil {
				sg.Fields = make([]Field, 18)
				sg.Fields[17] = parseField(f, &d)
			}
			out = append(out, selected{Segment: sg, phi: true})
		case slices.Contains(phiSegments, name):
			out = append(out, selected{Segment: Segment{Name: name}, phi: true})
		}
	}
	return out, nil
}

// nthField returns field n of a non-header segment, nil when absent.
func nthField(seg []byte, sep byte, n int) []byte {
	for i := 0; i < n; i++ {
		j := bytes.IndexByte(seg, sep)
		if j < 0 {
			return nil
		}
		seg = seg[j+1:]
	}
	if j := bytes.IndexByte(seg, sep); j >= 0 {
		seg = seg[:j]
	}
	return seg
}

// partial decodes only the wanted fields (1-based, ascending) of a
// segment; the others stay empty. header says field 1 is the separator.
func partial(seg []byte, d *Delimiters, header bool, want ...int) Segment {
	sg := Segment{Name: string(seg[:3])}
	if len(want) == 0 {
		return sg
	}
	sg.Fields = make([]Field, want[len(want)-1])
	first := 1 // field number of the part after the name
	if header {
		first = 2
	}
	rest := seg[3:]
	w := 0
	for n := first; len(rest) > 0 && w < len(want); n++ {
		rest = rest[1:] // the separator
		end := bytes.IndexByte(rest, d.Field)
		if end < 0 {
			end = len(rest)
		}
		if n == want[w] {
			sg.Fields[n-1] = parseField(rest[:end], d)
			w++
		}
		rest = rest[end:]
	}
	return sg
}
