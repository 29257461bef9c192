// Package ssdp dissects the Simple Service Discovery Protocol of UPnP
// (HTTP over UDP 1900): NOTIFY announcements, M-SEARCH queries and their
// unicast responses. Devices announce their SERVER string (OS, UPnP
// version, product), unique service name and description URL.
package ssdp

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "ssdp"

// maxValue caps one header value; longer values are cut.
const maxValue = 512

// Dissector is the SSDP dissector.
type Dissector struct{}

// New returns an SSDP dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.PacketDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerUDP }

// Ports implements dissect.Dissector.
func (*Dissector) Ports() []uint16 { return []uint16{1900} }

// Detect accepts NOTIFY and M-SEARCH requests, and HTTP responses that
// carry an ST or USN header (search responses).
func (*Dissector) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	switch {
	case bytes.HasPrefix(p, []byte("NOTIFY * HTTP/1.")), bytes.HasPrefix(p, []byte("M-SEARCH * HTTP/1.")):
		return true
	case bytes.HasPrefix(p, []byte("HTTP/1.1 200")), bytes.HasPrefix(p, []byte("HTTP/1.0 200")):
		head := p[:min(len(p), 2048)]
		return containsFold(head, "\nst:") || containsFold(head, "\nusn:")
	}
	return false
}

func containsFold(b []byte, s string) bool {
	return bytes.Contains(bytes.ToLower(b), []byte(s))
}

// headers maps SSDP header names to observation fields. USER-AGENT is sent
// by control points in M-SEARCH (UDA 2.0 §1.3.2).
var headers = map[string]string{
	"server":     "ssdp.server",
	"usn":        "ssdp.usn",
	"location":   "ssdp.location",
	"nt":         "ssdp.nt",
	"st":         "ssdp.st",
	"user-agent": "ssdp.user_agent",
}

var errNotSSDP = errors.New("not an ssdp message")

// DissectPacket implements dissect.PacketDissector.
func (d *Dissector) DissectPacket(f *dissect.Flow, dir dissect.Direction, p []byte, t time.Time, out dissect.Emitter) error {
	line, rest, _ := bytes.Cut(p, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	if !bytes.HasPrefix(line, []byte("NOTIFY ")) && !bytes.HasPrefix(line, []byte("M-SEARCH ")) && !bytes.HasPrefix(line, []byte("HTTP/")) {
		return fmt.Errorf("ssdp: start line %q: %w", clean(line), errNotSSDP)
	}
	ep := f.Sender(dir)
	seen := map[string]bool{}
	for n := 0; len(rest) > 0 && n < 64; n++ {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break // end of headers
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		field := headers[strings.ToLower(string(bytes.TrimSpace(name)))]
		v := clean(value)
		if field == "" || v == "" || seen[field] {
			continue
		}
		// An M-SEARCH's ST is what the searcher looks for: still a fact
		// about the searcher, so it is kept.
		seen[field] = true
		out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: v, MAC: ep.MAC, IP: ep.Addr.Addr()})
	}
	return nil
}

// clean trims a header value, drops control characters and invalid UTF-8,
// and caps its length.
func clean(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > maxValue {
		b = b[:maxValue]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	s := strings.ToValidUTF8(string(b), "")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
