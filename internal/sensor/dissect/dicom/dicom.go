// Package dicom dissects the DICOM upper layer protocol (PS3.8) on any TCP
// port: association negotiation (A-ASSOCIATE-RQ/AC/RJ), release, abort and
// P-DATA-TF. It reports AE titles, the implementation class UID and
// version name (which identify the software and, through an embedded table
// of UID roots, its vendor), the proposed and accepted SOP classes (which
// reveal each node's role: modality, PACS, workstation, printer, RIS), the
// accepted transfer syntaxes and the DIMSE commands and statuses found in
// command fragments. Data sets (the images and patient data) are skipped,
// never read. Every cleartext DICOM flow is a cleartext-phi finding.
package dicom

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "dicom"

// Bounds. An association PDU carries at most a few hundred presentation
// contexts; 1 MiB is far above any real one. A command set is a few
// hundred bytes.
const (
	maxAssocPDU = 1 << 20
	maxCommand  = 64 << 10
	// maxDataPDU: P-DATA-TF is streamed, never buffered, but a PDU longer
	// than this is no real peer's (maximum lengths negotiated in practice
	// are 16 KiB to a few MiB) and means the stream is not DICOM.
	maxDataPDU = 64 << 20
)

// PDU types (PS3.8 9.3).
const (
	pduAssociateRQ = 0x01
	pduAssociateAC = 0x02
	pduAssociateRJ = 0x03
	pduData        = 0x04
	pduReleaseRQ   = 0x05
	pduReleaseRP   = 0x06
	pduAbort       = 0x07
)

// ErrMalformed is wrapped by every decode error.
var ErrMalformed = errors.New("malformed dicom pdu")

// Dissector is the DICOM upper layer dissector.
type Dissector struct {
	t *tables
	// texts holds the strings made from raw AE titles, UIDs and version
	// names, shared by the dissector's streams: a modality sends the same
	// ones in every association (thousands a day), so each is cleaned and
	// allocated once. Bounded by maxTexts per kind.
	mu    sync.Mutex
	texts [2]map[string]string
}

// Kinds of text: trimmed of spaces (AE titles, version names) and UIDs
// (trimmed of trailing NULs and spaces).
const (
	textTrim = iota
	textUID
)

// maxTexts bounds each of the dissector's text caches.
const maxTexts = 4096

// New returns a DICOM dissector.
func New() dissect.Dissector {
	return &Dissector{t: loadTables(), texts: [2]map[string]string{{}, {}}}
}

// text returns the clean string of raw bytes b of a kind, made once per
// distinct b.
func (d *Dissector) text(kind int, b []byte) string {
	d.mu.Lock()
	v, ok := d.texts[kind][string(b)]
	d.mu.Unlock()
	if ok {
		return v
	}
	if kind == textUID {
		v = uid(b)
	} else {
		v = aeTitle(b)
	}
	d.mu.Lock()
	if len(d.texts[kind]) < maxTexts {
		d.texts[kind][string(b)] = v
	}
	d.mu.Unlock()
	return v
}

var _ dissect.StreamDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerTCP }

// Ports implements dissect.Dissector: 104 (well-known), 11112 (IANA
// registered); any other port is found by Detect.
func (*Dissector) Ports() []uint16 { return []uint16{104, 11112, 4242} }

// Detect accepts an A-ASSOCIATE-RQ or -AC header: type 1 or 2, reserved 0,
// a plausible length and, when the first segment holds it, protocol
// version 1 (some toolkits send the 6-byte PDU header in a segment of its
// own).
func (*Dissector) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	if len(p) < 6 || (p[0] != pduAssociateRQ && p[0] != pduAssociateAC) || p[1] != 0 {
		return false
	}
	n := binary.BigEndian.Uint32(p[2:])
	if n < 68 || n > maxAssocPDU {
		return false
	}
	return len(p) < 8 || binary.BigEndian.Uint16(p[6:])&1 == 1
}

