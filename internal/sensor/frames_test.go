package sensor

import (
	"encoding/binary"
	"net/netip"
)

// Frame builders for tests: real header layouts, computed lengths.

func ipv4(src, dst string, proto uint8, id uint16, fragOff int, more bool, payload []byte) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(h[4:], id)
	ff := uint16(fragOff / 8)
	if more {
		ff |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], ff)
	h[8] = 64
	h[9] = proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	return append(h, payload...)
}

func ipv6(src, dst string, next uint8, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = next
	h[7] = 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return append(h, payload...)
}

// ext6 is an IPv6 extension header of 8 bytes (hop-by-hop, destination options).
func ext6(next uint8, payload []byte) []byte {
	return append([]byte{next, 0, 1, 4, 0, 0, 0, 0}, payload...)
}

func frag6(next uint8, off int, more bool, id uint32, payload []byte) []byte {
	h := make([]byte, 8)
	h[0] = next
	v := uint16(off/8) << 3
	if more {
		v |= 1
	}
	binary.BigEndian.PutUint16(h[2:], v)
	binary.BigEndian.PutUint32(h[4:], id)
	return append(h, payload...)
}

func udp(sport, dport uint16, payload []byte) []byte {
	h := make([]byte, 8)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

func tcpSeg(sport, dport uint16, seq uint32, flags uint8, payload []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint32(h[4:], seq)
	h[12] = 5 << 4
	h[13] = flags
	return append(h, payload...)
}

var (
	macA = []byte{0x00, 0x1b, 0x21, 0x01, 0x02, 0x03}
	macB = []byte{0x00, 0x09, 0xfb, 0x0a, 0x0b, 0x0c}
)

func eth(et uint16, payload []byte, tags ...uint16) []byte {
	h := append(append([]byte(nil), macB...), macA...)
	for _, tpid := range tags {
		h = binary.BigEndian.AppendUint16(h, tpid)
		h = binary.BigEndian.AppendUint16(h, 42)
	}
	h = binary.BigEndian.AppendUint16(h, et)
	return append(h, payload...)
}

func sll(et uint16, payload []byte) []byte {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], macA)
	binary.BigEndian.PutUint16(h[14:], et)
	return append(h, payload...)
}

func sll2(et uint16, payload []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], et)
	binary.BigEndian.PutUint32(h[4:], 2)
	binary.BigEndian.PutUint16(h[8:], 1)
	h[11] = 6
	copy(h[12:], macA)
	return append(h, payload...)
}

func null(family uint32, bigEndian bool, payload []byte) []byte {
	h := make([]byte, 4)
	if bigEndian {
		binary.BigEndian.PutUint32(h, family)
	} else {
		binary.LittleEndian.PutUint32(h, family)
	}
	return append(h, payload...)
}
