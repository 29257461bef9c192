package report

import (
	"cmp"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/sensor"
)

// referenceEdges is the report's edge aggregation as it was before
// reportEdges (strings as keys, a sort on the strings), with the first
// and last times compared as times (the old code compared their text,
// which within one second does not follow the times): the oracle
// reportEdges must match exactly.
func referenceEdges(in []sensor.Edge, ipOwner map[netip.Addr]string, macDev map[string]bool) []Edge {
	endpoint := func(mac string, ip netip.Addr) string {
		if !ip.IsValid() {
			return "*"
		}
		if k, ok := ipOwner[ip]; ok {
			return k
		}
		if ip.IsUnspecified() && macDev[mac] {
			return mac
		}
		return ip.String()
	}
	type ek struct {
		src, dst, proto, app string
		dport                uint16
	}
	agg := map[ek]int{}
	out := []Edge{}
	var firsts, lasts []time.Time
	for _, e := range in {
		k := ek{src: endpoint(e.SrcMAC, e.SrcIP), dst: endpoint(e.DstMAC, e.DstIP), proto: e.Proto, app: e.App, dport: e.DPort}
		i, ok := agg[k]
		if !ok {
			i = len(out)
			agg[k] = i
			out = append(out, Edge{Src: k.src, Dst: k.dst, Proto: k.proto, DPort: k.dport, App: k.app})
			firsts, lasts = append(firsts, e.First), append(lasts, e.Last)
		} else {
			if e.First.Before(firsts[i]) {
				firsts[i] = e.First
			}
			if e.Last.After(lasts[i]) {
				lasts[i] = e.Last
			}
		}
		out[i].Packets += e.Packets
		out[i].Bytes += e.Bytes
	}
	for i := range out {
		out[i].FirstSeen, out[i].LastSeen = ts(firsts[i]), ts(lasts[i])
	}
	slices.SortFunc(out, func(a, b Edge) int {
		return cmp.Or(strings.Compare(a.Src, b.Src), strings.Compare(a.Dst, b.Dst), strings.Compare(a.Proto, b.Proto),
			cmp.Compare(a.DPort, b.DPort), strings.Compare(a.App, b.App))
	})
	return out
}

// TestReportEdgesMatchReference: random edges over a small space of
// devices, addresses (owned, unowned, unspecified, invalid), protocols,
// ports and applications, with times that share seconds and differ in
// fractions, in random order, aggregate and sort exactly as the reference.
func TestReportEdgesMatchReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	macs := []string{"", "00:1b:21:01:02:03", "00:09:fb:11:22:33", "00:00:0c:07:ac:01", "ff:ff:ff:ff:ff:ff"}
	var ips []netip.Addr
	for i := range 12 {
		ips = append(ips, netip.AddrFrom4([4]byte{10, 0, byte(i / 4), byte(i * 7)}))
	}
	ips = append(ips, netip.MustParseAddr("fe80::1"), netip.MustParseAddr("2001:db8::9"), netip.IPv4Unspecified(), netip.IPv6Unspecified(), netip.Addr{})
	ipOwner := map[netip.Addr]string{ips[0]: macs[1], ips[1]: macs[1], ips[2]: macs[2], ips[3]: ips[3].String(), ips[12]: macs[3]}
	macDev := map[string]bool{macs[1]: true, macs[2]: true, macs[3]: true}
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	fracs := []int{0, 1, 10, 100, 5e8, 15e7, 1e8, 123456789, 999999999}
	at := func() time.Time {
		return base.Add(time.Duration(rng.IntN(3))*time.Second + time.Duration(fracs[rng.IntN(len(fracs))]))
	}
	for round := range 50 {
		var in []sensor.Edge
		for range rng.IntN(400) {
			first := at()
			last := first.Add(time.Duration(rng.IntN(2)) * time.Duration(fracs[rng.IntN(len(fracs))]))
			in = append(in, sensor.Edge{
				EdgeKey: sensor.EdgeKey{SrcMAC: macs[rng.IntN(len(macs))], SrcIP: ips[rng.IntN(len(ips))], DstMAC: macs[rng.IntN(len(macs))],
					DstIP: ips[rng.IntN(len(ips))], Proto: []string{"tcp", "udp", "icmp", "ip-47"}[rng.IntN(4)],
					DPort: uint16(rng.IntN(3) * 80), App: []string{"", "http", "dicom", sensor.FoldedApp}[rng.IntN(4)]},
				EdgeStats: sensor.EdgeStats{Packets: uint64(rng.IntN(10)), Bytes: uint64(rng.IntN(10000)), First: first, Last: last},
			})
		}
		want := referenceEdges(in, ipOwner, macDev)
		got := reportEdges(in, ipOwner, macDev)
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Fatalf("round %d: reportEdges differs from the reference (-want +got):\n%s", round, diff)
		}
		// The same edges with raw MACs, as compactReportEdges reads them.
		raw := func(s string) ([6]byte, bool) {
			var m [6]byte
			if s == "" {
				return m, false
			}
			hw, err := net.ParseMAC(s)
			if err != nil || len(hw) != 6 {
				t.Fatalf("bad MAC %q in the test", s)
			}
			copy(m[:], hw)
			return m, true
		}
		got = aggregateEdges(len(in), func(i int) edgeIn {
			e := &in[i]
			x := edgeIn{raw: true, srcIP: e.SrcIP, dstIP: e.DstIP, proto: e.Proto, dport: e.DPort, app: e.App,
				packets: e.Packets, bytes: e.Bytes, first: e.First, last: e.Last}
			x.srcRaw, x.srcHas = raw(e.SrcMAC)
			x.dstRaw, x.dstHas = raw(e.DstMAC)
			return x
		}, ipOwner, macDev)
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Fatalf("round %d: raw-MAC aggregation differs from the reference (-want +got):\n%s", round, diff)
		}
	}
}

// TestEdgeTimesWithinOneSecond: an edge seen at :05, :05.5 and :05.15
// reports first_seen :05 and last_seen :05.5. Compared as trimmed RFC 3339
// text (as the report did before), ".15Z" < ".5Z" < "Z" gave first_seen
// :05.15 and last_seen :05.
func TestEdgeTimesWithinOneSecond(t *testing.T) {
	t.Parallel()
	at := func(ns int) time.Time { return time.Date(2026, 11, 2, 9, 0, 5, ns, time.UTC) }
	key := sensor.EdgeKey{SrcIP: netip.MustParseAddr("10.0.0.1"), DstIP: netip.MustParseAddr("10.0.0.2"), Proto: "tcp", DPort: 104}
	for _, order := range [][]int{{0, 5e8, 15e7}, {5e8, 15e7, 0}, {15e7, 0, 5e8}} {
		var in []sensor.Edge
		for _, ns := range order {
			in = append(in, sensor.Edge{EdgeKey: key, EdgeStats: sensor.EdgeStats{Packets: 1, Bytes: 60, First: at(ns), Last: at(ns)}})
		}
		got := reportEdges(in, nil, nil)
		if len(got) != 1 {
			t.Fatalf("order %v: %d edges, want 1", order, len(got))
		}
		if got[0].FirstSeen != "2026-11-02T09:00:05Z" || got[0].LastSeen != "2026-11-02T09:00:05.5Z" {
			t.Errorf("order %v: first_seen %s, last_seen %s; want 2026-11-02T09:00:05Z and 2026-11-02T09:00:05.5Z",
				order, got[0].FirstSeen, got[0].LastSeen)
		}
	}
}