// NewStream implements dissect.StreamDissector.
func (d *Dissector) NewStream(f *dissect.Flow) dissect.Stream { return &stream{d: d, flow: f} }

type direction struct {
	dead   bool
	hdr    [6]byte
	hdrN   int
	typ    byte
	remain uint32 // bytes of the current PDU body still to come
	body   []byte // body of a non-P-DATA PDU
	// P-DATA-TF: PDV items.
	pdvHdr    [6]byte
	pdvHdrN   int
	pdvRemain uint32
	pdvCmd    bool
	pdvLast   bool
	cmd       []byte
	cmdDrop   bool
}

type stream struct {
	d        *Dissector
	flow     *dissect.Flow
	dir      [2]direction
	reported bool
	// Presentation contexts proposed by the requestor: id → abstract syntax.
	proposed  map[byte]string
	seen      map[cmdKey]*cmdSeen
	seenOrder []cmdKey
	lastCmd   [2]cmdCache // per direction
	cmdSig    []byte      // scratch for command
	cmdSigBuf [64]byte    // cmdSig's first backing array
	recs      []cmdSeen   // the current block of dedupe records (never regrown: they are pointed to)
	cmdHits   int         // commands taken from lastCmd
	// decodeAll turns the command cache off; tests compare the two ways.
	decodeAll bool
}

// Feed implements dissect.Stream.
func (s *stream) Feed(dir dissect.Direction, data []byte, t time.Time, out dissect.Emitter) error {
	st := &s.dir[dir&1]
	for len(data) > 0 && !st.dead {
		if st.hdrN < 6 {
			n := copy(st.hdr[st.hdrN:], data)
			st.hdrN += n
			data = data[n:]
			if st.hdrN < 6 {
				return nil
			}
			st.typ = st.hdr[0]
			st.remain = binary.BigEndian.Uint32(st.hdr[2:])
			if err := s.checkHeader(st); err != nil {
				st.dead, st.body, st.cmd = true, nil, nil
				return fmt.Errorf("dicom %s: %w", dir, err)
			}
			st.body = st.body[:0]
			if st.typ != pduData && cap(st.body) < int(st.remain) {
				st.body = make([]byte, 0, st.remain) // checkHeader bounded it (1 MiB)
			}
			if st.remain == 0 {
				if err := s.pdu(dir, st, t, out); err != nil {
					st.dead, st.body, st.cmd = true, nil, nil
					return err
				}
			}
			continue
		}
		if st.typ == pduData {
			n, err := s.pdata(dir, st, data, t, out)
			data = data[n:]
			if err != nil {
				st.dead, st.body, st.cmd = true, nil, nil
				return err
			}
		} else {
			n := min(uint32(len(data)), st.remain)
			st.body = append(st.body, data[:n]...)
			st.remain -= n
			data = data[n:]
		}
		if st.remain == 0 {
			if err := s.pdu(dir, st, t, out); err != nil {
				// Abandon the direction, as for any decode error: the
				// bytes after a bad PDU must not be read when they come
				// in a later Feed either (same result however split).
				st.dead, st.body, st.cmd = true, nil, nil
				return err
			}
		}
	}
	return nil
}

func (s *stream) checkHeader(st *direction) error {
	typ, n := st.typ, st.remain
	switch {
	case typ < pduAssociateRQ || typ > pduAbort:
		return fmt.Errorf("unknown pdu type 0x%02x: %w", typ, ErrMalformed)
	case typ == pduAssociateRQ || typ == pduAssociateAC:
		if n < 68 || n > maxAssocPDU {
			return fmt.Errorf("%s of %d bytes: %w", pduName(typ), n, ErrMalformed)
		}
	case typ == pduData:
		if n < 6 || n > maxDataPDU {
			return fmt.Errorf("P-DATA-TF of %d bytes: %w", n, ErrMalformed)
		}
	default:
		if n != 4 {
			return fmt.Errorf("%s of %d bytes, want 4: %w", pduName(typ), n, ErrMalformed)
		}
	}
	return nil
}

