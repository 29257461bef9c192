package inventory

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Identity rules, in the order Match tries them.
const (
	RuleAssetID      = "asset_id"      // the hospital's asset tag, exact after trimming
	RuleUDI          = "udi"           // udi_di + serial
	RuleVendorSerial = "vendor+serial" // normalised vendor name + serial
	RuleMAC          = "mac"           // any of the device's MAC addresses
)

// MatchRules lists the identity rules in the order they are tried.
var MatchRules = []string{RuleAssetID, RuleUDI, RuleVendorSerial, RuleMAC}

// AmbiguousError says that the identity rules point at different existing
// devices, or at a device whose asset tag contradicts the record's. The
// importer reports the record instead of merging it.
type AmbiguousError struct {
	Candidates map[string][]int64 // rule -> device ids it matched
	Reason     string
}

func (e *AmbiguousError) Error() string { return "ambiguous identity: " + e.Reason }

// Index is an in-memory identity index over the inventory: asset tag,
// UDI-DI + serial, vendor + serial and MAC address, each mapped to device
// ids. It is not safe for concurrent use.
type Index struct {
	keys   [4]map[string]int64   // per rule: key -> id
	multi  [4]map[string][]int64 // per rule: keys held by several devices
	assets map[int64]string      // id -> asset tag, to catch contradictions
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	x := &Index{assets: make(map[int64]string)}
	for i := range x.keys {
		x.keys[i] = make(map[string]int64)
		x.multi[i] = make(map[string][]int64)
	}
	return x
}

// Len returns the number of devices with an asset tag in the index.
func (x *Index) Len() int { return len(x.assets) }

// VendorKey is the comparison form of a vendor name: lower case, letters
// and digits only, without legal-form words, so "GE Healthcare", "GE
// HealthCare" and "GE HealthCare Inc." compare equal.
func VendorKey(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for w := range strings.FieldsFuncSeq(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '&' }) {
		lw := strings.ToLower(w)
		switch lw {
		case "inc", "incorporated", "llc", "ltd", "limited", "gmbh", "ag", "corp", "corporation",
			"co", "sa", "bv", "nv", "plc", "kk", "spa", "srl", "oy", "ab", "as", "pty", "&":
			continue
		}
		for _, r := range lw {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// serialKey compares serial numbers ignoring case and surrounding space.
func serialKey(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' || c >= 0x80 {
			return strings.ToUpper(s)
		}
	}
	return s
}

// keysOf calls fn for every identity key of d, per rule.
func keysOf(d *Device, fn func(rule int, key string)) {
	if a := strings.TrimSpace(d.AssetID); a != "" {
		fn(0, a)
	}
	serial := serialKey(d.Serial)
	if serial != "" {
		if u := strings.TrimSpace(d.UDIDI); u != "" {
			fn(1, u+"\x00"+serial)
		}
		if v := VendorKey(d.Vendor); v != "" {
			fn(2, v+"\x00"+serial)
		}
	}
	for _, m := range d.MACs {
		if m != "" {
			fn(3, strings.ToLower(m))
		}
	}
}

// Add indexes device id under every identity key of d.
func (x *Index) Add(id int64, d *Device) {
	if a := strings.TrimSpace(d.AssetID); a != "" {
		x.assets[id] = a
	}
	keysOf(d, func(r int, k string) {
		if ids, ok := x.multi[r][k]; ok {
			if !slices.Contains(ids, id) {
				x.multi[r][k] = append(ids, id)
			}
			return
		}
		old, ok := x.keys[r][k]
		switch {
		case !ok:
			x.keys[r][k] = id
		case old != id:
			delete(x.keys[r], k)
			x.multi[r][k] = []int64{old, id}
		}
	})
}

// Remove drops device id from every identity key of d (d as it was added).
func (x *Index) Remove(id int64, d *Device) {
	if x.assets[id] == strings.TrimSpace(d.AssetID) {
		delete(x.assets, id)
	}
	keysOf(d, func(r int, k string) {
		if ids, ok := x.multi[r][k]; ok {
			ids = slices.DeleteFunc(ids, func(v int64) bool { return v == id })
			if len(ids) == 1 {
				delete(x.multi[r], k)
				x.keys[r][k] = ids[0]
			} else {
				x.multi[r][k] = ids
			}
			return
		}
		if x.keys[r][k] == id {
			delete(x.keys[r], k)
		}
	})
}

