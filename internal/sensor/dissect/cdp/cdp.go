// Package cdp dissects Cisco Discovery Protocol frames (802.3 LLC/SNAP,
// OUI 00-00-0C, protocol 0x2000): device id, platform, software version,
// addresses, port id, native VLAN, capabilities and VTP domain.
package cdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "cdp"

// SNAPProtocol is CDP's SNAP protocol id.
const SNAPProtocol = 0x2000

// Dissector is the CDP dissector.
type Dissector struct{}

// New returns a CDP dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.PacketDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerLink }

// Ports implements dissect.Dissector (none: link layer).
func (*Dissector) Ports() []uint16 { return nil }

// Detect accepts LLC/SNAP frames with protocol 0x2000 and CDP version 1 or 2.
func (*Dissector) Detect(f *dissect.Flow, _ dissect.Direction, p []byte) bool {
	if f == nil || !f.LLC || f.SNAPProtocol != SNAPProtocol {
		return false
	}
	p = trimSNAP(p)
	return len(p) >= 4 && (p[0] == 1 || p[0] == 2)
}

// trimSNAP drops an LLC and/or SNAP header if the core left it in place.
func trimSNAP(p []byte) []byte {
	if len(p) >= 8 && p[0] == 0xaa && p[1] == 0xaa && p[2] == 0x03 && p[3] == 0 && p[4] == 0 && p[5] == 0x0c {
		return p[8:]
	}
	if len(p) >= 5 && p[0] == 0 && p[1] == 0 && p[2] == 0x0c && p[3] == 0x20 && p[4] == 0 {
		return p[5:]
	}
	return p
}

// TLV types (Cisco CDP specification).
const (
	tlvDeviceID     = 0x0001
	tlvAddresses    = 0x0002
	tlvPortID       = 0x0003
	tlvCapabilities = 0x0004
	tlvVersion      = 0x0005
	tlvPlatform     = 0x0006
	tlvVTPDomain    = 0x0009
	tlvNativeVLAN   = 0x000a
	tlvDuplex       = 0x000b
	tlvMgmtAddress  = 0x0016
)

var capNames = []string{"router", "tb-bridge", "sr-bridge", "switch", "host", "igmp", "repeater", "phone", "remote", "cvta", "mac-relay"}

var errTruncated = errors.New("tlv runs past the end of the frame")

// DissectPacket implements dissect.PacketDissector.
func (d *Dissector) DissectPacket(f *dissect.Flow, dir dissect.Direction, p []byte, t time.Time, out dissect.Emitter) error {
	p = trimSNAP(p)
	if len(p) < 4 {
		return fmt.Errorf("cdp: header: %w", errTruncated)
	}
	ep := f.Sender(dir)
	emit := func(field, value string) {
		if value != "" {
			out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
		}
	}
	for off := 4; off+4 <= len(p); {
		typ, n := binary.BigEndian.Uint16(p[off:]), int(binary.BigEndian.Uint16(p[off+2:]))
		if n < 4 || off+n > len(p) {
			return fmt.Errorf("cdp: tlv %#04x at offset %d length %d: %w", typ, off, n, errTruncated)
		}
		v := p[off+4 : off+n]
		off += n
		switch typ {
		case tlvDeviceID:
			emit("cdp.device_id", text(v))
		case tlvPortID:
			emit("cdp.port_id", text(v))
		case tlvVersion:
			emit("cdp.software_version", text(v))
		case tlvPlatform:
			emit("cdp.platform", text(v))
		case tlvVTPDomain:
			emit("cdp.vtp_domain", text(v))
		case tlvNativeVLAN:
			if len(v) == 2 {
				emit("cdp.native_vlan", strconv.Itoa(int(binary.BigEndian.Uint16(v))))
			}
		case tlvDuplex:
			if len(v) == 1 {
				emit("cdp.duplex", map[byte]string{0: "half", 1: "full"}[v[0]])
			}
		case tlvCapabilities:
			if len(v) == 4 {
				emit("cdp.capabilities", caps(binary.BigEndian.Uint32(v)))
			}
		case tlvAddresses, tlvMgmtAddress:
			field := "cdp.address"
			if typ == tlvMgmtAddress {
				field = "cdp.mgmt_address"
			}
			for _, a := range addresses(v) {
				emit(field, a)
			}
		}
	}
	return nil
}

// addresses decodes an address list: count(4), then per address protocol
// type(1), length(1), protocol, address length(2), address. Unspecified
// addresses (0.0.0.0) are skipped.
func addresses(v []byte) []string {
	if len(v) < 4 {
		return nil
	}
	count := binary.BigEndian.Uint32(v)
	v = v[4:]
	var out []string
	for i := uint32(0); i < count && len(v) >= 2; i++ {
		pl := int(v[1])
		if len(v) < 2+pl+2 {
			break
		}
		proto := v[2 : 2+pl]
		al := int(binary.BigEndian.Uint16(v[2+pl:]))
		if len(v) < 4+pl+al {
			break
		}
		addr := v[4+pl : 4+pl+al]
		v = v[4+pl+al:]
		isIP := pl == 1 && proto[0] == 0xcc || pl == 8 && proto[6] == 0x86 && proto[7] == 0xdd
		if a, ok := netip.AddrFromSlice(addr); ok && isIP && !a.IsUnspecified() {
			out = append(out, a.Unmap().String())
		}
	}
	return out
}

func caps(c uint32) string {
	var names []string
	for i, n := range capNames {
		if c&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// text turns a TLV string into one clean line.
func text(b []byte) string {
	s := strings.ToValidUTF8(string(b), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
