// Package dhcp dissects DHCPv4 (RFC 2131/2132) and DHCPv6 (RFC 8415)
// messages. It reports what a client says about itself: host name (option
// 12), vendor class (60; DHCPv6 16), client FQDN (81; DHCPv6 39), the
// parameter request list as a fingerprint (55; DHCPv6 option request 6),
// the client identifier (61; DHCPv6 DUID) and the message type.
// Observations of DHCPv4 messages belong to the client hardware address
// (chaddr), not to the sender, so relayed messages are attributed right.
package dhcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector name.
const Name = "dhcp"

// Observation fields emitted by this dissector.
const (
	FieldHostname     = "dhcp.hostname"
	FieldVendorClass  = "dhcp.vendor_class"
	FieldClientFQDN   = "dhcp.client_fqdn"
	FieldFingerprint  = "dhcp.fingerprint"  // DHCPv4 option 55, e.g. "1,3,6,15"
	FieldFingerprint6 = "dhcp.fingerprint6" // DHCPv6 option request option, e.g. "23,24,39"
	FieldClientID     = "dhcp.client_id"    // DHCPv4 option 61, hex
	FieldDUID         = "dhcp.duid"         // DHCPv6 client DUID, hex
	FieldMessageType  = "dhcp.message_type" // e.g. "request", "solicit"
	FieldRequestedIP  = "dhcp.requested_ip" // DHCPv4 option 50
	FieldAssignedIP   = "dhcp.assigned_ip"  // yiaddr of an ACK
)

var errMalformed = errors.New("malformed dhcp message")

const maxValue = 255

// Dissector is the DHCP dissector. It holds no per-flow state.
type Dissector struct{}

// New returns a DHCP dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.PacketDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerUDP }

// Ports implements dissect.Dissector.
func (*Dissector) Ports() []uint16 { return []uint16{67, 68, 546, 547} }

var magicCookie = []byte{0x63, 0x82, 0x53, 0x63}

func isV6(f *dissect.Flow) bool {
	c, s := f.Client.Addr.Port(), f.Server.Addr.Port()
	return c == 546 || c == 547 || s == 546 || s == 547
}

// Detect implements dissect.Dissector.
func (*Dissector) Detect(f *dissect.Flow, _ dissect.Direction, p []byte) bool {
	if isV6(f) {
		return len(p) >= 4 && p[0] >= 1 && p[0] <= 13 && validV6Options(p)
	}
	return len(p) >= 240 && (p[0] == 1 || p[0] == 2) && p[2] <= 16 && string(p[236:240]) == string(magicCookie)
}

func validV6Options(p []byte) bool {
	var opts []byte
	if p[0] == 12 || p[0] == 13 {
		if len(p) < 34 {
			return false
		}
		opts = p[34:]
	} else {
		opts = p[4:]
	}
	for len(opts) >= 4 {
		l := int(binary.BigEndian.Uint16(opts[2:4]))
		if len(opts) < 4+l {
			return false
		}
		opts = opts[4+l:]
	}
	return len(opts) == 0
}

// DissectPacket implements dissect.PacketDissector.
func (d *Dissector) DissectPacket(f *dissect.Flow, dir dissect.Direction, p []byte, t time.Time, out dissect.Emitter) error {
	if isV6(f) && (len(p) < 236 || string(p[236:min(240, len(p))]) != string(magicCookie)) {
		return dissectV6(f, dir, p, t, out, 0, netip.Addr{})
	}
	return dissectV4(p, t, out)
}

var v4Types = [...]string{1: "discover", 2: "offer", 3: "request", 4: "decline", 5: "ack", 6: "nak", 7: "release", 8: "inform",
	9: "forcerenew", 10: "leasequery", 11: "leaseunassigned", 12: "leaseunknown", 13: "leaseactive", 14: "bulkleasequery",
	15: "leasequerydone", 16: "activeleasequery", 17: "leasequerystatus", 18: "tls"}

