package sensor

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestEdgeAggregatorCompactKeys adds edges with every kind of key field
// (IPv4, IPv6, no address, MAC or none, each protocol name, applications
// and the folded one) through the public Add and checks that Edges gives
// them back unchanged, summed per key, in CompareEdgeKeys order.
func TestEdgeAggregatorCompactKeys(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	addrs := []netip.Addr{{}, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.20"), netip.MustParseAddr("0.0.0.0"),
		netip.MustParseAddr("fe80::1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:10.0.0.1")}
	macs := []string{"", "00:09:fb:11:22:33", "00:09:fb:11:22:3a", "ff:ff:ff:ff:ff:ff", "0a:00:00:00:00:00"}
	protos := []string{"tcp", "udp", "icmp", "icmpv6", "ip-47", "ip-2"}
	apps := []string{"", "http", "dicom", "dns", FoldedApp, "tls"}
	a := NewEdgeAggregator(time.Hour)
	want := map[EdgeKey]EdgeStats{}
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i := range 3000 {
		k := EdgeKey{SrcMAC: macs[r.IntN(len(macs))], SrcIP: addrs[r.IntN(len(addrs))], DstMAC: macs[r.IntN(len(macs))],
			DstIP: addrs[r.IntN(len(addrs))], Proto: protos[r.IntN(len(protos))], DPort: uint16(r.IntN(3) * 443), App: apps[r.IntN(len(apps))]}
		first := t0.Add(time.Duration(r.IntN(7200)) * time.Second)
		last := first.Add(time.Duration(i%5) * time.Second)
		a.Add(k, 2, 100, first, last)
		w, ok := want[k]
		if !ok {
			w.First, w.Last = first, last
		}
		if first.Before(w.First) {
			w.First = first
		}
		if last.After(w.Last) {
			w.Last = last
		}
		w.Packets += 2
		w.Bytes += 100
		want[k] = w
	}
	got := a.Edges()
	if len(got) != len(want) {
		t.Fatalf("%d edges, want %d", len(got), len(want))
	}
	if !slices.IsSortedFunc(got, func(x, y Edge) int { return CompareEdgeKeys(x.EdgeKey, y.EdgeKey) }) {
		t.Error("edges are not in CompareEdgeKeys order")
	}
	for _, e := range got {
		w, ok := want[e.EdgeKey]
		if !ok {
			t.Fatalf("edge %+v was never added", e.EdgeKey)
		}
		if e.Packets != w.Packets || e.Bytes != w.Bytes || !e.First.Equal(w.First) || !e.Last.Equal(w.Last) {
			t.Errorf("edge %+v: %+v, want %+v", e.EdgeKey, e.EdgeStats, w)
		}
	}
	// Buckets partition the same traffic by the hour of first.
	var pkts uint64
	for _, b := range a.Buckets() {
		for _, e := range b.Edges {
			pkts += e.Packets
		}
	}
	if pkts != 6000 {
		t.Errorf("buckets hold %d packets, want 6000", pkts)
	}
}

// TestCompactEdgesAreTheEdges: CompactEdges gives what sorted puts in
// Result.Edges, for every kind of key (MACs or not, IPv4/IPv6/none,
// protocol names, applications, folded edges).
func TestCompactEdgesAreTheEdges(t *testing.T) {
	t.Parallel()
	a := NewEdgeAggregator(0)
	a.noBucket = true
	a.max = 6
	for i := range 20 {
		k := EdgeKey{SrcIP: netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), DstIP: netip.MustParseAddr("fe80::1"), Proto: []string{"tcp", "udp", "icmp", "ip-47"}[i%4],
			DPort: uint16(i * 10), App: []string{"", "http", "dicom"}[i%3]}
		if i%2 == 0 {
			k.SrcMAC, k.DstMAC = "00:1b:21:01:02:0a", "00:09:FB:11:22:33"
		}
		if i%5 == 0 {
			k.DstIP = netip.Addr{}
		}
		a.Add(k, uint64(i), uint64(i*100), time.Unix(1795000000, int64(i)*1e8), time.Unix(1795000100, 0))
	}
	want := a.sorted(a.total)
	c := &CompactEdges{a: a, t: a.total}
	if c.Len() != len(want) {
		t.Fatalf("%d compact edges, %d edges", c.Len(), len(want))
	}
	var all []Edge
	for i := range c.Len() {
		e := c.At(i)
		mac := func(m [6]byte, ok bool) string {
			if !ok {
				return ""
			}
			return FormatMAC(m)
		}
		got := Edge{EdgeKey: EdgeKey{SrcMAC: mac(e.SrcMAC, e.HasSrcMAC), SrcIP: e.SrcIP, DstMAC: mac(e.DstMAC, e.HasDstMAC), DstIP: e.DstIP,
			Proto: e.Proto, DPort: e.DPort, App: e.App}, EdgeStats: EdgeStats{Packets: e.Packets, Bytes: e.Bytes, First: e.First, Last: e.Last}}
		all = append(all, got)
	}
	slices.SortFunc(all, func(x, y Edge) int { return CompareEdgeKeys(x.EdgeKey, y.EdgeKey) })
	for i := range want {
		if all[i] != want[i] {
			t.Errorf("edge %d: compact %+v, want %+v", i, all[i], want[i])
		}
	}
	if a.folded == 0 {
		t.Error("no edge folded: the folded kinds are not covered")
	}
}
