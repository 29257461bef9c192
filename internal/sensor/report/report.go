// Package report assembles the output of `medwarden scan` (and, until the
// sensor streams to a server, `medwarden sensor`): devices from package
// classify, edges, findings and counters from the sensor, in the JSON shape
// of the scan contract, with a deterministic order.
package report

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medwarden/medwarden/internal/classify"
	"github.com/medwarden/medwarden/internal/sensor"
)

// Report is the scan output.
type Report struct {
	Devices  []Device     `json:"devices"`
	Edges    []Edge       `json:"edges"`
	Findings []Finding    `json:"findings"`
	Stats    sensor.Stats `json:"stats"`
}

// Device is one device of the report.
type Device struct {
	MAC          string               `json:"mac"`
	IPs          []string             `json:"ips"`
	Hostname     string               `json:"hostname"`
	Vendor       string               `json:"vendor"`
	Model        string               `json:"model"`
	Type         string               `json:"type"`
	OS           string               `json:"os"`
	Software     []string             `json:"software,omitempty"`
	Confidence   float64              `json:"confidence"`
	Attributes   []classify.Attribute `json:"attributes,omitempty"`
	Observations []Observation        `json:"observations"`
}

// Observation is one distinct observed value. Field is the full dotted name
// ("dhcp.hostname"); Protocol is its first part.
type Observation struct {
	Protocol  string `json:"protocol"`
	Field     string `json:"field"`
	Value     string `json:"value"`
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
	Count     uint64 `json:"count"`
}

// Edge is an aggregated conversation between two devices (or a device and
// an address that is not a device).
type Edge struct {
	Src       string `json:"src"`
	Dst       string `json:"dst"`
	Proto     string `json:"proto"`
	DPort     uint16 `json:"dport"`
	App       string `json:"app"`
	Packets   uint64 `json:"packets"`
	Bytes     uint64 `json:"bytes"`
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
}

// Finding is a security finding.
type Finding struct {
	Kind      string `json:"kind"`
	Severity  string `json:"severity"`
	Protocol  string `json:"protocol"`
	Detail    string `json:"detail"`
	Device    string `json:"device"`
	MAC       string `json:"mac,omitempty"`
	IP        string `json:"ip,omitempty"`
	Peer      string `json:"peer,omitempty"`
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
	Count     uint64 `json:"count"`
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return t.Format(time.RFC3339Nano)
	}
	// What t.Format(time.RFC3339Nano) gives, written directly: it is
	// called for every observation, edge and finding of the report.
	var b [30]byte
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	put := func(i, v, width int) {
		for j := i + width - 1; j >= i; j-- {
			b[j] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, year, 4)
	b[4] = '-'
	put(5, int(month), 2)
	b[7] = '-'
	put(8, day, 2)
	b[10] = 'T'
	put(11, hour, 2)
	b[13] = ':'
	put(14, minute, 2)
	b[16] = ':'
	put(17, sec, 2)
	n := 19
	if ns := t.Nanosecond(); ns != 0 {
		b[n] = '.'
		put(n+1, ns, 9)
		n += 10
		for b[n-1] == '0' {
			n--
		}
	}
	b[n] = 'Z'
	return string(b[:n+1])
}

// Input converts a sensor result into classification input.
func Input(res *sensor.Result) classify.Input {
	return classify.Input{Evidence: evidence(res), Bindings: bindings(res)}
}

// evidence is the classification input of res's observations, sized up
// front: growing a slice of this size by appending leaves copies behind
// at the scan's peak.
func evidence(res *sensor.Result) []classify.Evidence {
	if len(res.Observations) == 0 {
		return nil
	}
	out := make([]classify.Evidence, 0, len(res.Observations))
	for _, o := range res.Observations {
		out = append(out, classify.Evidence{MAC: o.MAC, IP: o.IP, Protocol: o.Protocol, Field: o.Field,
			Value: o.Value, FirstSeen: o.FirstSeen, LastSeen: o.LastSeen, Count: o.Count})
	}
	return out
}

// bindings is the classification input of res's hosts, sorted.
func bindings(res *sensor.Result) []classify.Binding {
	out := unsortedBindings(res)
	slices.SortFunc(out, func(a, b classify.Binding) int {
		return cmp.Or(cmp.Compare(a.MAC, b.MAC), a.IP.Compare(b.IP))
	})
	return out
}

