package api

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/jsonesc"
)

// Device JSON without reflection. A 50-device page spent ~0.6 ms of CPU in
// encoding/json (reflection, time.Time and Date marshalers, sorting each
// provenance map's keys by reflection): a third of the request. The
// encoder below writes exactly the bytes encoding/json writes for
// deviceView (field order, omitempty/omitzero, HTML-safe string escaping,
// RFC 3339 times, ES6 floats); TestDeviceJSONMatchesEncodingJSON and
// FuzzDeviceJSON compare the two. Values encoding/json refuses (a time
// outside years 0-9999, a NaN confidence) make appendDevice report false,
// and the caller falls back to encoding/json, which reports the error.

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// writeDeviceJSON writes one device view as writeJSON would.
func writeDeviceJSON(w http.ResponseWriter, status int, v deviceView) {
	bp := bufPool.Get().(*[]byte)
	b, ok := appendDevice((*bp)[:0], v)
	if !ok {
		bufPool.Put(bp)
		writeJSON(w, status, v)
		return
	}
	b = append(b, '\n')
	writeBytes(w, status, b)
	*bp = b
	putBuf(bp)
}

// writeDeviceList writes {"devices":[…],"next":"…"} as writeJSON writes
// the equivalent map (keys in sorted order). With a cache, each device's
// JSON is taken from it when it holds that version of the device.
func writeDeviceList(w http.ResponseWriter, views []deviceView, next string, cache *deviceJSONCache) {
	bp := bufPool.Get().(*[]byte)
	b := append((*bp)[:0], `{"devices":[`...)
	for i, v := range views {
		if i > 0 {
			b = append(b, ',')
		}
		if js := cache.get(v.Device); js != nil {
			b = append(b, js...)
			continue
		}
		n := len(b)
		var ok bool
		if b, ok = appendDevice(b, v); !ok {
			bufPool.Put(bp)
			resp := map[string]any{"devices": views}
			if next != "" {
				resp["next"] = next
			}
			writeJSON(w, http.StatusOK, resp)
			return
		}
		cache.put(v.Device, b[n:])
	}
	b = append(b, ']')
	if next != "" {
		b = append(b, `,"next":`...)
		b = appendString(b, next)
	}
	b = append(b, "}\n"...)
	writeBytes(w, http.StatusOK, b)
	*bp = b
	putBuf(bp)
}

// deviceJSONCache holds the JSON of recently listed devices by id, each
// for one stored version of the device: its revision and updated_at, both
// new at every write (store). A list page of 50 devices spent about a
// fifth of its CPU encoding them under bench/load.sh, where the same
// first pages are listed again and again (docs/benchmarks/api.md, session
// 6). Like the store's cache of decoded devices it has two generations of
// jsonCacheGen devices: a full current one replaces the previous one.
type deviceJSONCache struct {
	mu        sync.Mutex
	cur, prev map[int64]cachedJSON
}

type cachedJSON struct {
	rev     int64
	updated time.Time
	js      []byte
}

// jsonCacheGen is the number of devices in each generation (about 2 KB
// of JSON each).
const jsonCacheGen = 4096

func (c cachedJSON) of(d *inventory.Device) bool {
	return c.rev == d.Revision && c.updated == d.UpdatedAt
}

// get returns the JSON of d's version, or nil (also for a nil cache).
func (c *deviceJSONCache) get(d *inventory.Device) []byte {
	if c == nil || d.ID == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cur[d.ID]; ok {
		if e.of(d) {
			return e.js
		}
		return nil
	}
	if e, ok := c.prev[d.ID]; ok && e.of(d) {
		c.add(d.ID, e) // still in use: keep it through the next turn
		return e.js
	}
	return nil
}

// put stores a copy of js as the JSON of d's version.
func (c *deviceJSONCache) put(d *inventory.Device, js []byte) {
	if c == nil || d.ID == 0 {
		return
	}
	e := cachedJSON{rev: d.Revision, updated: d.UpdatedAt, js: slices.Clone(js)}
	c.mu.Lock()
	c.add(d.ID, e)
	c.mu.Unlock()
}

// add stores e; the caller holds c.mu.
func (c *deviceJSONCache) add(id int64, e cachedJSON) {
	if c.cur == nil || len(c.cur) >= jsonCacheGen {
		c.prev, c.cur = c.cur, make(map[int64]cachedJSON, jsonCacheGen)
	}
	c.cur[id] = e
}

func putBuf(bp *[]byte) {
	if cap(*bp) <= 1<<20 { // keep the pool's buffers small
		bufPool.Put(bp)
	}
}

func writeBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck // client went away
}

