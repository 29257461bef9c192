package sensor

import (
	"bytes"
	"cmp"
	"net/netip"
	"slices"
	"strings"
)

// TakeResult is Flush and Result for a one-shot scan: it moves what was
// collected into the Result, emptying the sensor's tables as it goes and
// then dropping them (the flow table with its recycled flows, the edge
// map, the observation and finding maps, the MAC cache), so that the
// collected state is never held twice while the report is built. The
// sensor is left empty, as if new; a live sensor that reports periodically
// uses Result instead.
func (s *Sensor) TakeResult() *Result {
	r := s.take(false)
	sortResult(r)
	return r
}

// TakeResultUnordered is TakeResult for a consumer that orders what it
// uses itself, such as report.FromResult: the observations and hosts are
// in no particular order, and the edges are handed over as the
// aggregator holds them (Result.CompactEdges; Result.Edges is nil),
// neither sorted nor turned into Edge values. The findings are ordered
// as Result documents.
func (s *Sensor) TakeResultUnordered() *Result {
	r := s.take(true)
	sortFindings(r.Findings)
	return r
}

// Binding is one MAC/IP binding of a ScanTake: what a Host holds for one
// of its addresses.
type Binding struct {
	MAC string // "" for raw-IP captures
	IP  netip.Addr
	How uint8 // Bind* bits
}

// ScanTake is what TakeScan hands a one-shot scan: a Result without its
// records built. The observations stay in the sensor's table until
// EachObservation hands them over, the hosts are a flat list of
// bindings (no map per MAC), the edges compact (see TakeResultUnordered).
type ScanTake struct {
	Stats    Stats
	Findings []FindingRecord // ordered as Result documents
	Edges    *CompactEdges
	Bindings []Binding // by MAC ("" first), then address (see TakeScan)
	obs      *obsTable
}

// TakeScan is TakeResultUnordered for a consumer that reads the
// observations once, in no particular order (EachObservation), and the
// bindings as a list: the sensor is emptied as TakeResult empties it.
func (s *Sensor) TakeScan() *ScanTake {
	s.Flush()
	t := &ScanTake{Stats: s.Stats(), obs: s.obs}
	s.flows = newFlowTable(s.cfg.MaxFlows) // as take
	s.obs = nil
	t.Edges = &CompactEdges{a: s.edges, t: s.edges.total}
	s.edges.total = nil
	t.Findings = make([]FindingRecord, 0, len(s.findings))
	for _, f := range s.findings {
		t.Findings = append(t.Findings, *f)
	}
	s.findings = nil
	sortFindings(t.Findings)
	// The MAC-less bindings first, then the others sorted by MAC, then
	// address (as text and netip.Addr.Compare order them): the order
	// classification groups them in. The table is dropped: its entries
	// are sorted where they are.
	t.Bindings = make([]Binding, 0, len(s.hosts.entries)+len(s.ipHosts))
	for ip, how := range s.ipHosts {
		t.Bindings = append(t.Bindings, Binding{IP: ip, How: how})
	}
	entries := s.hosts.entries
	slices.SortFunc(entries, func(a, b hostEntry) int {
		if c := bytes.Compare(a.k.mac[:], b.k.mac[:]); c != 0 {
			return c
		}
		if a.k.v6 != b.k.v6 {
			if a.k.v6 {
				return 1 // IPv4 first
			}
			return -1
		}
		return bytes.Compare(a.k.ip[:], b.k.ip[:])
	})
	var mac string
	for i := range entries {
		e := &entries[i]
		if i == 0 || e.k.mac != entries[i-1].k.mac {
			mac = s.macString(e.k.mac)
		}
		t.Bindings = append(t.Bindings, Binding{MAC: mac, IP: keyAddr(e.k.ip, e.k.v6), How: e.how})
	}
	s.hosts, s.ipHosts, s.macStr = nil, nil, nil
	stats := s.stats
	fresh := New(s.cfg)
	fresh.stats = stats
	*s = *fresh
	return t
}

