package sensor

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// IP protocol numbers the decoder knows.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// decodeResult says how far decoding of one frame went.
type decodeResult int

const (
	decodedNone  decodeResult = iota // not IP and not handled at the link layer
	decodedLink                      // a link-layer payload (LLDP, CDP…) in pkt.linkPayload
	decodedARP                       // an ARP packet, fields in pkt.arp*
	decodedIP                        // an IP packet with L4 fields
	decodedFrag                      // an IP fragment, needs reassembly
	decodedError                     // malformed
)

// packet is the decoder's scratch space, reused for every frame so that
// decoding does not allocate.
type packet struct {
	hasMAC       bool
	srcMAC       [6]byte
	dstMAC       [6]byte
	etherType    uint16
	llc          bool
	snapProto    uint16
	linkPayload  []byte
	src, dst     netip.Addr
	ipv6         bool
	proto        uint8
	ttl          uint8
	sport, dport uint16
	tcpFlags     uint8
	seq          uint32
	payload      []byte
	// fragment fields
	fragID     uint32
	fragOffset int
	fragMore   bool
	fragData   []byte
	// ARP
	arpOp  uint16
	arpSHA [6]byte
	arpSPA netip.Addr
	arpTPA netip.Addr
}

// Ethertypes.
const (
	etIPv4  = 0x0800
	etARP   = 0x0806
	etVLAN  = 0x8100
	etQinQ  = 0x88a8
	etQinQ2 = 0x9100
	etIPv6  = 0x86dd
	etLLDP  = 0x88cc
	etPPPoE = 0x8864 // PPPoE session stage
	etMPLS  = 0x8847
	etMPLSm = 0x8848
)

// decodeFrame decodes data of link type lt into p.
func decodeFrame(p *packet, lt layers.LinkType, data []byte) decodeResult {
	p.hasMAC = false
	p.llc = false
	p.snapProto = 0
	p.etherType = 0
	switch lt {
	case layers.LinkTypeEthernet:
		return decodeEthernet(p, data)
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return decodedError
		}
		if binary.BigEndian.Uint16(data[2:4]) == 1 && binary.BigEndian.Uint16(data[4:6]) == 6 {
			p.hasMAC = true
			copy(p.srcMAC[:], data[6:12])
			p.dstMAC = [6]byte{}
		}
		return decodeEtherPayload(p, binary.BigEndian.Uint16(data[14:16]), data[16:])
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return decodedError
		}
		if binary.BigEndian.Uint16(data[8:10]) == 1 && data[11] == 6 {
			p.hasMAC = true
			copy(p.srcMAC[:], data[12:18])
			p.dstMAC = [6]byte{}
		}
		return decodeEtherPayload(p, binary.BigEndian.Uint16(data[0:2]), data[20:])
	case layers.LinkTypeRaw, 12, 14:
		return decodeRawIP(p, data)
	case layers.LinkTypeIPv4:
		return decodeIPv4(p, data)
	case layers.LinkTypeIPv6:
		return decodeIPv6(p, data)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			return decodedError
		}
		fam := binary.LittleEndian.Uint32(data[:4])
		if lt == layers.LinkTypeLoop || fam > 0xffff {
			fam = binary.BigEndian.Uint32(data[:4])
		}
		switch fam {
		case 2:
			return decodeIPv4(p, data[4:])
		case 10, 24, 28, 30:
			return decodeIPv6(p, data[4:])
		}
		return decodedNone
	}
	return decodedNone
}

func decodeRawIP(p *packet, data []byte) decodeResult {
	if len(data) == 0 {
		return decodedError
	}
	switch data[0] >> 4 {
	case 4:
		return decodeIPv4(p, data)
	case 6:
		return decodeIPv6(p, data)
	}
	return decodedError
}

