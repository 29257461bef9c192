package sensor

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// flowKey identifies a flow regardless of direction: endpoint a is the one
// that sorts first. The addresses are stored as 16 bytes (IPv4 in its
// IPv4-mapped form, v6 telling the families apart) rather than as
// netip.Addr: the key is then 40 bytes without pointers, which the flow map
// hashes and the garbage collector skips cheaply.
type flowKey struct {
	a, b   [16]byte
	pa, pb uint16
	proto  uint8
	v6     bool
}

// addrA and addrB return the endpoints' addresses.
func (k *flowKey) addrA() netip.Addr { return keyAddr(k.a, k.v6) }
func (k *flowKey) addrB() netip.Addr { return keyAddr(k.b, k.v6) }

func keyAddr(b [16]byte, v6 bool) netip.Addr {
	a := netip.AddrFrom16(b)
	if !v6 {
		return a.Unmap()
	}
	return a
}

// flow is one bidirectional conversation. It is kept small (128 bytes,
// no allocation of its own: flows live in the table's slab) because a
// sensor may track a million of them; per-application state is allocated
// only when a flow carries payload.
type flow struct {
	key flowKey // 38 bytes
	// A flow's dissector once decided, kept here so that a datagram flow
	// costs no more than a handshake-only TCP flow and a TCP flow whose
	// dissector has finished (or that none claimed) drops its flowApp: dis
	// is 1 + the index of the chosen dissector in Sensor.udpAll (UDP) or
	// Sensor.tcpAll (TCP), 0 for none; tries counts the datagrams offered
	// to Detect; done is the decision (TCP: no more payload work).
	dis   uint8
	tries uint8
	// LRU list, most recently used first, and the free list (next), as
	// flow ids (see flowTable.at); 0 is none.
	prev, next uint32
	id         uint32
	bucketPkts uint32
	firstNS    int64
	lastNS     int64
	// Edge accounting for the current interval bucket: the first packet
	// counted in it (the bucket is the interval holding it).
	bucketFirst int64
	bucketBytes uint64
	app         *flowApp
	macA, macB  [6]byte
	// TCP sequence state of each direction (dissect.Direction), kept here
	// so that handshake-only flows (scans) need no application state.
	tcp [2]tcpDir
	// clientIsA says which endpoint is the client (opened the flow).
	clientIsA bool
	hasMAC    bool
	done      bool
	seen      uint8 // bit 0: endpoint a has sent, bit 1: endpoint b
}

// flowApp is the application-layer state of a TCP flow that carries
// payload (UDP flows and link-layer frames use a scratch one per packet).
type flowApp struct {
	df     dissect.Flow
	stream dissect.Stream
	// ooo holds out-of-order segments of both directions; nil (the usual
	// case) while everything arrives in order.
	ooo  *oooPair
	skip [2]uint32 // bytes of each direction the stream said it does not need (dissect.Skipper)
	// sd is 1 + the index of the chosen dissector in Sensor.tcpAll (0:
	// undecided or none matched).
	sd       uint8
	decided  bool
	attempts uint8
	ended    bool
}

// flowChunkBits sets the slab chunk: 1,024 flows (128 KB).
const (
	flowChunkBits = 10
	flowChunk     = 1 << flowChunkBits
)

// flowTable is a hash index over a slab of flows plus an LRU list, with a
// hard cap on entries. Flows live in fixed chunks that never move, so a
// *flow stays valid until the flow is removed; links between flows are
// 32-bit ids (index + 1). The index is open addressing with linear probing
// and backward-shift deletion; each slot holds a flow id and 32 bits of
// the key's hash, so probing rarely touches the slab and growing never
// rehashes a key. Per flow that is the 128-byte flow plus 8–16 bytes of
// index, against about 250 bytes for a Go map of pointers to flows.
type flowTable struct {
	chunks [][]flow
	idx    []uint64 // id | hash32 << 32; 0 is empty
	mask   uint32
	seed   uint64
	head   uint32 // most recent
	tail   uint32 // least recent
	free   uint32 // recycled flows, linked by next
	used   uint32 // ids handed out so far
	n      int
	max    int
}

func newFlowTable(max int) *flowTable {
	t := &flowTable{max: max, seed: rand.Uint64() | 1}
	t.idx = make([]uint64, 1024)
	t.mask = uint32(len(t.idx) - 1)
	return t
}

// at returns the flow with id (1-based).
func (t *flowTable) at(id uint32) *flow {
	i := id - 1
	return &t.chunks[i>>flowChunkBits][i&(flowChunk-1)]
}

// first returns the most recently used flow; after the one used before f
// (nil at the end).
func (t *flowTable) first() *flow { return t.flowOrNil(t.head) }
func (t *flowTable) last() *flow  { return t.flowOrNil(t.tail) }
func (t *flowTable) after(f *flow) *flow {
	return t.flowOrNil(f.next)
}

func (t *flowTable) flowOrNil(id uint32) *flow {
	if id == 0 {
		return nil
	}
	return t.at(id)
}

