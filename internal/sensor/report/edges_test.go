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
// reportEdges (strings as keys, timestamps compared as text, a sort on
// the strings): the oracle reportEdges must match exactly.
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
	for _, e := range in {
		k := ek{src: endpoint(e.SrcMAC, e.SrcIP), dst: endpoint(e.DstMAC, e.DstIP), proto: e.Proto, app: e.App, dport: e.DPort}
		i, ok := agg[k]
		if !ok {
			i = len(out)
			agg[k] = i
			out = append(out, Edge{Src: k.src, Dst: k.dst, Proto: k.proto, DPort: k.dport, App: k.app, FirstSeen: ts(e.First), LastSeen: ts(e.Last)})
		} else {
			x := &out[i]
			if f := ts(e.First); f < x.FirstSeen {
				x.FirstSeen = f
			}
			if l := ts(e.Last); l > x.LastSeen {
				x.LastSeen = l
			}
		}
		out[i].Packets += e.Packets
		out[i].Bytes += e.Bytes
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

// TestTSCompareIsTextOrder: tsCompare orders times as their ts text does,
// including the fractions that sort against their value (".5Z" < "Z").
func TestTSCompareIsTextOrder(t *testing.T) {
	t.Parallel()
	var times []time.Time
	for _, sec := range []int64{-62167219201, -62167219200, -62135596800, 0, 1, 1795000000, 253402300799, 253402300800} {
		for _, ns := range []int64{0, 1, 10, 100, 1e8, 15e7, 5e8, 123456789, 999999999} {
			times = append(times, time.Unix(sec, ns))
		}
	}
	times = append(times, time.Time{}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)))
	for _, a := range times {
		for _, b := range times {
			if got, want := tsCompare(a, b), strings.Compare(ts(a), ts(b)); got != want {
				t.Errorf("tsCompare(%v, %v) = %d, want %d (%q vs %q)", a, b, got, want, ts(a), ts(b))
			}
		}
	}
}
