package sensor

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultEdgeInterval is the bucket size of the per-interval edge
// aggregation.
const DefaultEdgeInterval = time.Hour

// EdgeKey identifies a conversation between two endpoints: who talked to
// whom, over which transport, to which server port, speaking which
// application protocol (the dissector name, "" when none matched).
type EdgeKey struct {
	SrcMAC string
	SrcIP  netip.Addr
	DstMAC string
	DstIP  netip.Addr
	Proto  string // "tcp", "udp", "icmp", "icmpv6" or "ip-N"
	DPort  uint16
	App    string
}

// EdgeStats are the packets and bytes of both directions of the flows
// behind an edge, and when they were first and last seen.
type EdgeStats struct {
	Packets uint64
	Bytes   uint64
	First   time.Time
	Last    time.Time
}

// Edge is one aggregated edge.
type Edge struct {
	EdgeKey
	EdgeStats
}

// EdgeBucket is the edges of one interval [Start, Start+Interval).
type EdgeBucket struct {
	Start time.Time
	Edges []Edge
}

// EdgeAggregator sums flow counters into edges, both over the whole run
// and per fixed interval (for the server side, which stores time series).
//
// Edges are held under a compact key without pointers (edgeKey: raw
// addresses and MACs, the IP protocol number, the application as an
// index into a table of names) and 32-byte counters, about 120 bytes an
// edge where EdgeKey strings and a pointer to EdgeStats cost about 250,
// and hashing is one pass over 50 bytes. EdgeKey values are built only
// for the output.
type EdgeAggregator struct {
	interval time.Duration
	noBucket bool // whole-run totals only
	max      int  // distinct edges before folding; 0: no limit
	folded   uint64
	total    *edgeTable
	buckets  map[int64]*edgeTable
	apps     []string // application names by index - 1 (edgeKey.app)
	appIndex map[string]uint8
}

// edgeKey is the compact form of EdgeKey.
type edgeKey struct {
	src, dst       [16]byte
	srcMAC, dstMAC [6]byte
	dport          uint16
	proto          uint8
	app            uint8 // 0: none, appFolded, else 1 + index in apps
	flags          uint8 // edge* bits
}

const (
	edgeSrcValid uint8 = 1 << iota
	edgeSrcV6
	edgeDstValid
	edgeDstV6
	edgeSrcMAC
	edgeDstMAC
)

const appFolded = 255

// edgeVal are an edge's counters; first and last in Unix nanoseconds.
type edgeVal struct {
	packets, bytes uint64
	first, last    int64
}

func (v *edgeVal) add(pkts, bytes uint64, first, last int64) {
	if v.packets == 0 && v.bytes == 0 && v.first == 0 && v.last == 0 {
		v.first, v.last = first, last
	}
	v.first = min(v.first, first)
	v.last = max(v.last, last)
	v.packets += pkts
	v.bytes += bytes
}

// edgeTable is the edges' keys and counters in two slices (index i is
// one edge) under an open-addressing index (linear probing; a slot holds
// index + 1 and 32 bits of the key's hash, so probing rarely compares a
// key and growing never rehashes one). It replaced a Go map of edgeKey,
// whose hashing of 50-byte keys and growth cost a few percent of a scan.
type edgeTable struct {
	// Edges in chunks that never move (appending to one slice copied it
	// again and again as it grew).
	chunks [][]edgeEntry
	n      int
	slots  []uint64 // index+1 | hash32<<32; 0: empty
	mask   uint32
	seed   uint64
}

func newEdgeTable() *edgeTable {
	return &edgeTable{slots: make([]uint64, 256), mask: 255, seed: rand.Uint64() | 1}
}

// len is the number of edges.
func (t *edgeTable) len() int { return t.n }

// edgeEntry is one edge of an edgeTable.
type edgeEntry struct {
	k edgeKey
	v edgeVal
}

const (
	edgeChunkBits = 10
	edgeChunk     = 1 << edgeChunkBits
)

