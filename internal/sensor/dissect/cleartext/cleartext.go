// Package cleartext finds logins sent in clear on Telnet, FTP, POP3, IMAP
// and SMTP: it reports a cleartext-credentials finding naming the protocol
// and the user name, never the password, and records the server's banner.
// HTTP basic authentication is handled by the http dissector.
package cleartext

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "cleartext"

// maxLine bounds a buffered command or response line.
const maxLine = 4 << 10

// Dissector is the cleartext-login dissector.
type Dissector struct{}

// New returns the cleartext-login dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.StreamDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerTCP }

// Ports implements dissect.Dissector.
func (*Dissector) Ports() []uint16 { return []uint16{21, 23, 25, 110, 143, 587} }

// Detect accepts a Telnet option negotiation, an FTP/SMTP "220" greeting,
// a POP3 "+OK" greeting, an IMAP "* OK"/"* PREAUTH" greeting, or any text
// on the Telnet port.
func (*Dissector) Detect(f *dissect.Flow, dir dissect.Direction, p []byte) bool {
	switch {
	case len(p) >= 3 && p[0] == iac && p[1] >= will && p[1] <= dont:
		return true
	case dir == dissect.FromServer && greeting(p) != protoUnknown:
		return true
	case f != nil && f.Server.Addr.Port() == 23 && len(p) > 0 && (p[0] == '\r' || p[0] == '\n' || p[0] >= 0x20 && p[0] < 0x7f):
		return true
	}
	return false
}

type proto int

const (
	protoUnknown proto = iota
	protoTelnet
	protoFTPorSMTP
	protoFTP
	protoSMTP
	protoPOP3
	protoIMAP
)

var protoNames = map[proto]string{protoTelnet: "Telnet", protoFTP: "FTP", protoSMTP: "SMTP", protoPOP3: "POP3", protoIMAP: "IMAP", protoFTPorSMTP: "FTP"}

func greeting(p []byte) proto {
	switch {
	case len(p) >= 4 && string(p[:3]) == "220" && (p[3] == ' ' || p[3] == '-'):
		return protoFTPorSMTP
	case bytes.HasPrefix(p, []byte("+OK")):
		return protoPOP3
	case bytes.HasPrefix(p, []byte("* OK")), bytes.HasPrefix(p, []byte("* PREAUTH")):
		return protoIMAP
	}
	return protoUnknown
}

// NewStream implements dissect.StreamDissector.
func (*Dissector) NewStream(f *dissect.Flow) dissect.Stream {
	s := &stream{flow: f}
	if f != nil && f.Server.Addr.Port() == 23 {
		s.proto, s.decided = protoTelnet, true
	}
	return s
}

// Telnet commands (RFC 854).
const (
	se   = 240
	sb   = 250
	will = 251
	dont = 254
	iac  = 255
)

type stream struct {
	flow    *dissect.Flow
	proto   proto
	decided bool
	pre     [2][]byte // bytes before the protocol is known
	done    bool      // encrypted from here (STARTTLS) or given up
	last    time.Time

	line   [2][]byte // current line per direction (after Telnet decoding)
	telnet [2]telnetState

	// Line protocols.
	banner  bool
	user    string
	pending string // SASL exchange in progress: "plain", "login-user", "login-pass"

	// Telnet login tracking.
	tail      []byte // last server output
	waitUser  bool
	waitPass  bool
	sawPrompt bool
	// afterPrompt: a prompt just ended and nothing was typed yet.
	afterPrompt bool
}

type telnetState struct {
	mode int // 0 data, 1 after IAC, 2 option byte, 3 in SB, 4 IAC in SB
}

