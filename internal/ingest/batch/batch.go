// Package batch is the wire format a sensor sends to a server: versioned
// JSON carrying the sensor id, a per-sensor sequence number, the interval
// covered, the devices observed in it (with their observed values, the
// evidence behind each and a confidence) and the communication edges
// aggregated per edge interval (partial buckets; the server adds them up).
// See docs/SENSOR.md "Sending to a server" for the format.
//
// The package is pure: Decode takes an io.Reader and a name.
package batch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
)

// Format names the document type; Version is the format version this
// package writes and the only one it reads.
const (
	Format  = "medwarden-sensor-batch"
	Version = 1
)

// Limits of one batch.
const (
	MaxBytes     = 32 << 20
	MaxDevices   = 100_000
	MaxEdges     = 500_000
	MaxObserved  = 32 // observed values per device
	MaxEvidence  = 16 // evidence strings per observed value
	MaxTextLen   = 1024
	MaxSensorLen = 128
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid sensor batch")

// Batch is one message from a sensor.
type Batch struct {
	Format   string `json:"format"`
	Version  int    `json:"version"`
	SensorID string `json:"sensor_id"`
	// Seq increases by one per batch of a sensor (from 1); the server
	// applies each (SensorID, Seq) at most once.
	Seq   uint64    `json:"seq"`
	Start time.Time `json:"start"` // the interval the batch covers
	End   time.Time `json:"end"`
	// EdgeIntervalS is the edge bucket length in seconds.
	EdgeIntervalS int64    `json:"edge_interval_s"`
	Devices       []Device `json:"devices"`
	Edges         []Edge   `json:"edges"`
}

// Device is a device the sensor observed, identified by its MAC address
// (when the capture has a link layer) and IP addresses.
type Device struct {
	MAC      string     `json:"mac,omitempty"`
	IPs      []string   `json:"ips,omitempty"`
	Observed []Observed `json:"observed,omitempty"`
}

// Observed is a value seen for an inventory field (inventory.Fields:
// vendor, model, version, hostname, device_type, os...).
type Observed struct {
	Field      string    `json:"field"`
	Value      string    `json:"value"`
	Confidence float64   `json:"confidence"`
	Evidence   []string  `json:"evidence,omitempty"` // "dhcp.vendor_class=..." or "oui"
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

// Edge is the traffic of one conversation key within one bucket, as seen
// since the previous batch.
type Edge struct {
	Bucket    time.Time `json:"bucket"`
	SrcMAC    string    `json:"src_mac,omitempty"`
	SrcIP     string    `json:"src_ip,omitempty"`
	DstMAC    string    `json:"dst_mac,omitempty"`
	DstIP     string    `json:"dst_ip,omitempty"`
	Proto     string    `json:"proto"`
	Port      int       `json:"port"`
	App       string    `json:"app,omitempty"`
	Packets   uint64    `json:"packets"`
	Bytes     uint64    `json:"bytes"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// ID is the bus message id of the batch ("sensor/seq"), the dedupe key.
func (b *Batch) ID() string { return fmt.Sprintf("%s/%d", b.SensorID, b.Seq) }

// Observations counts the observed values of all devices.
func (b *Batch) Observations() int {
	n := 0
	for _, d := range b.Devices {
		n += len(d.Observed)
	}
	return n
}

// Encode writes b as JSON.
func (b *Batch) Encode() ([]byte, error) {
	if b.Format == "" {
		b.Format = Format
	}
	if b.Version == 0 {
		b.Version = Version
	}
	return json.Marshal(b)
}

// Decode reads and validates one batch. name says where it came from (a
// file, "POST /api/v1/sensor/batches", a bus message id) for errors.
func Decode(r io.Reader, name string) (*Batch, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", name, ErrInvalid, MaxBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Batch
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: %w: data after the batch object", name, ErrInvalid)
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &b, nil
}

var sensorIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:@-]*$`)

// Protos are the transport names an edge may carry (besides "ip-N").
var Protos = []string{"tcp", "udp", "icmp", "icmpv6"}

var protoRe = regexp.MustCompile(`^(tcp|udp|icmp|icmpv6|ip-[0-9]{1,3})$`)

func invalid(path, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, path, fmt.Sprintf(format, a...))
}

// Validate checks b and names the first offending field by its JSON path
// ("/devices/3/observed/0/field").
func (b *Batch) Validate() error {
	switch {
	case b.Format != Format:
		return invalid("/format", "must be %q, not %q", Format, b.Format)
	case b.Version != Version:
		return invalid("/version", "version %d is not supported (this server reads version %d)", b.Version, Version)
	case b.SensorID == "" || len(b.SensorID) > MaxSensorLen || !sensorIDRe.MatchString(b.SensorID):
		return invalid("/sensor_id", "%q: want 1-%d letters, digits and _ . : @ - (starting with a letter or digit)", b.SensorID, MaxSensorLen)
	case b.Seq == 0 || b.Seq > 1<<63-1:
		return invalid("/seq", "%d: want 1 to 2^63-1", b.Seq)
	case b.Start.IsZero() || b.End.IsZero() || b.End.Before(b.Start):
		return invalid("/end", "the interval %s to %s is empty or reversed", b.Start.Format(time.RFC3339), b.End.Format(time.RFC3339))
	case b.EdgeIntervalS < 60 || b.EdgeIntervalS > 7*86400:
		return invalid("/edge_interval_s", "%d: want 60 to 604800 seconds", b.EdgeIntervalS)
	case len(b.Devices) > MaxDevices:
		return invalid("/devices", "%d devices: at most %d per batch", len(b.Devices), MaxDevices)
	case len(b.Edges) > MaxEdges:
		return invalid("/edges", "%d edges: at most %d per batch", len(b.Edges), MaxEdges)
	}
	for i := range b.Devices {
		if err := b.Devices[i].validate(fmt.Sprintf("/devices/%d", i)); err != nil {
			return err
		}
	}
	iv := time.Duration(b.EdgeIntervalS) * time.Second
	for i := range b.Edges {
		if err := b.Edges[i].validate(fmt.Sprintf("/edges/%d", i), iv); err != nil {
			return err
		}
	}
	return nil
}

func (d *Device) validate(path string) error {
	if d.MAC == "" && len(d.IPs) == 0 {
		return invalid(path, "a device needs a mac or an ip")
	}
	if d.MAC != "" {
		m, err := inventory.NormalizeMAC(d.MAC)
		if err != nil || m != d.MAC {
			return invalid(path+"/mac", "%q is not a normalised MAC address (aa:bb:cc:dd:ee:ff)", d.MAC)
		}
	}
	if len(d.IPs) > 64 {
		return invalid(path+"/ips", "%d addresses: at most 64", len(d.IPs))
	}
	for j, ip := range d.IPs {
		if a, err := netip.ParseAddr(ip); err != nil || a.String() != ip {
			return invalid(fmt.Sprintf("%s/ips/%d", path, j), "%q is not an IP address in canonical form", ip)
		}
	}
	if len(d.Observed) > MaxObserved {
		return invalid(path+"/observed", "%d values: at most %d", len(d.Observed), MaxObserved)
	}
	for j, o := range d.Observed {
		p := fmt.Sprintf("%s/observed/%d", path, j)
		switch {
		case !slices.Contains(inventory.Fields, o.Field):
			return invalid(p+"/field", "%q is not an inventory field (%s)", o.Field, strings.Join(inventory.Fields, ", "))
		case o.Value == "" || len(o.Value) > MaxTextLen || !validText(o.Value):
			return invalid(p+"/value", "empty, longer than %d bytes or holding control characters", MaxTextLen)
		case !(o.Confidence >= 0 && o.Confidence <= 1):
			return invalid(p+"/confidence", "%v: want 0 to 1", o.Confidence)
		case len(o.Evidence) > MaxEvidence:
			return invalid(p+"/evidence", "%d items: at most %d", len(o.Evidence), MaxEvidence)
		case !o.LastSeen.IsZero() && o.LastSeen.Before(o.FirstSeen):
			return invalid(p+"/last_seen", "before first_seen")
		}
		for k, e := range o.Evidence {
			if len(e) > MaxTextLen || !validText(e) {
				return invalid(fmt.Sprintf("%s/evidence/%d", p, k), "longer than %d bytes or holding control characters", MaxTextLen)
			}
		}
	}
	return nil
}

func (e *Edge) validate(path string, iv time.Duration) error {
	switch {
	case e.Bucket.IsZero() || e.Bucket.UnixNano()%int64(iv) != 0:
		return invalid(path+"/bucket", "%s is not the start of a %s interval", e.Bucket.Format(time.RFC3339Nano), iv)
	case !protoRe.MatchString(e.Proto):
		return invalid(path+"/proto", "%q: want tcp, udp, icmp, icmpv6 or ip-N", e.Proto)
	case e.Port < 0 || e.Port > 65535:
		return invalid(path+"/port", "%d: want 0 to 65535", e.Port)
	case len(e.App) > 64 || !validText(e.App):
		return invalid(path+"/app", "%q: at most 64 printable bytes", e.App)
	case e.Packets > 1<<62 || e.Bytes > 1<<62:
		return invalid(path+"/packets", "counter out of range")
	case e.FirstSeen.IsZero() || e.LastSeen.Before(e.FirstSeen):
		return invalid(path+"/last_seen", "first_seen missing or after last_seen")
	case e.FirstSeen.Before(e.Bucket) || !e.FirstSeen.Before(e.Bucket.Add(iv)):
		return invalid(path+"/first_seen", "%s is outside its bucket", e.FirstSeen.Format(time.RFC3339Nano))
	}
	for _, a := range []struct{ name, mac string }{{"src_mac", e.SrcMAC}, {"dst_mac", e.DstMAC}} {
		if a.mac == "" {
			continue
		}
		if m, err := inventory.NormalizeMAC(a.mac); err != nil || m != a.mac {
			return invalid(path+"/"+a.name, "%q is not a normalised MAC address", a.mac)
		}
	}
	for _, a := range []struct{ name, ip string }{{"src_ip", e.SrcIP}, {"dst_ip", e.DstIP}} {
		if a.ip == "" {
			continue
		}
		if ip, err := netip.ParseAddr(a.ip); err != nil || ip.String() != a.ip {
			return invalid(path+"/"+a.name, "%q is not an IP address in canonical form", a.ip)
		}
	}
	return nil
}

func validText(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return false
		}
	}
	return true
}
