package sensor

import (
	"net/netip"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// flowKey identifies a flow regardless of direction: endpoint a is the one
// that sorts first.
type flowKey struct {
	a, b   netip.Addr
	pa, pb uint16
	proto  uint8
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
	isn     [2]uint32
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
	if c < 0 || (c == 0 && sport <= dport) {
		return flowKey{a: src, b: dst, pa: sport, pb: dport, proto: proto}, true
	}
	return flowKey{a: dst, b: src, pa: dport, pb: sport, proto: proto}, false
}
