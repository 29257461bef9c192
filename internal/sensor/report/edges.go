package report

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/sensor"
)

// reportEdges aggregates the sensor's edges by the names of their ends
// (see endpoints) and returns them ordered by source, destination,
// protocol, port and application, compared as strings. The order of in
// does not matter.
//
// The ends are named by integer ids (one per distinct name) and the
// aggregation map is keyed by ids, not by text; the edges are sorted on
// the ranks of the names, each distinct name compared once in a sort of
// the names, and the timestamps are written once per report edge.
func reportEdges(in []sensor.Edge, ipOwner map[netip.Addr]string, macDev map[string]bool) []Edge {
	if len(in) == 0 {
		return []Edge{}
	}
	ep := endpoints{ipOwner: ipOwner, macDev: macDev, byIP: make(map[netip.Addr]uint32, len(in)/2), byName: make(map[string]uint32, len(in)/2)}
	ep.id("*") // id 0: folded edges, any host
	type key struct {
		src, dst   uint32
		proto, app uint16
		dport      uint16
	}
	type agg struct {
		key
		packets, bytes uint64
		first, last    time.Time
	}
	var protos, apps small
	idx := make(map[key]int32, len(in))
	edges := make([]agg, 0, len(in))
	for i := range in {
		e := &in[i]
		k := key{src: ep.of(e.SrcMAC, e.SrcIP), dst: ep.of(e.DstMAC, e.DstIP), proto: protos.id(e.Proto), app: apps.id(e.App), dport: e.DPort}
		j, ok := idx[k]
		if !ok {
			idx[k] = int32(len(edges))
			edges = append(edges, agg{key: k, packets: e.Packets, bytes: e.Bytes, first: e.First, last: e.Last})
			continue
		}
		x := &edges[j]
		// As the report compares its timestamps: as text (tsCompare).
		if tsCompare(e.First, x.first) < 0 {
			x.first = e.First
		}
		if tsCompare(e.Last, x.last) > 0 {
			x.last = e.Last
		}
		x.packets += e.Packets
		x.bytes += e.Bytes
	}
	idx = nil
	nameRank := ranks(ep.names)
	protoRank, appRank := ranks(protos), ranks(apps)
	type sortKey struct {
		hi, lo uint64
		i      int32
	}
	order := make([]sortKey, len(edges))
	for i := range edges {
		k := &edges[i].key
		order[i] = sortKey{hi: uint64(nameRank[k.src])<<32 | uint64(nameRank[k.dst]),
			lo: uint64(protoRank[k.proto])<<32 | uint64(k.dport)<<16 | uint64(appRank[k.app]), i: int32(i)}
	}
	slices.SortFunc(order, func(a, b sortKey) int {
		if a.hi != b.hi {
			if a.hi < b.hi {
				return -1
			}
			return 1
		}
		if a.lo < b.lo {
			return -1
		}
		if a.lo > b.lo {
			return 1
		}
		return 0
	})
	out := make([]Edge, len(edges))
	for j, o := range order {
		x := &edges[o.i]
		out[j] = Edge{Src: ep.names[x.src], Dst: ep.names[x.dst], Proto: protos[x.proto], DPort: x.dport, App: apps[x.app],
			Packets: x.packets, Bytes: x.bytes, FirstSeen: ts(x.first), LastSeen: ts(x.last)}
	}
	return out
}

// endpoints names edge ends: the device owning the IP, else the MAC when
// that MAC is a device whose addresses are unknown, else the IP; each
// distinct name gets an id (its index in names).
type endpoints struct {
	ipOwner map[netip.Addr]string
	macDev  map[string]bool
	byIP    map[netip.Addr]uint32 // the name id of an address (not for the unspecified ones)
	byName  map[string]uint32
	names   []string
}

func (p *endpoints) of(mac string, ip netip.Addr) uint32 {
	if !ip.IsValid() {
		return 0 // folded edge: any host
	}
	if id, ok := p.byIP[ip]; ok {
		return id
	}
	k, owned := p.ipOwner[ip]
	if !owned && ip.IsUnspecified() {
		if p.macDev[mac] {
			return p.id(mac) // a DHCP client before it has an address
		}
		return p.id(ip.String())
	}
	if !owned {
		k = ip.String()
	}
	id := p.id(k)
	p.byIP[ip] = id
	return id
}

func (p *endpoints) id(name string) uint32 {
	if id, ok := p.byName[name]; ok {
		return id
	}
	id := uint32(len(p.names))
	p.byName[name] = id
	p.names = append(p.names, name)
	return id
}

// small gives the few distinct protocol and application names ids.
type small []string

func (s *small) id(name string) uint16 {
	for i, n := range *s {
		if n == name {
			return uint16(i)
		}
	}
	*s = append(*s, name)
	return uint16(len(*s) - 1)
}

// ranks returns the position of each name in the sorted names.
func ranks(names []string) []uint32 {
	order := make([]uint32, len(names))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return strings.Compare(names[a], names[b]) })
	rank := make([]uint32, len(names))
	for r, i := range order {
		rank[i] = uint32(r)
	}
	return rank
}

// Unix seconds of 0000-01-01 and 10000-01-01 UTC: ts writes the times in
// between in a fixed width.
const (
	minFixedUnix = -62167219200
	maxFixedUnix = 253402300800
)

// tsCompare compares a and b as strings.Compare(ts(a), ts(b)) does,
// without formatting them in the usual case: fixed-width text of
// different seconds compares as the times do; within one second the
// trimmed fractions decide (".5Z" sorts before "Z" and ".15Z" before ".1Z").
func tsCompare(a, b time.Time) int {
	as, bs := a.Unix(), b.Unix()
	if a.IsZero() || b.IsZero() || as < minFixedUnix || as >= maxFixedUnix || bs < minFixedUnix || bs >= maxFixedUnix {
		return strings.Compare(ts(a), ts(b))
	}
	if as != bs {
		if as < bs {
			return -1
		}
		return 1
	}
	an, bn := a.Nanosecond(), b.Nanosecond()
	if an == bn {
		return 0
	}
	var x, y [11]byte
	return strings.Compare(string(fraction(x[:0], an)), string(fraction(y[:0], bn)))
}

// fraction appends what ts writes after the seconds for ns: ".ddd" with
// trailing zeros trimmed (nothing for 0), then "Z".
func fraction(b []byte, ns int) []byte {
	if ns != 0 {
		var d [9]byte
		for i := 8; i >= 0; i-- {
			d[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 9
		for d[n-1] == '0' {
			n--
		}
		b = append(b, '.')
		b = append(b, d[:n]...)
	}
	return append(b, 'Z')
}