// appendDevice appends v as encoding/json encodes deviceView.
func appendDevice(b []byte, v deviceView) ([]byte, bool) {
	d := v.Device
	b = append(b, '{')
	first := true
	key := func(k string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
	}
	str := func(k, s string) {
		if s != "" {
			key(k)
			b = appendString(b, s)
		}
	}
	if d.ID != 0 {
		key("id")
		b = strconv.AppendInt(b, d.ID, 10)
	}
	key("asset_id")
	b = appendString(b, d.AssetID)
	str("vendor", d.Vendor)
	str("model", d.Model)
	str("device_type", d.DeviceType)
	str("version", d.Version)
	str("serial", d.Serial)
	str("udi_di", d.UDIDI)
	for _, l := range []struct {
		k  string
		vs []string
	}{{"macs", d.MACs}, {"ips", d.IPs}} {
		if len(l.vs) == 0 {
			continue
		}
		key(l.k)
		b = append(b, '[')
		for i, s := range l.vs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		b = append(b, ']')
	}
	str("hostname", d.Hostname)
	str("site", d.Site)
	str("location", d.Location)
	str("department", d.Department)
	str("criticality", string(d.Criticality))
	for _, f := range []struct {
		k string
		p *bool
	}{{"patient_connected", d.PatientConnected}, {"phi", d.PHI}} {
		if f.p != nil {
			key(f.k)
			b = strconv.AppendBool(b, *f.p)
		}
	}
	str("zone", d.Zone)
	str("os", d.OS)
	for _, f := range []struct {
		k string
		d *inventory.Date
	}{{"end_of_support", d.EndOfSupport}, {"end_of_life", d.EndOfLife}} {
		if f.d != nil {
			key(f.k)
			b = append(b, '"')
			b = f.d.AppendFormat(b, inventory.DateLayout)
			b = append(b, '"')
		}
	}
	var ok bool
	for _, f := range []struct {
		k string
		t *time.Time
	}{{"first_seen", d.FirstSeen}, {"last_seen", d.LastSeen}} {
		if f.t != nil {
			key(f.k)
			if b, ok = appendTime(b, *f.t); !ok {
				return b, false
			}
		}
	}
	if len(d.Provenance) > 0 {
		key("provenance")
		b = append(b, '{')
		var keys [32]string
		var last time.Time // an import stamps every field with one time:
		var lastAt []byte  // format it once
		for i, k := range sortedKeys(keys[:0], d.Provenance) {
			if i > 0 {
				b = append(b, ',')
			}
			p := d.Provenance[k]
			b = appendString(b, k)
			b = append(b, `:{"kind":`...)
			b = appendString(b, string(p.Kind))
			b = append(b, `,"source":`...)
			b = appendString(b, p.Source)
			b = append(b, `,"at":`...)
			if lastAt != nil && p.At == last {
				b = append(b, lastAt...)
			} else {
				n := len(b)
				if b, ok = appendTime(b, p.At); !ok {
					return b, false
				}
				last, lastAt = p.At, b[n:]
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	if len(d.Observed) > 0 {
		key("observed")
		b = append(b, '{')
		var keys [32]string
		for i, k := range sortedKeys(keys[:0], d.Observed) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			if b, ok = appendObservation(b, d.Observed[k]); !ok {
				return b, false
			}
		}
		b = append(b, '}')
	}
	if d.Revision != 0 {
		key("revision")
		b = strconv.AppendInt(b, d.Revision, 10)
	}
	for _, f := range []struct {
		k string
		t time.Time
	}{{"created_at", d.CreatedAt}, {"updated_at", d.UpdatedAt}} {
		if !f.t.IsZero() {
			key(f.k)
			if b, ok = appendTime(b, f.t); !ok {
				return b, false
			}
		}
	}
	if len(v.Conflicts) > 0 {
		key("conflicts")
		b = append(b, '[')
		for i, c := range v.Conflicts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"field":`...)
			b = appendString(b, c.Field)
			b = append(b, `,"intended":`...)
			b = appendString(b, c.Intended)
			b = append(b, `,"observed":`...)
			if b, ok = appendObservation(b, c.Observed); !ok {
				return b, false
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), true
}

func appendObservation(b []byte, o inventory.Observation) ([]byte, bool) {
	b = append(b, `{"value":`...)
	b = appendString(b, o.Value)
	b = append(b, `,"source":`...)
	b = appendString(b, o.Source)
	b = append(b, `,"at":`...)
	var ok bool
	if b, ok = appendTime(b, o.At); !ok {
		return b, false
	}
	if o.Confidence != 0 {
		b = append(b, `,"confidence":`...)
		if b, ok = appendFloat(b, o.Confidence); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

func sortedKeys[V any](ks []string, m map[string]V) []string {
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// appendTime is time.Time.MarshalJSON: RFC 3339 with nanoseconds, refused
// (false) where that refuses (years outside 0-9999, offsets of a day or
// more).
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// appendFloat is encoding/json's float64 encoding (ES6 number form).
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	abs, format := math.Abs(f), byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 → e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendString appends s as encoding/json (Go 1.26) writes a string.
func appendString(b []byte, s string) []byte { return jsonesc.Append(b, s) }
