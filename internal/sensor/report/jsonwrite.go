package report

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The report's bulk (hundreds of thousands of edges on scan-heavy
// captures) is written by these appenders instead of encoding/json's
// reflection and re-indentation: the bytes are the same as
// json.MarshalIndent(v, "    ", "  ") gives (TestJSONAppendersMatchEncodingJSON).

// appendString appends s as a JSON string, escaped as encoding/json does
// (HTML characters, invalid UTF-8, U+2028/U+2029 included).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // rare: let encoding/json escape it
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// jsonObject writes the members of one indented object.
type jsonObject struct {
	b      []byte
	indent string // of the members
	n      int
}

func (o *jsonObject) key(k string) {
	if o.n > 0 {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = append(o.b, '\n')
	o.b = append(o.b, o.indent...)
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, `": `...)
}

func (o *jsonObject) str(k, v string) {
	o.key(k)
	o.b = appendString(o.b, v)
}

func (o *jsonObject) uint(k string, v uint64) {
	o.key(k)
	o.b = strconv.AppendUint(o.b, v, 10)
}

// appendEdge appends e as json.MarshalIndent(e, prefix, "  ") does.
func appendEdge(b []byte, e *Edge, prefix string) []byte {
	o := jsonObject{b: append(b, '{'), indent: prefix + "  "}
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
	o := jsonObject{b: append(b, '{'), indent: prefix + "  "}
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