// unsortedBindings is bindings in no particular order (which is all
// classify.Classify needs).
func unsortedBindings(res *sensor.Result) []classify.Binding {
	n := 0
	for _, h := range res.Hosts {
		for _, how := range h.IPs {
			n += bits.OnesCount8(how & (sensor.BindTraffic | sensor.BindARP))
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]classify.Binding, 0, n)
	for _, h := range res.Hosts {
		for ip, how := range h.IPs {
			if how&sensor.BindTraffic != 0 {
				out = append(out, classify.Binding{MAC: h.MAC, IP: ip})
			}
			if how&sensor.BindARP != 0 {
				out = append(out, classify.Binding{MAC: h.MAC, IP: ip, ARP: true})
			}
		}
	}
	return out
}

// FromResult classifies and builds the report of a one-shot scan, freeing
// each input as soon as the next stage has what it needs: res's hosts once
// they are bindings (a map per MAC: tens of MB on scan-heavy captures),
// then its observations once they are evidence, each device's evidence
// once it is in the report, res's edges once aggregated. res is emptied
// (only Stats stays); use Build to keep it. The order of res's
// observations, hosts and edges does not matter (the report orders what
// it writes), so res may come from Sensor.TakeResultUnordered; its
// findings must be in the order Sensor.Result gives them.
func FromResult(res *sensor.Result, c *classify.Classifier) *Report {
	var in classify.Input
	in.Bindings = unsortedBindings(res)
	res.Hosts = nil
	in.Evidence = evidence(res)
	res.Observations = nil
	return build(res, c.ClassifyOwned(in), true)
}

// Build assembles the report.
func Build(res *sensor.Result, devs []classify.Device) *Report {
	return build(res, devs, false)
}

// build is Build; with release it clears what it has consumed of res and
// devs (see FromResult).
func build(res *sensor.Result, devs []classify.Device, release bool) *Report {
	r := &Report{Devices: make([]Device, 0, len(devs)), Edges: []Edge{}, Findings: make([]Finding, 0, len(res.Findings)), Stats: res.Stats}
	var st stamper
	macDev := make(map[string]bool, len(devs))
	ipOwner := make(map[netip.Addr]string, len(devs))
	for i, d := range devs {
		rd := Device{MAC: d.MAC, IPs: []string{}, Hostname: d.Hostname, Vendor: d.Vendor, Model: d.Model, Type: d.Type,
			OS: d.OS, Software: d.Software, Confidence: d.Confidence, Attributes: d.Attributes, Observations: []Observation{}}
		for _, ip := range d.IPs {
			rd.IPs = append(rd.IPs, ip.String())
		}
		for _, e := range d.Evidence {
			proto, _, _ := strings.Cut(e.Field, ".")
			rd.Observations = append(rd.Observations, Observation{Protocol: proto, Field: e.Field, Value: e.Value,
				FirstSeen: st.ts(e.FirstSeen), LastSeen: st.ts(e.LastSeen), Count: e.Count})
		}
		noteDeviceKeys(macDev, ipOwner, d.MAC, d.IPs)
		r.Devices = append(r.Devices, rd)
		if release {
			devs[i].Evidence = nil
		}
	}
	if res.CompactEdges != nil {
		r.Edges = compactReportEdges(res.CompactEdges, ipOwner, macDev)
	} else {
		r.Edges = reportEdges(res.Edges, ipOwner, macDev)
	}
	if release {
		res.Edges, res.CompactEdges = nil, nil
	}
	for _, f := range res.Findings {
		rf := Finding{Kind: f.Kind, Severity: f.Severity, Protocol: f.Protocol, Detail: f.Detail, MAC: f.MAC,
			FirstSeen: st.ts(f.FirstSeen), LastSeen: st.ts(f.LastSeen), Count: f.Count}
		if f.IP.IsValid() {
			rf.IP = f.IP.String()
		}
		if f.Peer.IsValid() {
			rf.Peer = f.Peer.String()
		}
		switch {
		case f.IP.IsValid() && ipOwner[f.IP] != "":
			rf.Device = ipOwner[f.IP]
		case macDev[f.MAC]:
			rf.Device = f.MAC
		case f.IP.IsValid():
			rf.Device = f.IP.String()
		default:
			rf.Device = f.MAC
		}
		r.Findings = append(r.Findings, rf)
	}
	return r
}

