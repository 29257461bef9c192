// Package http dissects HTTP/1.0 and HTTP/1.1 over TCP. It follows
// requests and responses per direction (pipelining included), skips bodies
// by Content-Length or chunked encoding, and reports the User-Agent and
// Host a client sends (http.user_agent, http.host) and the Server header a
// server answers with (http.server). Basic authentication is reported as a
// cleartext-credentials finding naming the user, never the password.
// Request targets are parsed but not reported: they may carry patient data.
package http

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector name.
const Name = "http"

// Observation fields and finding kinds.
const (
	FieldUserAgent = "http.user_agent"
	FieldHost      = "http.host"
	FieldServer    = "http.server"
	KindCleartext  = "cleartext-credentials"
)

// Limits of one direction's parser.
const (
	maxLine    = 16 << 10 // one start or header line
	maxHeaders = 128      // header lines per message (fits direction.headers)
	maxPending = 64       // pipelined requests awaiting a response (fits pendingQueue)
	maxValue   = 255
)

var methods = []string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH", "SUBSCRIBE",
	"UNSUBSCRIBE", "NOTIFY", "M-SEARCH", "MKCALENDAR", "ACL", "BIND", "MERGE", "CHECKOUT", "VERSION-CONTROL"}

// Dissector is the HTTP dissector.
type Dissector struct{}

// New returns the dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.StreamDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerTCP }

// Ports implements dissect.Dissector.
func (*Dissector) Ports() []uint16 {
	return []uint16{80, 591, 631, 3128, 8000, 8008, 8080, 8081, 8088, 8888}
}

// Detect implements dissect.Dissector: a request line or a status line.
func (*Dissector) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	return startsMessage(p)
}

