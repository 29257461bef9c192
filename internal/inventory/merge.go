package inventory

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
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
// ids. Ids must not be 0 (the importer uses negative ids for devices not
// saved yet). To update a device, Remove it as it was, then Add it as it
// is. An Index is not safe for concurrent use.
type Index struct {
	asset  keyIndex[string]
	udi    keyIndex[pair]
	vendor keyIndex[pair]
	mac    keyIndex[string]
	keys   arena // the bytes of every key, copied out of the devices
}

// arena holds copies of key strings in large shared blocks. A device's
// fields are often substrings of a larger allocation (a decoded CSV record
// shares one string per line); indexing them as they are kept every record
// of an import alive, and a copy per key would cost an allocation each.
type arena struct{ buf []byte }

// arenaBlock is the size of one block of key bytes.
const arenaBlock = 256 << 10

func (a *arena) clone(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > cap(a.buf)-len(a.buf) {
		if len(s) > arenaBlock/4 {
			return strings.Clone(s)
		}
		a.buf = make([]byte, 0, arenaBlock)
	}
	start := len(a.buf)
	a.buf = append(a.buf, s...)
	// The block's bytes up to len are never written again.
	return unsafe.String(&a.buf[start], len(s))
}

type pair struct{ a, b string }

// entry is a device holding a key, with its asset tag so that a match by
// another rule can be checked against the record's asset tag.
type entry struct {
	id    int64
	asset string
}

// keyIndex maps a key to the device holding it; keys held by several
// devices move to many.
type keyIndex[K comparable] struct {
	one  map[K]entry
	many map[K][]entry
	room int // entries one was sized for
}

func newKeyIndex[K comparable](n int) keyIndex[K] {
	return keyIndex[K]{one: make(map[K]entry, n), many: make(map[K][]entry), room: n}
}

// grow replaces one by a map sized for four times as many entries. Copying
// into a presized map is several times cheaper than letting the runtime
// grow a large map one table split at a time (see the Index benchmarks).
func (x *keyIndex[K]) grow() {
	x.room = max(4*x.room, 4096)
	m := make(map[K]entry, x.room)
	for k, v := range x.one {
		m[k] = v
	}
	x.one = m
}

func (x *keyIndex[K]) add(k K, e entry) {
	if len(x.one) >= x.room {
		x.grow()
	}
	if es, ok := x.many[k]; ok {
		if i := slices.IndexFunc(es, func(o entry) bool { return o.id == e.id }); i >= 0 {
			es[i] = e
		} else {
			x.many[k] = insertEntry(es, e)
		}
		return
	}
	old, ok := x.one[k]
	switch {
	case !ok, old.id == e.id:
		x.one[k] = e
	default:
		delete(x.one, k)
		x.many[k] = insertEntry([]entry{old}, e)
	}
}

// insertEntry adds e to the devices sharing a key: stored devices (ids
// above 0) in id order, then devices not saved yet in the order they were
// added. A scan in id order appends; a stored device indexed again after a
// change (Index.RemoveIDs, then Add) returns to its place.
func insertEntry(es []entry, e entry) []entry {
	i := len(es)
	if e.id > 0 {
		i = slices.IndexFunc(es, func(o entry) bool { return o.id < 0 || o.id > e.id })
		if i < 0 {
			i = len(es)
		}
	}
	return slices.Insert(es, i, e)
}

// removeIDs drops every entry of the given devices.
func (x *keyIndex[K]) removeIDs(ids map[int64]bool) {
	for k, e := range x.one {
		if ids[e.id] {
			delete(x.one, k)
		}
	}
	for k, es := range x.many {
		es = slices.DeleteFunc(slices.Clone(es), func(o entry) bool { return ids[o.id] })
		switch len(es) {
		case 0:
			delete(x.many, k)
		case 1:
			delete(x.many, k)
			x.one[k] = es[0]
		default:
			x.many[k] = es
		}
	}
}

func (x *keyIndex[K]) remove(k K, id int64) {
	if es, ok := x.many[k]; ok {
		es = slices.DeleteFunc(slices.Clone(es), func(o entry) bool { return o.id == id })
		if len(es) == 1 {
			delete(x.many, k)
			x.one[k] = es[0]
		} else {
			x.many[k] = es
		}
		return
	}
	if v, ok := x.one[k]; ok && v.id == id {
		delete(x.one, k)
	}
}

// lookup appends the devices holding k to found and reports whether k is
// shared by several devices.
func (x *keyIndex[K]) lookup(k K, found []entry) ([]entry, bool) {
	if len(x.many) > 0 {
		if es, ok := x.many[k]; ok {
			return appendNew(found, es...), true
		}
	}
	if v, ok := x.one[k]; ok {
		return appendNew(found, v), false
	}
	return found, false
}

// NewIndex returns an empty index.
func NewIndex() *Index { return NewIndexSize(0) }

// NewIndexSize returns an empty index with room for about n devices, which
// makes loading n devices about three times faster than growing the maps
// (see docs/benchmarks/inventory_formats.md).
func NewIndexSize(n int) *Index {
	return &Index{
		asset:  newKeyIndex[string](n),
		udi:    newKeyIndex[pair](n),
		vendor: newKeyIndex[pair](n),
		mac:    newKeyIndex[string](n),
	}
}

// Len returns the number of asset tags in the index.
func (x *Index) Len() int { return len(x.asset.one) + len(x.asset.many) }

