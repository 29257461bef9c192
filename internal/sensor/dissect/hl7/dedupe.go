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

// observe reports o through the per-flow dedupe.
func (s *stream) observe(out dissect.Emitter, ep dissect.Endpoint, field, value string, t time.Time) {
	k := obsKey{server: ep == s.flow.Server, field: field, value: value}
	if r, ok := s.seen[k]; ok {
		if t.Sub(r.reported) < DedupeWindow {
			if !r.pending || t.After(r.last) {
				r.last = t
			}
			r.pending = true
			return
		}
		r.reported, r.pending = t, false
	} else if len(s.seen) < maxIntern {
		if s.seen == nil {
			s.seen = map[obsKey]*obsSeen{}
		}
		s.seen[k] = &obsSeen{reported: t}
		s.seenOrder = append(s.seenOrder, k)
	}
	out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
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
