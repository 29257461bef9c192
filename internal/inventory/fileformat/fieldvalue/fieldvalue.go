// Package fieldvalue holds the value rules shared by every inventory file
// format (CSV, JSON, FHIR): how a text value becomes a Device field, with
// the same normalisation and the same refusals whatever the container.
package fieldvalue

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
)

// ErrNoIdentity is returned by CheckIdentity for a device nobody could match.
var ErrNoIdentity = errors.New("record has no identity: asset_id, serial, mac or udi_di is needed")

// Kind identifies a device field, for decoders that resolve column names
// once and then set values per record without comparing names.
type Kind uint8

// The field kinds, in inventory.Fields order; KindNone is no field.
const (
	KindNone Kind = iota
	KindAssetID
	KindVendor
	KindModel
	KindVersion
	KindSerial
	KindMAC
	KindIP
	KindHostname
	KindSite
	KindLocation
	KindDepartment
	KindDeviceType
	KindCriticality
	KindPatientConnected
	KindPHI
	KindOS
	KindEndOfSupport
	KindUDIDI
	KindZone
	KindEndOfLife
)

// KindOf returns the kind of a field name of inventory.Fields.
func KindOf(field string) (Kind, bool) {
	for i, f := range inventory.Fields {
		if f == field {
			return Kind(i + 1), true
		}
	}
	return KindNone, false
}

// Block is a device allocated together with the storage its pointer and
// slice fields usually need, so a decoder makes one allocation per record
// instead of six. Use Block.Dev; the block lives as long as the device.
type Block struct {
	Dev   inventory.Device
	bools [2]bool
	dates [2]inventory.Date
	macs  [1]string
	ips   [1]string
}

// NewBlock returns a new, empty block.
func NewBlock() *Block {
	b := &Block{}
	b.init()
	return b
}

func (b *Block) init() {
	b.Dev.MACs = b.macs[:0:1]
	b.Dev.IPs = b.ips[:0:1]
}

// Slab hands out blocks allocated in groups, one allocation per n records.
// A group stays in memory while any of its devices is referenced, so use it
// where devices are short-lived or all kept (an import), not for a few
// long-lived ones.
type Slab struct {
	free []Block
	n    int
}

// NewSlab returns a slab that allocates n blocks at a time.
func NewSlab(n int) *Slab { return &Slab{n: max(n, 1)} }

// Next returns a new, empty block.
func (s *Slab) Next() *Block {
	if len(s.free) == 0 {
		s.free = make([]Block, s.n)
	}
	b := &s.free[0]
	s.free = s.free[1:]
	b.init()
	return b
}

// Finish clears the empty slices a block starts with, so a device without
// MACs or IPs has nil slices like any other decoded device.
func (b *Block) Finish() *inventory.Device {
	if len(b.Dev.MACs) == 0 {
		b.Dev.MACs = nil
	}
	if len(b.Dev.IPs) == 0 {
		b.Dev.IPs = nil
	}
	return &b.Dev
}

// Set parses raw (trimmed here) as the value of field (one of
// inventory.Fields) and stores it in d. An empty value leaves d unchanged.
// The error is the reason only; callers wrap it with file, line and column.
func Set(d *inventory.Device, field, raw string) error {
	k, ok := KindOf(field)
	if !ok {
		return fmt.Errorf("unknown field %q", field)
	}
	return set(d, nil, k, raw)
}

// SetKind is Set for a field kind, storing into a block.
func (b *Block) SetKind(k Kind, raw string) error { return set(&b.Dev, b, k, raw) }

