// Package mqtt dissects the start of cleartext MQTT sessions (TCP 1883):
// the client's CONNECT (client id, protocol level, user name) and the
// broker's CONNACK. It reports passwords sent in clear (never storing
// them) and brokers that accept clients without credentials.
package mqtt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "mqtt"

// maxConnect bounds a buffered CONNECT (the will message can be large).
const maxConnect = 64 << 10

// Dissector is the MQTT dissector.
type Dissector struct{}

// New returns an MQTT dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.StreamDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerTCP }

// Ports implements dissect.Dissector. 8883 is MQTT over TLS and belongs to
// the tls dissector.
func (*Dissector) Ports() []uint16 { return []uint16{1883} }

// Detect accepts a CONNECT packet: type 1 with flags 0, a valid remaining
// length and the protocol name "MQTT" (3.1.1, 5.0) or "MQIsdp" (3.1).
func (*Dissector) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	if len(p) < 2 || p[0] != 0x10 {
		return false
	}
	_, n, ok := remaining(p[1:])
	if !ok || len(p) < 1+n+8 {
		return false
	}
	v := p[1+n:]
	l := int(binary.BigEndian.Uint16(v))
	return (l == 4 && string(v[2:6]) == "MQTT") || (l == 6 && len(v) >= 8 && string(v[2:8]) == "MQIsdp")
}

// remaining decodes the variable-length Remaining Length (at most 4 bytes).
func remaining(b []byte) (value, size int, ok bool) {
	mul := 1
	for i := 0; i < 4 && i < len(b); i++ {
		value += int(b[i]&0x7f) * mul
		if b[i]&0x80 == 0 {
			return value, i + 1, true
		}
		mul *= 128
	}
	return 0, 0, false
}

// NewStream implements dissect.StreamDissector.
func (*Dissector) NewStream(f *dissect.Flow) dissect.Stream { return &stream{flow: f} }

type stream struct {
	flow *dissect.Flow
	buf  [2][]byte
	done [2]bool
	// From the CONNECT, for judging the CONNACK.
	sawConnect, anonymous bool
	clientID              string
}

var errMalformed = errors.New("malformed mqtt packet")

// Feed implements dissect.Stream. Only the first packet of each direction
// is read: CONNECT from the client, CONNACK from the broker.
func (s *stream) Feed(dir dissect.Direction, data []byte, t time.Time, out dissect.Emitter) error {
	if s.done[dir] {
		return nil
	}
	s.buf[dir] = append(s.buf[dir], data...)
	b := s.buf[dir]
	if len(b) < 2 {
		return nil
	}
	n, size, ok := remaining(b[1:])
	if !ok {
		if len(b) >= 5 {
			return s.giveUp(dir, "remaining length longer than 4 bytes")
		}
		return nil
	}
	if n > maxConnect {
		return s.giveUp(dir, fmt.Sprintf("first packet of %d bytes", n))
	}
	if len(b) < 1+size+n {
		return nil
	}
	pkt := b[1+size : 1+size+n]
	typ := b[0]
	s.done[dir], s.buf[dir] = true, nil
	switch {
	case dir == dissect.FromClient && typ == 0x10:
		if err := s.connect(pkt, t, out); err != nil {
			return fmt.Errorf("mqtt connect: %w", err)
		}
	case dir == dissect.FromServer && typ == 0x20 && len(pkt) >= 2:
		s.connack(pkt, t, out)
	}
	return nil
}

func (s *stream) giveUp(dir dissect.Direction, why string) error {
	s.done[dir], s.buf[dir] = true, nil
	return fmt.Errorf("mqtt %s: %s: %w", dir, why, errMalformed)
}

// str reads a UTF-8 string or binary data with a 2-byte length prefix.
func str(b []byte) ([]byte, []byte, bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n {
		return nil, nil, false
	}
	return b[2 : 2+n], b[2+n:], true
}

func (s *stream) connect(p []byte, t time.Time, out dissect.Emitter) error {
	name, p, ok := str(p)
	if !ok || len(p) < 4 {
		return errMalformed
	}
	level, flags := p[0], p[1]
	p = p[4:] // level, flags, keep alive
	if flags&0x01 != 0 {
		return fmt.Errorf("reserved connect flag set: %w", errMalformed)
	}
	if level == 5 { // properties
		n, size, ok := remaining(p)
		if !ok || len(p) < size+n {
			return fmt.Errorf("properties: %w", errMalformed)
		}
		p = p[size+n:]
	}
	id, p, ok := str(p)
	if !ok {
		return fmt.Errorf("client id: %w", errMalformed)
	}
	if flags&0x04 != 0 { // will flag
		if level == 5 {
			n, size, ok := remaining(p)
			if !ok || len(p) < size+n {
				return fmt.Errorf("will properties: %w", errMalformed)
			}
			p = p[size+n:]
		}
		if _, p, ok = str(p); !ok {
			return fmt.Errorf("will topic: %w", errMalformed)
		}
		if _, p, ok = str(p); !ok {
			return fmt.Errorf("will payload: %w", errMalformed)
		}
	}
	var user []byte
	if flags&0x80 != 0 {
		if user, p, ok = str(p); !ok {
			return fmt.Errorf("user name: %w", errMalformed)
		}
	}
	hasPassword := flags&0x40 != 0
	if hasPassword {
		if _, _, ok = str(p); !ok {
			return fmt.Errorf("password: %w", errMalformed)
		}
	}

	ep := s.flow.Client
	emit := func(field, value string) {
		if value != "" {
			out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
		}
	}
	s.sawConnect = true
	s.clientID = clean(id)
	s.anonymous = flags&0x80 == 0 && !hasPassword
	emit("mqtt.client_id", s.clientID)
	emit("mqtt.protocol_level", strconv.Itoa(int(level)))
	emit("mqtt.version", map[byte]string{3: "3.1", 4: "3.1.1", 5: "5.0"}[level])
	emit("mqtt.protocol_name", clean(name))
	u := clean(user)
	emit("mqtt.user", u)
	if hasPassword {
		who := "without a user name"
		if u != "" {
			who = fmt.Sprintf("for user %q", u)
		}
		out.Report(dissect.Finding{
			Time: t, Protocol: Name, Kind: "cleartext-credentials", Severity: "high",
			Detail: fmt.Sprintf("MQTT CONNECT from client %q sent a password in clear %s; use MQTT over TLS (8883)", s.clientID, who),
			MAC:    s.flow.Server.MAC, IP: s.flow.Server.Addr.Addr(), Peer: s.flow.Client.Addr,
		})
	}
	return nil
}

// connack reports a broker that accepted a client without credentials.
func (s *stream) connack(p []byte, t time.Time, out dissect.Emitter) {
	if !s.sawConnect || !s.anonymous || p[1] != 0 {
		return // 0 is "accepted" in 3.1.1 and "success" in 5.0
	}
	out.Report(dissect.Finding{
		Time: t, Protocol: Name, Kind: "mqtt-anonymous", Severity: "medium",
		Detail: fmt.Sprintf("MQTT broker accepted client %q without a user name or password", s.clientID),
		MAC:    s.flow.Server.MAC, IP: s.flow.Server.Addr.Addr(), Peer: s.flow.Client.Addr,
	})
}

// Gap implements dissect.Stream.
func (s *stream) Gap(dir dissect.Direction) { s.done[dir], s.buf[dir] = true, nil }

// End implements dissect.Stream.
func (s *stream) End(dissect.Emitter) {}

func clean(b []byte) string {
	if len(b) > 256 {
		b = b[:256]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(string(b), ""))
}