// Feed implements dissect.Stream.
func (s *stream) Feed(dir dissect.Direction, data []byte, t time.Time, out dissect.Emitter) error {
	if s.done || len(data) == 0 {
		return nil
	}
	s.last = t
	if !s.decided {
		// Decide the protocol on the first bytes: an IAC anywhere first
		// means Telnet, else the server's greeting line. Bytes seen before
		// the decision are kept and replayed, so chunking does not matter.
		s.pre[dir] = append(s.pre[dir], data...)
		b := s.pre[dir]
		switch {
		case b[0] == iac:
			s.proto = protoTelnet
		case dir == dissect.FromServer && (len(b) >= 9 || bytes.IndexByte(b, '\n') >= 0):
			s.proto = greeting(b)
			if s.proto == protoFTPorSMTP && bytes.Contains(bytes.ToUpper(b[:min(len(b), maxLine)]), []byte("SMTP")) {
				s.proto = protoSMTP
			}
			if s.proto == protoUnknown {
				s.done, s.pre = true, [2][]byte{}
				return nil
			}
		}
		if s.proto == protoUnknown {
			if len(b) > maxLine {
				s.done, s.pre = true, [2][]byte{}
			}
			return nil
		}
		s.decided = true
		pre := s.pre
		s.pre = [2][]byte{}
		if err := s.feed(1-dir, pre[1-dir], t, out); err != nil {
			return err
		}
		return s.feed(dir, pre[dir], t, out)
	}
	return s.feed(dir, data, t, out)
}

func (s *stream) feed(dir dissect.Direction, data []byte, t time.Time, out dissect.Emitter) error {
	for _, c := range data {
		if s.proto == protoTelnet {
			var ok bool
			if c, ok = s.telnet[dir].decode(c); !ok {
				continue
			}
		}
		if err := s.byte(dir, c, t, out); err != nil || s.done {
			return err
		}
	}
	return nil
}

// decode runs one byte through the Telnet option parser and returns the
// data byte, if any.
func (ts *telnetState) decode(c byte) (byte, bool) {
	switch ts.mode {
	case 1: // after IAC
		switch {
		case c == iac:
			ts.mode = 0
			return iac, true
		case c >= will && c <= dont:
			ts.mode = 2
		case c == sb:
			ts.mode = 3
		default:
			ts.mode = 0
		}
		return 0, false
	case 2:
		ts.mode = 0
		return 0, false
	case 3:
		if c == iac {
			ts.mode = 4
		}
		return 0, false
	case 4:
		if c == se {
			ts.mode = 0
		} else {
			ts.mode = 3
		}
		return 0, false
	}
	if c == iac {
		ts.mode = 1
		return 0, false
	}
	return c, true
}

func (s *stream) byte(dir dissect.Direction, c byte, t time.Time, out dissect.Emitter) error {
	if s.proto == protoTelnet {
		s.telnetByte(dir, c, t, out)
		return nil
	}
	if c != '\n' {
		if len(s.line[dir]) >= maxLine {
			s.done = true
			return fmt.Errorf("cleartext %s: %s line longer than %d bytes, giving up", dir, protoNames[s.proto], maxLine)
		}
		s.line[dir] = append(s.line[dir], c)
		return nil
	}
	line := string(bytes.TrimRight(s.line[dir], "\r"))
	s.line[dir] = s.line[dir][:0]
	if dir == dissect.FromServer {
		s.serverLine(line, t, out)
	} else {
		s.clientLine(line, t, out)
	}
	return nil
}

func (s *stream) serverLine(line string, t time.Time, out dissect.Emitter) {
	if s.banner {
		return
	}
	s.banner = true
	var text string
	switch s.proto {
	case protoFTPorSMTP, protoFTP, protoSMTP:
		text = strings.TrimLeft(line[min(3, len(line)):], " -")
	case protoPOP3:
		text = strings.TrimSpace(strings.TrimPrefix(line, "+OK"))
	case protoIMAP:
		text = strings.TrimSpace(line[min(4, len(line)):])
	}
	s.observe(out, dissect.FromServer, t, "banner", text)
}