// at returns edge i (0-based).
func (t *edgeTable) at(i int) *edgeEntry { return &t.chunks[i>>edgeChunkBits][i&(edgeChunk-1)] }

func (t *edgeTable) hash32(k *edgeKey) uint32 {
	w0 := binary.LittleEndian.Uint64(k.src[:8])
	w1 := binary.LittleEndian.Uint64(k.src[8:])
	w2 := binary.LittleEndian.Uint64(k.dst[:8])
	w3 := binary.LittleEndian.Uint64(k.dst[8:])
	w4 := uint64(k.srcMAC[0]) | uint64(k.srcMAC[1])<<8 | uint64(k.srcMAC[2])<<16 | uint64(k.srcMAC[3])<<24 |
		uint64(k.srcMAC[4])<<32 | uint64(k.srcMAC[5])<<40 | uint64(k.dport)<<48
	w5 := uint64(k.dstMAC[0]) | uint64(k.dstMAC[1])<<8 | uint64(k.dstMAC[2])<<16 | uint64(k.dstMAC[3])<<24 |
		uint64(k.dstMAC[4])<<32 | uint64(k.dstMAC[5])<<40 | uint64(k.proto)<<48 | uint64(k.app)<<56
	h := mix64(w0^t.seed, w1^0xa0761d6478bd642f)
	h = mix64(h^w2, w3^0xe7037ed1a0b428db)
	h = mix64(h^w4, w5^0x8ebc6af09c88c6e3^uint64(k.flags))
	return uint32(h >> 32)
}

// find returns the index of k, or -1 and the slot where k would go.
func (t *edgeTable) find(k *edgeKey) (int, uint32, uint32) {
	h := t.hash32(k)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := t.slots[i]
		if e == 0 {
			return -1, i, h
		}
		if uint32(e>>32) == h {
			if j := int(uint32(e)) - 1; t.at(j).k == *k {
				return j, i, h
			}
		}
	}
}

func (t *edgeTable) has(k *edgeKey) bool {
	j, _, _ := t.find(k)
	return j >= 0
}

func (t *edgeTable) add(k edgeKey, pkts, bytes uint64, first, last int64) {
	j, slot, h := t.find(&k)
	if j < 0 {
		j = t.n
		if j>>edgeChunkBits == len(t.chunks) {
			t.chunks = append(t.chunks, make([]edgeEntry, edgeChunk))
		}
		t.at(j).k = k
		t.n++
		t.slots[slot] = uint64(j+1) | uint64(h)<<32
		if t.n*2 > len(t.slots) {
			t.grow()
		}
	}
	t.at(j).v.add(pkts, bytes, first, last)
}

func (t *edgeTable) grow() { t.slots, t.mask = growSlots(t.slots) }

