package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"strings"

	"github.com/medwarden/medwarden/internal/classify"
	"github.com/medwarden/medwarden/internal/sensor"
)

// WriteScanJSON writes the JSON report of a one-shot scan, the bytes
// FromResult(res, c).WriteJSON(w) writes, without building the Report:
// each device is written from its classification, each edge as the
// aggregation hands it over and each finding from the sensor's record,
// so the report's strings (addresses, timestamps, edge records) are
// never made. res is emptied as FromResult empties it.
func WriteScanJSON(w io.Writer, res *sensor.Result, c *classify.Classifier) error {
	var in classify.Input
	in.Bindings = unsortedBindings(res)
	res.Hosts = nil
	in.Evidence = evidence(res)
	res.Observations = nil
	devs := c.ClassifyOwned(in)
	in = classify.Input{}
	return writeScan(w, devs, res)
}

// WriteScan writes the JSON report of what Sensor.TakeScan handed over:
// the bytes WriteScanJSON writes for Sensor.TakeResultUnordered, without
// the observation records or the hosts' maps (the classification input
// is made from the sensor's table and binding list). t is emptied.
func WriteScan(w io.Writer, t *sensor.ScanTake, c *classify.Classifier) error {
	var in classify.Input
	in.Bindings = takeBindings(t.Bindings)
	t.Bindings = nil
	if n := t.Observations(); n > 0 {
		in.Evidence = make([]classify.Evidence, 0, n)
		t.EachObservation(func(o *sensor.ObservationRecord) {
			in.Evidence = append(in.Evidence, classify.Evidence{MAC: o.MAC, IP: o.IP, Protocol: o.Protocol, Field: o.Field,
				Value: o.Value, FirstSeen: o.FirstSeen, LastSeen: o.LastSeen, Count: o.Count})
		})
	}
	devs := c.ClassifyOwned(in)
	in = classify.Input{}
	res := &sensor.Result{Findings: t.Findings, CompactEdges: t.Edges, Stats: t.Stats}
	t.Findings, t.Edges = nil, nil
	return writeScan(w, devs, res)
}

// takeBindings is unsortedBindings of a ScanTake's bindings.
func takeBindings(bs []sensor.Binding) []classify.Binding {
	n := 0
	for _, b := range bs {
		n += bits.OnesCount8(b.How & (sensor.BindTraffic | sensor.BindARP))
	}
	if n == 0 {
		return nil
	}
	out := make([]classify.Binding, 0, n)
	for _, b := range bs {
		if b.How&sensor.BindTraffic != 0 {
			out = append(out, classify.Binding{MAC: b.MAC, IP: b.IP})
		}
		if b.How&sensor.BindARP != 0 {
			out = append(out, classify.Binding{MAC: b.MAC, IP: b.IP, ARP: true})
		}
	}
	return out
}