func pduName(t byte) string {
	switch t {
	case pduAssociateRQ:
		return "A-ASSOCIATE-RQ"
	case pduAssociateAC:
		return "A-ASSOCIATE-AC"
	case pduAssociateRJ:
		return "A-ASSOCIATE-RJ"
	case pduData:
		return "P-DATA-TF"
	case pduReleaseRQ:
		return "A-RELEASE-RQ"
	case pduReleaseRP:
		return "A-RELEASE-RP"
	case pduAbort:
		return "A-ABORT"
	}
	return fmt.Sprintf("pdu 0x%02x", t)
}

// pdata consumes P-DATA-TF body bytes: PDV headers, command fragments
// (kept), data set fragments (skipped). It returns the bytes consumed.
func (s *stream) pdata(dir dissect.Direction, st *direction, data []byte, t time.Time, out dissect.Emitter) (int, error) {
	used := 0
	for len(data) > 0 && st.remain > 0 {
		if st.pdvHdrN < 6 {
			n := copy(st.pdvHdr[st.pdvHdrN:min(6, st.pdvHdrN+int(st.remain))], data)
			st.pdvHdrN += n
			st.remain -= uint32(n)
			data, used = data[n:], used+n
			if st.pdvHdrN < 6 {
				if st.remain == 0 {
					return used, fmt.Errorf("dicom %s: P-DATA-TF ends inside a PDV header: %w", dir, ErrMalformed)
				}
				continue
			}
			l := binary.BigEndian.Uint32(st.pdvHdr[:])
			if l < 2 || l-2 > st.remain {
				return used, fmt.Errorf("dicom %s: PDV of %d bytes in a P-DATA-TF with %d left: %w", dir, l, st.remain+2, ErrMalformed)
			}
			st.pdvRemain = l - 2
			st.pdvCmd = st.pdvHdr[5]&1 != 0
			st.pdvLast = st.pdvHdr[5]&2 != 0
		}
		n := min(uint32(len(data)), st.pdvRemain)
		if st.pdvCmd && !st.cmdDrop {
			if len(st.cmd)+int(n) > maxCommand {
				st.cmd, st.cmdDrop = nil, true
			} else {
				if st.cmd == nil {
					st.cmd = make([]byte, 0, 256) // a command set is a few hundred bytes
				}
				st.cmd = append(st.cmd, data[:n]...)
			}
		}
		st.pdvRemain -= n
		st.remain -= n
		data, used = data[n:], used+int(n)
		if st.pdvRemain == 0 {
			st.pdvHdrN = 0
			if st.pdvCmd && st.pdvLast {
				if !st.cmdDrop {
					s.command(dir, st.cmd, t, out)
				}
				st.cmd, st.cmdDrop = st.cmd[:0], false
			}
		}
	}
	return used, nil
}

// pdu handles a complete non-P-DATA PDU (and the end of a P-DATA-TF).
func (s *stream) pdu(dir dissect.Direction, st *direction, t time.Time, out dissect.Emitter) error {
	typ, b := st.typ, st.body
	st.hdrN, st.body = 0, st.body[:0]
	if cap(st.body) > 64<<10 {
		st.body = nil
	}
	snd := s.flow.Sender(dir)
	emit := func(ep dissect.Endpoint, field, value string) {
		if value != "" {
			out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
		}
	}
	switch typ {
	case pduData:
		if st.pdvHdrN != 0 {
			st.pdvHdrN = 0
			return fmt.Errorf("dicom %s: P-DATA-TF ends inside a PDV: %w", dir, ErrMalformed)
		}
		s.report(t, out, "")
	case pduAssociateRQ, pduAssociateAC:
		if err := s.associate(dir, typ, b, t, out); err != nil {
			return fmt.Errorf("dicom %s %s: %w", dir, pduName(typ), err)
		}
	case pduAssociateRJ:
		emit(snd, "dicom.association", fmt.Sprintf("rejected (%s)", rejectReason(b[1], b[2], b[3])))
	case pduAbort:
		src := map[byte]string{0: "service user", 2: "service provider"}[b[2]]
		if src == "" {
			src = fmt.Sprintf("source %d", b[2])
		}
		emit(snd, "dicom.association", "aborted by "+src)
	case pduReleaseRQ, pduReleaseRP:
	}
	return nil
}

