// Package smb dissects SMB1 and SMB2/3 over NetBIOS session service framing
// (TCP 139 and 445): dialect negotiation, SMB1 session setup (native OS and
// LAN manager) and NTLMSSP inside session setup (client user, domain and
// workstation; server NetBIOS and DNS names). It reports SMB1 in use,
// SMB signing not required and NTLMv1 authentication.
package smb

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "smb"

// maxMessage bounds what is buffered of one NetBIOS session message. The
// messages this dissector reads (negotiate, session setup) are a few KiB;
// larger ones (reads, writes) are skipped without buffering.
const maxMessage = 64 << 10

// Dissector is the SMB dissector.
type Dissector struct{}

// New returns an SMB dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.StreamDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerTCP }

// Ports implements dissect.Dissector.
func (*Dissector) Ports() []uint16 { return []uint16{445, 139} }

// Detect accepts a NetBIOS session request (139) or a session message that
// carries an SMB1, SMB2 or SMB3 transform header.
func (*Dissector) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	if len(p) < 8 {
		return false
	}
	n := int(p[1])<<16 | int(p[2])<<8 | int(p[3])
	switch p[0] {
	case 0x81: // session request: two encoded NetBIOS names (34+ bytes each)
		return n >= 68 && p[4] == 0x20
	case 0x00:
		magic := string(p[5:8])
		return n >= 32 && magic == "SMB" && (p[4] == 0xff || p[4] == 0xfe || p[4] == 0xfd)
	}
	return false
}

// NewStream implements dissect.StreamDissector.
func (*Dissector) NewStream(f *dissect.Flow) dissect.Stream { return &stream{flow: f} }

type half struct {
	buf  []byte
	skip int // bytes of an oversized message still to drop
	dead bool
}

type stream struct {
	flow *dissect.Flow
	dir  [2]half
	// SMB1 dialects offered in the last negotiate request, to name the
	// dialect index of the response.
	offered  []string
	smb1Seen bool // the SMB1 finding was filed
	emitted  map[string]bool
}

// Feed implements dissect.Stream.
func (s *stream) Feed(dir dissect.Direction, data []byte, t time.Time, out dissect.Emitter) error {
	h := &s.dir[dir]
	for len(data) > 0 && !h.dead {
		if h.skip > 0 {
			n := min(h.skip, len(data))
			h.skip -= n
			data = data[n:]
			continue
		}
		// Gather the 4-byte header, then the message if it is small enough.
		need := 4
		if len(h.buf) >= 4 {
			need = 4 + (int(h.buf[1])<<16 | int(h.buf[2])<<8 | int(h.buf[3]))
		}
		take := min(need-len(h.buf), len(data))
		h.buf = append(h.buf, data[:take]...)
		data = data[take:]
		if len(h.buf) == 4 {
			typ, n := h.buf[0], int(h.buf[1])<<16|int(h.buf[2])<<8|int(h.buf[3])
			switch typ {
			case 0x00, 0x81, 0x82, 0x83, 0x84, 0x85:
			default:
				h.dead, h.buf = true, nil
				return fmt.Errorf("smb %s: netbios session packet type %#02x: not smb, giving up", dir, typ)
			}
			if n > maxMessage {
				h.skip, h.buf = n, h.buf[:0]
				continue
			}
			need = 4 + n
		}
		if len(h.buf) >= 4 && len(h.buf) == need {
			err := s.message(dir, h.buf[0], h.buf[4:], t, out)
			h.buf = h.buf[:0]
			if err != nil {
				return err
			}
		}
	}
	if len(h.buf) == 0 {
		h.buf = nil
	}
	return nil
}

// Gap implements dissect.Stream: message boundaries are lost for good.
func (s *stream) Gap(dir dissect.Direction) { s.dir[dir] = half{dead: true} }

// End implements dissect.Stream.
func (s *stream) End(dissect.Emitter) {}

