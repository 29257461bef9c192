package sensor

import (
	"cmp"
	"net/netip"
	"slices"
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

func (s *EdgeStats) add(pkts, bytes uint64, first, last time.Time) {
	if s.Packets == 0 && s.Bytes == 0 && s.First.IsZero() {
		s.First, s.Last = first, last
	}
	if first.Before(s.First) {
		s.First = first
	}
	if last.After(s.Last) {
		s.Last = last
	}
	s.Packets += pkts
	s.Bytes += bytes
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
type EdgeAggregator struct {
	interval time.Duration
	noBucket bool // whole-run totals only
	max      int  // distinct edges before folding; 0: no limit
	folded   uint64
	total    map[EdgeKey]*EdgeStats
	buckets  map[int64]map[EdgeKey]*EdgeStats
}

// NewEdgeAggregator returns an aggregator with buckets of interval
// (DefaultEdgeInterval when interval <= 0).
func NewEdgeAggregator(interval time.Duration) *EdgeAggregator {
	if interval <= 0 {
		interval = DefaultEdgeInterval
	}
	return &EdgeAggregator{interval: interval, total: map[EdgeKey]*EdgeStats{}, buckets: map[int64]map[EdgeKey]*EdgeStats{}}
}

// DefaultMaxEdges bounds the distinct edges kept (≈ 300 bytes each).
const DefaultMaxEdges = 250_000

// fold keeps the edge map bounded on scan-like traffic. Past max distinct
// edges, a new edge loses its port and application ("any port"); past
// max·9/8 its destination too ("any host"); past max·5/4 its source too.
// Folded edges are counted (Stats.EdgesFolded).
func (a *EdgeAggregator) fold(k EdgeKey) EdgeKey {
	if a.max <= 0 || len(a.total) < a.max {
		return k
	}
	if _, ok := a.total[k]; ok {
		return k
	}
	a.folded++
	k.DPort, k.App = 0, FoldedApp
	if _, ok := a.total[k]; ok || len(a.total) < a.max+a.max/8 {
		return k
	}
	k.DstIP, k.DstMAC = netip.Addr{}, ""
	if _, ok := a.total[k]; ok || len(a.total) < a.max+a.max/4 {
		return k
	}
	k.SrcIP, k.SrcMAC = netip.Addr{}, ""
	return k
}

// FoldedApp marks an edge that aggregates conversations beyond the edge
// limit (see EdgeAggregator).
const FoldedApp = "(folded)"

// Interval is the bucket size.
func (a *EdgeAggregator) Interval() time.Duration { return a.interval }

// Add accounts pkts and bytes seen between first and last to k. The bucket
// is the one holding first; callers split counters at bucket boundaries.
func (a *EdgeAggregator) Add(k EdgeKey, pkts, bytes uint64, first, last time.Time) {
	k = a.fold(k)
	t := a.total[k]
	if t == nil {
		t = &EdgeStats{}
		a.total[k] = t
	}
	t.add(pkts, bytes, first, last)
	if a.noBucket {
		return
	}
	start := first.UnixNano() - first.UnixNano()%int64(a.interval)
	b := a.buckets[start]
	if b == nil {
		b = map[EdgeKey]*EdgeStats{}
		a.buckets[start] = b
	}
	s := b[k]
	if s == nil {
		s = &EdgeStats{}
		b[k] = s
	}
	s.add(pkts, bytes, first, last)
}

// Edges returns the whole-run edges in a stable order.
func (a *EdgeAggregator) Edges() []Edge { return sortedEdges(a.total) }

// Buckets returns the per-interval edges, oldest bucket first.
func (a *EdgeAggregator) Buckets() []EdgeBucket {
	starts := make([]int64, 0, len(a.buckets))
	for s := range a.buckets {
		starts = append(starts, s)
	}
	slices.Sort(starts)
	out := make([]EdgeBucket, 0, len(starts))
	for _, s := range starts {
		out = append(out, EdgeBucket{Start: time.Unix(0, s).UTC(), Edges: sortedEdges(a.buckets[s])})
	}
	return out
}

func sortedEdges(m map[EdgeKey]*EdgeStats) []Edge {
	out := make([]Edge, 0, len(m))
	for k, v := range m {
		out = append(out, Edge{EdgeKey: k, EdgeStats: *v})
	}
	slices.SortFunc(out, func(x, y Edge) int { return CompareEdgeKeys(x.EdgeKey, y.EdgeKey) })
	return out
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