func rejectReason(result, source, reason byte) string {
	r := map[byte]string{1: "permanent", 2: "transient"}[result]
	switch {
	case source == 1 && reason == 2:
		return r + ": application context name not supported"
	case source == 1 && reason == 3:
		return r + ": calling AE title not recognized"
	case source == 1 && reason == 7:
		return r + ": called AE title not recognized"
	case source == 2 && reason == 2:
		return r + ": protocol version not supported"
	case source == 3 && reason == 1:
		return r + ": temporary congestion"
	case source == 3 && reason == 2:
		return r + ": local limit exceeded"
	}
	return fmt.Sprintf("%s: source %d reason %d", r, source, reason)
}

func aeTitle(b []byte) string {
	return clean(strings.TrimSpace(string(b)))
}

func uid(b []byte) string {
	return clean(strings.TrimRight(string(b), "\x00 "))
}

// associate decodes an A-ASSOCIATE-RQ or -AC body (PS3.8 9.3.2, 9.3.3).
func (s *stream) associate(dir dissect.Direction, typ byte, b []byte, t time.Time, out dissect.Emitter) error {
	if binary.BigEndian.Uint16(b)&1 == 0 {
		return fmt.Errorf("protocol version 0x%04x: %w", binary.BigEndian.Uint16(b), ErrMalformed)
	}
	snd := s.flow.Sender(dir)
	cli, srv := s.flow.Client, s.flow.Server
	emit := func(ep dissect.Endpoint, field, value string) {
		if value != "" {
			out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
		}
	}
	called, calling := s.d.text(textTrim, b[4:20]), s.d.text(textTrim, b[20:36])
	var abstract, accepted []string
	var tsAccepted []string
	var implUID, implVer string
	items := b[68:]
	for len(items) > 0 {
		if len(items) < 4 {
			return fmt.Errorf("item header at offset %d truncated: %w", len(b)-len(items)+6, ErrMalformed)
		}
		it, l := items[0], int(binary.BigEndian.Uint16(items[2:]))
		if len(items) < 4+l {
			return fmt.Errorf("item 0x%02x of %d bytes overruns the pdu: %w", it, l, ErrMalformed)
		}
		v := items[4 : 4+l]
		items = items[4+l:]
		switch it {
		case 0x20, 0x21: // presentation context RQ / AC
			if len(v) < 4 {
				return fmt.Errorf("presentation context of %d bytes: %w", l, ErrMalformed)
			}
			id, result := v[0], v[2]
			var as string
			for sub := v[4:]; len(sub) > 0; {
				if len(sub) < 4 {
					return fmt.Errorf("presentation context %d sub-item truncated: %w", id, ErrMalformed)
				}
				st, sl := sub[0], int(binary.BigEndian.Uint16(sub[2:]))
				if len(sub) < 4+sl {
					return fmt.Errorf("presentation context %d sub-item 0x%02x overruns: %w", id, st, ErrMalformed)
				}
				switch st {
				case 0x30:
					as = s.d.text(textUID, sub[4:4+sl])
				case 0x40:
					if it == 0x21 && result == 0 { // only accepted transfer syntaxes are reported
						tsAccepted = append(tsAccepted, s.d.text(textUID, sub[4:4+sl]))
					}
				}
				sub = sub[4+sl:]
			}
			if it == 0x20 && as != "" {
				if s.proposed == nil {
					s.proposed = map[byte]string{}
				}
				if len(s.proposed) < 512 {
					s.proposed[id] = as
				}
				abstract = append(abstract, as)
			}
			if it == 0x21 && result == 0 {
				if a := s.proposed[id]; a != "" {
					accepted = append(accepted, a)
				}
			}
		case 0x50: // user information
			for sub := v; len(sub) >= 4; {
				st, sl := sub[0], int(binary.BigEndian.Uint16(sub[2:]))
				if len(sub) < 4+sl {
					return fmt.Errorf("user information sub-item 0x%02x overruns: %w", st, ErrMalformed)
				}
				switch st {
				case 0x52:
					implUID = s.d.text(textUID, sub[4:4+sl])
				case 0x55:
					implVer = s.d.text(textTrim, sub[4:4+sl])
				}
				sub = sub[4+sl:]
			}
		}
	}
	if typ == pduAssociateRQ {
		emit(cli, "dicom.calling_ae", calling)
		emit(srv, "dicom.called_ae", called)
		for _, a := range uniq(abstract) {
			emit(cli, "dicom.sop_class", s.d.sopName(a))
		}
		for _, r := range s.roles(abstract) {
			emit(r.ep, r.field, r.value)
		}
		s.report(t, out, calling)
	} else {
		emit(snd, "dicom.association", "accepted")
		for _, a := range uniq(accepted) {
			emit(srv, "dicom.sop_class_accepted", s.d.sopName(a))
		}
		for _, ts := range uniq(tsAccepted) {
			if n, ok := transferSyntaxes[ts]; ok {
				ts = n
			}
			emit(srv, "dicom.transfer_syntax", ts)
		}
	}
	emit(snd, "dicom.implementation_class_uid", implUID)
	emit(snd, "dicom.implementation_version", implVer)
	if im, ok := s.d.LookupImplementation(implUID); ok {
		emit(snd, "dicom.implementation_vendor", im.Vendor)
		emit(snd, "dicom.implementation_product", im.Product)
	}
	return nil
}