func dissectV4(p []byte, t time.Time, out dissect.Emitter) error {
	if len(p) < 240 || string(p[236:240]) != string(magicCookie) {
		return fmt.Errorf("dhcpv4: %w: %d bytes, no magic cookie", errMalformed, len(p))
	}
	op, htype, hlen := p[0], p[1], p[2]
	var mac string
	if htype == 1 && hlen == 6 {
		mac = formatMAC(p[28:34])
	}
	ciaddr := netip.AddrFrom4([4]byte(p[12:16]))
	yiaddr := netip.AddrFrom4([4]byte(p[16:20]))
	var ip netip.Addr
	if !ciaddr.IsUnspecified() {
		ip = ciaddr
	}
	var (
		msgType                         byte
		hostname, vendor, fqdn, fp, cid string
		requested                       netip.Addr
		haveHost, haveVendor, haveFQDN  bool
		haveFP, haveCID                 bool
	)
	opts := p[240:]
	var err error
	for len(opts) > 0 {
		code := opts[0]
		if code == 0 { // pad
			opts = opts[1:]
			continue
		}
		if code == 255 { // end
			break
		}
		if len(opts) < 2 || len(opts) < 2+int(opts[1]) {
			err = fmt.Errorf("dhcpv4 option %d: %w: length beyond end of message", code, errMalformed)
			break
		}
		v := opts[2 : 2+int(opts[1])]
		opts = opts[2+int(opts[1]):]
		switch code {
		case 53:
			if len(v) == 1 {
				msgType = v[0]
			}
		case 12:
			hostname, haveHost = cleanString(v), true
		case 60:
			vendor, haveVendor = cleanString(v), true
		case 81:
			if s, ok := parseFQDNOption(v); ok {
				fqdn, haveFQDN = s, true
			}
		case 55:
			fp, haveFP = fingerprint(v), len(v) > 0
		case 61:
			cid, haveCID = hexString(v), len(v) > 0
		case 50:
			if len(v) == 4 {
				requested = netip.AddrFrom4([4]byte(v))
			}
		}
	}
	if mac == "" && !ip.IsValid() {
		// Without chaddr the sender is the best guess, which is wrong for
		// server messages: only report client messages then.
		if op != 1 {
			return err
		}
	}
	server := op == 2
	if server && !yiaddr.IsUnspecified() {
		ip = yiaddr
	}
	emit := func(field, value string) {
		if value == "" {
			return
		}
		out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: mac, IP: ip})
	}
	if msgType != 0 {
		name := "type-" + strconv.Itoa(int(msgType))
		if int(msgType) < len(v4Types) && v4Types[msgType] != "" {
			name = v4Types[msgType]
		}
		emit(FieldMessageType, name)
	}
	if haveHost {
		emit(FieldHostname, hostname)
	}
	if haveFQDN {
		emit(FieldClientFQDN, fqdn)
	}
	if !server { // in replies these options describe the server
		if haveVendor {
			emit(FieldVendorClass, vendor)
		}
		if haveFP {
			emit(FieldFingerprint, fp)
		}
		if haveCID {
			emit(FieldClientID, cid)
		}
		if requested.IsValid() && !requested.IsUnspecified() {
			emit(FieldRequestedIP, requested.String())
		}
	} else if msgType == 5 && !yiaddr.IsUnspecified() {
		emit(FieldAssignedIP, yiaddr.String())
	}
	return err
}

var v6Types = [...]string{1: "solicit", 2: "advertise", 3: "request", 4: "confirm", 5: "renew", 6: "rebind", 7: "reply",
	8: "release", 9: "decline", 10: "reconfigure", 11: "information-request", 12: "relay-forw", 13: "relay-repl"}

const maxRelayDepth = 8

