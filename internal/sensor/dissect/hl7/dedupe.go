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

type obsKey struct {
	server       bool // the observation is about the flow's server
	field, value string
}

type obsSeen struct {
	reported time.Time // time of the last report
	last     time.Time // last time seen since (valid when pending)
	pending  bool
}

// mshCache remembers, per direction, the last MSH segment read in full
// (its fields but the per-message MSH-7 time and MSH-10 control id) and
// the dedupe records of what it reported. A monitor sends the same header
// in every message: the next identical one only moves those records'
// times, as observe would, without decoding or hashing anything.
type mshCache struct {
	key []byte
	obs []*obsSeen
	ok  bool // every observation has a record (the dedupe table was not full)
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
		if t.Sub(r.reported) >= DedupeWindow {
			return false
		}
	}
	for _, r := range c.obs {
		if !r.pending || t.After(r.last) {
			r.last = t
		}
		r.pending = true
	}
	return true
}

// observe reports o through the per-flow dedupe and returns its record
// (nil when the table is full and o was reported untracked).
func (s *stream) observe(out dissect.Emitter, ep dissect.Endpoint, field, value string, t time.Time) *obsSeen {
	k := obsKey{server: ep == s.flow.Server, field: field, value: value}
	r, ok := s.seen[k]
	if ok {
		if t.Sub(r.reported) < DedupeWindow {
			if !r.pending || t.After(r.last) {
				r.last = t
			}
			r.pending = true
			return r
		}
		r.reported, r.pending = t, false
	} else if len(s.seen) < maxIntern {
		if s.seen == nil {
			s.seen = map[obsKey]*obsSeen{}
		}
		r = &obsSeen{reported: t}
		s.seen[k] = r
		s.seenOrder = append(s.seenOrder, k)
	}
	out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
	return r
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