type role struct {
	ep           dissect.Endpoint
	field, value string
}

// roles infers what the requestor and the acceptor are from the proposed
// SOP classes: a node proposing modality image storage (and no retrieve)
// is that modality and its peer a PACS; query/retrieve makes a
// workstation; print management makes the peer a printer; worklist and
// MPPS make the peer a RIS.
func (s *stream) roles(abstract []string) []role {
	var kinds []string
	for _, a := range abstract {
		if c, ok := s.d.t.sop[a]; ok {
			kinds = append(kinds, c.Kind)
		}
	}
	has := func(prefix string) bool {
		return slices.ContainsFunc(kinds, func(k string) bool { return strings.HasPrefix(k, prefix) })
	}
	cli, srv := s.flow.Client, s.flow.Server
	var out []role
	retrieve := has("qr-get") || has("qr-move") || has("qr-find")
	switch {
	case retrieve:
		out = append(out, role{cli, "dicom.role", "workstation"}, role{srv, "dicom.role", "pacs"})
	case has("storage:"):
		out = append(out, role{cli, "dicom.role", "modality"}, role{srv, "dicom.role", "pacs"})
		var mods []string
		for _, k := range kinds {
			if m, ok := strings.CutPrefix(k, "storage:"); ok && !slices.Contains(mods, m) {
				mods = append(mods, m)
			}
		}
		slices.Sort(mods)
		for _, m := range mods {
			out = append(out, role{cli, "dicom.modality", m})
		}
	case has("storage"):
		out = append(out, role{srv, "dicom.role", "pacs"})
	}
	if has("print") {
		out = append(out, role{srv, "dicom.role", "printer"})
	}
	if !retrieve && (has("worklist") || has("mpps")) {
		out = append(out, role{cli, "dicom.role", "modality"}, role{srv, "dicom.role", "ris"})
	}
	return out
}

