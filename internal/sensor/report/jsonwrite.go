package report

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/classify"
)

// The report's bulk (hundreds of thousands of edges on scan-heavy
// captures) is written by these appenders instead of encoding/json's
// reflection and re-indentation: the bytes are the same as
// json.MarshalIndent(v, "    ", "  ") gives (TestJSONAppendersMatchEncodingJSON).

// appendString appends s as a JSON string, escaped as encoding/json does
// (HTML characters, invalid UTF-8, U+2028/U+2029 included).
func appendString(b []byte, s string) []byte {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56 // one load
		if !plain8(x) {
			break
		}
	}
	for ; i < len(s); i++ {
		if plainJSON[s[i]] == 0 {
			q, _ := json.Marshal(s) // rare: let encoding/json escape it
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plain8 reports whether the eight bytes of x are all plainJSON ones,
// testing them together: none has the high bit set, none is below 0x20
// and none is '"', '\\', '<', '>' or '&' ((v−0x01…)&^v&0x80… is set
// exactly when v has a zero byte, for bytes below 0x80).
func plain8(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q, bs, lt, gt, am := x^'"'*lo, x^'\\'*lo, x^'<'*lo, x^'>'*lo, x^'&'*lo
	t := x | (x-0x20*lo)&^x | (q-lo)&^q | (bs-lo)&^bs | (lt-lo)&^lt | (gt-lo)&^gt | (am-lo)&^am
	return t&hi == 0
}

// plainJSON[c] is 1 for the bytes encoding/json writes as they are in a
// string: ASCII from 0x20 except '"', '\\', '<', '>' and '&'.
var plainJSON = func() (t [256]byte) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = 1
	}
	for _, c := range `"\<>&` {
		t[c] = 0
	}
	return t
}()

// spaces holds the indentation strings (prefixes are spaces only), so
// that indenting allocates nothing.
const spaces = "                                                                "

// deeper returns indent plus one level ("  ").
func deeper(indent string) string {
	if n := len(indent) + 2; n <= len(spaces) && strings.Trim(indent, " ") == "" {
		return spaces[:n]
	}
	return indent + "  "
}

// jsonObject writes the members of one indented object.
type jsonObject struct {
	b      []byte
	indent string // of the members
	n      int
}

func (o *jsonObject) key(k string) {
	b := o.b // a local: o.b is not reloaded and stored for each append
	if o.n > 0 {
		b = append(b, ",\n"...)
	} else {
		b = append(b, '\n')
	}
	o.n++
	b = append(b, o.indent...)
	b = append(b, '"')
	b = append(b, k...)
	o.b = append(b, `": `...)
}

func (o *jsonObject) str(k, v string) {
	o.key(k)
	o.b = appendString(o.b, v)
}

// ts writes key k and time t as st writes report timestamps.
func (o *jsonObject) ts(k string, st *stamper, t time.Time) {
	o.key(k)
	o.b = st.appendTS(o.b, t)
}

func (o *jsonObject) uint(k string, v uint64) {
	o.key(k)
	o.b = strconv.AppendUint(o.b, v, 10)
}

// appendEdge appends e as json.MarshalIndent(e, prefix, "  ") does.
func appendEdge(b []byte, e *Edge, prefix string) []byte {
	o := jsonObject{b: append(b, '{'), indent: deeper(prefix)}
	o.str("src", e.Src)
	o.str("dst", e.Dst)
	o.str("proto", e.Proto)
	o.uint("dport", uint64(e.DPort))
	o.str("app", e.App)
	o.uint("packets", e.Packets)
	o.uint("bytes", e.Bytes)
	o.str("first_seen", e.FirstSeen)
	o.str("last_seen", e.LastSeen)
	b = append(o.b, '\n')
	b = append(b, prefix...)
	return append(b, '}')
}

// appendFinding appends f as json.MarshalIndent(f, prefix, "  ") does.
func appendFinding(b []byte, f *Finding, prefix string) []byte {
	o := jsonObject{b: append(b, '{'), indent: deeper(prefix)}
	o.str("kind", f.Kind)
	o.str("severity", f.Severity)
	o.str("protocol", f.Protocol)
	o.str("detail", f.Detail)
	o.str("device", f.Device)
	if f.MAC != "" {
		o.str("mac", f.MAC)
	}
	if f.IP != "" {
		o.str("ip", f.IP)
	}
	if f.Peer != "" {
		o.str("peer", f.Peer)
	}
	o.str("first_seen", f.FirstSeen)
	o.str("last_seen", f.LastSeen)
	o.uint("count", f.Count)
	b = append(o.b, '\n')
	b = append(b, prefix...)
	return append(b, '}')
}