// growSlots doubles an open-addressing slot array of the sensor's tables
// (edgeTable, obsTable, hostTable: each slot is entry number+1 in the low
// 32 bits and the key's hash in the high 32, 0 for empty) and re-inserts
// every slot by its hash with linear probing. It returns the new slots and
// their mask.
func growSlots(old []uint64) ([]uint64, uint32) {
	slots := make([]uint64, 2*len(old))
	mask := uint32(len(slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := uint32(s>>32) & mask
		for slots[i] != 0 {
			i = (i + 1) & mask
		}
		slots[i] = s
	}
	return slots, mask
}

// NewEdgeAggregator returns an aggregator with buckets of interval
// (DefaultEdgeInterval when interval <= 0).
func NewEdgeAggregator(interval time.Duration) *EdgeAggregator {
	if interval <= 0 {
		interval = DefaultEdgeInterval
	}
	return &EdgeAggregator{interval: interval, total: newEdgeTable(), buckets: map[int64]*edgeTable{}, appIndex: map[string]uint8{}}
}

// DefaultMaxEdges bounds the distinct edges kept (≈ 120 bytes each).
const DefaultMaxEdges = 250_000

// fold keeps the edge map bounded on scan-like traffic. Past max distinct
// edges, a new edge loses its port and application ("any port"); past
// max·9/8 its destination too ("any host"); past max·5/4 its source too.
// Folded edges are counted (Stats.EdgesFolded).
func (a *EdgeAggregator) fold(k edgeKey) edgeKey {
	n := a.total.len()
	if a.max <= 0 || n < a.max {
		return k
	}
	if a.total.has(&k) {
		return k
	}
	a.folded++
	k.dport, k.app = 0, appFolded
	if a.total.has(&k) || n < a.max+a.max/8 {
		return k
	}
	k.dst, k.dstMAC = [16]byte{}, [6]byte{}
	k.flags &^= edgeDstValid | edgeDstV6 | edgeDstMAC
	if a.total.has(&k) || n < a.max+a.max/4 {
		return k
	}
	k.src, k.srcMAC = [16]byte{}, [6]byte{}
	k.flags &^= edgeSrcValid | edgeSrcV6 | edgeSrcMAC
	return k
}

// FoldedApp marks an edge that aggregates conversations beyond the edge
// limit (see EdgeAggregator).
const FoldedApp = "(folded)"

// Interval is the bucket size.
func (a *EdgeAggregator) Interval() time.Duration { return a.interval }

// appID returns the index of an application name, adding it.
func (a *EdgeAggregator) appID(name string) uint8 {
	switch name {
	case "":
		return 0
	case FoldedApp:
		return appFolded
	}
	if id, ok := a.appIndex[name]; ok {
		return id
	}
	if len(a.apps) >= appFolded-1 {
		panic("sensor: more than 253 application names in the edge aggregator")
	}
	a.apps = append(a.apps, name)
	id := uint8(len(a.apps))
	a.appIndex[name] = id
	return id
}

// Add accounts pkts and bytes seen between first and last to k. The bucket
// is the one holding first; callers split counters at bucket boundaries.
// MACs in k are empty or in the form aa:bb:cc:dd:ee:ff; Proto is one of
// the names of protoName.
func (a *EdgeAggregator) Add(k EdgeKey, pkts, bytes uint64, first, last time.Time) {
	var c edgeKey
	if k.SrcIP.IsValid() {
		c.src, c.flags = k.SrcIP.As16(), c.flags|edgeSrcValid
		if k.SrcIP.Is6() {
			c.flags |= edgeSrcV6
		}
	}
	if k.DstIP.IsValid() {
		c.dst, c.flags = k.DstIP.As16(), c.flags|edgeDstValid
		if k.DstIP.Is6() {
			c.flags |= edgeDstV6
		}
	}
	if m, ok := parseMAC(k.SrcMAC); ok {
		c.srcMAC, c.flags = m, c.flags|edgeSrcMAC
	}
	if m, ok := parseMAC(k.DstMAC); ok {
		c.dstMAC, c.flags = m, c.flags|edgeDstMAC
	}
	c.proto = protoNumber(k.Proto)
	c.dport = k.DPort
	c.app = a.appID(k.App)
	a.add(c, pkts, bytes, first.UnixNano(), last.UnixNano())
}

// add is Add for a compact key.
func (a *EdgeAggregator) add(k edgeKey, pkts, bytes uint64, first, last int64) {
	k = a.fold(k)
	a.total.add(k, pkts, bytes, first, last)
	if a.noBucket {
		return
	}
	start := first - first%int64(a.interval)
	b := a.buckets[start]
	if b == nil {
		b = newEdgeTable()
		a.buckets[start] = b
	}
	b.add(k, pkts, bytes, first, last)
}

// Edges returns the whole-run edges in a stable order.
func (a *EdgeAggregator) Edges() []Edge { return a.sorted(a.total) }

// Buckets returns the per-interval edges, oldest bucket first.
func (a *EdgeAggregator) Buckets() []EdgeBucket {
	starts := make([]int64, 0, len(a.buckets))
	for s := range a.buckets {
		starts = append(starts, s)
	}
	slices.Sort(starts)
	out := make([]EdgeBucket, 0, len(starts))
	for _, s := range starts {
		out = append(out, EdgeBucket{Start: time.Unix(0, s).UTC(), Edges: a.sorted(a.buckets[s])})
	}
	return out
}

// sorted returns t's edges in the order of CompareEdgeKeys: the compact
// keys are sorted first (compareEdgeKeys is the same order) and converted
// after, each MAC text made once.
func (a *EdgeAggregator) sorted(t *edgeTable) []Edge {
	type kv struct {
		k edgeKey
		i uint32
	}
	ks := make([]kv, 0, t.len())
	for i := range t.n {
		ks = append(ks, kv{t.at(i).k, uint32(i)})
	}
	slices.SortFunc(ks, func(x, y kv) int { return a.compare(&x.k, &y.k) })
	macs := map[[6]byte]string{}
	mac := func(m [6]byte, ok bool) string {
		if !ok {
			return ""
		}
		s, seen := macs[m]
		if !seen {
			s = formatMAC(m)
			macs[m] = s
		}
		return s
	}
	out := make([]Edge, t.n)
	for j := range out {
		i := int(ks[j].i)
		k, v := &t.at(i).k, &t.at(i).v
		out[j] = Edge{
			EdgeKey: EdgeKey{SrcMAC: mac(k.srcMAC, k.flags&edgeSrcMAC != 0), SrcIP: k.srcAddr(),
				DstMAC: mac(k.dstMAC, k.flags&edgeDstMAC != 0), DstIP: k.dstAddr(),
				Proto: protoName(k.proto, false), DPort: k.dport, App: a.appName(k.app)},
			EdgeStats: EdgeStats{Packets: v.packets, Bytes: v.bytes, First: time.Unix(0, v.first).UTC(), Last: time.Unix(0, v.last).UTC()},
		}
	}
	return out
}

func (a *EdgeAggregator) appName(id uint8) string {
	switch id {
	case 0:
		return ""
	case appFolded:
		return FoldedApp
	}
	return a.apps[id-1]
}

func (k *edgeKey) srcAddr() netip.Addr {
	if k.flags&edgeSrcValid == 0 {
		return netip.Addr{}
	}
	return keyAddr(k.src, k.flags&edgeSrcV6 != 0)
}

func (k *edgeKey) dstAddr() netip.Addr {
	if k.flags&edgeDstValid == 0 {
		return netip.Addr{}
	}
	return keyAddr(k.dst, k.flags&edgeDstV6 != 0)
}

// compare orders compact keys as CompareEdgeKeys orders their EdgeKeys:
// MAC text compares as the bytes do (fixed-width lower-case hex; "" first),
// addresses as netip.Addr.Compare, protocol and application by name.
func (a *EdgeAggregator) compare(x, y *edgeKey) int {
	if c := compareMAC(x.srcMAC, x.flags&edgeSrcMAC != 0, y.srcMAC, y.flags&edgeSrcMAC != 0); c != 0 {
		return c
	}
	if c := x.srcAddr().Compare(y.srcAddr()); c != 0 {
		return c
	}
	if c := compareMAC(x.dstMAC, x.flags&edgeDstMAC != 0, y.dstMAC, y.flags&edgeDstMAC != 0); c != 0 {
		return c
	}
	if c := x.dstAddr().Compare(y.dstAddr()); c != 0 {
		return c
	}
	if x.proto != y.proto {
		return cmp.Compare(protoName(x.proto, false), protoName(y.proto, false))
	}
	if c := cmp.Compare(x.dport, y.dport); c != 0 {
		return c
	}
	if x.app != y.app {
		return cmp.Compare(a.appName(x.app), a.appName(y.app))
	}
	return 0
}

func compareMAC(x [6]byte, xok bool, y [6]byte, yok bool) int {
	switch {
	case xok != yok:
		if xok {
			return 1
		}
		return -1
	case !xok:
		return 0
	}
	return bytes.Compare(x[:], y[:])
}

// parseMAC parses aa:bb:cc:dd:ee:ff (lower or upper case).
func parseMAC(s string) ([6]byte, bool) {
	var m [6]byte
	if len(s) != 17 {
		return m, false
	}
	for i := range 6 {
		hi, ok1 := unhex(s[i*3])
		lo, ok2 := unhex(s[i*3+1])
		if !ok1 || !ok2 || (i < 5 && s[i*3+2] != ':') {
			return [6]byte{}, false
		}
		m[i] = hi<<4 | lo
	}
	return m, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// protoNumber is the inverse of protoName.
func protoNumber(name string) uint8 {
	switch name {
	case "tcp":
		return protoTCP
	case "udp":
		return protoUDP
	case "icmp":
		return protoICMP
	case "icmpv6":
		return protoICMPv6
	}
	if n, ok := strings.CutPrefix(name, "ip-"); ok {
		if v, err := strconv.ParseUint(n, 10, 8); err == nil {
			return uint8(v)
		}
	}
	panic("sensor: edge protocol " + strconv.Quote(name) + " is not a protocol name")
}

// CompareEdgeKeys orders edges by source, destination, protocol, port, app.
func CompareEdgeKeys(x, y EdgeKey) int {
	return cmp.Or(
		cmp.Compare(x.SrcMAC, y.SrcMAC),
		x.SrcIP.Compare(y.SrcIP),
		cmp.Compare(x.DstMAC, y.DstMAC),
		x.DstIP.Compare(y.DstIP),
		cmp.Compare(x.Proto, y.Proto),
		cmp.Compare(x.DPort, y.DPort),
		cmp.Compare(x.App, y.App),
	)
}

// CompactEdges are the whole-run edges as the aggregator holds them, for a
// consumer that reads each once (report.FromResult): no Edge value, MAC
// text or name is made for them. Sensor.TakeResultUnordered hands them
// over instead of Result.Edges.
type CompactEdges struct {
	a      *EdgeAggregator
	t      *edgeTable
	protos [256]string // protoName cache
}

// CompactEdge is one edge of CompactEdges. The MACs are raw; SrcMAC is
// what EdgeKey.SrcMAC holds, formatted, when HasSrcMAC (likewise Dst).
type CompactEdge struct {
	SrcIP, DstIP         netip.Addr
	SrcMAC, DstMAC       [6]byte
	HasSrcMAC, HasDstMAC bool
	Proto                string
	DPort                uint16
	App                  string
	Packets, Bytes       uint64
	First, Last          time.Time
}

// Len is the number of edges.
func (c *CompactEdges) Len() int { return c.t.len() }

// At returns edge i (0 ≤ i < Len), with the values Result.Edges would
// have held.
func (c *CompactEdges) At(i int) CompactEdge {
	e := c.t.at(i)
	k, v := &e.k, &e.v
	p := c.protos[k.proto]
	if p == "" {
		p = protoName(k.proto, false)
		c.protos[k.proto] = p
	}
	return CompactEdge{SrcIP: k.srcAddr(), DstIP: k.dstAddr(), SrcMAC: k.srcMAC, DstMAC: k.dstMAC,
		HasSrcMAC: k.flags&edgeSrcMAC != 0, HasDstMAC: k.flags&edgeDstMAC != 0,
		Proto: p, DPort: k.dport, App: c.a.appName(k.app), Packets: v.packets, Bytes: v.bytes,
		First: time.Unix(0, v.first).UTC(), Last: time.Unix(0, v.last).UTC()}
}

// FormatMAC renders m as aa:bb:cc:dd:ee:ff, as the sensor writes MACs.
func FormatMAC(m [6]byte) string { return formatMAC(m) }