func startsMessage(p []byte) bool {
	if bytes.HasPrefix(p, []byte("HTTP/1.")) {
		return true
	}
	sp := bytes.IndexByte(p[:min(len(p), 20)], ' ')
	if sp < 3 {
		return false
	}
	m := string(p[:sp])
	for _, k := range methods {
		if m == k {
			return true
		}
	}
	// An unknown extension method: upper-case token then a target.
	for _, c := range p[:sp] {
		if (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return len(p) > sp+1 && (p[sp+1] == '/' || p[sp+1] == '*')
}

// NewStream implements dissect.StreamDissector.
func (d *Dissector) NewStream(f *dissect.Flow) dissect.Stream {
	s := &stream{flow: f}
	s.dir[0].isServer = false
	s.dir[1].isServer = true
	return s
}

type state uint8

const (
	stStart     state = iota // expecting a start line
	stHeaders                // in the header block
	stBody                   // skipping remaining bytes of a body
	stChunkSize              // expecting a chunk-size line
	stChunkData              // skipping chunk data (+CRLF)
	stTrailers               // chunked trailers until an empty line
	stUntilEnd               // body delimited by connection close
	stOpaque                 // after an upgrade (101, CONNECT): not HTTP any more
	stLost                   // after a gap or garbage: probe each line for a message start
)

// A stream is kept small (112 bytes) because a sensor may follow a
// million of them at once: what only a message in progress needs (a line
// split across segments, the Host and Basic user for the credentials
// finding) lives in a part allocated while it is needed, and methods are
// kept as kinds, not text.
type direction struct {
	isServer bool
	st       state
	// current message
	method    methodKind
	chunked   bool
	hasLength bool
	upgrade   bool
	authSeen  bool  // a Basic Authorization header was present (the user may be empty)
	headers   uint8 // header lines so far (at most maxHeaders+1)
	status    int32
	remain    int64 // bytes left in a body or chunk
	length    int64
	ext       *partial // nil when nothing is carried between lines
}

// partial is the state of a direction that outlives one line.
type partial struct {
	line []byte // partial line carried between Feed calls
	auth string // user of a Basic Authorization header
	host string
}

// methodKind is what the parser needs of a request method.
type methodKind uint8

const (
	methodOther methodKind = iota
	methodHEAD
	methodCONNECT
)

func kindOf(m []byte) methodKind {
	switch string(m) {
	case "HEAD":
		return methodHEAD
	case "CONNECT":
		return methodCONNECT
	}
	return methodOther
}

// pendingQueue holds the method kinds of up to maxPending requests
// awaiting responses, oldest first, as two bit sets.
type pendingQueue struct {
	head, connect uint64
	n             uint8
}

func (q *pendingQueue) push(k methodKind) {
	if int(q.n) >= maxPending {
		return
	}
	bit := uint64(1) << q.n
	switch k {
	case methodHEAD:
		q.head |= bit
	case methodCONNECT:
		q.connect |= bit
	}
	q.n++
}

func (q *pendingQueue) front() methodKind {
	switch {
	case q.head&1 != 0:
		return methodHEAD
	case q.connect&1 != 0:
		return methodCONNECT
	}
	return methodOther
}

func (q *pendingQueue) pop() {
	q.head >>= 1
	q.connect >>= 1
	q.n--
}

type stream struct {
	flow    *dissect.Flow
	dir     [2]direction
	pending pendingQueue // requests awaiting responses
}

// ext returns d's partial state, allocating it.
func (d *direction) partial() *partial {
	if d.ext == nil {
		d.ext = &partial{}
	}
	return d.ext
}

// release drops the partial state when it carries nothing.
func (d *direction) release() {
	if d.ext != nil && len(d.ext.line) == 0 && d.st != stHeaders {
		d.ext = nil
	}
}

// resetLine empties the carried line, keeping its buffer for the next.
func (d *direction) resetLine() {
	if d.ext != nil {
		d.ext.line = d.ext.line[:0]
	}
}

// Feed implements dissect.Stream.
func (s *stream) Feed(dir dissect.Direction, data []byte, t time.Time, out dissect.Emitter) error {
	d := &s.dir[dir&1]
	var err error
	for len(data) > 0 {
		switch d.st {
		case stBody, stChunkData:
			n := int64(len(data))
			if n > d.remain {
				n = d.remain
			}
			d.remain -= n
			data = data[n:]
			if d.remain == 0 {
				if d.st == stBody {
					s.endMessage(d)
				} else {
					d.st = stChunkSize
				}
			}
		case stUntilEnd, stOpaque:
			d.ext = nil
			return err
		default:
			line, rest, ok := s.nextLine(d, data)
			data = rest
			if !ok {
				return err
			}
			if d.st == stLost {
				// Probe each line: resume at the first that starts a message.
				if !startsMessage(line) || (d.isServer != bytes.HasPrefix(line, []byte("HTTP/"))) {
					d.resetLine()
					continue
				}
				d.st = stStart
			}
			if e := s.line(d, dir, line, t, out); e != nil && err == nil {
				err = e
			}
			d.resetLine()
		}
	}
	d.release()
	return err
}

// nextLine returns the next complete line (without CR LF), joining bytes
// carried over from earlier calls.
func (s *stream) nextLine(d *direction, data []byte) ([]byte, []byte, bool) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		p := d.partial()
		if room := maxLine + 1 - len(p.line); room > 0 {
			p.line = append(p.line, data[:min(room, len(data))]...)
		}
		return nil, nil, false
	}
	// Lines are capped at maxLine bytes (the rest is dropped), the same
	// whether the line arrived in one piece or several.
	var line []byte
	if d.ext != nil && len(d.ext.line) > 0 {
		p := d.ext
		if room := maxLine + 1 - len(p.line); room > 0 {
			p.line = append(p.line, data[:min(room, i)]...)
		}
		line = p.line
	} else {
		line = data[:i]
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > maxLine {
		line = line[:maxLine]
	}
	return line, data[i+1:], true
}

func dirName(d *direction) string {
	if d.isServer {
		return "response"
	}
	return "request"
}

func (s *stream) line(d *direction, dir dissect.Direction, line []byte, t time.Time, out dissect.Emitter) error {
	switch d.st {
	case stStart:
		if len(line) == 0 {
			return nil // tolerate blank lines between messages
		}
		d.headers, d.chunked, d.hasLength, d.length, d.upgrade, d.status, d.method, d.authSeen = 0, false, false, 0, false, 0, methodOther, false
		if d.ext != nil {
			d.ext.auth, d.ext.host = "", ""
		}
		if d.isServer {
			if !bytes.HasPrefix(line, []byte("HTTP/")) {
				d.st = stLost
				return fmt.Errorf("http response: bad status line %q", truncate(string(line)))
			}
			f := bytes.Fields(line)
			if len(f) >= 2 {
				st, _ := strconv.Atoi(string(f[1]))
				d.status = int32(min(max(st, math.MinInt32), math.MaxInt32))
			}
			if s.pending.n > 0 {
				d.method = s.pending.front()
				if d.status >= 200 || d.status == 101 {
					s.pending.pop()
				}
			}
		} else {
			if !startsMessage(line) || bytes.HasPrefix(line, []byte("HTTP/")) {
				d.st = stLost
				return fmt.Errorf("http request: bad request line %q", truncate(string(line)))
			}
			sp := bytes.IndexByte(line, ' ')
			d.method = kindOf(line[:sp])
			s.pending.push(d.method)
		}
		d.st = stHeaders
		return nil
	case stTrailers:
		if len(line) == 0 {
			s.endMessage(d)
		}
		return nil
	case stChunkSize:
		ext := bytes.IndexByte(line, ';')
		if ext >= 0 {
			line = line[:ext]
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(line)), 16, 64)
		if err != nil || n < 0 {
			if len(line) == 0 {
				return nil // the CRLF after chunk data
			}
			d.st = stLost
			return fmt.Errorf("http %s: bad chunk size %q", dirName(d), truncate(string(line)))
		}
		if n == 0 {
			d.st = stTrailers
			return nil
		}
		d.remain = n
		d.st = stChunkData
		return nil
	}
	// stHeaders
	if len(line) == 0 {
		s.headersDone(d, dir, t, out)
		return nil
	}
	if d.headers++; d.headers > maxHeaders {
		d.st = stLost
		return fmt.Errorf("http %s: more than %d header lines", dirName(d), maxHeaders)
	}
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return nil // obsolete line folding or junk: ignore the line
	}
	v := strings.TrimSpace(string(value))
	switch strings.ToLower(strings.TrimSpace(string(name))) {
	case "user-agent":
		if !d.isServer && v != "" {
			s.observe(dir, FieldUserAgent, v, t, out)
		}
	case "host":
		if !d.isServer && v != "" {
			d.partial().host = truncate(v)
			s.observe(dir, FieldHost, v, t, out)
		}
	case "server":
		if d.isServer && v != "" {
			s.observe(dir, FieldServer, v, t, out)
		}
	case "content-length":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			d.length, d.hasLength = n, true
		}
	case "transfer-encoding":
		if strings.Contains(strings.ToLower(v), "chunked") {
			d.chunked = true
		}
	case "authorization", "proxy-authorization":
		if !d.isServer {
			if user, ok := basicUser(v); ok {
				d.partial().auth, d.authSeen = user, true
			}
		}
	case "upgrade":
		d.upgrade = true
	}
	return nil
}

