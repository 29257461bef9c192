// Package ntp dissects NTP packets (UDP 123, RFC 5905): version, mode,
// stratum and reference id of each speaker, and reports servers that
// answer mode 6 (control) or mode 7 (private, "monlist") queries, which
// are abused for traffic amplification and information disclosure.
package ntp

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "ntp"

// Dissector is the NTP dissector.
type Dissector struct{}

// New returns an NTP dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.PacketDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerUDP }

// Ports implements dissect.Dissector.
func (*Dissector) Ports() []uint16 { return []uint16{123} }

// Detect accepts datagrams to or from port 123 with a plausible header:
// version 1 to 4 and, for modes 1 to 5, at least the 48-byte header.
// Without the port an NTP header is too weak a signature.
func (*Dissector) Detect(f *dissect.Flow, _ dissect.Direction, p []byte) bool {
	if f == nil || f.Client.Addr.Port() != 123 && f.Server.Addr.Port() != 123 {
		return false
	}
	return valid(p)
}

func valid(p []byte) bool {
	if len(p) < 8 {
		return false
	}
	v, mode := p[0]>>3&7, p[0]&7
	switch {
	case v < 1 || v > 4 || mode == 0:
		return false
	case mode <= 5:
		return len(p) >= 48
	case mode == 6:
		return len(p) >= 12
	}
	return true // mode 7
}

var modeNames = [8]string{"reserved", "symmetric active", "symmetric passive", "client", "server", "broadcast", "control", "private"}

var errMalformed = errors.New("not an ntp packet")

// DissectPacket implements dissect.PacketDissector.
func (d *Dissector) DissectPacket(f *dissect.Flow, dir dissect.Direction, p []byte, t time.Time, out dissect.Emitter) error {
	if !valid(p) {
		return fmt.Errorf("ntp: %d-byte packet: %w", len(p), errMalformed)
	}
	ep, peer := f.Sender(dir), f.Sender(1-dir)
	emit := func(field, value string) {
		out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
	}
	v, mode := p[0]>>3&7, p[0]&7
	emit("ntp.version", strconv.Itoa(int(v)))
	emit("ntp.mode", modeNames[mode])
	switch mode {
	case 6:
		if p[1]&0x80 != 0 { // response bit
			out.Report(dissect.Finding{
				Time: t, Protocol: Name, Kind: "ntp-mode6", Severity: "medium",
				Detail: "NTP server answers mode 6 control queries (ntpq): discloses configuration and can amplify traffic; restrict with 'restrict ... noquery'",
				MAC:    ep.MAC, IP: ep.Addr.Addr(), Peer: peer.Addr,
			})
		}
		return nil
	case 7:
		if p[0]&0x80 != 0 {
			out.Report(dissect.Finding{
				Time: t, Protocol: Name, Kind: "ntp-mode7", Severity: "high",
				Detail: "NTP server answers mode 7 private queries (monlist, CVE-2013-5211 amplification); disable them",
				MAC:    ep.MAC, IP: ep.Addr.Addr(), Peer: peer.Addr,
			})
		}
		return nil
	}
	stratum := p[1]
	ref := p[12:16]
	switch {
	case stratum == 0 && (mode == 4 || mode == 5) && ascii(ref) != "":
		emit("ntp.kiss_code", ascii(ref)) // kiss-o'-death (RFC 5905 §7.4)
		return nil
	case stratum == 0:
		return nil // unspecified: a client that does not say
	}
	emit("ntp.stratum", strconv.Itoa(int(stratum)))
	switch {
	case stratum == 1:
		if id := ascii(ref); id != "" {
			emit("ntp.reference_id", id) // e.g. GPS, PPS, DCF
		}
	case stratum < 16:
		if a := netip.AddrFrom4([4]byte(ref)); !a.IsUnspecified() {
			// The upstream server's IPv4 address (or a hash for IPv6).
			emit("ntp.reference_id", a.String())
		}
	}
	return nil
}

// ascii returns a reference id as text when it is printable ASCII.
func ascii(b []byte) string {
	s := strings.TrimRight(string(b), "\x00")
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return ""
		}
	}
	return strings.TrimSpace(s)
}