// command decodes a DIMSE command set (implicit VR little endian, group
// 0000) and reports the command, its SOP class and a non-success status.
// A study is hundreds of commands that differ only in what is not read
// (message ids, SOP instance UIDs): one whose signature (command field,
// status, SOP class bytes) equals the direction's previous one only moves
// the times of that one's dedupe records, as observeCommand would.
func (s *stream) command(dir dissect.Direction, b []byte, t time.Time, out dissect.Emitter) {
	var field uint16
	var haveField, haveStatus bool
	var status uint16
	var sops [][]byte // SOP class UID elements, in order
	var sopBuf [2][]byte
	sops = sopBuf[:0]
	for len(b) >= 8 {
		g, e := binary.LittleEndian.Uint16(b), binary.LittleEndian.Uint16(b[2:])
		l := binary.LittleEndian.Uint32(b[4:])
		if g != 0 || uint32(len(b)-8) < l {
			break
		}
		v := b[8 : 8+l]
		switch {
		case e == 0x0100 && l == 2:
			field, haveField = binary.LittleEndian.Uint16(v), true
		case e == 0x0900 && l == 2:
			status, haveStatus = binary.LittleEndian.Uint16(v), true
		case e == 0x0002 || e == 0x0003:
			sops = append(sops, v)
		}
		b = b[8+l:]
	}
	if !haveField {
		return
	}
	c := &s.lastCmd[dir&1]
	if s.cmdSig == nil {
		s.cmdSig = s.cmdSigBuf[:0]
	}
	sig := append(s.cmdSig[:0], byte(field), byte(field>>8), byte(status), byte(status>>8), b2u(haveStatus))
	for _, v := range sops {
		sig = binary.LittleEndian.AppendUint32(sig, uint32(len(v)))
		sig = append(sig, v...)
	}
	s.cmdSig = sig
	if !s.decodeAll && s.reported && c.ok && string(c.sig) == string(sig) {
		for _, r := range c.recs {
			r.touch(t)
		}
		s.cmdHits++
		return
	}
	if c.sig == nil {
		c.sig, c.recs = c.sigBuf[:0], c.recBuf[:0]
	}
	c.sig, c.recs, c.ok = append(c.sig[:0], sig...), c.recs[:0], len(sig) <= maxCmdSig
	emit := func(f, v string) {
		if v != "" {
			r := s.observeCommand(out, dir, f, v, t)
			c.recs = append(c.recs, r)
			c.ok = c.ok && r != nil
		}
	}
	var sop string
	for _, v := range sops {
		if sop = s.d.text(textUID, v); sop != "" {
			break
		}
	}
	name, ok := commands[field]
	if !ok {
		name = fmt.Sprintf("0x%04X", field)
	}
	emit("dicom.command", name)
	if field&0x8000 == 0 && sop != "" {
		emit("dicom.sop_class", s.d.sopName(sop))
	}
	if haveStatus {
		if cls := statusClass(status); cls != "success" && cls != "pending" {
			emit("dicom.status", fmt.Sprintf("%s %s 0x%04X", name, cls, status))
		}
	}
	s.report(t, out, "")
}

// maxCmdSig bounds a remembered command signature.
const maxCmdSig = 1 << 10