func set(d *inventory.Device, blk *Block, k Kind, raw string) error {
	v := Trim(raw)
	if v == "" {
		return nil
	}
	switch k {
	case KindAssetID:
		d.AssetID = v
	case KindVendor:
		d.Vendor = v
	case KindModel:
		d.Model = v
	case KindVersion:
		d.Version = v
	case KindSerial:
		d.Serial = v
	case KindMAC:
		return AddMACs(d, v)
	case KindIP:
		return AddIPs(d, v)
	case KindHostname:
		d.Hostname = v
	case KindSite:
		d.Site = v
	case KindLocation:
		d.Location = v
	case KindDepartment:
		d.Department = v
	case KindDeviceType:
		d.DeviceType = v
	case KindCriticality:
		c, err := Criticality(v)
		if err != nil {
			return err
		}
		d.Criticality = c
	case KindPatientConnected, KindPHI:
		b, err := parseBool(v)
		if err != nil {
			return err
		}
		var p *bool
		if blk != nil {
			i := 0
			if k == KindPHI {
				i = 1
			}
			blk.bools[i] = b
			p = &blk.bools[i]
		} else {
			p = new(bool)
			*p = b
		}
		if k == KindPHI {
			d.PHI = p
		} else {
			d.PatientConnected = p
		}
	case KindEndOfSupport, KindEndOfLife:
		dt, err := parseDate(v)
		if err != nil {
			return err
		}
		var p *inventory.Date
		if blk != nil {
			i := 0
			if k == KindEndOfLife {
				i = 1
			}
			blk.dates[i] = dt
			p = &blk.dates[i]
		} else {
			p = new(inventory.Date)
			*p = dt
		}
		if k == KindEndOfLife {
			d.EndOfLife = p
		} else {
			d.EndOfSupport = p
		}
	case KindOS:
		d.OS = v
	case KindUDIDI:
		d.UDIDI = UDIDI(v)
	case KindZone:
		d.Zone = v
	default:
		return fmt.Errorf("unknown field kind %d", k)
	}
	return nil
}

// Trim is strings.TrimSpace with a fast path for values that need no
// trimming (the usual case).
func Trim(s string) string {
	if len(s) == 0 {
		return s
	}
	if a, z := s[0], s[len(s)-1]; a > ' ' && a < 0x80 && z > ' ' && z < 0x80 {
		return s
	}
	return strings.TrimSpace(s)
}

// Criticality is inventory.ParseCriticality with a fast path for the
// canonical names; the result is the same.
func Criticality(s string) (inventory.Criticality, error) {
	for _, c := range inventory.Criticalities {
		if s == string(c) {
			return c, nil
		}
	}
	return inventory.ParseCriticality(s)
}

