// Package dns dissects DNS (RFC 1035), multicast DNS (RFC 6762/6763) and
// LLMNR (RFC 4795) messages over UDP. It reports the names a device asks
// for (dns.query), the names and services a device announces over mDNS
// (mdns.name, mdns.service, mdns.txt) and the names an LLMNR responder
// answers for (llmnr.name).
package dns

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector name.
const Name = "dns"

// Observation fields.
const (
	FieldQuery       = "dns.query"    // a name asked for (DNS, mDNS or LLMNR question)
	FieldMDNSName    = "mdns.name"    // a host or service instance name the sender announces
	FieldMDNSService = "mdns.service" // a service type the sender announces, e.g. "_ipp._tcp.local"
	FieldMDNSTXT     = "mdns.txt"     // an identifying TXT key=value (model, product…)
	FieldLLMNRName   = "llmnr.name"   // a name an LLMNR responder answers for
	FieldLLMNRQuery  = "llmnr.query"  // a name asked for over LLMNR
)

const (
	portDNS   = 53
	portMDNS  = 5353
	portLLMNR = 5355

	maxNameLen  = 255
	maxPointers = 16
	maxRecords  = 256
	maxValue    = 255
)

// Record types.
const (
	typeA    = 1
	typePTR  = 12
	typeTXT  = 16
	typeAAAA = 28
	typeSRV  = 33
)

var errMalformed = errors.New("malformed dns message")

// txtKeys are the TXT keys that identify a device model or product.
var txtKeys = map[string]bool{"md": true, "model": true, "ty": true, "usb_mfg": true, "usb_mdl": true, "product": true,
	"manufacturer": true, "mfg": true, "vendor": true, "fn": true, "am": true, "osxvers": true, "serialnumber": false}

// Dissector is the DNS/mDNS/LLMNR dissector. It holds no per-flow state.
type Dissector struct{}

// New returns the dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.PacketDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerUDP }

// Ports implements dissect.Dissector.
func (*Dissector) Ports() []uint16 { return []uint16{portDNS, portMDNS, portLLMNR} }

// Detect implements dissect.Dissector: a plausible header whose first
// question (or first record) parses.
func (*Dissector) Detect(f *dissect.Flow, _ dissect.Direction, p []byte) bool {
	if len(p) < 12 {
		return false
	}
	if c, s := f.Client.Addr.Port(), f.Server.Addr.Port(); c == 137 || s == 137 {
		return false // NetBIOS name service shares the format: leave it to its dissector
	}
	qd := binary.BigEndian.Uint16(p[4:6])
	an := binary.BigEndian.Uint16(p[6:8])
	ns := binary.BigEndian.Uint16(p[8:10])
	ar := binary.BigEndian.Uint16(p[10:12])
	if qd+an+ns+ar == 0 || qd > 64 || an > 256 || ns > 256 || ar > 256 {
		return false
	}
	if op := (p[2] >> 3) & 0xf; op > 6 {
		return false
	}
	var scratch [maxNameLen]byte
	_, off, err := readName(p, 12, scratch[:0])
	if err != nil {
		return false
	}
	return off+4 <= len(p)
}

type kind int

const (
	kindDNS kind = iota
	kindMDNS
	kindLLMNR
)

func flowKind(f *dissect.Flow) kind {
	c, s := f.Client.Addr.Port(), f.Server.Addr.Port()
	switch {
	case c == portMDNS || s == portMDNS:
		return kindMDNS
	case c == portLLMNR || s == portLLMNR:
		return kindLLMNR
	}
	return kindDNS
}

// DissectPacket implements dissect.PacketDissector.
func (d *Dissector) DissectPacket(f *dissect.Flow, dir dissect.Direction, p []byte, t time.Time, out dissect.Emitter) error {
	if len(p) < 12 {
		return fmt.Errorf("dns: %w: %d bytes, header needs 12", errMalformed, len(p))
	}
	k := flowKind(f)
	response := p[2]&0x80 != 0
	counts := [4]int{
		int(binary.BigEndian.Uint16(p[4:6])), int(binary.BigEndian.Uint16(p[6:8])),
		int(binary.BigEndian.Uint16(p[8:10])), int(binary.BigEndian.Uint16(p[10:12])),
	}
	// The querier: the sender of a query, the receiver of a response.
	var qMAC string
	var qIP netip.Addr
	if response && k == kindDNS {
		q := f.Client
		if dir == dissect.FromClient {
			q = f.Server
		}
		qMAC, qIP = q.MAC, q.Addr.Addr()
	}
	emitQ := func(field, v string) {
		out.Observe(dissect.Observation{Time: t, Protocol: protoOf(field), Field: field, Value: v, MAC: qMAC, IP: qIP})
	}
	emit := func(field, v string) {
		out.Observe(dissect.Observation{Time: t, Protocol: protoOf(field), Field: field, Value: v})
	}
	var scratch [maxNameLen]byte
	off := 12
	for i := 0; i < counts[0] && i < maxRecords; i++ {
		name, n, err := readName(p, off, scratch[:0])
		if err != nil {
			return fmt.Errorf("dns question %d: %w", i, err)
		}
		if n+4 > len(p) {
			return fmt.Errorf("dns question %d: %w: truncated", i, errMalformed)
		}
		off = n + 4
		if name == "" {
			continue
		}
		emitQ(FieldQuery, clean(name))
		if k == kindLLMNR && !response {
			emitQ(FieldLLMNRQuery, clean(name))
		}
	}
	if !response && k != kindMDNS {
		return nil
	}
	// Records: answers, authority (mDNS probes announce here), additional.
	total := counts[1] + counts[2] + counts[3]
	for i := 0; i < total && i < maxRecords; i++ {
		name, n, err := readName(p, off, scratch[:0])
		if err != nil {
			return fmt.Errorf("dns record %d: %w", i, err)
		}
		if n+10 > len(p) {
			return fmt.Errorf("dns record %d: %w: truncated header", i, errMalformed)
		}
		typ := binary.BigEndian.Uint16(p[n:])
		rdlen := int(binary.BigEndian.Uint16(p[n+8:]))
		rd := n + 10
		if rd+rdlen > len(p) {
			return fmt.Errorf("dns record %d (%s): %w: rdata beyond end of message", i, name, errMalformed)
		}
		off = rd + rdlen
		isAnswer := i < counts[1]
		switch k {
		case kindLLMNR:
			if isAnswer && (typ == typeA || typ == typeAAAA) && name != "" {
				emit(FieldLLMNRName, clean(name))
			}
		case kindMDNS:
			if !response && i < counts[1] {
				continue // known answers in a query describe others
			}
			mdnsRecord(p, name, typ, rd, rdlen, emit)
		}
	}
	return nil
}

