package sensor

import (
	"math/rand/v2"
	"net/netip"
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
