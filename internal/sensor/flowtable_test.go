package sensor

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strconv"
	"testing"
	"unsafe"
)

// TestFlowTableMatchesMap churns the flow table (inserts, lookups,
// removals in random order, growth of the index) against a Go map as the
// reference, and checks the LRU list order.
func TestFlowTableMatchesMap(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	tab := newFlowTable(1 << 20)
	ref := map[flowKey]uint32{} // key -> id
	key := func(i int) flowKey {
		k, _ := makeKey(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), netip.AddrFrom4([4]byte{10, 1, 0, 1}), uint16(i), 443, protoTCP)
		return k
	}
	for step := range 200_000 {
		i := r.IntN(20_000)
		k := key(i)
		f := tab.get(k)
		id, ok := ref[k]
		if (f != nil) != ok || (ok && f.id != id) {
			t.Fatalf("step %d: get(%d) = %v, reference has %v (id %d)", step, i, f != nil, ok, id)
		}
		switch {
		case f == nil:
			f = tab.insert(k)
			ref[k] = f.id
		case r.IntN(3) == 0:
			tab.remove(f)
			delete(ref, k)
		default:
			tab.touch(f)
			if tab.first() != f {
				t.Fatalf("step %d: touched flow is not first", step)
			}
		}
		if tab.n != len(ref) {
			t.Fatalf("step %d: table holds %d flows, reference %d", step, tab.n, len(ref))
		}
	}
	// Every key of the reference is found; the LRU list holds each flow once.
	for k, id := range ref {
		if f := tab.get(k); f == nil || f.id != id || f.key != k {
			t.Fatalf("key %v lost", k)
		}
	}
	n := 0
	for f := tab.first(); f != nil; f = tab.after(f) {
		if _, ok := ref[f.key]; !ok {
			t.Fatalf("removed flow %v still listed", f.key)
		}
		n++
	}
	if n != len(ref) {
		t.Fatalf("LRU list holds %d flows, want %d", n, len(ref))
	}
	for f := tab.last(); f != nil; f = tab.last() {
		tab.remove(f)
	}
	if tab.n != 0 || tab.first() != nil {
		t.Fatalf("table not empty after removing all: %d", tab.n)
	}
	for _, e := range tab.idx {
		if e != 0 {
			t.Fatal("index slot still used after removing all flows")
		}
	}
}

// TestFlowSize guards the per-flow memory budget (1,000,000 concurrent
// flows within 512 MB): a flow is 128 bytes, its sequence state 8.
func TestFlowSize(t *testing.T) {
	if got := unsafe.Sizeof(flow{}); got > 128 {
		t.Errorf("flow is %d bytes, budget 128", got)
	}
	if got := unsafe.Sizeof(flowApp{}); got > 160 {
		t.Errorf("flowApp is %d bytes, budget 160", got)
	}
}

// TestHostTableMatchesMap: bindings set in random order, with repeats and
// growth, read back through byMAC (twice: it must not disturb the index)
// equal a map's.
func TestHostTableMatchesMap(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	tab := newHostTable()
	want := map[hostKey]uint8{}
	for range 20000 {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(8)), byte(rng.IntN(256))})
		if rng.IntN(2) == 0 {
			ip = netip.AddrFrom16([16]byte{0xfe, 0x80, 14: byte(rng.IntN(8)), 15: byte(rng.IntN(256))})
		}
		k := hostKey{ip: ip.As16(), v6: ip.Is6()}
		k.mac[5] = byte(rng.IntN(40))
		how := uint8(1) << rng.IntN(2)
		tab.set(k, how)
		want[k] |= how
		if rng.IntN(5000) == 0 {
			tab.byMAC(func([6]byte, map[netip.Addr]uint8) {})
		}
	}
	for round := range 2 {
		got := map[hostKey]uint8{}
		tab.byMAC(func(mac [6]byte, ips map[netip.Addr]uint8) {
			for ip, how := range ips {
				got[hostKey{ip: ip.As16(), mac: mac, v6: ip.Is6()}] = how
			}
		})
		if len(got) != len(want) {
			t.Fatalf("round %d: %d bindings, want %d", round, len(got), len(want))
		}
		for k, how := range want {
			if got[k] != how {
				t.Fatalf("round %d: binding %v = %d, want %d", round, k, got[k], how)
			}
		}
	}
}

// TestObsTableMatchesMap: records found and added as a map would.
func TestObsTableMatchesMap(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	tab := newObsTable()
	want := map[obsKey]uint64{}
	macs := []string{"", "00:09:fb:11:22:33", "00:1b:21:01:02:03"}
	ips := []netip.Addr{{}, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("::ffff:10.0.0.1"), netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("fe80::1%eth1")}
	for range 30000 {
		k := obsKey{mac: macs[rng.IntN(len(macs))], ip: ips[rng.IntN(len(ips))], field: []string{"dns.query", "tls.sni"}[rng.IntN(2)],
			value: strconv.Itoa(rng.IntN(3000))}
		e, slot, h := tab.find(&k)
		if (e != nil) != (want[k] != 0) {
			t.Fatalf("find(%v) = %v, map has %d", k, e, want[k])
		}
		want[k]++
		if e == nil {
			tab.insert(slot, h, k, obsVal{count: 1})
		} else {
			e.count++
		}
	}
	if tab.len() != len(want) {
		t.Fatalf("%d records, want %d", tab.len(), len(want))
	}
	for i := range tab.len() {
		e := tab.at(i)
		if want[e.k] != e.v.count {
			t.Fatalf("%v counted %d, want %d", e.k, e.v.count, want[e.k])
		}
	}
}

// TestObsRecHasNoPointers: the stored observation records stay
// pointer-free, so the garbage collector does not scan their chunks.
func TestObsRecHasNoPointers(t *testing.T) {
	t.Parallel()
	var check func(reflect.Type)
	check = func(ty reflect.Type) {
		switch ty.Kind() {
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func, reflect.UnsafePointer:
			t.Fatalf("obsRec holds a %v", ty)
		case reflect.Array:
			check(ty.Elem())
		case reflect.Struct:
			for i := range ty.NumField() {
				check(ty.Field(i).Type)
			}
		}
	}
	check(reflect.TypeFor[obsRec]())
}
