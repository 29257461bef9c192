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
	return isHeaderBytes(h)
}

// NewStream implements dissect.StreamDissector.
func (*Dissector) NewStream(f *dissect.Flow) dissect.Stream {
	return &stream{flow: f} // its caches are made when first needed
}

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
	repeats  int // messages handled by repeat
	// Per-flow caches of decoded values, bounded by maxIntern each.
	vals, types, udis map[string]string
	phiNames          map[uint32]string
	ft                fieldTable // scratch for rawSeg.split
	seen              map[obsKey]*obsSeen
	seenOrder         []obsKey
	recs              []obsSeen    // the current block of dedupe records
	msh               [2]mshCache  // per direction: the last MSH read in full
	key               []byte       // scratch for sameHeader
	msgs              [2]msgCaches // per direction: the last messages read in full
	sig               []byte       // scratch for repeat
	d                 Delimiters   // of the message being read
	dKey              []byte       // the header bytes s.d was read from
	hdr               *mshCache    // being filled by decode, else nil
	rec               *msgCache    // being filled by decode, else nil
	// decodeAll turns repeat off: every message is decoded. Tests compare
	// the two ways.
	decodeAll bool
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
		var msg []byte
		if !d.skipping {
			switch {
			case len(d.buf)+len(chunk) > MaxMessage:
				errs = append(errs, fmt.Errorf("hl7 %s: frame over %d bytes: %w", dir, MaxMessage, ErrOversized))
				d.skipping, d.buf = true, nil
			case i >= 0 && len(d.buf) == 0:
				msg = chunk // the whole frame is in data: read it in place
			default:
				d.buf = append(d.buf, chunk...)
				msg = d.buf
			}
		}
		if i < 0 {
			return errors.Join(errs...)
		}
		data = data[i+1:]
		if !d.skipping {
			if err := s.message(dir, msg, t, out); err != nil {
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

// End implements dissect.Stream: observations held back by the per-flow
// dedupe are reported with the last time they were seen.
func (s *stream) End(out dissect.Emitter) { s.flush(out) }

// phiSegments carry patient data; only their names are ever reported.
// Sorted, at most 32 (a bit mask records which are present).
var phiSegments = []string{"AL1", "DG1", "GT1", "IN1", "IN2", "MRG", "NK1", "NTE", "OBX", "PD1", "PID", "PV1", "PV2", "ROL", "SPM"}

func (s *stream) message(dir dissect.Direction, b []byte, t time.Time, out dissect.Emitter) error {
	b = bytes.TrimLeft(b, "\r\n")
	if len(b) < 8 || !isHeaderBytes(b) {
		return fmt.Errorf("hl7 %s message %d: starts with %q, not MSH, FHS or BHS: %w", dir, s.messages+1, b[:min(len(b), 3)], ErrMalformed)
	}
	if err := s.delimiters(b); err != nil {
		return fmt.Errorf("hl7 %s message %d: %w", dir, s.messages+1, err)
	}
	s.messages++
	// A message that says what an earlier one of this direction said only
	// moves the times of that message's dedupe records (repeat.go).
	c, done := s.repeat(dir, b, t, out)
	if done {
		return nil
	}
	if c == nil {
		return s.decode(dir, b, t, out, nil)
	}
	if err := s.decode(dir, b, t, out, c); err != nil {
		c.sig = c.sig[:0] // emitted in part: not a record of the whole message
		return err
	}
	c.settle()
	return nil
}

// delimiters sets s.d from message b's header, reusing the last one read
// when b starts with the same bytes up to the end of its encoding
// characters (every message of a connection does).
func (s *stream) delimiters(b []byte) error {
	if n := len(s.dKey); n > 0 && len(b) >= n && string(b[:n]) == string(s.dKey) {
		return nil
	}
	s.dKey = s.dKey[:0]
	d, err := delimiters(b)
	if err != nil {
		return err
	}
	s.d = d
	if end := bytes.IndexByte(b[4:], d.Field); end >= 0 {
		s.dKey = append(s.dKey, b[:4+end+1]...) // delimiters reads no further
	}
	return nil
}

// decode reads a message's observations (with the delimiters in s.d). When
// c is not nil it records, in c.obs, the dedupe record of every observation
// made, for the next message with the same signature.
func (s *stream) decode(dir dissect.Direction, b []byte, t time.Time, out dissect.Emitter, c *msgCache) error {
	d := &s.d
	snd, rcv := s.flow.Sender(dir), s.flow.Client
	if dir == dissect.FromClient {
		rcv = s.flow.Server
	}
	s.rec = c
	defer func() { s.rec = nil }()
	var phi uint32
	var firstType, firstApp string
	for n := 1; len(b) > 0; n++ {
		var seg []byte
		seg, b = nextSegment(b, false)
		if len(seg) < 3 {
			continue
		}
		if n > MaxSegments {
			return fmt.Errorf("hl7 %s message %d: more than %d segments: %w", dir, s.messages, MaxSegments, ErrMalformed)
		}
		r := rawSeg{b: seg, d: d}
		switch id := segmentID(seg); id {
		case segMSH, segFHS, segBHS:
			if len(seg) < 4 || seg[3] != d.Field {
				return fmt.Errorf("hl7 %s message %d: segment %d: %s uses a different field separator: %w", dir, s.messages, n, seg[:3], ErrMalformed)
			}
			r.header = true
			r.split(&s.ft)
			if id == segMSH {
				h := &s.msh[dir&1]
				if s.sameHeader(h, d, t) {
					if c != nil {
						for i, r := range h.obs {
							c.obs = append(c.obs, msgObs{r, h.keys[i]})
						}
					}
					continue // what this header says was just reported: only its times move
				}
				h.key = append(h.key[:0], s.key...)
				if h.obs == nil {
					h.obs, h.keys = make([]*obsSeen, 0, 8), make([]obsKey, 0, 8) // an MSH reports up to 8 values
				}
				h.obs, h.keys, h.ok = h.obs[:0], h.keys[:0], true
				s.hdr = h
			}
			app := s.hd(r, 3)
			s.emit(out, snd, "hl7.sending_application", app, t)
			s.emit(out, snd, "hl7.sending_facility", s.hd(r, 4), t)
			s.emit(out, rcv, "hl7.receiving_application", s.hd(r, 5), t)
			s.emit(out, rcv, "hl7.receiving_facility", s.hd(r, 6), t)
			if id != segMSH {
				batch := "file"
				if id == segBHS {
					batch = "batch"
				}
				s.emit(out, snd, "hl7.batch", batch, t)
				continue
			}
			typ := s.messageType(r.get(9, 1, 0), d)
			s.emit(out, snd, "hl7.message_type", typ, t)
			s.emit(out, snd, "hl7.processing_id", s.value(r.get(11, 1, 1), d), t)
			s.emit(out, snd, "hl7.version", s.value(r.get(12, 1, 1), d), t)
			s.emit(out, snd, "hl7.charset", s.value(r.get(18, 1, 1), d), t)
			s.hdr = nil
			if firstType == "" {
				firstType, firstApp = typ, app
			}
		case segMSA:
			s.emit(out, snd, "hl7.ack_code", s.value(r.get(1, 1, 1), d), t)
		case segPRT:
			r.split(&s.ft)
			s.emitUDI(out, snd, ei(r, 16, 1), t)
			s.emit(out, snd, "hl7.device_serial", s.value(r.get(20, 1, 1), d), t)
		case segOBX:
			if r.split(&s.ft); s.ft.n < 18 || len(s.ft.f[18]) == 0 {
				break // no equipment instance identifier (most OBX)
			}
			for rep := 1; rep <= 4; rep++ {
				s.emitUDI(out, snd, ei(r, 18, rep), t)
			}
		}
		phi |= phiBit(seg)
	}
	if phi != 0 {
		v, ok := s.phiNames[phi]
		if !ok {
			var names []string
			for i, n := range phiSegments {
				if phi&(1<<i) != 0 {
					names = append(names, n)
				}
			}
			v = strings.Join(names, ",")
			if len(s.phiNames) < maxIntern {
				if s.phiNames == nil {
					s.phiNames = map[uint32]string{}
				}
				s.phiNames[phi] = v
			}
		}
		s.emit(out, snd, "hl7.phi_segments", v, t)
	}
	if !s.reported {
		s.reported = true
		what := "HL7 v2 messages"
		if firstType != "" {
			what = fmt.Sprintf("HL7 v2 %s messages", firstType)
		}
		if firstApp != "" {
			what += fmt.Sprintf(" from %q", firstApp)
		}
		out.Report(dissect.Finding{
			Time: t, Protocol: Name, Kind: "cleartext-phi", Severity: "high",
			Detail: fmt.Sprintf("%s travel over MLLP without TLS between %s and %s: patient data readable and alterable on the network; use HL7 over TLS or a VPN tunnel (HICP practice 6, encryption in transit)", what, s.flow.Client.Addr.Addr(), s.flow.Server.Addr),
			MAC:    s.flow.Server.MAC, IP: s.flow.Server.Addr.Addr(), Peer: s.flow.Client.Addr,
		})
	}
	return nil
}

// emit reports a non-empty value through the per-flow dedupe and notes
// its record in the header cache being filled (s.hdr) and the message
// cache being filled (s.rec).
func (s *stream) emit(out dissect.Emitter, ep dissect.Endpoint, field, value string, t time.Time) {
	if value == "" {
		return
	}
	r, k := s.observe(out, ep, field, value, t)
	if h := s.hdr; h != nil {
		h.obs = append(h.obs, r)
		h.keys = append(h.keys, k)
		h.ok = h.ok && r != nil
	}
	if c := s.rec; c != nil {
		c.obs = append(c.obs, msgObs{r, k})
		c.ok = c.ok && r != nil
	}
}

// emitUDI reports a device identifier and, when it parses as a GS1,
// HIBCC or ICCBBA UDI, its device identifier part.
func (s *stream) emitUDI(out dissect.Emitter, ep dissect.Endpoint, raw []byte, t time.Time) {
	v := s.value(raw, &s.d)
	if v == "" {
		return
	}
	s.emit(out, ep, "hl7.udi", v, t)
	di, ok := s.udis[v]
	if !ok {
		if u, err := udi.Parse(v); err == nil {
			di = u.Issuer + " " + u.DI
		}
		if len(s.udis) < maxIntern {
			if s.udis == nil {
				s.udis = map[string]string{}
			}
			s.udis[v] = di
		}
	}
	s.emit(out, ep, "hl7.udi_di", di, t)
}

// maxIntern bounds each per-flow cache of decoded values.
const maxIntern = 1024

// value decodes a raw value (escapes, control characters), reusing the
// string made for the same bytes earlier in the flow: a monitor repeats
// the same header values in every message.
func (s *stream) value(raw []byte, d *Delimiters) string {
	if len(raw) == 0 {
		return ""
	}
	if v, ok := s.vals[string(raw)]; ok {
		return v
	}
	v := clean(Unescape(raw, d))
	if len(s.vals) < maxIntern {
		if s.vals == nil {
			s.vals = map[string]string{}
		}
		s.vals[string(raw)] = v
	}
	return v
}

// messageType renders MSH-9 (code ^ trigger ^ structure) as "ADT^A01".
func (s *stream) messageType(raw []byte, d *Delimiters) string {
	if v, ok := s.types[string(raw)]; ok {
		return v
	}
	r := rawSeg{d: d}
	typ := clean(Unescape(r.comp(raw, 1), d))
	if ev := clean(Unescape(r.comp(raw, 2), d)); ev != "" && typ != "" {
		typ += "^" + ev
	}
	if len(s.types) < maxIntern {
		if s.types == nil {
			s.types = map[string]string{}
		}
		s.types[string(raw)] = typ
	}
	return typ
}

// hd renders a hierarchic designator (HD: namespace id ^ universal id ^
// universal id type) by its namespace id, else its universal id.
func (s *stream) hd(r rawSeg, n int) string {
	if v := s.value(r.get(n, 1, 1), r.d); v != "" {
		return v
	}
	return s.value(r.get(n, 1, 2), r.d)
}

// ei returns an entity identifier (EI) repetition's entity identifier,
// else its universal id, raw.
func ei(r rawSeg, n, rep int) []byte {
	if v := r.get(n, rep, 1); len(v) > 0 {
		return v
	}
	return r.get(n, rep, 3)
}

// rawSeg reads values out of an undecoded segment without allocating.
type rawSeg struct {
	b      []byte
	d      *Delimiters
	header bool // MSH/FHS/BHS: field 1 is the separator itself
	// ft, when set, holds the segment's first fields split once (see
	// split): a segment read field by field is then walked once, not once
	// per field.
	ft *fieldTable
}

// maxSplit is the highest field split into a fieldTable: MSH-18, OBX-18
// and PRT-20 are the highest fields read.
const maxSplit = 20

// fieldTable is a segment's fields 1..maxSplit (f[i] is field i).
type fieldTable struct {
	f [maxSplit + 1][]byte
	n int // highest field present, at most maxSplit
}

// split fills ft with r's fields in one pass and makes r use it.
func (r *rawSeg) split(ft *fieldTable) {
	*ft = fieldTable{}
	first := 1
	if r.header {
		first = 2
	}
	f := r.b[3:]
	for i := first; i <= maxSplit && len(f) > 0; i++ {
		f = f[1:]
		end := bytes.IndexByte(f, r.d.Field)
		if end < 0 {
			end = len(f)
		}
		ft.f[i], ft.n = f[:end], i
		f = f[end:]
	}
	r.ft = ft
}

// get returns field n (1-based), repetition rep (1-based) and component
// comp (1-based; 0 for the whole repetition), first subcomponent unless
// comp is 0, undecoded; nil when absent.
func (r rawSeg) get(n, rep, comp int) []byte {
	first := 1
	if r.header {
		first = 2
	}
	if n < first {
		return nil
	}
	var f []byte
	if r.ft != nil && n <= maxSplit {
		if n > r.ft.n {
			return nil
		}
		f = r.ft.f[n]
	} else {
		f = r.b[3:]
		for i := first; ; i++ {
			if len(f) == 0 {
				return nil
			}
			f = f[1:]
			end := bytes.IndexByte(f, r.d.Field)
			if end < 0 {
				end = len(f)
			}
			if i == n {
				f = f[:end]
				break
			}
			f = f[end:]
		}
	}
	if r.header && n == 2 {
		return f // the encoding characters are not split
	}
	f = nth(f, r.d.Repetition, rep)
	if comp == 0 || f == nil {
		return f
	}
	return r.comp(f, comp)
}

// comp returns component c's first subcomponent of a repetition.
func (r rawSeg) comp(rep []byte, c int) []byte {
	v := nth(rep, r.d.Component, c)
	if i := bytes.IndexByte(v, r.d.Subcomponent); i >= 0 {
		v = v[:i]
	}
	return v
}

// nth returns the i-th (1-based) part of b split at sep, nil when absent.
func nth(b []byte, sep byte, i int) []byte {
	for ; i > 1; i-- {
		j := bytes.IndexByte(b, sep)
		if j < 0 {
			return nil
		}
		b = b[j+1:]
	}
	if j := bytes.IndexByte(b, sep); j >= 0 {
		b = b[:j]
	}
	return b
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