func decodeEthernet(p *packet, data []byte) decodeResult {
	if len(data) < 14 {
		return decodedError
	}
	p.hasMAC = true
	copy(p.dstMAC[:], data[0:6])
	copy(p.srcMAC[:], data[6:12])
	et := binary.BigEndian.Uint16(data[12:14])
	return decodeEtherPayload(p, et, data[14:])
}

// decodeEtherPayload handles 802.1Q/QinQ tags, 802.3 LLC/SNAP and the
// ethertypes the sensor knows.
func decodeEtherPayload(p *packet, et uint16, data []byte) decodeResult {
	for et == etVLAN || et == etQinQ || et == etQinQ2 {
		if len(data) < 4 {
			return decodedError
		}
		et = binary.BigEndian.Uint16(data[2:4])
		data = data[4:]
	}
	p.etherType = et
	switch {
	case et == etIPv4:
		return decodeIPv4(p, data)
	case et == etIPv6:
		return decodeIPv6(p, data)
	case et == etARP:
		return decodeARP(p, data)
	case et == etPPPoE:
		// PPPoE header (6 bytes), then the PPP protocol field.
		if len(data) < 8 {
			return decodedError
		}
		if l := int(binary.BigEndian.Uint16(data[4:6])); l >= 2 && 6+l < len(data) {
			data = data[:6+l]
		}
		switch binary.BigEndian.Uint16(data[6:8]) {
		case 0x0021:
			return decodeIPv4(p, data[8:])
		case 0x0057:
			return decodeIPv6(p, data[8:])
		}
		return decodedNone
	case et == etMPLS || et == etMPLSm:
		// Label stack until the bottom-of-stack bit, then IP by version.
		for range 16 {
			if len(data) < 4 {
				return decodedError
			}
			bos := data[2]&1 != 0
			data = data[4:]
			if bos {
				return decodeRawIP(p, data)
			}
		}
		return decodedError
	case et <= 1500 || et == 0x0004: // 802.3 length field (or SLL's 802.2 marker): LLC follows
		if et <= 1500 && int(et) < len(data) {
			data = data[:et]
		}
		if len(data) < 3 {
			return decodedError
		}
		p.etherType = 0
		p.llc = true
		if data[0] == 0xaa && data[1] == 0xaa && data[2] == 0x03 {
			if len(data) < 8 {
				return decodedError
			}
			p.snapProto = binary.BigEndian.Uint16(data[6:8])
			p.linkPayload = data[8:]
		} else {
			p.linkPayload = data[3:]
		}
		return decodedLink
	}
	p.linkPayload = data
	return decodedLink
}

func decodeARP(p *packet, data []byte) decodeResult {
	// Ethernet/IPv4 ARP only: htype 1, ptype 0x0800, hlen 6, plen 4.
	if len(data) < 28 {
		return decodedError
	}
	if binary.BigEndian.Uint16(data[0:2]) != 1 || binary.BigEndian.Uint16(data[2:4]) != etIPv4 || data[4] != 6 || data[5] != 4 {
		return decodedNone
	}
	p.arpOp = binary.BigEndian.Uint16(data[6:8])
	copy(p.arpSHA[:], data[8:14])
	p.arpSPA = netip.AddrFrom4([4]byte(data[14:18]))
	p.arpTPA = netip.AddrFrom4([4]byte(data[24:28]))
	return decodedARP
}

func decodeIPv4(p *packet, data []byte) decodeResult {
	if len(data) < 20 || data[0]>>4 != 4 {
		return decodedError
	}
	ihl := int(data[0]&0x0f) * 4
	if ihl < 20 || len(data) < ihl {
		return decodedError
	}
	total := int(binary.BigEndian.Uint16(data[2:4]))
	if total < ihl {
		// TSO captures write 0 here; trust the captured length.
		if total != 0 {
			return decodedError
		}
		total = len(data)
	}
	if total < len(data) {
		data = data[:total] // strip Ethernet padding
	}
	p.ipv6 = false
	p.proto = data[9]
	p.ttl = data[8]
	p.src = netip.AddrFrom4([4]byte(data[12:16]))
	p.dst = netip.AddrFrom4([4]byte(data[16:20]))
	ff := binary.BigEndian.Uint16(data[6:8])
	off := int(ff&0x1fff) * 8
	more := ff&0x2000 != 0
	if off != 0 || more {
		p.fragID = uint32(binary.BigEndian.Uint16(data[4:6]))
		p.fragOffset = off
		p.fragMore = more
		p.fragData = data[ihl:]
		return decodedFrag
	}
	return decodeL4(p, data[ihl:])
}

