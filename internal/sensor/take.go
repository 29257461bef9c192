package sensor

import (
	"cmp"
	"net/netip"
	"slices"
)

// TakeResult is Flush and Result for a one-shot scan: it moves what was
// collected into the Result, emptying the sensor's tables as it goes and
// then dropping them (the flow table with its recycled flows, the edge
// map, the observation and finding maps, the MAC cache), so that the
// collected state is never held twice while the report is built. The
// sensor is left empty, as if new; a live sensor that reports periodically
// uses Result instead.
func (s *Sensor) TakeResult() *Result {
	s.Flush()
	r := &Result{Stats: s.Stats()}
	// Every flow is now on the table's free list: drop the table (and its
	// map, which keeps its peak size) before the result is built.
	s.flows = newFlowTable(s.cfg.MaxFlows)
	r.Edges = drainEdges(s.edges.total)
	r.Observations = make([]ObservationRecord, 0, len(s.obs))
	for k, o := range s.obs {
		r.Observations = append(r.Observations, *o)
		delete(s.obs, k)
	}
	r.Findings = make([]FindingRecord, 0, len(s.findings))
	for k, f := range s.findings {
		r.Findings = append(r.Findings, *f)
		delete(s.findings, k)
	}
	r.Hosts = make([]Host, 0, len(s.hosts)+len(s.ipHosts))
	for mac, ips := range s.hosts {
		r.Hosts = append(r.Hosts, Host{MAC: s.macString(mac), IPs: ips})
	}
	for ip, how := range s.ipHosts {
		r.Hosts = append(r.Hosts, Host{IPs: map[netip.Addr]uint8{ip: how}})
	}
	// Start afresh: the maps above keep their peak size even when empty.
	stats := s.stats
	fresh := New(s.cfg)
	fresh.stats = stats
	*s = *fresh

	sortResult(r)
	return r
}

// drainEdges moves the edges out of m (emptying it) and sorts them.
func drainEdges(m map[EdgeKey]*EdgeStats) []Edge {
	out := make([]Edge, 0, len(m))
	for k, v := range m {
		out = append(out, Edge{EdgeKey: k, EdgeStats: *v})
		delete(m, k)
	}
	slices.SortFunc(out, func(x, y Edge) int { return CompareEdgeKeys(x.EdgeKey, y.EdgeKey) })
	return out
}

// sortResult puts a result in the order Result documents.
func sortResult(r *Result) {
	slices.SortFunc(r.Observations, func(x, y ObservationRecord) int {
		return cmp.Or(cmp.Compare(x.MAC, y.MAC), x.IP.Compare(y.IP), cmp.Compare(x.Field, y.Field), cmp.Compare(x.Value, y.Value))
	})
	slices.SortFunc(r.Findings, func(x, y FindingRecord) int {
		return cmp.Or(cmp.Compare(x.MAC, y.MAC), x.IP.Compare(y.IP), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Detail, y.Detail), x.FirstSeen.Compare(y.FirstSeen))
	})
	slices.SortFunc(r.Hosts, func(x, y Host) int {
		if c := cmp.Compare(x.MAC, y.MAC); c != 0 {
			return c
		}
		return firstIP(x).Compare(firstIP(y))
	})
}