// Bool parses yes/no/true/false/y/n/1/0/x (any case); blank is nil.
func Bool(s string) (*bool, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	b, err := parseBool(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	return &b, nil
}

func parseBool(s string) (bool, error) {
	switch s {
	case "yes", "no", "true", "false", "y", "n", "1", "0", "x":
	default:
		s = strings.ToLower(s)
	}
	switch s {
	case "yes", "true", "y", "1", "x", "t":
		return true, nil
	case "no", "false", "n", "0", "f":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a yes/no value (want yes, no, true, false, y, n, 1, 0, x or blank)", s)
}

// Date parses YYYY-MM-DD and the forms inventory.ParseDate accepts, and an
// ISO date-time whose date part is such a date (spreadsheets add
// " 00:00:00"). Day-first or month-first forms like 01/02/2024 are refused:
// they are ambiguous.
func Date(s string) (*inventory.Date, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	d, err := parseDate(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func parseDate(s string) (inventory.Date, error) {
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	if d, ok := fastDate(s); ok {
		return d, nil
	}
	d, err := inventory.ParseDate(s)
	if err == nil {
		return d, nil
	}
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		return inventory.Date{}, fmt.Errorf("date %q does not exist (want a valid YYYY-MM-DD)", s)
	}
	if strings.ContainsAny(s, "/.") && len(s) >= 6 && (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9') {
		return inventory.Date{}, fmt.Errorf("date %q is not YYYY-MM-DD (day/month forms like 01/02/2024 are ambiguous and refused)", s)
	}
	return inventory.Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
}

// fastDate parses a valid YYYY-MM-DD without time.Parse; anything else
// goes the slow way.
func fastDate(s string) (inventory.Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return inventory.Date{}, false
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	m, ok2 := num(5, 7)
	dd, ok3 := num(8, 10)
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || dd < 1 {
		return inventory.Date{}, false
	}
	d := inventory.NewDate(y, time.Month(m), dd)
	if d.Day() != dd { // day beyond the end of the month
		return inventory.Date{}, false
	}
	return d, true
}

// UDIDI returns the device identifier of a UDI: the (01) GTIN of a GS1
// human-readable string such as "(01)00884838000000(21)A1", otherwise the
// value as given.
func UDIDI(s string) string {
	s = strings.TrimSpace(s)
	if di, ok := GS1AI(s, "01"); ok {
		return di
	}
	return s
}

// GS1AI returns the value of application identifier ai in a GS1
// human-readable string made of "(ai)value" groups.
func GS1AI(s, ai string) (string, bool) {
	if !strings.HasPrefix(s, "(") {
		return "", false
	}
	for len(s) > 0 && s[0] == '(' {
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return "", false
		}
		id := s[1:end]
		rest := s[end+1:]
		next := strings.IndexByte(rest, '(')
		val := rest
		if next >= 0 {
			val = rest[:next]
			rest = rest[next:]
		} else {
			rest = ""
		}
		if id == ai {
			v := strings.TrimSpace(val)
			return v, v != ""
		}
		s = rest
	}
	return "", false
}

// isSep reports whether c separates several values in one cell.
func isSep(c byte) bool {
	return c == ';' || c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '|'
}

// Split calls fn for each value of a multi-value cell (separated by ';',
// ',', '|' or white space).
func Split(s string, fn func(string) error) error {
	for i := 0; i < len(s); {
		for i < len(s) && isSep(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isSep(s[j]) {
			j++
		}
		if j > i {
			if err := fn(s[i:j]); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// AddMACs normalises each MAC address in s (see Split) with
// inventory.NormalizeMAC and appends the new ones to d.MACs.
func AddMACs(d *inventory.Device, s string) error {
	return Split(s, func(m string) error {
		n, err := MAC(m)
		if err != nil {
			return err
		}
		if !slices.Contains(d.MACs, n) {
			d.MACs = append(d.MACs, n)
		}
		return nil
	})
}

// MAC is inventory.NormalizeMAC with a fast path for values already in
// canonical form; the result is the same.
func MAC(s string) (string, error) {
	if len(s) == 17 {
		ok := true
		for i := 0; i < 17 && ok; i++ {
			c := s[i]
			if i%3 == 2 {
				ok = c == ':'
			} else {
				ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
			}
		}
		if ok {
			return s, nil
		}
	}
	return inventory.NormalizeMAC(s)
}

// AddIPs normalises each IP address in s (see Split) with
// inventory.NormalizeIP and appends the new ones to d.IPs.
func AddIPs(d *inventory.Device, s string) error {
	return Split(s, func(a string) error {
		n, err := IP(a)
		if err != nil {
			return err
		}
		if !slices.Contains(d.IPs, n) {
			d.IPs = append(d.IPs, n)
		}
		return nil
	})
}

// IP is inventory.NormalizeIP with a fast path for plain IPv4 text, which
// netip only accepts in canonical form; the result is the same.
func IP(s string) (string, error) {
	a, err := netip.ParseAddr(s)
	if err == nil && a.Is4() {
		return s, nil
	}
	return inventory.NormalizeIP(s)
}

// CheckIdentity returns ErrNoIdentity when d carries none of the values the
// identity merge can use.
func CheckIdentity(d *inventory.Device) error {
	if d.AssetID == "" && d.Serial == "" && len(d.MACs) == 0 && d.UDIDI == "" {
		return ErrNoIdentity
	}
	return nil
}
