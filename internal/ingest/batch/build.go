package batch

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/classify"
	"github.com/medwarden/medwarden/internal/sensor"
)

// fieldSources maps inventory fields that classification does not infer
// to the dissector observations that carry them, best first, with the
// confidence given to each.
var fieldSources = map[string][]struct {
	obs        string
	confidence float64
}{
	// Not dicom.implementation_version: it names the DICOM toolkit build,
	// not the device's firmware.
	"version": {{"poct1.sw_version", 0.9}, {"astm.version", 0.85}, {"cdp.software_version", 0.85}},
	"serial":  {{"poct1.serial", 0.9}, {"astm.serial", 0.85}},
}

// Builder turns what a sensor saw into batches: devices classified from
// every observation so far, sent when one of their observations was seen
// since the previous batch, and the edge buckets drained since then.
type Builder struct {
	SensorID     string
	EdgeInterval time.Duration
	seq          uint64
	last         time.Time // end of the previous batch
}

// NewBuilder returns a builder whose first batch has sequence next (1 for
// a new sensor; the spool's next number after a restart).
func NewBuilder(sensorID string, edgeInterval time.Duration, next uint64) *Builder {
	return &Builder{SensorID: sensorID, EdgeInterval: cmp.Or(edgeInterval, sensor.DefaultEdgeInterval), seq: max(next, 1) - 1}
}

// Build returns the next batch covering [previous end, end). devs are the
// classified devices (from every observation so far); buckets the drained
// edge buckets. It returns nil when there is nothing to send.
func (b *Builder) Build(end time.Time, devs []classify.Device, buckets []sensor.EdgeBucket) *Batch {
	start := b.last
	if start.IsZero() {
		start = end
		for _, bk := range buckets {
			for _, e := range bk.Edges {
				if e.First.Before(start) {
					start = e.First
				}
			}
		}
		for _, d := range devs {
			for _, ev := range d.Evidence {
				if !ev.FirstSeen.IsZero() && ev.FirstSeen.Before(start) {
					start = ev.FirstSeen
				}
			}
		}
	}
	out := &Batch{Format: Format, Version: Version, SensorID: b.SensorID, Start: start.UTC(), End: end.UTC(),
		EdgeIntervalS: int64(b.EdgeInterval / time.Second), Devices: []Device{}, Edges: []Edge{}}
	for _, d := range devs {
		if !b.last.IsZero() && !seenSince(d, b.last) {
			continue
		}
		if bd, ok := deviceOf(d); ok {
			out.Devices = append(out.Devices, bd)
		}
	}
	for _, bk := range buckets {
		for _, e := range bk.Edges {
			out.Edges = append(out.Edges, edgeOf(bk.Start, e))
		}
	}
	if out.End.Before(out.Start) {
		out.End = out.Start
	}
	b.last = end
	if len(out.Devices) == 0 && len(out.Edges) == 0 {
		return nil
	}
	b.seq++
	out.Seq = b.seq
	return out
}

// Seq is the sequence number of the last batch built.
func (b *Builder) Seq() uint64 { return b.seq }

func seenSince(d classify.Device, t time.Time) bool {
	for _, e := range d.Evidence {
		if !e.LastSeen.Before(t) {
			return true
		}
	}
	return false
}

func edgeOf(bucket time.Time, e sensor.Edge) Edge {
	out := Edge{Bucket: bucket.UTC(), SrcMAC: e.SrcMAC, DstMAC: e.DstMAC, Proto: e.Proto, Port: int(e.DPort), App: e.App,
		Packets: e.Packets, Bytes: e.Bytes, FirstSeen: e.First.UTC(), LastSeen: e.Last.UTC()}
	if e.SrcIP.IsValid() {
		out.SrcIP = e.SrcIP.String()
	}
	if e.DstIP.IsValid() {
		out.DstIP = e.DstIP.String()
	}
	return out
}

// deviceOf converts a classified device; ok is false for a device with
// neither MAC nor IP (nothing to match it by).
func deviceOf(d classify.Device) (Device, bool) {
	out := Device{MAC: d.MAC}
	for _, ip := range d.IPs {
		if ip.IsValid() && !ip.IsUnspecified() {
			out.IPs = append(out.IPs, ip.String())
		}
	}
	if out.MAC == "" && len(out.IPs) == 0 {
		return out, false
	}
	first, last := seenRange(d.Evidence)
	add := func(field, value string, conf float64, evidence []string) {
		value = strings.TrimSpace(value)
		if value == "" || !validText(value) || len(value) > MaxTextLen {
			return
		}
		if len(evidence) > MaxEvidence {
			evidence = evidence[:MaxEvidence]
		}
		out.Observed = append(out.Observed, Observed{Field: field, Value: value, Confidence: clamp(conf), Evidence: evidence,
			FirstSeen: first, LastSeen: last})
	}
	// The best value of each attribute comes first in Attributes.
	best := map[string]classify.Attribute{}
	for _, a := range d.Attributes {
		if _, ok := best[a.Name]; !ok {
			best[a.Name] = a
		}
	}
	for _, m := range []struct{ attr, field string }{{"vendor", "vendor"}, {"model", "model"}, {"type", "device_type"}, {"os", "os"}} {
		if a, ok := best[m.attr]; ok {
			add(m.field, a.Value, a.Confidence, evidenceOf(a))
		}
	}
	if d.Hostname != "" {
		add("hostname", d.Hostname, 0.9, hostnameEvidence(d))
	}
	for _, f := range []string{"version", "serial"} {
		for _, src := range fieldSources[f] {
			if ev, ok := find(d.Evidence, src.obs); ok {
				add(f, ev.Value, src.confidence, []string{ev.Field + "=" + ev.Value})
				break
			}
		}
	}
	if len(out.IPs) > 0 {
		add("ip", out.IPs[0], 1, []string{"traffic"})
	}
	slices.SortFunc(out.Observed, func(a, b Observed) int { return strings.Compare(a.Field, b.Field) })
	return out, true
}

func evidenceOf(a classify.Attribute) []string {
	ev := slices.Clone(a.Evidence)
	for _, r := range a.Rules {
		if r == "oui" {
			ev = append(ev, "oui")
		}
	}
	return ev
}

func hostnameEvidence(d classify.Device) []string {
	var out []string
	for _, e := range d.Evidence {
		if strings.HasSuffix(e.Field, "hostname") || strings.HasSuffix(e.Field, ".name") || strings.HasSuffix(e.Field, "device_name") {
			if e.Value == d.Hostname {
				out = append(out, e.Field+"="+e.Value)
			}
		}
	}
	return out
}

func find(evs []classify.Evidence, field string) (classify.Evidence, bool) {
	var best classify.Evidence
	found := false
	for _, e := range evs {
		if e.Field == field && e.Value != "" && (!found || e.Count > best.Count) {
			best, found = e, true
		}
	}
	return best, found
}

func seenRange(evs []classify.Evidence) (first, last time.Time) {
	for _, e := range evs {
		if !e.FirstSeen.IsZero() && (first.IsZero() || e.FirstSeen.Before(first)) {
			first = e.FirstSeen
		}
		if e.LastSeen.After(last) {
			last = e.LastSeen
		}
	}
	return first.UTC(), last.UTC()
}

func clamp(c float64) float64 {
	if !(c >= 0) {
		return 0
	}
	return min(c, 1)
}
