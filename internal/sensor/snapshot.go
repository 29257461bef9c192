package sensor

import "time"

// DrainEdgeBuckets moves the traffic counted so far, including that of
// flows still open (which stay open), into the per-interval aggregation
// and returns and clears it: each call returns only what was seen since
// the previous one, as partial buckets that a server adds up by key.
// Whole-run edges (Result().Edges) are not affected. It needs
// Config.EdgeBuckets.
func (s *Sensor) DrainEdgeBuckets() []EdgeBucket {
	for f := s.flows.first(); f != nil; f = s.flows.after(f) {
		s.flushEdge(f)
		f.bucketFirst = f.lastNS
	}
	out := s.edges.Buckets()
	clear(s.edges.buckets)
	return out
}

// ObservationsSince returns the observation records last seen at or after
// t (all of them when t is zero), for incremental reports.
func (s *Sensor) ObservationsSince(t time.Time) []ObservationRecord {
	var out []ObservationRecord
	for i := range s.obs.len() {
		e := s.obs.at(i)
		if t.IsZero() || e.v.last >= timeNS(t) {
			out = append(out, e.k.record(&e.v))
		}
	}
	return out
}
