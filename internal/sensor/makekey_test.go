package sensor

import (
	"net/netip"
	"testing"
)

// makeKeyCompare is makeKey as it was, ordering with netip.Addr.Compare:
// the reference.
func makeKeyCompare(src, dst netip.Addr, sport, dport uint16, proto uint8) (flowKey, bool) {
	c := src.Compare(dst)
	v6 := src.Is6()
	if c < 0 || (c == 0 && sport <= dport) {
		return flowKey{a: src.As16(), b: dst.As16(), pa: sport, pb: dport, proto: proto, v6: v6}, true
	}
	return flowKey{a: dst.As16(), b: src.As16(), pa: dport, pb: sport, proto: proto, v6: v6}, false
}

func addrOf(b []byte, v4 bool) netip.Addr {
	var x [16]byte
	copy(x[:], b)
	if v4 {
		return netip.AddrFrom4([4]byte(x[:4]))
	}
	return netip.AddrFrom16(x)
}

func checkMakeKey(t *testing.T, src, dst netip.Addr, sport, dport uint16) {
	t.Helper()
	k, a := makeKey(src, dst, sport, dport, protoUDP)
	wk, wa := makeKeyCompare(src, dst, sport, dport, protoUDP)
	if k != wk || a != wa {
		t.Fatalf("makeKey(%v, %v, %d, %d) = %+v %v, want %+v %v", src, dst, sport, dport, k, a, wk, wa)
	}
}

// TestMakeKey: the same key and side as with netip.Addr.Compare for IPv4,
// IPv6, IPv4-mapped IPv6 and mixed pairs, equal addresses (ports decide)
// and addresses that differ only in the high or the low word.
func TestMakeKey(t *testing.T) {
	addrs := []string{"0.0.0.0", "10.0.0.1", "10.0.0.2", "192.168.1.1", "255.255.255.255", "128.0.0.0",
		"::", "::1", "fe80::1", "fe80::2", "2001:db8::1", "2001:db8:0:1::1", "ff02::fb", "::ffff:10.0.0.1", "ffff::", "8000::"}
	for _, x := range addrs {
		for _, y := range addrs {
			for _, ports := range [][2]uint16{{1, 2}, {2, 1}, {53, 53}, {0, 65535}} {
				checkMakeKey(t, netip.MustParseAddr(x), netip.MustParseAddr(y), ports[0], ports[1])
			}
		}
	}
}

func FuzzMakeKey(f *testing.F) {
	f.Add([]byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}, true, true, uint16(1), uint16(2))
	f.Add([]byte{0xfe, 0x80, 15: 1}, []byte{0xfe, 0x80, 15: 1}, false, false, uint16(5), uint16(4))
	f.Fuzz(func(t *testing.T, a, b []byte, v4a, v4b bool, sport, dport uint16) {
		checkMakeKey(t, addrOf(a, v4a), addrOf(b, v4b), sport, dport)
	})
}
