package hl7

import (
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// DedupeWindow is how often, at most, one HL7 flow reports an unchanged
// observation (the same device, field and value). A monitor's or an
// interface engine's connection repeats the same header values in every
// message; reporting each again costs the sensor a lookup per value per
// message and tells nothing new. A value seen again within the window is
// held back and reported, with the time it was last seen, when the window
// has passed and the value is seen again, or when the flow ends. So an
// observation's first and last seen times stay exact to within the window,
// and its count is the number of reports, not of messages.
const DedupeWindow = time.Minute

// windowSeconds is DedupeWindow in seconds (a whole number of them).
const windowSeconds = int64(DedupeWindow / time.Second)

// withinWindow reports t.Sub(since) < DedupeWindow for times without
// monotonic readings (capture times), without Sub's overflow check (an
// Add and an Equal, most of the cost of a repeated message's times).
func withinWindow(t, since time.Time) bool {
	d := t.Unix() - since.Unix()
	switch {
	case d < windowSeconds:
		return true
	case d > windowSeconds:
		return false
	}
	return t.Nanosecond() < since.Nanosecond()
}

type obsKey struct {
	server       bool // the observation is about the flow's server
	field, value string
}

type obsSeen struct {
	reported time.Time // time of the last report
	last     time.Time // last time seen since (valid when pending)
	pending  bool
}

// seen holds back a sighting at t within the window.
func (r *obsSeen) seen(t time.Time) {
	if !r.pending || t.After(r.last) {
		r.last = t
	}
	r.pending = true
}

// mshCache remembers, per direction, the last MSH segment read in full
// (its fields but the per-message MSH-7 time and MSH-10 control id) and
// the dedupe records of what it reported. A monitor sends the same header
// in every message: the next identical one only moves those records'
// times, as observe would, without decoding or hashing anything.
type mshCache struct {
	key  []byte
	obs  []*obsSeen
	keys []obsKey // obs[i]'s key
	ok   bool     // every observation has a record (the dedupe table was not full)
}

// sameHeader builds the key of the MSH split into s.ft and reports whether
// it equals c's and every record is still within its window; if so it
// updates the records as observe would.
func (s *stream) sameHeader(c *mshCache, d *Delimiters, t time.Time) bool {
	k := append(s.key[:0], d.Field)
	for i := 1; i <= s.ft.n; i++ {
		if i == 7 || i == 10 {
			continue
		}
		k = append(append(k, s.ft.f[i]...), d.Field)
	}
	s.key = k
	if !c.ok || !s.reported || len(c.key) == 0 || string(c.key) != string(k) {
		return false
	}
	for _, r := range c.obs {
		if !withinWindow(t, r.reported) {
			return false
		}
	}
	for _, r := range c.obs {
		r.seen(t)
	}
	return true
}

// observe reports o through the per-flow dedupe and returns its record
// (nil when the table is full and o was reported untracked) and key.
func (s *stream) observe(out dissect.Emitter, ep dissect.Endpoint, field, value string, t time.Time) (*obsSeen, obsKey) {
	k := obsKey{server: ep == s.flow.Server, field: field, value: value}
	if r, ok := s.seen[k]; ok {
		s.again(out, r, k, t)
		return r, k
	}
	var r *obsSeen
	if len(s.seen) < maxIntern {
		if s.seen == nil {
			s.seen = map[obsKey]*obsSeen{}
		}
		if len(s.recs) == cap(s.recs) {
			// Records in blocks (one allocation for a flow's first
			// message's dozen); a full block is never regrown: records
			// are pointed to.
			s.recs = make([]obsSeen, 0, 16)
			if s.seenOrder == nil {
				s.seenOrder = make([]obsKey, 0, 16)
			}
		}
		s.recs = append(s.recs, obsSeen{reported: t})
		r = &s.recs[len(s.recs)-1]
		s.seen[k] = r
		s.seenOrder = append(s.seenOrder, k)
	}
	s.report(out, k, t)
	return r, k
}

// again is observe for a value that has record r: within the window only
// its times move, else it is reported.
func (s *stream) again(out dissect.Emitter, r *obsSeen, k obsKey, t time.Time) {
	if withinWindow(t, r.reported) {
		r.seen(t)
		return
	}
	r.reported, r.pending = t, false
	s.report(out, k, t)
}

func (s *stream) report(out dissect.Emitter, k obsKey, t time.Time) {
	ep := s.flow.Client
	if k.server {
		ep = s.flow.Server
	}
	out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: k.field, Value: k.value, MAC: ep.MAC, IP: ep.Addr.Addr()})
}

// flush reports every held-back observation with the last time it was seen.
func (s *stream) flush(out dissect.Emitter) {
	for _, k := range s.seenOrder { // first-seen order: the same output every run
		r := s.seen[k]
		if !r.pending {
			continue
		}
		ep := s.flow.Client
		if k.server {
			ep = s.flow.Server
		}
		out.Observe(dissect.Observation{Time: r.last, Protocol: Name, Field: k.field, Value: k.value, MAC: ep.MAC, IP: ep.Addr.Addr()})
		r.reported, r.pending = r.last, false
	}
}