func (s *stream) headersDone(d *direction, dir dissect.Direction, t time.Time, out dissect.Emitter) {
	var auth, host string
	if d.ext != nil {
		auth, host = d.ext.auth, d.ext.host
		d.ext.auth, d.ext.host = "", ""
	}
	if d.authSeen {
		snd := s.flow.Sender(dir)
		peer := s.flow.Server.Addr
		detail := fmt.Sprintf("HTTP Basic authentication in cleartext for user %q", auth)
		if host != "" {
			detail += fmt.Sprintf(" to host %q", host)
		}
		out.Report(dissect.Finding{Time: t, Protocol: Name, Kind: KindCleartext, Severity: "high", Detail: detail,
			MAC: snd.MAC, IP: snd.Addr.Addr(), Peer: peer})
	}
	switch {
	case d.isServer && d.status == 101:
		d.st = stOpaque
	case d.isServer && d.method == methodCONNECT && d.status >= 200 && d.status < 300:
		d.st = stOpaque
	case d.isServer && (d.status >= 100 && d.status < 200):
		d.st = stStart // interim response; the final one follows
	case d.isServer && (d.method == methodHEAD || d.status == 204 || d.status == 304):
		s.endMessage(d)
	case d.chunked:
		d.st = stChunkSize
	case d.hasLength:
		if d.length == 0 {
			s.endMessage(d)
		} else {
			d.remain, d.st = d.length, stBody
		}
	case d.isServer:
		d.st = stUntilEnd
	default:
		s.endMessage(d) // requests without a length have no body
	}
}

func (s *stream) endMessage(d *direction) { d.st = stStart }

func (s *stream) observe(dir dissect.Direction, field, v string, t time.Time, out dissect.Emitter) {
	v = truncate(strings.ToValidUTF8(v, ""))
	if v == "" {
		return
	}
	snd := s.flow.Sender(dir)
	var ip netip.Addr
	if snd.Addr.IsValid() {
		ip = snd.Addr.Addr()
	}
	out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: v, MAC: snd.MAC, IP: ip})
}

// Gap implements dissect.Stream: bytes were lost, so resynchronise on the
// next message start.
func (s *stream) Gap(dir dissect.Direction) {
	d := &s.dir[dir&1]
	if d.st == stOpaque || d.st == stUntilEnd {
		return
	}
	d.st = stLost
	d.resetLine()
}

// End implements dissect.Stream.
func (s *stream) End(dissect.Emitter) {}

// basicUser extracts the user name of a Basic credential; the password is
// dropped here and never stored.
func basicUser(v string) (string, bool) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(scheme, "basic") {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", false
	}
	user, _, _ := strings.Cut(string(raw), ":")
	user = truncate(strings.ToValidUTF8(user, ""))
	return user, true
}

func truncate(s string) string {
	if len(s) <= maxValue {
		return s
	}
	s = s[:maxValue]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