// strings appends a member holding a string array (null when nil).
func (o *jsonObject) strings(k string, vs []string) {
	o.key(k)
	switch {
	case vs == nil:
		o.b = append(o.b, "null"...)
		return
	case len(vs) == 0:
		o.b = append(o.b, "[]"...)
		return
	}
	o.b = append(o.b, '[')
	for i, v := range vs {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = append(o.b, '\n')
		o.b = append(o.b, o.indent...)
		o.b = append(o.b, "  "...)
		o.b = appendString(o.b, v)
	}
	o.endArray()
}

// appendFloat appends f as encoding/json does (ES6 number formatting).
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("json: unsupported value %v", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// beginElem starts element i of an array of objects whose elements are
// indented by in, and returns the element's object; endElem closes it.
func (o *jsonObject) beginElem(i int, in string) jsonObject {
	if i > 0 {
		o.b = append(o.b, ',')
	}
	o.b = append(o.b, '\n')
	o.b = append(o.b, in...)
	return jsonObject{b: append(o.b, '{'), indent: deeper(in)}
}

// endElem closes element e (from beginElem) and takes its bytes back.
func (o *jsonObject) endElem(e jsonObject, in string) {
	o.b = append(e.b, '\n')
	o.b = append(o.b, in...)
	o.b = append(o.b, '}')
}

// endArray closes a non-empty array value of o.
func (o *jsonObject) endArray() {
	o.b = append(o.b, '\n')
	o.b = append(o.b, o.indent...)
	o.b = append(o.b, ']')
}

// deviceFacts appends the fields from "hostname" to "attributes" of a
// device, the same for the report's Device (appendDevice) and for a
// classify.Device written straight by WriteScanJSON (appendClassified).
func (o *jsonObject) deviceFacts(hostname, vendor, model, typ, os string, software []string, confidence float64, attrs []classify.Attribute) error {
	o.str("hostname", hostname)
	o.str("vendor", vendor)
	o.str("model", model)
	o.str("type", typ)
	o.str("os", os)
	if len(software) > 0 {
		o.strings("software", software)
	}
	o.key("confidence")
	var err error
	if o.b, err = appendFloat(o.b, confidence); err != nil {
		return err
	}
	if len(attrs) > 0 {
		o.key("attributes")
		o.b = append(o.b, '[')
		in := deeper(o.indent)
		for i := range attrs {
			at := &attrs[i]
			e := o.beginElem(i, in)
			e.str("name", at.Name)
			e.str("value", at.Value)
			e.key("confidence")
			if e.b, err = appendFloat(e.b, at.Confidence); err != nil {
				return err
			}
			e.strings("rules", at.Rules)
			e.strings("evidence", at.Evidence)
			o.endElem(e, in)
		}
		o.endArray()
	}
	return nil
}

// appendDevice appends d as json.MarshalIndent(d, prefix, "  ") does.
func appendDevice(b []byte, d *Device, prefix string) ([]byte, error) {
	o := jsonObject{b: append(b, '{'), indent: deeper(prefix)}
	o.str("mac", d.MAC)
	o.strings("ips", d.IPs)
	if err := o.deviceFacts(d.Hostname, d.Vendor, d.Model, d.Type, d.OS, d.Software, d.Confidence, d.Attributes); err != nil {
		return b, err
	}
	o.key("observations")
	switch {
	case d.Observations == nil:
		o.b = append(o.b, "null"...)
	case len(d.Observations) == 0:
		o.b = append(o.b, "[]"...)
	default:
		o.b = append(o.b, '[')
		in := deeper(o.indent)
		for i := range d.Observations {
			ob := &d.Observations[i]
			e := o.beginElem(i, in)
			e.str("protocol", ob.Protocol)
			e.str("field", ob.Field)
			e.str("value", ob.Value)
			e.str("first_seen", ob.FirstSeen)
			e.str("last_seen", ob.LastSeen)
			e.uint("count", ob.Count)
			o.endElem(e, in)
		}
		o.endArray()
	}
	b = append(o.b, '\n')
	b = append(b, prefix...)
	return append(b, '}'), nil
}
