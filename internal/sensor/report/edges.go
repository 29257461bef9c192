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
// The ends are named by integer ids (one per distinct name); every input
// edge gets a sort key of two integers (the ranks of its names, each
// distinct name compared once in a sort of the names, then protocol,
// port and application ranks), and one sort of those keys both orders
// the edges and brings together the ones that aggregate: no map of
// edges, and the timestamps are written once per report edge.
func reportEdges(in []sensor.Edge, ipOwner map[netip.Addr]string, macDev map[string]bool) []Edge {
	return aggregateEdges(len(in), func(i int) edgeIn {
		e := &in[i]
		return edgeIn{srcMAC: e.SrcMAC, dstMAC: e.DstMAC, srcIP: e.SrcIP, dstIP: e.DstIP, proto: e.Proto, dport: e.DPort, app: e.App,
			packets: e.Packets, bytes: e.Bytes, first: e.First, last: e.Last}
	}, ipOwner, macDev)
}

// compactReportEdges is reportEdges over the sensor's compact edges (MAC
// text made only where a name needs it).
func compactReportEdges(in *sensor.CompactEdges, ipOwner map[netip.Addr]string, macDev map[string]bool) []Edge {
	return aggregateEdges(in.Len(), func(i int) edgeIn {
		e := in.At(i)
		return edgeIn{srcRaw: e.SrcMAC, dstRaw: e.DstMAC, raw: true, srcHas: e.HasSrcMAC, dstHas: e.HasDstMAC,
			srcIP: e.SrcIP, dstIP: e.DstIP, proto: e.Proto, dport: e.DPort, app: e.App,
			packets: e.Packets, bytes: e.Bytes, first: e.First, last: e.Last}
	}, ipOwner, macDev)
}

// edgeIn is one input edge of aggregateEdges: MACs as text, or raw (raw
// set; srcHas/dstHas say whether there is one).
type edgeIn struct {
	srcMAC, dstMAC      string
	srcRaw, dstRaw      [6]byte
	raw, srcHas, dstHas bool
	srcIP, dstIP        netip.Addr
	proto               string
	dport               uint16
	app                 string
	packets, bytes      uint64
	first, last         time.Time
}

// srcMACText and dstMACText are the MACs as EdgeKey holds them.
func (e *edgeIn) srcMACText() string {
	if !e.raw {
		return e.srcMAC
	}
	if !e.srcHas {
		return ""
	}
	return sensor.FormatMAC(e.srcRaw)
}

func (e *edgeIn) dstMACText() string {
	if !e.raw {
		return e.dstMAC
	}
	if !e.dstHas {
		return ""
	}
	return sensor.FormatMAC(e.dstRaw)
}

// aggregateEdges is reportEdges over n edges read through get (twice
// each).
func aggregateEdges(n int, get func(int) edgeIn, ipOwner map[netip.Addr]string, macDev map[string]bool) []Edge {
	if n == 0 {
		return []Edge{}
	}
	var st stamper
	var out []Edge
	eachEdge(n, get, ipOwner, macDev, func(distinct int) {
		out = make([]Edge, 0, distinct)
	}, func(e *edgeOut) {
		out = append(out, Edge{Src: e.src, Dst: e.dst, Proto: e.proto, DPort: e.dport, App: e.app, Packets: e.packets, Bytes: e.bytes,
			FirstSeen: st.ts(e.first), LastSeen: st.ts(e.last)})
	})
	return out
}

// edgeOut is one report edge as eachEdge hands it over.
type edgeOut struct {
	src, dst, proto, app string
	dport                uint16
	packets, bytes       uint64
	first, last          time.Time
}