func (s *stream) message(dir dissect.Direction, typ byte, m []byte, t time.Time, out dissect.Emitter) error {
	switch {
	case typ == 0x81 && dir == dissect.FromClient:
		called, rest := nbName(m)
		calling, _ := nbName(rest)
		s.observeAt(out, dissect.FromServer, t, "smb.netbios_name", called)
		s.observeAt(out, dissect.FromClient, t, "smb.netbios_name", calling)
	case typ != 0x00 || len(m) < 4:
	case m[0] == 0xff && string(m[1:4]) == "SMB":
		return s.smb1(dir, m, t, out)
	case m[0] == 0xfe && string(m[1:4]) == "SMB":
		return s.smb2(dir, m, t, out)
	}
	return nil
}

// observeAt emits a fact about the endpoint that sent in dir, once per
// stream and value.
func (s *stream) observeAt(out dissect.Emitter, dir dissect.Direction, t time.Time, field, value string) {
	if value == "" {
		return
	}
	key := dir.String() + "\x00" + field + "\x00" + value
	if s.emitted == nil {
		s.emitted = map[string]bool{}
	}
	if s.emitted[key] {
		return
	}
	s.emitted[key] = true
	ep := s.flow.Sender(dir)
	out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
}

// report files a finding about the device in dir, with the other side as peer.
func (s *stream) report(out dissect.Emitter, dir dissect.Direction, t time.Time, kind, sev, detail string) {
	key := "finding\x00" + kind + "\x00" + detail
	if s.emitted == nil {
		s.emitted = map[string]bool{}
	}
	if s.emitted[key] {
		return
	}
	s.emitted[key] = true
	ep, peer := s.flow.Server, s.flow.Client
	if dir == dissect.FromClient {
		ep, peer = s.flow.Client, s.flow.Server
	}
	out.Report(dissect.Finding{Time: t, Protocol: Name, Kind: kind, Severity: sev, Detail: detail, MAC: ep.MAC, IP: ep.Addr.Addr(), Peer: peer.Addr})
}

// SMB1 commands and flags.
const (
	smb1Negotiate    = 0x72
	smb1SessionSetup = 0x73
	smb1FlagReply    = 0x80
	smb1Flags2Ucode  = 0x8000
)

func (s *stream) smb1(dir dissect.Direction, m []byte, t time.Time, out dissect.Emitter) error {
	if len(m) < 35 {
		return fmt.Errorf("smb %s: smb1 header truncated (%d bytes)", dir, len(m))
	}
	cmd, flags := m[4], m[9]
	flags2 := binary.LittleEndian.Uint16(m[10:])
	status := binary.LittleEndian.Uint32(m[5:])
	reply := flags&smb1FlagReply != 0
	wc := int(m[32])
	if len(m) < 33+2*wc+2 {
		return fmt.Errorf("smb %s: smb1 command %#02x: word count %d past end", dir, cmd, wc)
	}
	words := m[33 : 33+2*wc]
	bc := int(binary.LittleEndian.Uint16(m[33+2*wc:]))
	boff := 33 + 2*wc + 2
	data := m[boff:min(boff+bc, len(m))]
	uni := flags2&smb1Flags2Ucode != 0
	switch {
	case cmd == smb1Negotiate && !reply:
		s.offered = s.offered[:0]
		for len(data) > 1 && data[0] == 0x02 {
			str, rest := cstring(data[1:])
			s.offered = append(s.offered, str)
			data = rest
		}
		s.observeAt(out, dir, t, "smb.dialects_offered", strings.Join(s.offered, ","))
	case cmd == smb1Negotiate && reply && wc >= 1:
		idx := int(binary.LittleEndian.Uint16(words))
		if idx == 0xffff || idx >= len(s.offered) {
			return nil
		}
		d := s.offered[idx]
		s.observeAt(out, dir, t, "smb.dialect", d)
		s.smb1Finding(out, t, fmt.Sprintf("server negotiated SMB1 dialect %q", d))
		if wc == 17 && words[2]&0x08 == 0 { // SecurityMode: signatures required
			s.report(out, dissect.FromServer, t, "smb-signing-not-required", "low", "SMB1 server does not require message signing")
		}
	case cmd == smb1SessionSetup && (status == 0 || status == 0xc0000016): // STATUS_MORE_PROCESSING_REQUIRED
		s.smb1Finding(out, t, "SMB1 session setup exchanged")
		return s.smb1SessionSetup(dir, reply, uni, wc, words, boff, data, t, out)
	default:
		s.smb1Finding(out, t, fmt.Sprintf("SMB1 command %#02x exchanged", cmd))
	}
	return nil
}