func (s *stream) observe(out dissect.Emitter, dir dissect.Direction, t time.Time, field, value string) {
	value = clean(value, 256)
	if value == "" {
		return
	}
	p := strings.ToLower(protoNames[s.proto]) // a "220" greeting without "SMTP" counts as FTP
	ep := s.flow.Sender(dir)
	out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: p + "." + field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
}

func (s *stream) report(out dissect.Emitter, t time.Time, sev, detail string) {
	out.Report(dissect.Finding{
		Time: t, Protocol: Name, Kind: "cleartext-credentials", Severity: sev, Detail: detail,
		MAC: s.flow.Server.MAC, IP: s.flow.Server.Addr.Addr(), Peer: s.flow.Client.Addr,
	})
}

func (s *stream) login(out dissect.Emitter, t time.Time, user string) {
	user = clean(user, 64)
	name := protoNames[s.proto]
	switch {
	case s.proto == protoFTP && (strings.EqualFold(user, "anonymous") || strings.EqualFold(user, "ftp")):
		s.report(out, t, "low", "anonymous FTP login (the server allows access without an account)")
	case user == "":
		s.report(out, t, "high", fmt.Sprintf("%s login with a password in clear (user name not seen)", name))
	default:
		s.report(out, t, "high", fmt.Sprintf("%s login by user %q with a password in clear", name, user))
	}
	s.user = ""
}

func (s *stream) clientLine(line string, t time.Time, out dissect.Emitter) {
	if s.pending != "" {
		s.sasl(line, t, out)
		return
	}
	cmd, arg, _ := strings.Cut(line, " ")
	ucmd := strings.ToUpper(cmd)
	if s.proto == protoIMAP { // tag command args
		c2, a2, _ := strings.Cut(arg, " ")
		ucmd, arg = strings.ToUpper(c2), a2
	}
	if s.proto == protoFTPorSMTP {
		switch ucmd {
		case "USER", "PASS", "ACCT", "SYST", "FEAT", "OPTS":
			s.proto = protoFTP
		case "EHLO", "HELO", "LHLO", "MAIL", "STARTTLS":
			s.proto = protoSMTP
		}
	}
	switch ucmd {
	case "STARTTLS", "STLS":
		s.done = true
	case "AUTH":
		switch strings.ToUpper(strings.TrimSpace(arg)) {
		case "TLS", "SSL", "TLS-C", "TLS-P": // FTP over TLS (RFC 4217)
			s.done = true
			return
		}
		s.authenticate(arg, t, out)
	case "AUTHENTICATE":
		s.authenticate(arg, t, out)
	case "USER":
		if s.proto == protoFTP || s.proto == protoPOP3 {
			s.user = strings.TrimSpace(arg)
		}
	case "PASS":
		if s.proto == protoFTP || s.proto == protoPOP3 {
			s.login(out, t, s.user)
		}
	case "LOGIN":
		if s.proto == protoIMAP {
			user, ok := imapAstring(arg)
			if !ok {
				s.report(out, t, "high", "IMAP login with a password in clear (user name sent as a literal)")
				return
			}
			s.login(out, t, user)
		}
	}
}

// authenticate starts a SASL exchange: PLAIN and LOGIN carry the password
// in base64, i.e. in clear.
func (s *stream) authenticate(arg string, t time.Time, out dissect.Emitter) {
	mech, initial, _ := strings.Cut(strings.TrimSpace(arg), " ")
	switch strings.ToUpper(mech) {
	case "PLAIN":
		if initial != "" && initial != "=" {
			s.sasl(initial, t, out)
		} else {
			s.pending = "plain"
		}
	case "LOGIN":
		if initial != "" {
			s.user = b64(initial)
			s.pending = "login-pass"
		} else {
			s.pending = "login-user"
		}
	}
}

func (s *stream) sasl(line string, t time.Time, out dissect.Emitter) {
	step := s.pending
	if step == "" {
		step = "plain"
	}
	s.pending = ""
	if line == "*" {
		return // client cancelled
	}
	switch step {
	case "plain": // authzid NUL authcid NUL passwd
		parts := strings.Split(b64(line), "\x00")
		if len(parts) == 3 && parts[2] != "" {
			s.login(out, t, parts[1])
		}
	case "login-user":
		s.user = b64(line)
		s.pending = "login-pass"
	case "login-pass":
		s.login(out, t, s.user)
	}
}