// WriteTable writes a human-readable summary.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tIPS\tHOSTNAME\tVENDOR\tMODEL\tTYPE\tOS\tCONF\tOBS")
	for _, d := range r.Devices {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%d\n", dash(d.MAC), dash(strings.Join(d.IPs, ",")), dash(d.Hostname),
			dash(d.Vendor), dash(d.Model), dash(d.Type), dash(d.OS), d.Confidence, len(d.Observations))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Findings) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FINDING\tSEVERITY\tDEVICE\tPEER\tDETAIL")
		for _, f := range r.Findings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Kind, f.Severity, dash(f.Device), dash(f.Peer), f.Detail)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SRC\tDST\tPROTO\tDPORT\tAPP\tPACKETS\tBYTES")
	for _, e := range r.Edges {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%d\n", e.Src, e.Dst, e.Proto, e.DPort, dash(e.App), e.Packets, e.Bytes)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	s := r.Stats
	_, err := fmt.Fprintf(w, "\n%d packets, %d bytes, %d flows, %d decode errors, %d flows evicted\n",
		s.Packets, s.Bytes, s.Flows, s.DecodeErrors, s.EvictedFlows)
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// openArray, arrayElem and closeArray frame a top-level array of the
// report's indented JSON (Report.WriteJSON and WriteScan): its name, each
// element on its own line, and the closing bracket (a comma unless last).
func openArray(bw *bufio.Writer, name string) { fmt.Fprintf(bw, "  %q: [", name) }

func arrayElem(bw *bufio.Writer, i int, b []byte) {
	if i > 0 {
		bw.WriteString(",")
	}
	bw.WriteString("\n    ")
	bw.Write(b)
}

func closeArray(bw *bufio.Writer, n int, last bool) {
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]")
	if !last {
		bw.WriteString(",")
	}
	bw.WriteString("\n")
}

// WriteJSON writes the report as indented JSON, one array element at a
// time, so a report with hundreds of thousands of edges is never held twice
// in memory as text.
func (r *Report) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf []byte
	writeArray := func(name string, n int, elem func(b []byte, i int) ([]byte, error), last bool) error {
		openArray(bw, name)
		for i := range n {
			var err error
			buf, err = elem(buf[:0], i)
			if err != nil {
				return fmt.Errorf("encode %s[%d]: %w", name, i, err)
			}
			arrayElem(bw, i, buf)
		}
		closeArray(bw, n, last)
		return nil
	}
	const prefix = "    "
	bw.WriteString("{\n")
	if err := writeArray("devices", len(r.Devices), func(b []byte, i int) ([]byte, error) {
		return appendDevice(b, &r.Devices[i], prefix)
	}, false); err != nil {
		return err
	}
	if err := writeArray("edges", len(r.Edges), func(b []byte, i int) ([]byte, error) {
		return appendEdge(b, &r.Edges[i], prefix), nil
	}, false); err != nil {
		return err
	}
	if err := writeArray("findings", len(r.Findings), func(b []byte, i int) ([]byte, error) {
		return appendFinding(b, &r.Findings[i], prefix), nil
	}, false); err != nil {
		return err
	}
	st, err := json.MarshalIndent(r.Stats, "  ", "  ")
	if err != nil {
		return err
	}
	bw.WriteString(`  "stats": `)
	bw.Write(st)
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// noteDeviceKeys records a device's report key — its MAC, else its first
// IP — in macDev (MAC devices) and ipOwner (each of its addresses → key),
// the maps that name the ends of edges and the devices of findings.
func noteDeviceKeys(macDev map[string]bool, ipOwner map[netip.Addr]string, mac string, ips []netip.Addr) {
	key := mac
	if key != "" {
		macDev[key] = true
	} else if len(ips) > 0 {
		key = ips[0].String()
	}
	for _, ip := range ips {
		ipOwner[ip] = key
	}
}
