package sensor

import (
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

// flow is one bidirectional conversation. It is kept small because a
// sensor may track a million of them; per-application state is allocated
// only when a flow carries payload.
type flow struct {
	key        flowKey
	prev, next *flow // LRU list, most recently used first
	firstNS    int64
	lastNS     int64
	macA, macB [6]byte
	// clientIsA says which endpoint is the client (opened the flow).
	clientIsA bool
	seenA     bool
	seenB     bool
	hasMAC    bool
	// SYNs seen before any payload, kept here so that handshake-only
	// flows (scans) need no application state.
	synSeen [2]bool
	// UDP flows keep their dissector here, not in a flowApp, so that a
	// datagram flow costs no more than a handshake-only TCP flow: udpPD is
	// 1 + the index of the chosen dissector in Sensor.udpAll (0: none),
	// udpTries the datagrams offered to Detect, udpDone the decision.
	udpPD    uint8
	udpTries uint8
	udpDone  bool
	isn      [2]uint32
	// Edge accounting for the current interval bucket.
	bucket      int64 // bucket start, unix ns
	bucketFirst int64
	bucketPkts  uint32
	bucketBytes uint64
	app         *flowApp
}

// flowApp is the application-layer state of a flow that carries payload.
type flowApp struct {
	df       dissect.Flow
	d        dissect.Dissector // chosen dissector; nil while undecided or when none matched
	pd       dissect.PacketDissector
	stream   dissect.Stream
	decided  bool
	attempts uint8
	tcp      [2]tcpDir // indexed by dissect.Direction
	ended    bool
	skip     [2]int // bytes of each direction the stream said it does not need (dissect.Skipper)
}

// flowTable is a hash map plus an LRU list with a hard cap on entries.
type flowTable struct {
	m    map[flowKey]*flow
	head *flow // most recent
	tail *flow // least recent
	n    int
	max  int
	free *flow // recycled flows (singly linked via next)
}

func newFlowTable(max int) *flowTable {
	hint := min(max, 1024) // the map grows as needed
	return &flowTable{m: make(map[flowKey]*flow, hint), max: max}
}

func (t *flowTable) get(k flowKey) *flow { return t.m[k] }

// insert adds a new flow for k; the caller has checked the cap.
func (t *flowTable) insert(k flowKey) *flow {
	f := t.free
	if f != nil {
		t.free = f.next
		*f = flow{}
	} else {
		f = &flow{}
	}
	f.key = k
	t.m[k] = f
	t.pushFront(f)
	t.n++
	return f
}

func (t *flowTable) remove(f *flow) {
	delete(t.m, f.key)
	t.unlink(f)
	t.n--
	f.app = nil
	f.next = t.free
	f.prev = nil
	t.free = f
}

func (t *flowTable) touch(f *flow) {
	if t.head == f {
		return
	}
	t.unlink(f)
	t.pushFront(f)
}

func (t *flowTable) pushFront(f *flow) {
	f.prev = nil
	f.next = t.head
	if t.head != nil {
		t.head.prev = f
	}
	t.head = f
	if t.tail == nil {
		t.tail = f
	}
}

func (t *flowTable) unlink(f *flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else if t.head == f {
		t.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else if t.tail == f {
		t.tail = f.prev
	}
	f.prev, f.next = nil, nil
}

// makeKey builds the direction-independent key and reports whether the
// packet's source is endpoint a.
func makeKey(src, dst netip.Addr, sport, dport uint16, proto uint8) (flowKey, bool) {
	c := src.Compare(dst)
	v6 := src.Is6()
	if c < 0 || (c == 0 && sport <= dport) {
		return flowKey{a: src.As16(), b: dst.As16(), pa: sport, pb: dport, proto: proto, v6: v6}, true
	}
	return flowKey{a: dst.As16(), b: src.As16(), pa: dport, pb: sport, proto: proto, v6: v6}, false
}
