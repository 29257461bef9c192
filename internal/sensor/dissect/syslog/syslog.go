// Package syslog dissects syslog messages over UDP and TCP 514 in the
// RFC 3164 (BSD) and RFC 5424 formats, with RFC 6587 octet-counting and
// LF-terminated framing on TCP: the HOSTNAME and APP-NAME (or TAG) a
// device writes into its own log lines. Message text is never emitted:
// logs can carry patient data.
package syslog

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the protocol name of observations and of the UDP dissector.
const Name = "syslog"

// TCPName is the name of the TCP dissector (names are unique per layer).
const TCPName = "syslogtcp"

// maxMessage bounds one buffered TCP message; RFC 5425 recommends
// receivers accept at least 2 KiB, real senders stay well below this.
const maxMessage = 64 << 10

// Dissector is the UDP syslog dissector.
type Dissector struct{}

// New returns the UDP syslog dissector.
func New() dissect.Dissector { return &Dissector{} }

// TCPDissector is the TCP syslog dissector.
type TCPDissector struct{}

// NewTCP returns the TCP syslog dissector.
func NewTCP() dissect.Dissector { return &TCPDissector{} }

var (
	_ dissect.PacketDissector = (*Dissector)(nil)
	_ dissect.StreamDissector = (*TCPDissector)(nil)
)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerUDP }

// Ports implements dissect.Dissector.
func (*Dissector) Ports() []uint16 { return []uint16{514} }

// Detect accepts a message that starts with a valid PRI ("<0>" to "<191>").
func (*Dissector) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	_, ok := pri(p)
	return ok
}

// DissectPacket implements dissect.PacketDissector.
func (*Dissector) DissectPacket(f *dissect.Flow, dir dissect.Direction, p []byte, t time.Time, out dissect.Emitter) error {
	h, ok := Parse(bytes.TrimRight(p, "\r\n\x00"))
	if !ok {
		return fmt.Errorf("syslog: message does not start with a PRI: %w", errNotSyslog)
	}
	emit(f.Sender(dir), t, out, h, nil)
	return nil
}

// Name implements dissect.Dissector.
func (*TCPDissector) Name() string { return TCPName }

// Layer implements dissect.Dissector.
func (*TCPDissector) Layer() dissect.Layer { return dissect.LayerTCP }

// Ports implements dissect.Dissector (601 is RFC 3195's syslog-conn).
func (*TCPDissector) Ports() []uint16 { return []uint16{514, 601} }

// Detect accepts octet-counted ("123 <34>…") or LF-framed ("<34>…") syslog.
func (*TCPDissector) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	i := 0
	for i < len(p) && i < 6 && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	if i > 0 {
		if i >= len(p) || p[i] != ' ' || p[0] == '0' {
			return false
		}
		i++
	}
	_, ok := pri(p[i:])
	return ok
}

// NewStream implements dissect.StreamDissector.
func (*TCPDissector) NewStream(f *dissect.Flow) dissect.Stream {
	return &stream{flow: f, seen: map[string]bool{}}
}

var errNotSyslog = errors.New("not syslog")

// Header is what this package reads from a message.
type Header struct {
	Priority int
	Hostname string
	AppName  string
}

// pri parses "<N>" at the start of b and returns the length consumed.
func pri(b []byte) (int, bool) {
	if len(b) < 3 || b[0] != '<' {
		return 0, false
	}
	n, i := 0, 1
	for ; i < len(b) && i <= 4 && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	if i == 1 || i > 4 || i >= len(b) || b[i] != '>' || n > 191 || (i > 2 && b[1] == '0') {
		return 0, false
	}
	return i + 1, true
}

// Parse reads the header of one syslog message (without framing).
func Parse(b []byte) (Header, bool) {
	n, ok := pri(b)
	if !ok {
		return Header{}, false
	}
	h := Header{}
	h.Priority, _ = strconv.Atoi(string(b[1 : n-1]))
	rest := b[n:]
	// RFC 5424: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP …
	if len(rest) >= 2 && rest[0] >= '1' && rest[0] <= '9' && rest[1] == ' ' {
		f := bytes.SplitN(rest[2:], []byte(" "), 4)
		if len(f) >= 3 {
			h.Hostname = nilValue(f[1], 255)
			h.AppName = nilValue(f[2], 48)
		}
		return h, true
	}
	// RFC 3164: [TIMESTAMP SP] [HOSTNAME SP] TAG[pid]: MSG
	ts := timestamp(rest)
	rest = rest[ts:]
	t1, rest := token(rest)
	if app := tag(t1); app != "" || ts == 0 {
		h.AppName = app // no hostname (local logger) or no timestamp
		return h, true
	}
	if !hostname(t1) {
		return h, true
	}
	h.Hostname = string(t1)
	t2, _ := token(rest)
	h.AppName = tag(t2)
	return h, true
}