func (s *stream) smb1Finding(out dissect.Emitter, t time.Time, detail string) {
	if s.smb1Seen {
		return
	}
	s.smb1Seen = true
	s.report(out, dissect.FromServer, t, "smb1-in-use", "high", detail+" (SMB1 is deprecated and exploited by EternalBlue/WannaCry; disable it)")
}

// smb1SessionSetup reads SESSION_SETUP_ANDX requests (word counts 10, 12,
// 13) and responses (3, 4).
func (s *stream) smb1SessionSetup(dir dissect.Direction, reply, uni bool, wc int, words []byte, boff int, data []byte, t time.Time, out dissect.Emitter) error {
	var blob []byte
	pos := 0 // offset in data
	var strs []string
	readStrs := func(n int) {
		for i := 0; i < n; i++ {
			var str string
			if uni {
				if (boff+pos)%2 == 1 && pos < len(data) {
					pos++ // unicode strings are 2-byte aligned from the SMB header
				}
				str, pos = utf16z(data, pos)
			} else {
				var rest []byte
				str, rest = cstring(data[min(pos, len(data)):])
				pos = len(data) - len(rest)
			}
			strs = append(strs, str)
		}
	}
	switch {
	case !reply && wc == 12:
		bl := int(binary.LittleEndian.Uint16(words[14:]))
		blob = data[:min(bl, len(data))]
		pos = len(blob)
		readStrs(2) // NativeOS, NativeLanMan
	case !reply && wc == 13:
		pw := int(binary.LittleEndian.Uint16(words[14:])) + int(binary.LittleEndian.Uint16(words[16:]))
		pos = min(pw, len(data))
		readStrs(4) // Account, PrimaryDomain, NativeOS, NativeLanMan
		if len(strs) == 4 {
			s.observeAt(out, dir, t, "ntlm.user", clean(strs[0]))
			s.observeAt(out, dir, t, "ntlm.domain", clean(strs[1]))
			strs = strs[2:]
		}
	case !reply && wc == 10:
		pw := int(binary.LittleEndian.Uint16(words[14:]))
		pos = min(pw, len(data))
		readStrs(4)
		if len(strs) == 4 {
			s.observeAt(out, dir, t, "ntlm.user", clean(strs[0]))
			s.observeAt(out, dir, t, "ntlm.domain", clean(strs[1]))
			strs = strs[2:]
		}
	case reply && wc == 4:
		bl := int(binary.LittleEndian.Uint16(words[6:]))
		blob = data[:min(bl, len(data))]
		pos = len(blob)
		readStrs(2)
	case reply && wc == 3:
		readStrs(2)
	default:
		return nil
	}
	if len(strs) >= 1 {
		s.observeAt(out, dir, t, "smb.native_os", clean(strs[0]))
	}
	if len(strs) >= 2 {
		s.observeAt(out, dir, t, "smb.native_lanman", clean(strs[1]))
	}
	s.ntlm(dir, blob, t, out)
	return nil
}

// SMB2 commands and flags.
const (
	smb2Negotiate    = 0x0000
	smb2SessionSetup = 0x0001
	smb2FlagResponse = 0x00000001
)

