// Package netbios dissects the NetBIOS name service (UDP 137, RFC 1002
// §4.2) and datagram service (UDP 138, RFC 1002 §4.4): computer names and
// workgroups from name registrations, positive name query responses, node
// status responses (with the adapter MAC) and datagram headers, plus the
// OS version from browser host announcements.
package netbios

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "netbios"

// Dissector is the NetBIOS dissector.
type Dissector struct{}

// New returns a NetBIOS dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.PacketDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerUDP }

// Ports implements dissect.Dissector.
func (*Dissector) Ports() []uint16 { return []uint16{137, 138} }

// Detect accepts a name service packet whose first name is a first-level
// encoded NetBIOS name (32 letters A–P), or a direct/broadcast datagram
// whose source name is. This tells NBNS apart from DNS on any port.
func (*Dissector) Detect(f *dissect.Flow, _ dissect.Direction, p []byte) bool {
	if f != nil {
		for _, port := range []uint16{f.Client.Addr.Port(), f.Server.Addr.Port()} {
			if port == 53 || port == 5353 || port == 5355 {
				return false // DNS, mDNS, LLMNR: a NetBIOS-looking name is still DNS
			}
		}
	}
	if len(p) >= 12+34 && encodedName(p[12:]) {
		return true
	}
	return len(p) >= 14+34 && p[0] >= 0x10 && p[0] <= 0x12 && encodedName(p[14:])
}

func encodedName(b []byte) bool {
	if b[0] != 0x20 {
		return false
	}
	for _, c := range b[1:33] {
		if c < 'A' || c > 'P' {
			return false
		}
	}
	return true
}

var errMalformed = errors.New("malformed netbios packet")

// DissectPacket implements dissect.PacketDissector.
func (d *Dissector) DissectPacket(f *dissect.Flow, dir dissect.Direction, p []byte, t time.Time, out dissect.Emitter) error {
	e := emitter{ep: f.Sender(dir), t: t, out: out}
	if len(p) >= 14+34 && p[0] >= 0x10 && p[0] <= 0x12 && encodedName(p[14:]) {
		return e.datagram(p)
	}
	if len(p) < 12 {
		return fmt.Errorf("netbios: header: %w", errMalformed)
	}
	return e.nameService(p)
}

type emitter struct {
	ep  dissect.Endpoint
	t   time.Time
	out dissect.Emitter
}

func (e *emitter) observe(field, value string) {
	if value != "" {
		e.out.Observe(dissect.Observation{Time: e.t, Protocol: Name, Field: field, Value: value, MAC: e.ep.MAC, IP: e.ep.Addr.Addr()})
	}
}

// name reports one NetBIOS name by its suffix and group flag, per the
// usual Microsoft conventions: <00>/<20> unique is the computer name,
// <00>/<1E> group and <1D>/<1B> unique name the workgroup or domain.
func (e *emitter) name(n string, suffix byte, group bool) {
	if n == "" || n == "*" || strings.HasPrefix(n, "\x01\x02__MSBROWSE__") || n == "__MSBROWSE__" {
		return
	}
	switch {
	case !group && (suffix == 0x00 || suffix == 0x20):
		e.observe("netbios.name", n)
	case group && (suffix == 0x00 || suffix == 0x1e || suffix == 0x1c), !group && (suffix == 0x1d || suffix == 0x1b):
		e.observe("netbios.workgroup", n)
	}
}

// Opcodes (RFC 1002 §4.2.1.1).
const (
	opQuery        = 0
	opRegistration = 5
	opRelease      = 6
	opRefresh      = 8
	opRefreshAlt   = 9
	opMultiHomed   = 15
)

const (
	typeNB     = 0x0020
	typeNBSTAT = 0x0021
)

func (e *emitter) nameService(p []byte) error {
	flags := binary.BigEndian.Uint16(p[2:])
	response := flags&0x8000 != 0
	op := flags >> 11 & 0xf
	rcode := flags & 0xf
	qd, an, ns, ar := binary.BigEndian.Uint16(p[4:]), binary.BigEndian.Uint16(p[6:]), binary.BigEndian.Uint16(p[8:]), binary.BigEndian.Uint16(p[10:])
	off := 12
	for i := 0; i < int(qd); i++ {
		_, _, next, err := readName(p, off)
		if err != nil {
			return fmt.Errorf("netbios: question %d: %w", i, err)
		}
		off = next + 4
	}
	if off > len(p) {
		return fmt.Errorf("netbios: question: %w", errMalformed)
	}
	registration := op == opRegistration || op == opRefresh || op == opRefreshAlt || op == opMultiHomed
	for i := 0; i < int(an)+int(ns)+int(ar) && i < 64; i++ {
		n, suffix, next, err := readName(p, off)
		if err != nil {
			return fmt.Errorf("netbios: resource record %d: %w", i, err)
		}
		if next+10 > len(p) {
			return fmt.Errorf("netbios: resource record %d header: %w", i, errMalformed)
		}
		typ := binary.BigEndian.Uint16(p[next:])
		rdlen := int(binary.BigEndian.Uint16(p[next+8:]))
		rd := p[next+10:]
		if rdlen > len(rd) {
			return fmt.Errorf("netbios: resource record %d data: %w", i, errMalformed)
		}
		rd = rd[:rdlen]
		off = next + 10 + rdlen
		switch {
		case typ == typeNB && rcode == 0 && (registration && !response || op == opQuery && response):
			// NB_FLAGS(2) + address(4) per entry; only names the sender
			// holds itself are its own (a WINS server answers for others).
			for len(rd) >= 6 {
				group := rd[0]&0x80 != 0
				a := netip.AddrFrom4([4]byte(rd[2:6]))
				if a == e.ep.Addr.Addr() || !e.ep.Addr.IsValid() {
					e.name(n, suffix, group)
				}
				rd = rd[6:]
			}
		case typ == typeNBSTAT && response && rcode == 0:
			e.nodeStatus(rd)
		}
	}
	return nil
}