// hash32 hashes a key with the table's random seed (so that crafted
// traffic cannot aim at one probe sequence).
func (t *flowTable) hash32(k *flowKey) uint32 {
	w0 := binary.LittleEndian.Uint64(k.a[:8])
	w1 := binary.LittleEndian.Uint64(k.a[8:])
	w2 := binary.LittleEndian.Uint64(k.b[:8])
	w3 := binary.LittleEndian.Uint64(k.b[8:])
	w4 := uint64(k.pa) | uint64(k.pb)<<16 | uint64(k.proto)<<32
	if k.v6 {
		w4 |= 1 << 40
	}
	h := mix64(w0^t.seed, w1^0xa0761d6478bd642f)
	h = mix64(h^w2, w3^0xe7037ed1a0b428db)
	h = mix64(h^w4, t.seed^0x8ebc6af09c88c6e3)
	return uint32(h >> 32)
}

func mix64(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func (t *flowTable) get(k flowKey) *flow {
	h := t.hash32(&k)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := t.idx[i]
		if e == 0 {
			return nil
		}
		if uint32(e>>32) == h {
			if f := t.at(uint32(e)); f.key == k {
				return f
			}
		}
	}
}

// insert adds a new flow for k; the caller has checked the cap and that k
// is not in the table.
func (t *flowTable) insert(k flowKey) *flow {
	if (t.n+1)*2 > len(t.idx) {
		t.grow()
	}
	var f *flow
	if t.free != 0 {
		f = t.at(t.free)
		t.free = f.next
		id := f.id
		*f = flow{id: id}
	} else {
		if int(t.used)>>flowChunkBits == len(t.chunks) {
			t.chunks = append(t.chunks, make([]flow, flowChunk))
		}
		t.used++
		f = t.at(t.used)
		f.id = t.used
	}
	f.key = k
	h := t.hash32(&k)
	t.place(uint64(f.id) | uint64(h)<<32)
	t.pushFront(f)
	t.n++
	return f
}

func (t *flowTable) place(e uint64) {
	i := uint32(e>>32) & t.mask
	for t.idx[i] != 0 {
		i = (i + 1) & t.mask
	}
	t.idx[i] = e
}

func (t *flowTable) grow() {
	old := t.idx
	t.idx = make([]uint64, 2*len(old))
	t.mask = uint32(len(t.idx) - 1)
	for _, e := range old {
		if e != 0 {
			t.place(e)
		}
	}
}

// unindex removes f's slot, shifting back the entries after it that
// probed past it.
func (t *flowTable) unindex(f *flow) {
	h := t.hash32(&f.key)
	want := uint64(f.id) | uint64(h)<<32
	i := h & t.mask
	for t.idx[i] != want {
		if t.idx[i] == 0 {
			panic("sensor: flow missing from its table")
		}
		i = (i + 1) & t.mask
	}
	for j := (i + 1) & t.mask; t.idx[j] != 0; j = (j + 1) & t.mask {
		home := uint32(t.idx[j]>>32) & t.mask
		// The entry at j may move to the hole at i unless its home slot
		// lies cyclically in (i, j].
		if (j-home)&t.mask >= (j-i)&t.mask {
			t.idx[i] = t.idx[j]
			i = j
		}
	}
	t.idx[i] = 0
}

func (t *flowTable) remove(f *flow) {
	t.unindex(f)
	t.unlink(f)
	t.n--
	f.app = nil
	f.next = t.free
	f.prev = 0
	t.free = f.id
}

func (t *flowTable) touch(f *flow) {
	if t.head == f.id {
		return
	}
	t.unlink(f)
	t.pushFront(f)
}

func (t *flowTable) pushFront(f *flow) {
	f.prev = 0
	f.next = t.head
	if t.head != 0 {
		t.at(t.head).prev = f.id
	}
	t.head = f.id
	if t.tail == 0 {
		t.tail = f.id
	}
}

func (t *flowTable) unlink(f *flow) {
	if f.prev != 0 {
		t.at(f.prev).next = f.next
	} else if t.head == f.id {
		t.head = f.next
	}
	if f.next != 0 {
		t.at(f.next).prev = f.prev
	} else if t.tail == f.id {
		t.tail = f.prev
	}
	f.prev, f.next = 0, 0
}

// makeKey builds the direction-independent key and reports whether the
// packet's source is endpoint a: the one that sorts first by
// netip.Addr.Compare, then by port. The order is computed on the 16-byte
// forms the key stores (two big-endian words, after the bit length), which
// is Compare's order for addresses without zones, and decoded packets
// have none (FuzzMakeKey checks it against Compare).
func makeKey(src, dst netip.Addr, sport, dport uint16, proto uint8) (flowKey, bool) {
	a, b := src.As16(), dst.As16()
	c := cmp.Compare(src.BitLen(), dst.BitLen())
	if c == 0 {
		if c = cmp.Compare(binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])); c == 0 {
			c = cmp.Compare(binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:]))
		}
	}
	v6 := src.Is6()
	if c < 0 || (c == 0 && sport <= dport) {
		return flowKey{a: a, b: b, pa: sport, pb: dport, proto: proto, v6: v6}, true
	}
	return flowKey{a: b, b: a, pa: dport, pb: sport, proto: proto, v6: v6}, false
}