// eachEdge aggregates n edges read through get (twice each) as
// reportEdges does and calls emit with each report edge in order (e is
// reused), after size with their number. Nothing is called for n = 0.
func eachEdge(n int, get func(int) edgeIn, ipOwner map[netip.Addr]string, macDev map[string]bool, size func(int), emit func(e *edgeOut)) {
	if n == 0 {
		return
	}
	ep := endpoints{ipOwner: ipOwner, macDev: macDev, byIP: make(map[netip.Addr]uint32, n/4), byName: make(map[string]uint32, n/4)}
	ep.id("*") // id 0: folded edges, any host
	type sortKey struct {
		hi, lo uint64
		i      int32
	}
	var protos, apps small
	order := make([]sortKey, n)
	for i := range n {
		e := get(i)
		// Ids for now, ranks below.
		order[i] = sortKey{hi: uint64(ep.of(&e, false))<<32 | uint64(ep.of(&e, true)),
			lo: uint64(protos.id(e.proto))<<32 | uint64(e.dport)<<16 | uint64(apps.id(e.app)), i: int32(i)}
	}
	nameRank, byRank := ranks(ep.names)
	protoRank, protoByRank := ranks(protos)
	appRank, appByRank := ranks(apps)
	for i := range order {
		o := &order[i]
		o.hi = uint64(nameRank[o.hi>>32])<<32 | uint64(nameRank[uint32(o.hi)])
		o.lo = uint64(protoRank[o.lo>>32])<<32 | o.lo&0xffff0000 | uint64(appRank[uint16(o.lo)])
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
	distinct := 1
	for j := 1; j < len(order); j++ {
		if order[j].hi != order[j-1].hi || order[j].lo != order[j-1].lo {
			distinct++
		}
	}
	size(distinct)
	var x edgeOut
	for j, o := range order {
		e := get(int(o.i))
		if j == 0 || o.hi != order[j-1].hi || o.lo != order[j-1].lo {
			if j > 0 {
				emit(&x)
			}
			x = edgeOut{src: byRank[o.hi>>32], dst: byRank[uint32(o.hi)], proto: protoByRank[o.lo>>32], dport: uint16(o.lo >> 16),
				app: appByRank[uint16(o.lo)], packets: e.packets, bytes: e.bytes, first: e.first, last: e.last}
			continue
		}
		// Compared as times: the trimmed RFC 3339 text does not sort as
		// the times do within one second ("…:05.5Z" < "…:05Z").
		if e.first.Before(x.first) {
			x.first = e.first
		}
		if e.last.After(x.last) {
			x.last = e.last
		}
		x.packets += e.packets
		x.bytes += e.bytes
	}
	emit(&x)
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
	// last holds the address last named at each end (source, destination)
	// and its id: the sensor's edges of one host mostly come together.
	last [2]struct {
		ip netip.Addr
		id uint32
	}
}

// of names the source (dst false) or destination end of e.
func (p *endpoints) of(e *edgeIn, dst bool) uint32 {
	ip := e.srcIP
	if dst {
		ip = e.dstIP
	}
	if !ip.IsValid() {
		return 0 // folded edge: any host
	}
	last := &p.last[0]
	if dst {
		last = &p.last[1]
	}
	if ip == last.ip {
		return last.id
	}
	if id, ok := p.byIP[ip]; ok {
		last.ip, last.id = ip, id
		return id
	}
	k, owned := p.ipOwner[ip]
	if !owned && ip.IsUnspecified() {
		mac := e.srcMACText()
		if dst {
			mac = e.dstMACText()
		}
		if p.macDev[mac] {
			return p.id(mac) // a DHCP client before it has an address
		}
		return p.id(ip.String())
	}
	var id uint32
	if owned {
		id = p.id(k)
	} else {
		// An address no device owns is named by its text, which no other
		// name can be (device keys are MACs or the text of owned
		// addresses; netip.Addr.String is one-to-one): no lookup by name.
		id = uint32(len(p.names))
		p.names = append(p.names, ip.String())
	}
	p.byIP[ip] = id
	last.ip, last.id = ip, id
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

// ranks returns the position of each name in the sorted names, and the
// names in that order.
func ranks(names []string) ([]uint32, []string) {
	order := make([]uint32, len(names))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return strings.Compare(names[a], names[b]) })
	rank := make([]uint32, len(names))
	sorted := make([]string, len(names))
	for r, i := range order {
		rank[i] = uint32(r)
		sorted[r] = names[i]
	}
	return rank, sorted
}

// Unix seconds of 0000-01-01 and 10000-01-01 UTC: ts writes the times in
// between in a fixed width.
const (
	minFixedUnix = -62167219200
	maxFixedUnix = 253402300800
)

// stamper is ts with the date part of the last day it wrote kept: the
// report writes hundreds of thousands of timestamps, most of them on a
// few days, and working out the calendar date was most of their cost.
type stamper struct {
	day    int64 // Unix day of date
	date   [11]byte
	hasDay bool
}

func (st *stamper) ts(t time.Time) string {
	sec := t.Unix()
	if t.IsZero() || sec < minFixedUnix || sec >= maxFixedUnix {
		return ts(t)
	}
	var b [30]byte
	return string(st.appendFixed(b[:0], t))
}

// appendTS appends st.ts(t) to b (as a JSON string: in quotes, which
// the text never needs escaped).
func (st *stamper) appendTS(b []byte, t time.Time) []byte {
	sec := t.Unix()
	if t.IsZero() || sec < minFixedUnix || sec >= maxFixedUnix {
		return appendString(b, ts(t))
	}
	b = append(b, '"')
	b = st.appendFixed(b, t)
	return append(b, '"')
}

// appendFixed appends the text of t, a time with a fixed-width year.
func (st *stamper) appendFixed(out []byte, t time.Time) []byte {
	sec := t.Unix()
	day := sec / 86400
	sod := sec - day*86400
	if sod < 0 {
		day--
		sod += 86400
	}
	if !st.hasDay || day != st.day {
		year, month, mday := time.Unix(day*86400, 0).UTC().Date()
		put(st.date[:], 0, year, 4)
		st.date[4] = '-'
		put(st.date[:], 5, int(month), 2)
		st.date[7] = '-'
		put(st.date[:], 8, mday, 2)
		st.date[10] = 'T'
		st.day, st.hasDay = day, true
	}
	var b [30]byte
	copy(b[:], st.date[:])
	put2(b[:], 11, int(sod/3600))
	b[13] = ':'
	put2(b[:], 14, int(sod/60%60))
	b[16] = ':'
	put2(b[:], 17, int(sod%60))
	n := 19
	if ns := t.Nanosecond(); ns != 0 {
		// Nine digits, the trailing zeros dropped.
		b[19] = '.'
		b[28] = byte('0' + ns%10)
		ns /= 10
		put2(b[:], 26, ns%100)
		ns /= 100
		put2(b[:], 24, ns%100)
		ns /= 100
		put2(b[:], 22, ns%100)
		put2(b[:], 20, ns/100)
		n = 29
		for b[n-1] == '0' {
			n--
		}
	}
	b[n] = 'Z'
	return append(out, b[:n+1]...)
}

// pairs holds the two decimal digits of 0..99.
const pairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// put2 writes v (0 ≤ v < 100) in two decimal digits at b[i:i+2].
func put2(b []byte, i, v int) {
	b[i], b[i+1] = pairs[2*v], pairs[2*v+1]
}

// put writes v in decimal into b[i:i+width], zero-padded.
func put(b []byte, i, v, width int) {
	for j := i + width - 1; j >= i; j-- {
		b[j] = byte('0' + v%10)
		v /= 10
	}
}