// nodeStatus reads a NODE STATUS RESPONSE (RFC 1002 §4.2.18): the names
// the responder holds, then the adapter's unit id (its MAC address).
func (e *emitter) nodeStatus(rd []byte) {
	if len(rd) < 1 {
		return
	}
	n := int(rd[0])
	rd = rd[1:]
	for i := 0; i < n && len(rd) >= 18; i++ {
		name := cleanName(rd[:15])
		e.name(name, rd[15], rd[16]&0x80 != 0)
		rd = rd[18:]
	}
	if len(rd) >= 6 {
		if mac := [6]byte(rd[:6]); mac != [6]byte{} {
			e.observe("netbios.mac", fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]))
		}
	}
}

// datagram reads a DIRECT_UNIQUE, DIRECT_GROUP or BROADCAST datagram:
// the source name is the sender's, a group destination is its workgroup,
// and a browser HostAnnouncement inside gives the OS version.
func (e *emitter) datagram(p []byte) error {
	src := netip.AddrFrom4([4]byte(p[4:8]))
	if e.ep.Addr.IsValid() && src != e.ep.Addr.Addr() {
		return nil // relayed by a NBDD: the names are another host's
	}
	sn, ssuf, off, err := readName(p, 14)
	if err != nil {
		return fmt.Errorf("netbios datagram: source name: %w", err)
	}
	dn, dsuf, off, err := readName(p, off)
	if err != nil {
		return fmt.Errorf("netbios datagram: destination name: %w", err)
	}
	e.name(sn, ssuf, false)
	switch {
	case dsuf == 0x1d || dsuf == 0x1b: // (domain) master browser: unique, names the workgroup
		e.name(dn, dsuf, false)
	case p[0] == 0x11 || p[0] == 0x12 || dsuf == 0x1e: // sent to a group
		e.name(dn, dsuf, true)
	}
	// SMB Transaction to \MAILSLOT\BROWSE: find the mailslot name and the
	// announcement after it (MS-BRWS §2.2).
	body := p[off:]
	i := bytes.Index(body, []byte("\\MAILSLOT\\BROWSE\x00"))
	if i < 0 {
		return nil
	}
	ann := body[i+len("\\MAILSLOT\\BROWSE\x00"):]
	// HostAnnouncement (1), DomainAnnouncement (0x0c), LocalMasterAnnouncement (0x0f).
	if len(ann) >= 32 && (ann[0] == 0x01 || ann[0] == 0x0f) {
		major, minor := ann[22], ann[23]
		if major > 0 {
			e.observe("netbios.os_version", fmt.Sprintf("%d.%d", major, minor))
		}
		if c := ann[32:]; len(c) > 0 {
			if j := bytes.IndexByte(c, 0); j >= 0 {
				c = c[:j]
			}
			e.observe("netbios.comment", cleanName(c))
		}
	}
	return nil
}

// readName decodes a first-level encoded name at off (with scope labels;
// compression pointers are followed once, as NBNS answers use them).
// It returns the name without padding, its suffix byte and the offset
// after it.
func readName(p []byte, off int) (string, byte, int, error) {
	if off >= len(p) {
		return "", 0, 0, errMalformed
	}
	if p[off]&0xc0 == 0xc0 {
		if off+2 > len(p) {
			return "", 0, 0, errMalformed
		}
		ptr := int(binary.BigEndian.Uint16(p[off:]) & 0x3fff)
		if ptr >= off || ptr+34 > len(p) || p[ptr]&0xc0 == 0xc0 {
			return "", 0, 0, errMalformed
		}
		n, s, _, err := readName(p, ptr)
		return n, s, off + 2, err
	}
	if off+34 > len(p) || !encodedName(p[off:]) {
		return "", 0, 0, errMalformed
	}
	var raw [16]byte
	for i := range raw {
		raw[i] = (p[off+1+2*i]-'A')<<4 | (p[off+2+2*i] - 'A')
	}
	off += 33
	for n := 0; off < len(p) && p[off] != 0; n++ { // scope labels
		if p[off]&0xc0 != 0 || n > 63 {
			return "", 0, 0, errMalformed
		}
		off += 1 + int(p[off])
	}
	if off >= len(p) {
		return "", 0, 0, errMalformed
	}
	return cleanName(raw[:15]), raw[15], off + 1, nil
}

// cleanName trims the space padding of a 15-byte NetBIOS name and drops
// unprintable bytes (OEM code pages are not guessed).
func cleanName(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			sb.WriteByte(c)
		}
	}
	return strings.TrimRight(sb.String(), " ")
}