// Match finds the existing device d is, trying the rules in MatchRules
// order: asset_id; UDI (udi_di + serial); vendor + serial; MAC. It returns
// the device id and the first rule that matched, or (0, "", nil) when d is
// new. When rules match different devices, when one key is shared by
// several devices, or when the matched device has another asset tag than
// d, it returns an *AmbiguousError naming them, and id 0.
func (x *Index) Match(d *Device) (int64, string, error) {
	var (
		id    int64
		rule  string
		amb   bool
		found [4][]int64
	)
	keysOf(d, func(r int, k string) {
		if ids, ok := x.multi[r][k]; ok {
			found[r] = appendNew(found[r], ids...)
			amb = true
			return
		}
		if v, ok := x.keys[r][k]; ok {
			found[r] = appendNew(found[r], v)
		}
	})
	for r, ids := range found {
		for _, v := range ids {
			if id == 0 {
				id, rule = v, MatchRules[r]
			} else if v != id {
				amb = true
			}
		}
	}
	if id == 0 {
		return 0, "", nil
	}
	var reason string
	if amb {
		var parts []string
		for r, ids := range found {
			if len(ids) > 0 {
				parts = append(parts, fmt.Sprintf("%s matches device %s", MatchRules[r], joinIDs(ids)))
			}
		}
		reason = strings.Join(parts, "; ")
	} else if a := strings.TrimSpace(d.AssetID); a != "" && rule != RuleAssetID {
		if other := x.assets[id]; other != "" && other != a {
			reason = fmt.Sprintf("%s matches device %d, which has asset_id %q, not %q", rule, id, other, a)
		}
	}
	if reason != "" {
		cands := make(map[string][]int64)
		for r, ids := range found {
			if len(ids) > 0 {
				cands[MatchRules[r]] = ids
			}
		}
		return 0, "", &AmbiguousError{Candidates: cands, Reason: reason}
	}
	return id, rule, nil
}

func appendNew(s []int64, v ...int64) []int64 {
	for _, x := range v {
		if !slices.Contains(s, x) {
			s = append(s, x)
		}
	}
	return s
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, v := range ids {
		s[i] = fmt.Sprint(v)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// Apply copies every non-empty intended field of src onto dst (the fields
// of Fields; MACs and IPs compared as sets), records p as the provenance of
// each field it changed and returns the changed field names in Fields
// order. Fields that already hold src's value keep their provenance, so
// re-importing the same file changes nothing and returns nil.
func Apply(dst, src *Device, p Provenance) (changed []string) {
	set := func(f string) {
		changed = append(changed, f)
		if dst.Provenance == nil {
			dst.Provenance = make(map[string]Provenance)
		}
		dst.Provenance[f] = p
	}
	str := func(f string, d *string, s string) {
		if s != "" && *d != s {
			*d = s
			set(f)
		}
	}
	list := func(f string, d *[]string, s []string) {
		if len(s) > 0 && !sameSet(*d, s) {
			*d = slices.Clone(s)
			set(f)
		}
	}
	boolean := func(f string, d **bool, s *bool) {
		if s != nil && (*d == nil || **d != *s) {
			v := *s
			*d = &v
			set(f)
		}
	}
	date := func(f string, d **Date, s *Date) {
		if s != nil && (*d == nil || !(*d).Equal(s.Time)) {
			v := *s
			*d = &v
			set(f)
		}
	}
	// In Fields order.
	str("asset_id", &dst.AssetID, src.AssetID)
	str("vendor", &dst.Vendor, src.Vendor)
	str("model", &dst.Model, src.Model)
	str("version", &dst.Version, src.Version)
	str("serial", &dst.Serial, src.Serial)
	list("mac", &dst.MACs, src.MACs)
	list("ip", &dst.IPs, src.IPs)
	str("hostname", &dst.Hostname, src.Hostname)
	str("site", &dst.Site, src.Site)
	str("location", &dst.Location, src.Location)
	str("department", &dst.Department, src.Department)
	str("device_type", &dst.DeviceType, src.DeviceType)
	if src.Criticality != CriticalityNone && dst.Criticality != src.Criticality {
		dst.Criticality = src.Criticality
		set("criticality")
	}
	boolean("patient_connected", &dst.PatientConnected, src.PatientConnected)
	boolean("phi", &dst.PHI, src.PHI)
	str("os", &dst.OS, src.OS)
	date("end_of_support", &dst.EndOfSupport, src.EndOfSupport)
	str("udi_di", &dst.UDIDI, src.UDIDI)
	str("zone", &dst.Zone, src.Zone)
	date("end_of_life", &dst.EndOfLife, src.EndOfLife)
	return changed
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, v := range a {
		if !slices.Contains(b, v) {
			return false
		}
	}
	for _, v := range b {
		if !slices.Contains(a, v) {
			return false
		}
	}
	return true
}

// ApplyObserved records o as what a sensor saw for field (one of Fields)
// without touching the intended value. It reports whether the stored
// observation changed: a new value or a new source. Seeing the same value
// from the same source again changes nothing (no revision bump); an empty
// value or an unknown field is ignored.
func ApplyObserved(dst *Device, field string, o Observation) bool {
	if o.Value == "" || !slices.Contains(Fields, field) {
		return false
	}
	if old, ok := dst.Observed[field]; ok && old.Value == o.Value && old.Source == o.Source {
		return false
	}
	if dst.Observed == nil {
		dst.Observed = make(map[string]Observation)
	}
	dst.Observed[field] = o
	return true
}