func b64(s string) string {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	return string(b)
}

// imapAstring reads an IMAP atom or quoted string (RFC 3501 §4); a literal
// ({n}) returns false.
func imapAstring(s string) (string, bool) {
	s = strings.TrimLeft(s, " ")
	if strings.HasPrefix(s, "{") {
		return "", false
	}
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(s[i])
				}
			case '"':
				return b.String(), true
			default:
				b.WriteByte(s[i])
			}
		}
		return b.String(), true
	}
	atom, _, _ := strings.Cut(s, " ")
	return atom, true
}

// telnetByte follows a Telnet login: a server prompt ending in "login:" or
// "username:" makes the next client line the user name, one ending in
// "password:" makes the next client line a password.
func (s *stream) telnetByte(dir dissect.Direction, c byte, t time.Time, out dissect.Emitter) {
	if dir == dissect.FromServer {
		if c == '\r' || c == '\n' {
			if s.afterPrompt {
				s.afterPrompt, s.waitUser, s.waitPass = false, false, false
			}
			if !s.banner && !s.sawPrompt {
				if l := clean(string(s.tail), 256); l != "" {
					s.banner = true
					s.observe(out, dissect.FromServer, t, "banner", l)
				}
			}
			s.tail = s.tail[:0]
			return
		}
		if c == 0 {
			return
		}
		if s.afterPrompt && c != ' ' && c != '\t' {
			// More text on the prompt's line before the user typed
			// anything ("Last login: Mon …"): it was not a prompt.
			s.afterPrompt, s.waitUser, s.waitPass = false, false, false
		}
		if len(s.tail) >= 256 {
			copy(s.tail, s.tail[128:])
			s.tail = s.tail[:len(s.tail)-128]
		}
		s.tail = append(s.tail, c)
		if c != ':' {
			return // every prompt ends in a colon (trailing blanks change nothing)
		}
		p := strings.ToLower(string(s.tail))
		switch {
		case strings.HasSuffix(p, "password:"), strings.HasSuffix(p, "passcode:"), strings.HasSuffix(p, "pin:"):
			s.waitPass, s.waitUser, s.sawPrompt, s.afterPrompt = true, false, true, true
		case strings.HasSuffix(p, "login:"), strings.HasSuffix(p, "username:"), strings.HasSuffix(p, "user name:"), strings.HasSuffix(p, "user:"):
			s.waitUser, s.waitPass, s.sawPrompt, s.afterPrompt = true, false, true, true
		}
		return
	}
	s.afterPrompt = false // from here the server may echo what is typed
	switch c {
	case '\r', '\n', 0:
		if len(s.line[dir]) == 0 {
			return
		}
		line := string(s.line[dir])
		s.line[dir] = s.line[dir][:0]
		switch {
		case s.waitPass:
			s.waitPass = false
			s.login(out, t, s.user)
		case s.waitUser:
			s.waitUser = false
			s.user = line
		}
	case 0x08, 0x7f: // backspace, delete
		if n := len(s.line[dir]); n > 0 {
			s.line[dir] = s.line[dir][:n-1]
		}
	default:
		if len(s.line[dir]) < maxLine {
			s.line[dir] = append(s.line[dir], c)
		}
	}
}

// Gap implements dissect.Stream: a lost segment may hide a line end, so
// dissection stops.
func (s *stream) Gap(dissect.Direction) { s.done = true }

// End implements dissect.Stream.
func (s *stream) End(dissect.Emitter) {}

// clean keeps printable characters of a wire string and caps its length.
func clean(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	s = strings.TrimSpace(s)
	if len(s) > max {
		s = s[:max]
	}
	return s
}