// timestamp returns the length of a leading "Mmm dd hh:mm:ss " (with
// optional fraction) or RFC 3339 timestamp plus its space, or 0.
func timestamp(b []byte) int {
	if len(b) >= 16 && isMonth(b[:3]) && b[3] == ' ' && (b[4] == ' ' || isDigit(b[4])) && isDigit(b[5]) && b[6] == ' ' &&
		isDigit(b[7]) && isDigit(b[8]) && b[9] == ':' && isDigit(b[10]) && isDigit(b[11]) && b[12] == ':' && isDigit(b[13]) && isDigit(b[14]) {
		i := 15
		for i < len(b) && (b[i] == '.' || isDigit(b[i])) {
			i++
		}
		if i < len(b) && b[i] == ' ' {
			return i + 1
		}
		return 0
	}
	if len(b) >= 20 && isDigit(b[0]) && isDigit(b[3]) && b[4] == '-' && b[7] == '-' && b[10] == 'T' {
		if i := bytes.IndexByte(b, ' '); i > 0 {
			return i + 1
		}
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isMonth(b []byte) bool {
	switch string(b) {
	case "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec":
		return true
	}
	return false
}

func token(b []byte) ([]byte, []byte) {
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// tag returns the program name of a TAG token ("sshd[42]:", "su:"), or ""
// when the token is not a tag.
func tag(t []byte) string {
	end := bytes.IndexAny(t, "[:")
	if end <= 0 || end > 48 || (t[end] == ':' && end != len(t)-1) {
		return ""
	}
	for _, c := range t[:end] {
		if c <= ' ' || c > '~' {
			return ""
		}
	}
	return string(t[:end])
}

// hostname accepts a host name, IPv4 or IPv6 address token.
func hostname(t []byte) bool {
	if len(t) == 0 || len(t) > 255 {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '.' || c == '-' || c == '_' || c == ':') {
			return false
		}
	}
	return true
}

// nilValue returns an RFC 5424 header field, "" for the NILVALUE "-".
func nilValue(b []byte, max int) string {
	if len(b) == 0 || len(b) > max || string(b) == "-" {
		return ""
	}
	for _, c := range b {
		if c < 33 || c > 126 { // PRINTUSASCII
			return ""
		}
	}
	return string(b)
}

// emit reports the hostname and app name, once per stream when seen is set.
func emit(ep dissect.Endpoint, t time.Time, out dissect.Emitter, h Header, seen map[string]bool) {
	for _, kv := range [2][2]string{{"syslog.hostname", h.Hostname}, {"syslog.app_name", h.AppName}} {
		if kv[1] == "" || seen != nil && seen[kv[0]+"\x00"+kv[1]] {
			continue
		}
		if seen != nil && len(seen) < 256 {
			seen[kv[0]+"\x00"+kv[1]] = true
		}
		out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: kv[0], Value: kv[1], MAC: ep.MAC, IP: ep.Addr.Addr()})
	}
}

type stream struct {
	flow *dissect.Flow
	buf  [2][]byte
	dead [2]bool
	seen map[string]bool
	last time.Time
}

// Feed implements dissect.Stream.
func (s *stream) Feed(dir dissect.Direction, data []byte, t time.Time, out dissect.Emitter) error {
	if s.dead[dir] {
		return nil
	}
	s.last = t
	s.buf[dir] = append(s.buf[dir], data...)
	b := s.buf[dir]
	for len(b) > 0 {
		switch c := b[0]; {
		case c == '\n' || c == '\r' || c == 0 || c == ' ':
			b = b[1:]
		case c >= '1' && c <= '9': // octet counting: MSG-LEN SP SYSLOG-MSG
			sp := bytes.IndexByte(b[:min(len(b), 8)], ' ')
			if sp < 0 {
				if len(b) >= 8 {
					return s.giveUp(dir, "octet count longer than 7 digits")
				}
				s.buf[dir] = b
				return nil
			}
			n, err := strconv.Atoi(string(b[:sp]))
			if err != nil || n > maxMessage {
				return s.giveUp(dir, fmt.Sprintf("octet count %q", b[:sp]))
			}
			if len(b) < sp+1+n {
				s.buf[dir] = b
				return nil
			}
			if h, ok := Parse(b[sp+1 : sp+1+n]); ok {
				emit(s.flow.Sender(dir), t, out, h, s.seen)
			}
			b = b[sp+1+n:]
		case c == '<': // non-transparent framing: up to LF (or NUL)
			end := bytes.IndexAny(b, "\n\x00")
			if end < 0 {
				if len(b) > maxMessage {
					return s.giveUp(dir, "line longer than 64 KiB")
				}
				s.buf[dir] = b
				return nil
			}
			if h, ok := Parse(bytes.TrimRight(b[:end], "\r")); ok {
				emit(s.flow.Sender(dir), t, out, h, s.seen)
			}
			b = b[end+1:]
		default:
			return s.giveUp(dir, fmt.Sprintf("unexpected byte %#02x", c))
		}
	}
	s.buf[dir] = nil
	return nil
}

func (s *stream) giveUp(dir dissect.Direction, why string) error {
	s.dead[dir], s.buf[dir] = true, nil
	return fmt.Errorf("syslog tcp %s: %s: %w", dir, why, errNotSyslog)
}

// Gap implements dissect.Stream: message framing is lost for good, so the
// direction is abandoned.
func (s *stream) Gap(dir dissect.Direction) { s.dead[dir], s.buf[dir] = true, nil }

// End implements dissect.Stream: a last LF-framed message without its LF
// is still read.
func (s *stream) End(out dissect.Emitter) {
	for dir := range s.buf {
		b := s.buf[dir]
		if !s.dead[dir] && len(b) > 0 && b[0] == '<' {
			if h, ok := Parse(bytes.TrimRight(b, "\r")); ok {
				emit(s.flow.Sender(dissect.Direction(dir)), s.last, out, h, s.seen)
			}
		}
		s.buf[dir] = nil
	}
}
