// Package astm dissects the laboratory-instrument protocol of ASTM E1381 /
// CLSI LIS1-A (low level: ENQ/ACK establishment, STX-framed numbered
// frames with checksums, EOT) carrying ASTM E1394 / CLSI LIS2-A2 records,
// as analysers send results to a laboratory information system. It also
// accepts records sent over TCP without the E1381 framing. It reads the
// header record (H): sender name, software version and serial, and the
// LIS2-A2 version; it never reads patient (P) or result (R) records.
package astm

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "astm"

// Control characters of E1381.
const (
	stx = 0x02
	etx = 0x03
	eot = 0x04
	enq = 0x05
	ack = 0x06
	nak = 0x15
	etb = 0x17
	cr  = 0x0D
	lf  = 0x0A
)

// maxRecord bounds one record (E1381 limits a frame to 247 characters of
// text; a record of intermediate frames can be longer, but a header
// record never needs more).
const maxRecord = 32 << 10

// ErrMalformed is wrapped by every decode error; ErrChecksum by checksum
// mismatches.
var (
	ErrMalformed = errors.New("malformed astm data")
	ErrChecksum  = errors.New("astm frame checksum mismatch")
)

// Dissector is the ASTM E1381/E1394 dissector.
type Dissector struct{}

// New returns an ASTM dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.StreamDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerTCP }

// Ports implements dissect.Dissector. Analysers and middleware use
// configurable ports; detection is by content.
func (*Dissector) Ports() []uint16 { return nil }

// Detect accepts an ENQ alone (the start of an E1381 session), a first
// frame holding a header record, or an unframed header record.
func (*Dissector) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	switch {
	case len(p) == 1 && p[0] == enq:
		return true
	case len(p) >= 4 && p[0] == enq && p[1] == stx:
		p = p[1:]
		fallthrough
	case len(p) >= 4 && p[0] == stx && p[1] >= '0' && p[1] <= '7' && p[2] == 'H':
		return p[3] == '|' || len(p) > 4 && p[4] == '\\'
	case len(p) >= 5 && p[0] == 'H' && p[2] == '\\' && p[1] != p[2]:
		return true
	}
	return false
}

// NewStream implements dissect.StreamDissector.
func (*Dissector) NewStream(f *dissect.Flow) dissect.Stream { return &stream{flow: f} }

type state int

const (
	idle     state = iota // between frames: control characters
	inFrame               // after STX: frame number and text
	checksum              // after ETB/ETX: two hex digits
	trailer               // after checksum: CR LF
	raw                   // unframed records
)

type direction struct {
	st     state
	fn     int  // frame number of the current frame, -1 before it
	sum    byte // running checksum of the frame
	cks    []byte
	text   []byte // current frame's text
	record []byte // record assembled from intermediate frames
	last   bool   // current frame ended with ETX
	framed bool   // E1381 framing seen: no unframed records follow
}

type stream struct {
	flow *dissect.Flow
	dir  [2]direction
}

// Feed implements dissect.Stream.
func (s *stream) Feed(dir dissect.Direction, data []byte, t time.Time, out dissect.Emitter) error {
	d := &s.dir[dir&1]
	var errs []error
	for _, c := range data {
		switch d.st {
		case idle:
			switch c {
			case stx:
				d.st, d.fn, d.sum, d.text, d.framed = inFrame, -1, 0, d.text[:0], true
			case enq, eot, ack, nak, cr, lf:
				d.framed = d.framed || c != cr && c != lf
				if c == eot {
					d.record = d.record[:0]
				}
			default:
				if c == 'H' && len(d.record) == 0 && !d.framed {
					d.st = raw
					d.record = append(d.record[:0], c)
				}
			}
		case inFrame:
			d.sum += c
			switch {
			case d.fn < 0:
				if c < '0' || c > '7' {
					d.st = idle
					errs = append(errs, fmt.Errorf("astm %s: frame number %q: %w", dir, c, ErrMalformed))
				}
				d.fn = int(c - '0')
			case c == etb || c == etx:
				d.st, d.last, d.cks = checksum, c == etx, d.cks[:0]
			case c == stx:
				d.st = idle
				errs = append(errs, fmt.Errorf("astm %s: STX inside frame %d: %w", dir, d.fn, ErrMalformed))
			default:
				if len(d.text) < maxRecord {
					d.text = append(d.text, c)
				}
			}
		case checksum:
			d.cks = append(d.cks, c)
			if len(d.cks) == 2 {
				d.st = trailer
				if want := fmt.Sprintf("%02X", d.sum); !strings.EqualFold(string(d.cks), want) {
					errs = append(errs, fmt.Errorf("astm %s: frame %d checksum %q, computed %s: %w", dir, d.fn, d.cks, want, ErrChecksum))
					d.text = d.text[:0] // the receiver NAKs it; a retransmission follows
				}
				s.frame(dir, d, t, out)
			}
		case trailer:
			if c == lf {
				d.st = idle
			} else if c != cr {
				d.st = idle
				if c == stx {
					d.st, d.fn, d.sum, d.text = inFrame, -1, 0, d.text[:0]
				}
			}
		case raw:
			if c == cr || c == lf {
				s.record(dir, d.record, t, out)
				d.record = d.record[:0]
				d.st = idle
				continue
			}
			if len(d.record) < maxRecord {
				d.record = append(d.record, c)
			}
		}
	}
	return errors.Join(errs...)
}

// frame appends a checked frame's text to the record; an ETX frame (or a
// text ending in CR) completes the record.
func (s *stream) frame(dir dissect.Direction, d *direction, t time.Time, out dissect.Emitter) {
	if len(d.text) == 0 {
		return
	}
	if len(d.record)+len(d.text) <= maxRecord {
		d.record = append(d.record, d.text...)
	}
	d.text = d.text[:0]
	if d.last || (len(d.record) > 0 && d.record[len(d.record)-1] == cr) {
		for _, r := range strings.Split(string(d.record), "\r") {
			s.record(dir, []byte(r), t, out)
		}
		d.record = d.record[:0]
	}
}

// record handles one E1394 record; only the header is read.
func (s *stream) record(dir dissect.Direction, r []byte, t time.Time, out dissect.Emitter) {
	if len(r) < 5 || r[0] != 'H' {
		return
	}
	fd := r[1]              // field delimiter
	rep, comp := r[2], r[3] // repeat, component delimiters (escape is r[4])
	if fd == rep || fd == comp || rep == comp {
		return
	}
	fields := strings.Split(string(r), string(fd))
	get := func(n, c int) string { // n is the field number (H = 1)
		if n > len(fields) {
			return ""
		}
		f := fields[n-1]
		if i := strings.IndexByte(f, rep); i >= 0 && n != 2 {
			f = f[:i]
		}
		parts := strings.Split(f, string(comp))
		if c > len(parts) {
			return ""
		}
		return clean(parts[c-1])
	}
	ep := s.flow.Sender(dir)
	emit := func(field, value string) {
		if value != "" {
			out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
		}
	}
	emit("astm.sender_name", get(5, 1))
	emit("astm.version", get(5, 2))
	emit("astm.serial", get(5, 3))
	emit("astm.receiver_id", get(10, 1))
	emit("astm.processing_id", get(12, 1))
	emit("astm.protocol_version", get(13, 1))
}

// Gap implements dissect.Stream: resynchronise at the next STX.
func (s *stream) Gap(dir dissect.Direction) { s.dir[dir&1] = direction{} }

// End implements dissect.Stream.
func (s *stream) End(dissect.Emitter) {}

func clean(s string) string {
	if len(s) > 256 {
		s = s[:256]
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "")))
}