// writeScan writes the report of the classified devs and of res's edges,
// findings and stats (its observations and hosts are not read), emptying
// res's edges.
func writeScan(w io.Writer, devs []classify.Device, res *sensor.Result) error {
	macDev := make(map[string]bool, len(devs))
	ipOwner := make(map[netip.Addr]string, len(devs))
	for _, d := range devs {
		noteDeviceKeys(macDev, ipOwner, d.MAC, d.IPs)
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	var st stamper
	var buf []byte
	const prefix = "    "
	// open, elem and closeArr write an array as Report.WriteJSON does.
	open := func(name string) { openArray(bw, name) }
	elem := func(i int, b []byte) { arrayElem(bw, i, b) }
	closeArr := func(n int, last bool) { closeArray(bw, n, last) }

	bw.WriteString("{\n")
	open("devices")
	for i := range devs {
		var err error
		buf, err = appendClassified(buf[:0], &devs[i], prefix, &st)
		if err != nil {
			return fmt.Errorf("encode devices[%d]: %w", i, err)
		}
		elem(i, buf)
		devs[i].Evidence = nil // written
	}
	closeArr(len(devs), false)

	open("edges")
	n := 0
	emit := func(e *edgeOut) {
		buf = appendEdgeOut(buf[:0], e, prefix, &st)
		elem(n, buf)
		n++
	}
	size := func(int) {}
	if res.CompactEdges != nil {
		ce := res.CompactEdges
		eachEdge(ce.Len(), func(i int) edgeIn {
			e := ce.At(i)
			return edgeIn{srcRaw: e.SrcMAC, dstRaw: e.DstMAC, raw: true, srcHas: e.HasSrcMAC, dstHas: e.HasDstMAC,
				srcIP: e.SrcIP, dstIP: e.DstIP, proto: e.Proto, dport: e.DPort, app: e.App,
				packets: e.Packets, bytes: e.Bytes, first: e.First, last: e.Last}
		}, ipOwner, macDev, size, emit)
	} else {
		edges := res.Edges
		eachEdge(len(edges), func(i int) edgeIn {
			e := &edges[i]
			return edgeIn{srcMAC: e.SrcMAC, dstMAC: e.DstMAC, srcIP: e.SrcIP, dstIP: e.DstIP, proto: e.Proto, dport: e.DPort, app: e.App,
				packets: e.Packets, bytes: e.Bytes, first: e.First, last: e.Last}
		}, ipOwner, macDev, size, emit)
	}
	res.Edges, res.CompactEdges = nil, nil
	closeArr(n, false)

	open("findings")
	for i := range res.Findings {
		buf = appendFindingRecord(buf[:0], &res.Findings[i], ipOwner, macDev, prefix, &st)
		elem(i, buf)
	}
	closeArr(len(res.Findings), false)

	stats, err := json.MarshalIndent(res.Stats, "  ", "  ")
	if err != nil {
		return err
	}
	bw.WriteString(`  "stats": `)
	bw.Write(stats)
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// appendClassified appends d as appendDevice appends the report's Device
// that build makes of it.
func appendClassified(b []byte, d *classify.Device, prefix string, st *stamper) ([]byte, error) {
	o := jsonObject{b: append(b, '{'), indent: deeper(prefix)}
	o.str("mac", d.MAC)
	o.key("ips")
	if len(d.IPs) == 0 {
		o.b = append(o.b, "[]"...)
	} else {
		o.b = append(o.b, '[')
		for i, ip := range d.IPs {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = append(o.b, '\n')
			o.b = append(o.b, o.indent...)
			o.b = append(o.b, "  "...)
			if ip.Zone() == "" {
				// Hex digits, '.' and ':': plain in JSON.
				o.b = append(o.b, '"')
				o.b = ip.AppendTo(o.b)
				o.b = append(o.b, '"')
			} else {
				o.b = appendString(o.b, ip.String()) // a zone is any text
			}
		}
		o.endArray()
	}
	if err := o.deviceFacts(d.Hostname, d.Vendor, d.Model, d.Type, d.OS, d.Software, d.Confidence, d.Attributes); err != nil {
		return b, err
	}
	o.key("observations")
	if len(d.Evidence) == 0 {
		o.b = append(o.b, "[]"...)
	} else {
		o.b = append(o.b, '[')
		in := deeper(o.indent)
		for i := range d.Evidence {
			ev := &d.Evidence[i]
			e := o.beginElem(i, in)
			proto, _, _ := strings.Cut(ev.Field, ".")
			e.str("protocol", proto)
			e.str("field", ev.Field)
			e.str("value", ev.Value)
			e.ts("first_seen", st, ev.FirstSeen)
			e.ts("last_seen", st, ev.LastSeen)
			e.uint("count", ev.Count)
			o.endElem(e, in)
		}
		o.endArray()
	}
	b = append(o.b, '\n')
	b = append(b, prefix...)
	return append(b, '}'), nil
}

// appendEdgeOut appends e as appendEdge appends the report's Edge made
// of it.
func appendEdgeOut(b []byte, e *edgeOut, prefix string, st *stamper) []byte {
	o := jsonObject{b: append(b, '{'), indent: deeper(prefix)}
	o.str("src", e.src)
	o.str("dst", e.dst)
	o.str("proto", e.proto)
	o.uint("dport", uint64(e.dport))
	o.str("app", e.app)
	o.uint("packets", e.packets)
	o.uint("bytes", e.bytes)
	o.ts("first_seen", st, e.first)
	o.ts("last_seen", st, e.last)
	b = append(o.b, '\n')
	b = append(b, prefix...)
	return append(b, '}')
}

// appendFindingRecord appends f as appendFinding appends the report's
// Finding that build makes of it.
func appendFindingRecord(b []byte, f *sensor.FindingRecord, ipOwner map[netip.Addr]string, macDev map[string]bool, prefix string, st *stamper) []byte {
	o := jsonObject{b: append(b, '{'), indent: deeper(prefix)}
	o.str("kind", f.Kind)
	o.str("severity", f.Severity)
	o.str("protocol", f.Protocol)
	o.str("detail", f.Detail)
	o.key("device")
	switch {
	case f.IP.IsValid() && ipOwner[f.IP] != "":
		o.b = appendString(o.b, ipOwner[f.IP])
	case macDev[f.MAC]:
		o.b = appendString(o.b, f.MAC)
	case f.IP.IsValid():
		o.b = appendString(o.b, f.IP.String())
	default:
		o.b = appendString(o.b, f.MAC)
	}
	if f.MAC != "" {
		o.str("mac", f.MAC)
	}
	if f.IP.IsValid() {
		o.str("ip", f.IP.String())
	}
	if f.Peer.IsValid() {
		o.str("peer", f.Peer.String())
	}
	o.ts("first_seen", st, f.FirstSeen)
	o.ts("last_seen", st, f.LastSeen)
	o.uint("count", f.Count)
	b = append(o.b, '\n')
	b = append(b, prefix...)
	return append(b, '}')
}