// Observations is the number of observation records EachObservation
// hands over.
func (t *ScanTake) Observations() int {
	if t.obs == nil {
		return 0
	}
	return t.obs.len()
}

// EachObservation calls f with each observation record (o is reused),
// in no particular order, dropping the records as it goes: it hands
// them over once.
func (t *ScanTake) EachObservation(f func(o *ObservationRecord)) {
	if t.obs == nil {
		return
	}
	var o ObservationRecord
	for i := range t.obs.len() {
		e := t.obs.at(i)
		o = e.k.record(&e.v)
		f(&o)
		if i&(obsChunk-1) == obsChunk-1 {
			t.obs.chunks[i>>obsChunkBits] = nil // handed over
		}
	}
	t.obs = nil
}

// take moves the collected state into a Result in no particular order
// (see TakeResult); the edges are sorted Edges, or with unordered the
// compact edges as they are.
func (s *Sensor) take(unordered bool) *Result {
	s.Flush()
	r := &Result{Stats: s.Stats()}
	// Every flow is now on the table's free list: drop the table (and its
	// map, which keeps its peak size) before the result is built.
	s.flows = newFlowTable(s.cfg.MaxFlows)
	// Each table is dropped as soon as its copy is made, so that the
	// collector can free it while the next is copied; the largest saving
	// (observations: records of 168 bytes out of a map costing about 170
	// per entry) comes first, the host bindings (which grow when grouped
	// by MAC) last.
	r.Observations = make([]ObservationRecord, 0, s.obs.len())
	for i := range s.obs.len() {
		e := s.obs.at(i)
		r.Observations = append(r.Observations, e.k.record(&e.v))
		if i&(obsChunk-1) == obsChunk-1 {
			s.obs.chunks[i>>obsChunkBits] = nil // copied
		}
	}
	s.obs = nil
	if unordered {
		r.CompactEdges = &CompactEdges{a: s.edges, t: s.edges.total}
	} else {
		r.Edges = s.edges.sorted(s.edges.total)
	}
	s.edges.total = nil
	r.Findings = make([]FindingRecord, 0, len(s.findings))
	for _, f := range s.findings {
		r.Findings = append(r.Findings, *f)
	}
	s.findings = nil
	r.Hosts = s.hostList()
	s.hosts, s.ipHosts, s.macStr = nil, nil, nil
	// Start afresh: the maps above keep their peak size even when empty.
	stats := s.stats
	fresh := New(s.cfg)
	fresh.stats = stats
	*s = *fresh
	return r
}

// sortResult puts a result in the order Result documents.
func sortResult(r *Result) {
	sortObservations(r.Observations)
	sortFindings(r.Findings)
	slices.SortFunc(r.Hosts, func(x, y Host) int {
		if c := cmp.Compare(x.MAC, y.MAC); c != 0 {
			return c
		}
		return firstIP(x).Compare(firstIP(y))
	})
}

func sortObservations(obs []ObservationRecord) {
	slices.SortFunc(obs, func(x, y ObservationRecord) int {
		// Short-circuit, not cmp.Or: its arguments are all evaluated, and
		// this sorts hundreds of thousands of records.
		if c := strings.Compare(x.MAC, y.MAC); c != 0 {
			return c
		}
		if c := x.IP.Compare(y.IP); c != 0 {
			return c
		}
		if c := strings.Compare(x.Field, y.Field); c != 0 {
			return c
		}
		return strings.Compare(x.Value, y.Value)
	})
}

// sortFindings orders findings by MAC, IP, kind, detail, first time,
// protocol and peer. The last two complete the key the sensor collects
// findings by (see Sensor.Report), so this is a total order on the
// findings of one Result: the order no longer depends on map order.
func sortFindings(fs []FindingRecord) {
	slices.SortFunc(fs, compareFindings)
}

func compareFindings(x, y FindingRecord) int {
	return cmp.Or(cmp.Compare(x.MAC, y.MAC), x.IP.Compare(y.IP), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Detail, y.Detail),
		x.FirstSeen.Compare(y.FirstSeen), cmp.Compare(x.Protocol, y.Protocol), x.Peer.Compare(y.Peer))
}