func mdnsRecord(p []byte, name string, typ uint16, rd, rdlen int, emit func(string, string)) {
	var scratch [maxNameLen]byte
	switch typ {
	case typeA, typeAAAA:
		if name != "" && !strings.HasSuffix(name, ".arpa") {
			emit(FieldMDNSName, clean(name))
		}
	case typePTR:
		target, _, err := readName(p, rd, scratch[:0])
		if err != nil || target == "" {
			return
		}
		if strings.HasSuffix(name, ".arpa") {
			emit(FieldMDNSName, clean(target)) // reverse mapping: target is the host name
			return
		}
		if name == "_services._dns-sd._udp.local" {
			emit(FieldMDNSService, clean(target))
			return
		}
		if isServiceType(name) {
			emit(FieldMDNSService, clean(name))
			emit(FieldMDNSName, clean(target)) // service instance
		}
	case typeSRV:
		if rdlen < 7 {
			return
		}
		if name != "" {
			emit(FieldMDNSName, clean(name))
		}
		if target, _, err := readName(p, rd+6, scratch[:0]); err == nil && target != "" {
			emit(FieldMDNSName, clean(target))
		}
	case typeTXT:
		for i := rd; i < rd+rdlen; {
			l := int(p[i])
			if i+1+l > rd+rdlen {
				return
			}
			kv := string(p[i+1 : i+1+l])
			i += 1 + l
			key, val, ok := strings.Cut(kv, "=")
			if ok && val != "" && txtKeys[strings.ToLower(key)] {
				emit(FieldMDNSTXT, clean(strings.ToLower(key)+"="+val))
			}
		}
	}
}

// isServiceType reports whether name looks like "_svc._tcp.domain".
func isServiceType(name string) bool {
	return strings.HasPrefix(name, "_") && (strings.Contains(name, "._tcp.") || strings.Contains(name, "._udp."))
}

func protoOf(field string) string {
	p, _, _ := strings.Cut(field, ".")
	return p
}

// readName decodes the (possibly compressed) name at off and returns it
// with the offset just after it in the message. Compression pointers are
// bounded, so loops end.
func readName(p []byte, off int, buf []byte) (string, int, error) {
	end := -1
	jumps := 0
	for {
		if off >= len(p) {
			return "", 0, fmt.Errorf("%w: name runs past the end", errMalformed)
		}
		l := int(p[off])
		switch {
		case l == 0:
			if end < 0 {
				end = off + 1
			}
			return string(buf), end, nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(p) {
				return "", 0, fmt.Errorf("%w: truncated compression pointer", errMalformed)
			}
			if end < 0 {
				end = off + 2
			}
			jumps++
			if jumps > maxPointers {
				return "", 0, fmt.Errorf("%w: too many compression pointers", errMalformed)
			}
			off = int(binary.BigEndian.Uint16(p[off:]) & 0x3fff)
		case l&0xc0 != 0:
			return "", 0, fmt.Errorf("%w: label type %#x", errMalformed, l&0xc0)
		default:
			if off+1+l > len(p) {
				return "", 0, fmt.Errorf("%w: label runs past the end", errMalformed)
			}
			if len(buf)+l+1 > maxNameLen {
				return "", 0, fmt.Errorf("%w: name longer than %d bytes", errMalformed, maxNameLen)
			}
			if len(buf) > 0 {
				buf = append(buf, '.')
			}
			buf = append(buf, p[off+1:off+1+l]...)
			off += 1 + l
		}
	}
}

// clean makes a name printable and bounded: invalid UTF-8 and control
// characters (below 0x20, and 0x7f) dropped, then cut to maxValue bytes
// at a rune boundary. One pass over the name (it was strings.ToValidUTF8,
// strings.Map and a trim; FuzzClean checks it against them).
func clean(s string) string {
	if len(s) <= maxValue && printableASCII(s) {
		return s // the usual name: nothing to clean
	}
	b := make([]byte, 0, min(len(s), maxValue))
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			i++
			if c < 0x20 || c == 0x7f {
				continue
			}
			if len(b) == maxValue {
				break
			}
			b = append(b, c)
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		if r == utf8.RuneError && w == 1 {
			continue // an invalid byte
		}
		if len(b)+w > maxValue {
			break // the cut: no part of this rune, nothing after it
		}
		b = append(b, s[i-w:i]...)
	}
	return string(b)
}

// printableASCII reports whether s holds only bytes 0x20 to 0x7e (which
// clean keeps as they are).
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}
