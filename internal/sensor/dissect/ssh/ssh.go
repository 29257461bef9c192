// Package ssh dissects the cleartext start of an SSH connection: the
// identification strings (RFC 4253 §4.2) of client and server, which name
// the protocol version and the software ("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3").
// It reports servers still speaking SSH protocol 1.
package ssh

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "ssh"

// maxPreamble bounds what is read before the identification line: RFC 4253
// lets a server send other lines first, each at most 255 bytes.
const maxPreamble = 8 << 10

// maxBanner is the RFC 4253 limit of the identification line (with CR LF).
const maxBanner = 255

// Dissector is the SSH dissector.
type Dissector struct{}

// New returns an SSH dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.StreamDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerTCP }

// Ports implements dissect.Dissector (22, and 2222/830 for NETCONF and
// vendor service ports).
func (*Dissector) Ports() []uint16 { return []uint16{22, 2222, 830} }

// Detect accepts a stream that starts with "SSH-".
func (*Dissector) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	return len(p) >= 4 && string(p[:4]) == "SSH-"
}

// NewStream implements dissect.StreamDissector.
func (*Dissector) NewStream(f *dissect.Flow) dissect.Stream { return &stream{flow: f} }

type stream struct {
	flow *dissect.Flow
	buf  [2][]byte
	read [2]int // bytes consumed before the banner
	done [2]bool
}

var fields = [2]string{"ssh.client_banner", "ssh.server_banner"}

// Feed implements dissect.Stream.
func (s *stream) Feed(dir dissect.Direction, data []byte, t time.Time, out dissect.Emitter) error {
	if s.done[dir] {
		return nil
	}
	s.buf[dir] = append(s.buf[dir], data...)
	b := s.buf[dir]
	for {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			if len(b) > maxBanner {
				s.done[dir], s.buf[dir] = true, nil
				return fmt.Errorf("ssh %s: line longer than %d bytes before the identification string", dir, maxBanner)
			}
			s.buf[dir] = b
			return nil
		}
		line := bytes.TrimRight(b[:nl], "\r")
		b = b[nl+1:]
		if bytes.HasPrefix(line, []byte("SSH-")) {
			s.done[dir], s.buf[dir] = true, nil
			s.banner(dir, line, t, out)
			return nil
		}
		s.read[dir] += nl + 1
		if s.read[dir] > maxPreamble {
			s.done[dir], s.buf[dir] = true, nil
			return fmt.Errorf("ssh %s: no identification string in the first %d bytes", dir, maxPreamble)
		}
	}
}

func (s *stream) banner(dir dissect.Direction, line []byte, t time.Time, out dissect.Emitter) {
	if len(line) > maxBanner {
		line = line[:maxBanner]
	}
	v := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return -1
		}
		return r
	}, strings.ToValidUTF8(string(line), ""))
	ep := s.flow.Sender(dir)
	out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: fields[dir], Value: v, MAC: ep.MAC, IP: ep.Addr.Addr()})
	// SSH-protoversion-softwareversion SP comments; "1.99" means 2.0 with
	// 1.x fallback, which is also worth fixing.
	proto, _, _ := strings.Cut(strings.TrimPrefix(v, "SSH-"), "-")
	if dir == dissect.FromServer && strings.HasPrefix(proto, "1.") {
		sev, what := "high", "only SSH protocol 1"
		if proto == "1.99" {
			sev, what = "medium", "SSH protocol 1 as a fallback (version 1.99)"
		}
		out.Report(dissect.Finding{
			Time: t, Protocol: Name, Kind: "ssh-v1", Severity: sev,
			Detail: fmt.Sprintf("SSH server offers %s, which is broken (CRC-32 compensation attack, no integrity); banner %q", what, v),
			MAC:    ep.MAC, IP: ep.Addr.Addr(), Peer: s.flow.Client.Addr,
		})
	}
}

// Gap implements dissect.Stream: banners are only at the start.
func (s *stream) Gap(dir dissect.Direction) { s.done[dir], s.buf[dir] = true, nil }

// End implements dissect.Stream.
func (s *stream) End(dissect.Emitter) {}