func decodeIPv6(p *packet, data []byte) decodeResult {
	if len(data) < 40 || data[0]>>4 != 6 {
		return decodedError
	}
	plen := int(binary.BigEndian.Uint16(data[4:6]))
	body := data[40:]
	if plen != 0 && plen < len(body) { // 0: jumbogram or TSO, trust the capture
		body = body[:plen]
	}
	p.ipv6 = true
	p.ttl = data[7]
	p.src = netip.AddrFrom16([16]byte(data[8:24]))
	p.dst = netip.AddrFrom16([16]byte(data[24:40]))
	next := data[6]
	// Walk extension headers (bounded: each costs at least 8 bytes).
	for range 16 {
		switch next {
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination options, mobility, HIP, shim6
			if len(body) < 8 {
				return decodedError
			}
			l := (int(body[1]) + 1) * 8
			if len(body) < l {
				return decodedError
			}
			next = body[0]
			body = body[l:]
		case 51: // AH: length in 4-byte units minus 2
			if len(body) < 8 {
				return decodedError
			}
			l := (int(body[1]) + 2) * 4
			if len(body) < l {
				return decodedError
			}
			next = body[0]
			body = body[l:]
		case 44: // fragment
			if len(body) < 8 {
				return decodedError
			}
			ff := binary.BigEndian.Uint16(body[2:4])
			p.proto = body[0]
			p.fragOffset = int(ff>>3) * 8
			p.fragMore = ff&1 != 0
			p.fragID = binary.BigEndian.Uint32(body[4:8])
			p.fragData = body[8:]
			if p.fragOffset == 0 && !p.fragMore { // atomic fragment
				next = body[0]
				body = body[8:]
				continue
			}
			return decodedFrag
		case 59: // no next header
			p.proto = 59
			p.sport, p.dport, p.payload, p.tcpFlags = 0, 0, nil, 0
			return decodedIP
		default:
			p.proto = next
			return decodeL4(p, body)
		}
	}
	return decodedError
}

// decodeL4 decodes the transport header of an unfragmented (or reassembled)
// IP payload; p.proto is already set.
func decodeL4(p *packet, data []byte) decodeResult {
	p.sport, p.dport, p.tcpFlags, p.seq = 0, 0, 0, 0
	p.payload = nil
	switch p.proto {
	case protoTCP:
		if len(data) < 20 {
			return decodedError
		}
		doff := int(data[12]>>4) * 4
		if doff < 20 || len(data) < doff {
			return decodedError
		}
		p.sport = binary.BigEndian.Uint16(data[0:2])
		p.dport = binary.BigEndian.Uint16(data[2:4])
		p.seq = binary.BigEndian.Uint32(data[4:8])
		p.tcpFlags = data[13]
		p.payload = data[doff:]
	case protoUDP:
		if len(data) < 8 {
			return decodedError
		}
		p.sport = binary.BigEndian.Uint16(data[0:2])
		p.dport = binary.BigEndian.Uint16(data[2:4])
		ul := int(binary.BigEndian.Uint16(data[4:6]))
		body := data[8:]
		if ul >= 8 && ul-8 < len(body) {
			body = body[:ul-8]
		}
		p.payload = body
	case protoICMP, protoICMPv6:
		if len(data) < 4 {
			return decodedError
		}
		p.payload = data
	default:
		p.payload = data
	}
	return decodedIP
}