// VendorKey is the comparison form of a vendor name: lower case, letters
// and digits only, without legal-form words, so "GE Healthcare", "GE
// HealthCare" and "GE HealthCare Inc." compare equal.
func VendorKey(v string) string {
	buf := make([]byte, 0, len(v))
	start := 0 // where the current word begins in buf
	endWord := func() {
		switch string(buf[start:]) {
		case "inc", "incorporated", "llc", "ltd", "limited", "gmbh", "ag", "corp", "corporation",
			"co", "sa", "bv", "nv", "plc", "kk", "spa", "srl", "oy", "ab", "as", "pty":
			buf = buf[:start]
		}
		start = len(buf)
	}
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			buf = append(buf, byte(r))
		case r >= 'A' && r <= 'Z':
			buf = append(buf, byte(r)+'a'-'A')
		case r == '&':
			// part of a word ("AT&T"), but not kept
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			buf = utf8.AppendRune(buf, unicode.ToLower(r))
		default:
			endWord()
		}
	}
	endWord()
	return string(buf)
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

// identity holds the keys of one device.
type identity struct {
	asset  string
	udi    pair
	vendor pair
	macs   []string
}

func keysOf(d *Device) identity {
	var k identity
	k.asset = strings.TrimSpace(d.AssetID)
	if serial := serialKey(d.Serial); serial != "" {
		if u := strings.TrimSpace(d.UDIDI); u != "" {
			k.udi = pair{u, serial}
		}
		if v := VendorKey(d.Vendor); v != "" {
			k.vendor = pair{v, serial}
		}
	}
	k.macs = d.MACs
	return k
}

// Add indexes device id under every identity key of d. The index keeps
// copies of the keys, not d or its strings.
func (x *Index) Add(id int64, d *Device) {
	k := keysOf(d)
	a := &x.keys
	k.asset = a.clone(k.asset)
	e := entry{id: id, asset: k.asset}
	if k.asset != "" {
		x.asset.add(k.asset, e)
	}
	if k.udi.a != "" {
		x.udi.add(pair{a.clone(k.udi.a), a.clone(k.udi.b)}, e)
	}
	if k.vendor.a != "" {
		x.vendor.add(pair{a.clone(k.vendor.a), a.clone(k.vendor.b)}, e)
	}
	for _, m := range k.macs {
		if m != "" {
			x.mac.add(a.clone(lowerMAC(m)), e)
		}
	}
}

// RemoveIDs drops the given devices from every key, whatever their keys
// were: for devices changed by someone else since they were added. It
// walks the whole index.
func (x *Index) RemoveIDs(ids map[int64]bool) {
	if len(ids) == 0 {
		return
	}
	x.asset.removeIDs(ids)
	x.udi.removeIDs(ids)
	x.vendor.removeIDs(ids)
	x.mac.removeIDs(ids)
}

// Remove drops device id from every identity key of d (d as it was added).
func (x *Index) Remove(id int64, d *Device) {
	k := keysOf(d)
	if k.asset != "" {
		x.asset.remove(k.asset, id)
	}
	if k.udi.a != "" {
		x.udi.remove(k.udi, id)
	}
	if k.vendor.a != "" {
		x.vendor.remove(k.vendor, id)
	}
	for _, m := range k.macs {
		if m != "" {
			x.mac.remove(lowerMAC(m), id)
		}
	}
}

// Match finds the existing device d is, trying the rules in MatchRules
// order: asset_id; UDI (udi_di + serial); vendor + serial; MAC. It returns
// the device id and the first rule that matched, or (0, "", nil) when d is
// new. When rules match different devices, when one key is shared by
// several devices, or when the matched device has another asset tag than
// d, it returns an *AmbiguousError naming them, and id 0.
func (x *Index) Match(d *Device) (int64, string, error) {
	var (
		id     int64
		rule   string
		amb    bool
		shared bool
		found  [4][]entry
		buf    [4][2]entry // backing for found, so a match does not allocate
	)
	for i := range found {
		found[i] = buf[i][:0]
	}
	k := keysOf(d)
	if k.asset != "" {
		found[0], shared = x.asset.lookup(k.asset, found[0])
		amb = amb || shared
	}
	if k.udi.a != "" {
		found[1], shared = x.udi.lookup(k.udi, found[1])
		amb = amb || shared
	}
	if k.vendor.a != "" {
		found[2], shared = x.vendor.lookup(k.vendor, found[2])
		amb = amb || shared
	}
	for _, m := range k.macs {
		if m != "" {
			found[3], shared = x.mac.lookup(lowerMAC(m), found[3])
			amb = amb || shared
		}
	}
	var asset string // the matched device's asset tag
	for r, es := range found {
		for _, e := range es {
			if id == 0 {
				id, rule, asset = e.id, MatchRules[r], e.asset
			} else if e.id != id {
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
		for r, es := range found {
			if len(es) > 0 {
				parts = append(parts, fmt.Sprintf("%s matches device %s", MatchRules[r], joinIDs(es)))
			}
		}
		reason = strings.Join(parts, "; ")
	} else if k.asset != "" && rule != RuleAssetID && asset != "" && asset != k.asset {
		reason = fmt.Sprintf("%s matches device %d, which has asset_id %q, not %q", rule, id, asset, k.asset)
	}
	if reason != "" {
		cands := make(map[string][]int64)
		for r, es := range found {
			for _, e := range es {
				cands[MatchRules[r]] = append(cands[MatchRules[r]], e.id)
			}
		}
		return 0, "", &AmbiguousError{Candidates: cands, Reason: reason}
	}
	return id, rule, nil
}

// lowerMAC lower-cases a MAC address without allocating when it already
// is (the normal case: MACs in a Device are normalised).
func lowerMAC(m string) string {
	for i := 0; i < len(m); i++ {
		if c := m[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(m)
		}
	}
	return m
}

func appendNew(s []entry, v ...entry) []entry {
	for _, x := range v {
		if !slices.ContainsFunc(s, func(o entry) bool { return o.id == x.id }) {
			s = append(s, x)
		}
	}
	return s
}

func joinIDs(es []entry) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = fmt.Sprint(e.id)
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
