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

// Interval is the bucket size.
func (a *EdgeAggregator) Interval() time.Duration { return a.interval }

// Add accounts pkts and bytes seen between first and last to k. The bucket
// is the one holding first; callers split counters at bucket boundaries.
func (a *EdgeAggregator) Add(k EdgeKey, pkts, bytes uint64, first, last time.Time) {
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