// dissectV6 decodes one DHCPv6 message. peer is the relay's peer-address
// when the message was relayed (depth > 0): the message then belongs to
// that client, whose MAC comes from its DUID when the DUID carries one.
func dissectV6(f *dissect.Flow, dir dissect.Direction, p []byte, t time.Time, out dissect.Emitter, depth int, peer netip.Addr) error {
	if len(p) < 4 {
		return fmt.Errorf("dhcpv6: %w: %d bytes", errMalformed, len(p))
	}
	typ := p[0]
	var opts []byte
	relay := typ == 12 || typ == 13
	if relay {
		if len(p) < 34 {
			return fmt.Errorf("dhcpv6 relay message: %w: %d bytes", errMalformed, len(p))
		}
		opts = p[34:]
	} else {
		opts = p[4:]
	}
	// Server messages echo the client's options: attribute them to the client.
	var mac string
	var ip netip.Addr
	switch typ {
	case 2, 7, 10, 13:
		c := f.Client
		if dir == dissect.FromClient {
			c = f.Server
		}
		mac, ip = c.MAC, c.Addr.Addr()
	}
	if depth > 0 {
		mac, ip = "", peer
	}
	var duidMAC string
	var obs []dissect.Observation
	emit := func(field, value string) {
		if value != "" {
			obs = append(obs, dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: mac, IP: ip})
		}
	}
	if !relay && int(typ) < len(v6Types) && v6Types[typ] != "" {
		emit(FieldMessageType, v6Types[typ])
	}
	var err error
	for len(opts) > 0 {
		if len(opts) < 4 {
			err = fmt.Errorf("dhcpv6: %w: %d trailing bytes", errMalformed, len(opts))
			break
		}
		code := binary.BigEndian.Uint16(opts[0:2])
		l := int(binary.BigEndian.Uint16(opts[2:4]))
		if len(opts) < 4+l {
			err = fmt.Errorf("dhcpv6 option %d: %w: length %d beyond end of message", code, errMalformed, l)
			break
		}
		v := opts[4 : 4+l]
		opts = opts[4+l:]
		switch code {
		case 1: // client identifier
			if !relay && l > 0 {
				emit(FieldDUID, hexString(v))
				duidMAC = macFromDUID(v)
			}
		case 6: // option request
			if !relay && l >= 2 {
				var b strings.Builder
				for i := 0; i+1 < l; i += 2 {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(strconv.Itoa(int(binary.BigEndian.Uint16(v[i:]))))
				}
				emit(FieldFingerprint6, b.String())
			}
		case 16: // vendor class: enterprise number, then length-prefixed strings
			if !relay && l >= 4 {
				emit(FieldVendorClass, vendorClass6(v[4:]))
			}
		case 39: // client FQDN: flags, then a DNS-encoded name
			if !relay && l >= 1 {
				if name, ok := dnsName(v[1:]); ok {
					emit(FieldClientFQDN, name)
				}
			}
		case 9: // relay message
			if relay && depth < maxRelayDepth {
				peerAddr := netip.AddrFrom16([16]byte(p[18:34]))
				if e := dissectV6(f, dir, v, t, out, depth+1, peerAddr); e != nil && err == nil {
					err = e
				}
			}
		}
	}
	for _, o := range obs {
		if depth > 0 && duidMAC != "" {
			o.MAC = duidMAC
		}
		out.Observe(o)
	}
	return err
}

// macFromDUID returns the Ethernet address inside a DUID-LLT (type 1) or
// DUID-LL (type 3), or "".
func macFromDUID(v []byte) string {
	if len(v) < 4 || binary.BigEndian.Uint16(v[2:4]) != 1 {
		return ""
	}
	switch binary.BigEndian.Uint16(v[0:2]) {
	case 1:
		if len(v) == 14 {
			return formatMAC(v[8:14])
		}
	case 3:
		if len(v) == 10 {
			return formatMAC(v[4:10])
		}
	}
	return ""
}

func vendorClass6(v []byte) string {
	var parts []string
	for len(v) >= 2 {
		l := int(binary.BigEndian.Uint16(v))
		if len(v) < 2+l {
			break
		}
		if s := cleanString(v[2 : 2+l]); s != "" {
			parts = append(parts, s)
		}
		v = v[2+l:]
	}
	return truncate(strings.Join(parts, " "))
}

// parseFQDNOption decodes DHCPv4 option 81: flags, rcode1, rcode2, name.
// The name is DNS wire format when the E flag (0x04) is set, else ASCII.
func parseFQDNOption(v []byte) (string, bool) {
	if len(v) < 3 {
		return "", false
	}
	if v[0]&0x04 != 0 {
		return dnsName(v[3:])
	}
	s := cleanString(v[3:])
	return s, s != ""
}

// dnsName decodes an uncompressed DNS wire name (RFC 1035 §3.1); a partial
// name (no final zero label) is accepted as RFC 4702 allows.
func dnsName(v []byte) (string, bool) {
	var b strings.Builder
	for len(v) > 0 {
		l := int(v[0])
		if l == 0 {
			break
		}
		if l > 63 || len(v) < 1+l {
			return "", false
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(cleanString(v[1 : 1+l]))
		v = v[1+l:]
	}
	s := b.String()
	return truncate(s), s != ""
}

func fingerprint(v []byte) string {
	var b strings.Builder
	for i, c := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(c)))
	}
	return b.String()
}

const hexDigits = "0123456789abcdef"

func hexString(v []byte) string {
	if len(v) > 64 {
		v = v[:64]
	}
	b := make([]byte, 0, len(v)*3)
	for i, c := range v {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return string(b)
}

func formatMAC(m []byte) string { return hexString(m[:6]) }

// cleanString makes an option value printable: invalid UTF-8 and control
// characters are dropped, trailing NULs and spaces trimmed, length capped.
func cleanString(v []byte) string {
	s := strings.ToValidUTF8(string(v), "")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	return truncate(strings.TrimSpace(s))
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