// cmdCache is a direction's last command signature and the dedupe records
// of what it reported.
type cmdCache struct {
	sig  []byte
	recs []*cmdSeen
	ok   bool // every observation has a record (the dedupe table was not full)
	// Backing arrays for sig and recs: a command's signature is a few
	// dozen bytes and it reports at most three values.
	sigBuf [64]byte
	recBuf [3]*cmdSeen
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// report makes the flow's one cleartext-phi finding, on the acceptor.
func (s *stream) report(t time.Time, out dissect.Emitter, calling string) {
	if s.reported {
		return
	}
	s.reported = true
	who := "DICOM"
	if calling != "" {
		who = fmt.Sprintf("DICOM from AE %q", calling)
	}
	out.Report(dissect.Finding{
		Time: t, Protocol: Name, Kind: "cleartext-phi", Severity: "high",
		Detail: fmt.Sprintf("%s travels without TLS between %s and %s: images and patient data readable on the network; use DICOM TLS (PS3.15 Annex B, port 2762) or a VPN (HICP practice 6, encryption in transit)", who, s.flow.Client.Addr.Addr(), s.flow.Server.Addr),
		MAC:    s.flow.Server.MAC, IP: s.flow.Server.Addr.Addr(), Peer: s.flow.Client.Addr,
	})
}

var _ dissect.Skipper = (*stream)(nil)

// Skip implements dissect.Skipper: inside a data-set fragment (pixel data)
// the rest of the fragment but its last byte is never read, so the core
// need not deliver it. The last byte is fed as usual: it ends the PDV
// and perhaps the PDU, which is where the stream acts.
func (s *stream) Skip(dir dissect.Direction) int {
	st := &s.dir[dir&1]
	if st.dead || st.typ != pduData || st.hdrN < 6 || st.pdvHdrN < 6 || st.pdvCmd || st.pdvRemain < 2 {
		return 0
	}
	n := st.pdvRemain - 1
	st.pdvRemain -= n
	st.remain -= n
	return int(n)
}

// Gap implements dissect.Stream: PDU boundaries are lost, stop reading.
func (s *stream) Gap(dir dissect.Direction) { s.dir[dir&1] = direction{dead: true} }

// End implements dissect.Stream: command observations held back by the
// per-association dedupe are reported with the last time they were seen.
func (s *stream) End(out dissect.Emitter) {
	for _, k := range s.seenOrder { // first-seen order: the same output every run
		if r := s.seen[k]; r.pending {
			ep := s.flow.Sender(k.dir)
			out.Observe(dissect.Observation{Time: r.last, Protocol: Name, Field: k.field, Value: k.value, MAC: ep.MAC, IP: ep.Addr.Addr()})
			r.pending = false
		}
	}
}

// cmdKey and cmdSeen: the per-association dedupe of DIMSE command
// observations. A study of hundreds of images is hundreds of identical
// C-STORE-RQ/-RSP commands: the first is reported at once, the rest once,
// at the end of the association, with the time of the last.
type cmdKey struct {
	dir          dissect.Direction
	field, value string
}

type cmdSeen struct {
	last    time.Time
	pending bool
}

// maxSeen bounds the dedupe table; beyond it observations are reported
// one by one.
const maxSeen = 256

// observeCommand reports a command observation through the dedupe and
// returns its record (nil when the table is full and it was reported
// untracked).
func (s *stream) observeCommand(out dissect.Emitter, dir dissect.Direction, field, value string, t time.Time) *cmdSeen {
	k := cmdKey{dir: dir & 1, field: field, value: value}
	if r, ok := s.seen[k]; ok {
		r.touch(t)
		return r
	}
	var r *cmdSeen
	if len(s.seen) < maxSeen {
		if s.seen == nil {
			s.seen = map[cmdKey]*cmdSeen{}
		}
		if len(s.recs) == cap(s.recs) {
			s.recs = make([]cmdSeen, 0, 8) // records in blocks: one allocation for an association's few
			if s.seenOrder == nil {
				s.seenOrder = make([]cmdKey, 0, 8)
			}
		}
		s.recs = append(s.recs, cmdSeen{})
		r = &s.recs[len(s.recs)-1]
		s.seen[k] = r
		s.seenOrder = append(s.seenOrder, k)
	}
	snd := s.flow.Sender(dir)
	out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: snd.MAC, IP: snd.Addr.Addr()})
	return r
}

// touch notes one more sighting at t of an observation already reported.
func (r *cmdSeen) touch(t time.Time) {
	if !r.pending || t.After(r.last) {
		r.last = t
	}
	r.pending = true
}

func uniq(v []string) []string {
	var out []string
	for _, s := range v {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func clean(s string) string {
	if len(s) > 256 {
		s = s[:256]
	}
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = s[i] >= 0x20 && s[i] < 0x7f
	}
	if plain {
		return s // printable ASCII: nothing to drop
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}