func (s *stream) smb2(dir dissect.Direction, m []byte, t time.Time, out dissect.Emitter) error {
	for hop := 0; hop < 64; hop++ { // compound chain, bounded
		if len(m) < 64 {
			return fmt.Errorf("smb %s: smb2 header truncated (%d bytes)", dir, len(m))
		}
		cmd := binary.LittleEndian.Uint16(m[12:])
		flags := binary.LittleEndian.Uint32(m[16:])
		next := int(binary.LittleEndian.Uint32(m[20:]))
		resp := flags&smb2FlagResponse != 0
		body := m[64:]
		if next >= 64 && next <= len(m) {
			body = m[64:next]
		}
		switch {
		case cmd == smb2Negotiate && !resp && len(body) >= 36:
			n := int(binary.LittleEndian.Uint16(body[2:]))
			var ds []string
			for i := 0; i < n && 36+2*i+2 <= len(body); i++ {
				ds = append(ds, DialectName(binary.LittleEndian.Uint16(body[36+2*i:])))
			}
			s.observeAt(out, dir, t, "smb.dialects_offered", strings.Join(ds, ","))
		case cmd == smb2Negotiate && resp && len(body) >= 6:
			d := binary.LittleEndian.Uint16(body[4:])
			if d != 0x02ff { // 0x02ff only answers an SMB1 multi-protocol negotiate
				s.observeAt(out, dir, t, "smb.dialect", DialectName(d))
				if binary.LittleEndian.Uint16(body[2:])&0x0002 == 0 {
					s.report(out, dissect.FromServer, t, "smb-signing-not-required", "low", fmt.Sprintf("%s server does not require message signing", DialectName(d)))
				}
			}
		case cmd == smb2SessionSetup && !resp && len(body) >= 16:
			off, n := int(binary.LittleEndian.Uint16(body[12:])), int(binary.LittleEndian.Uint16(body[14:]))
			if off+n <= len(m) && off >= 64 {
				s.ntlm(dir, m[off:off+n], t, out)
			}
		case cmd == smb2SessionSetup && resp && len(body) >= 8:
			off, n := int(binary.LittleEndian.Uint16(body[4:])), int(binary.LittleEndian.Uint16(body[6:]))
			if off+n <= len(m) && off >= 64 {
				s.ntlm(dir, m[off:off+n], t, out)
			}
		}
		if next < 64 || next >= len(m) {
			return nil
		}
		m = m[next:]
	}
	return nil
}

// DialectName names an SMB2/3 dialect revision.
func DialectName(d uint16) string {
	switch d {
	case 0x0202:
		return "SMB 2.0.2"
	case 0x0210:
		return "SMB 2.1"
	case 0x0222:
		return "SMB 2.2.2"
	case 0x0224:
		return "SMB 2.2.4"
	case 0x0300:
		return "SMB 3.0"
	case 0x0302:
		return "SMB 3.0.2"
	case 0x0310:
		return "SMB 3.1.0"
	case 0x0311:
		return "SMB 3.1.1"
	case 0x02ff:
		return "SMB 2.???"
	}
	return fmt.Sprintf("0x%04x", d)
}

// nbName decodes a first-level encoded NetBIOS name (RFC 1001 §14.1) and
// returns it without its suffix byte or padding, plus the rest of b.
func nbName(b []byte) (string, []byte) {
	if len(b) < 34 || b[0] != 0x20 {
		return "", nil
	}
	var name [16]byte
	for i := range name {
		hi, lo := b[1+2*i]-'A', b[2+2*i]-'A'
		if hi > 15 || lo > 15 {
			return "", nil
		}
		name[i] = hi<<4 | lo
	}
	rest := b[33:]
	for len(rest) > 0 && rest[0] != 0 { // scope labels
		n := int(rest[0])
		if n+1 > len(rest) {
			return "", nil
		}
		rest = rest[n+1:]
	}
	if len(rest) > 0 {
		rest = rest[1:]
	}
	s := strings.TrimRight(string(name[:15]), " \x00")
	if s == "*SMBSERVER" || strings.HasPrefix(s, "*") {
		return "", rest
	}
	return clean(s), rest
}

// cstring splits a NUL-terminated byte string.
func cstring(b []byte) (string, []byte) {
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), b[i+1:]
		}
	}
	return string(b), nil
}

// utf16z reads a NUL-terminated UTF-16LE string at pos.
func utf16z(b []byte, pos int) (string, int) {
	var u []uint16
	for pos+1 < len(b) {
		c := binary.LittleEndian.Uint16(b[pos:])
		pos += 2
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	if pos+1 >= len(b) && pos < len(b) {
		pos = len(b)
	}
	return string(utf16.Decode(u)), pos
}

// utf16le decodes a UTF-16LE byte string.
func utf16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// clean drops control characters and caps length: names come off the wire.
func clean(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 256 {
			break
		}
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			continue
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}
