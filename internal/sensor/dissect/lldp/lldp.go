// Package lldp dissects IEEE 802.1AB Link Layer Discovery Protocol frames
// (ethertype 0x88cc): chassis and port ids, system name and description,
// capabilities, management addresses and the LLDP-MED (ANSI/TIA-1057)
// inventory TLVs that medical devices and IP phones use to announce
// hardware, firmware and software revisions, serial number, manufacturer
// and model.
package lldp

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "lldp"

// EtherType of LLDP.
const EtherType = 0x88cc

// Dissector is the LLDP dissector.
type Dissector struct{}

// New returns an LLDP dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.PacketDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerLink }

// Ports implements dissect.Dissector (none: link layer).
func (*Dissector) Ports() []uint16 { return nil }

// Detect accepts ethertype 0x88cc frames that start with a Chassis ID TLV.
func (*Dissector) Detect(f *dissect.Flow, _ dissect.Direction, p []byte) bool {
	return f != nil && f.EtherType == EtherType && len(p) >= 2 && p[0]>>1 == tlvChassisID
}

// TLV types (IEEE 802.1AB-2016 §8.4).
const (
	tlvEnd         = 0
	tlvChassisID   = 1
	tlvPortID      = 2
	tlvTTL         = 3
	tlvPortDesc    = 4
	tlvSystemName  = 5
	tlvSystemDesc  = 6
	tlvSystemCaps  = 7
	tlvMgmtAddress = 8
	tlvOrgSpecific = 127
)

// LLDP-MED inventory TLV subtypes under the TIA OUI 00-12-BB.
var medFields = map[byte]string{
	5:  "lldp.med_hardware_revision",
	6:  "lldp.med_firmware_revision",
	7:  "lldp.med_software_revision",
	8:  "lldp.med_serial_number",
	9:  "lldp.med_manufacturer",
	10: "lldp.med_model",
	11: "lldp.med_asset_id",
}

var capNames = []string{"other", "repeater", "bridge", "wlan-ap", "router", "telephone", "docsis", "station", "c-vlan", "s-vlan", "tpmr"}

var errTruncated = errors.New("tlv runs past the end of the frame")

// DissectPacket implements dissect.PacketDissector. The loop always moves
// forward by the TLV header plus its length, so hostile lengths cannot make
// it spin (the lldp-infinite-loop regression captures).
func (d *Dissector) DissectPacket(f *dissect.Flow, dir dissect.Direction, p []byte, t time.Time, out dissect.Emitter) error {
	ep := f.Sender(dir)
	emit := func(field, value string) {
		if value != "" {
			out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
		}
	}
	for off := 0; off+2 <= len(p); {
		typ, n := p[off]>>1, int(p[off]&1)<<8|int(p[off+1])
		off += 2
		if off+n > len(p) {
			return fmt.Errorf("lldp: tlv type %d at offset %d length %d: %w", typ, off-2, n, errTruncated)
		}
		v := p[off : off+n]
		off += n
		switch typ {
		case tlvEnd:
			return nil
		case tlvChassisID:
			emit("lldp.chassis_id", idString(v, 4, 5))
		case tlvPortID:
			emit("lldp.port_id", idString(v, 3, 4))
		case tlvPortDesc:
			emit("lldp.port_description", text(v))
		case tlvSystemName:
			emit("lldp.system_name", text(v))
		case tlvSystemDesc:
			emit("lldp.system_description", text(v))
		case tlvSystemCaps:
			if len(v) == 4 {
				emit("lldp.capabilities", caps(uint16(v[2])<<8|uint16(v[3])))
			}
		case tlvMgmtAddress:
			if len(v) >= 2 && int(v[0]) >= 1 && 1+int(v[0]) <= len(v) {
				emit("lldp.mgmt_address", address(v[1], v[2:1+int(v[0])]))
			}
		case tlvOrgSpecific:
			if len(v) >= 4 && v[0] == 0x00 && v[1] == 0x12 && v[2] == 0xbb {
				if field, ok := medFields[v[3]]; ok {
					emit(field, text(v[4:]))
				}
			}
		}
	}
	return nil
}

// idString renders a chassis or port id by subtype: MAC addresses and
// network addresses are decoded, everything else is text.
func idString(v []byte, macSubtype, addrSubtype byte) string {
	if len(v) < 2 {
		return ""
	}
	switch v[0] {
	case macSubtype:
		if len(v) == 7 {
			return mac(v[1:])
		}
	case addrSubtype:
		return address(v[1], v[2:])
	}
	return text(v[1:])
}

func mac(b []byte) string {
	const hex = "0123456789abcdef"
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteByte(hex[c>>4])
		sb.WriteByte(hex[c&15])
	}
	return sb.String()
}

// address renders an IANA address-family-numbered address.
func address(family byte, b []byte) string {
	switch {
	case family == 1 && len(b) == 4, family == 2 && len(b) == 16:
		a, _ := netip.AddrFromSlice(b)
		return a.String()
	case family == 6 && len(b) == 6:
		return mac(b)
	}
	return ""
}

func caps(c uint16) string {
	var names []string
	for i, n := range capNames {
		if c&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// text turns a TLV string into one clean line: control characters become
// spaces, invalid UTF-8 is replaced, runs of blanks collapse.
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
