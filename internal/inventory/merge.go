package inventory

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
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
//
// It is a chained hash table over key records in fixed-size chunks, with
// the key bytes copied into one byte slice. It holds no Go pointers but
// the chunks' (so the garbage collector does not walk it; as four Go maps
// of strings it was 411 MB of the 790 MB live heap of a 1,000,000-device
// import), and it keeps neither the devices nor the decoded records their
// strings point into. A key is its rule's byte and its text (a pair: the first
// text's length, then both texts); equal hashes are told apart by
// comparing the bytes, so a collision never makes a wrong match.
type Index struct {
	seed    maphash.Seed
	buckets []int32           // hash & mask -> first record, or -1
	chunks  [][]keyRec        // record i is chunks[i>>chunkBits][i&chunkMask]
	n       int32             // records made
	used    int               // records in use
	free    []int32           // records to reuse
	bytes   []byte            // key bytes; a span is an offset<<24 | length
	long    map[int]int       // lengths of keys of spanLong bytes or more, by offset
	many    map[int32][]entry // record -> the devices sharing its key, when several
	assets  int               // asset tag records in use (Len)
	scratch []byte            // the key being looked up
}

const (
	chunkBits = 14
	chunkMask = 1<<chunkBits - 1
)

// keyRec is one key and the device holding it (e.id 0: several do, see
// Index.many; key 0: the record is free).
type keyRec struct {
	key  uint64 // span of the key bytes
	e    entry
	next int32  // next record in the bucket, or -1
	hash uint32 // the key hash's top bits, to skip most byte comparisons
}

// entry is a device holding a key, with the record of its asset tag (-1:
// none) so that a match by another rule can be checked against the
// record's asset tag. A device's entries are removed together, so the
// record outlives them.
type entry struct {
	id    int64
	asset int32
}

type pair struct{ a, b string }

// Key kinds (the first byte of a key).
const (
	kindAsset byte = iota + 1
	kindUDI
	kindVendor
	kindMAC
)

// spanLong marks a span whose length is in Index.long.
const spanLong = 1<<24 - 1

func (x *Index) rec(i int32) *keyRec { return &x.chunks[i>>chunkBits][i&chunkMask] }

// span copies b into the index's bytes.
func (x *Index) span(b []byte) uint64 {
	off := len(x.bytes)
	x.bytes = append(x.bytes, b...)
	n := len(b)
	if n >= spanLong {
		if x.long == nil {
			x.long = map[int]int{}
		}
		x.long[off] = n
		n = spanLong
	}
	return uint64(off)<<24 | uint64(n)
}

// at returns the bytes of span sp.
func (x *Index) at(sp uint64) []byte {
	off, n := int(sp>>24), int(sp&spanLong)
	if n == spanLong {
		n = x.long[off]
	}
	return x.bytes[off : off+n]
}

// key sets x.scratch to the key of kind with text a (and b for a pair).
func (x *Index) key(kind byte, a, b string, pair bool) []byte {
	k := append(x.scratch[:0], kind)
	if pair {
		k = binary.AppendUvarint(k, uint64(len(a)))
	}
	k = append(append(k, a...), b...)
	x.scratch = k
	return k
}

func (x *Index) hash(k []byte) uint64 { return maphash.Bytes(x.seed, k) }

// find returns the record of key k (hash h), or -1.
func (x *Index) find(h uint64, k []byte) int32 {
	if len(x.buckets) == 0 {
		return -1
	}
	tag := uint32(h >> 32)
	for i := x.buckets[h&uint64(len(x.buckets)-1)]; i >= 0; {
		r := x.rec(i)
		if r.hash == tag && bytes.Equal(x.at(r.key), k) {
			return i
		}
		i = r.next
	}
	return -1
}

// grow doubles the buckets (at least to n) and chains every record again.
func (x *Index) grow(n int) {
	size := max(1024, 2*len(x.buckets))
	for size < n {
		size *= 2
	}
	x.buckets = slices.Repeat([]int32{-1}, size)
	mask := uint64(size - 1)
	for i := int32(0); i < x.n; i++ {
		r := x.rec(i)
		if r.key == 0 {
			continue
		}
		b := x.hash(x.at(r.key)) & mask
		r.next, x.buckets[b] = x.buckets[b], i
	}
}

func (x *Index) add(k []byte, e entry) { x.addHashed(x.hash(k), k, e) }

func (x *Index) addHashed(h uint64, k []byte, e entry) {
	if i := x.find(h, k); i >= 0 {
		r := x.rec(i)
		switch {
		case r.e.id == e.id:
			r.e = e
		case r.e.id != 0:
			x.many[i] = insertEntry([]entry{r.e}, e)
			r.e = entry{}
		default:
			es := x.many[i]
			if j := slices.IndexFunc(es, func(o entry) bool { return o.id == e.id }); j >= 0 {
				es[j] = e
			} else {
				x.many[i] = insertEntry(es, e)
			}
		}
		return
	}
	x.insert(h, k, e)
}

// insert makes a record for new key k (hash h) and returns it.
func (x *Index) insert(h uint64, k []byte, e entry) int32 {
	if x.used >= len(x.buckets) {
		x.grow(x.used + 1)
	}
	var i int32
	if n := len(x.free); n > 0 {
		i, x.free = x.free[n-1], x.free[:n-1]
	} else {
		if x.n>>chunkBits == int32(len(x.chunks)) {
			x.chunks = append(x.chunks, make([]keyRec, chunkMask+1))
		}
		i = x.n
		x.n++
	}
	b := h & uint64(len(x.buckets)-1)
	*x.rec(i) = keyRec{key: x.span(k), e: e, next: x.buckets[b], hash: uint32(h >> 32)}
	x.buckets[b] = i
	x.used++
	if k[0] == kindAsset {
		x.assets++
	}
	return i
}

// drop frees record i (its key's hash is h).
func (x *Index) drop(h uint64, i int32) {
	r := x.rec(i)
	b := h & uint64(len(x.buckets)-1)
	if x.buckets[b] == i {
		x.buckets[b] = r.next
	} else {
		p := x.rec(x.buckets[b])
		for p.next != i {
			p = x.rec(p.next)
		}
		p.next = r.next
	}
	if x.at(r.key)[0] == kindAsset {
		x.assets--
	}
	delete(x.many, i)
	*r = keyRec{}
	x.free = append(x.free, i)
	x.used--
}

func (x *Index) remove(k []byte, id int64) {
	h := x.hash(k)
	if i := x.find(h, k); i >= 0 {
		x.removeAt(h, i, func(o entry) bool { return o.id == id })
	}
}

// removeAt drops the devices gone reports from record i (hash h).
func (x *Index) removeAt(h uint64, i int32, gone func(entry) bool) {
	r := x.rec(i)
	if r.e.id != 0 {
		if gone(r.e) {
			x.drop(h, i)
		}
		return
	}
	es := slices.DeleteFunc(slices.Clone(x.many[i]), gone)
	switch len(es) {
	case 0:
		x.drop(h, i)
	case 1:
		r.e = es[0]
		delete(x.many, i)
	default:
		x.many[i] = es
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

// lookup appends the devices holding k to found and reports whether k is
// shared by several devices.
func (x *Index) lookup(k []byte, found []entry) ([]entry, bool) {
	i := x.find(x.hash(k), k)
	if i < 0 {
		return found, false
	}
	if e := x.rec(i).e; e.id != 0 {
		return appendNew(found, e), false
	}
	return appendNew(found, x.many[i]...), true
}

// NewIndex returns an empty index.
func NewIndex() *Index { return NewIndexSize(0) }

// NewIndexSize returns an empty index with room for about n devices.
func NewIndexSize(n int) *Index {
	x := &Index{seed: maphash.MakeSeed(), many: map[int32][]entry{}}
	if n > 0 {
		x.grow(3 * n)
		x.bytes = make([]byte, 0, 48*n)
	}
	return x
}

// tag returns the asset tag of record i (-1: nil).
func (x *Index) tag(i int32) []byte {
	if i < 0 {
		return nil
	}
	return x.at(x.rec(i).key)[1:]
}

// Len returns the number of asset tags in the index.
func (x *Index) Len() int { return x.assets }

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
	e := entry{id: id, asset: -1}
	if k.asset != "" {
		key := x.key(kindAsset, k.asset, "", false)
		h := x.hash(key)
		i := x.find(h, key)
		if i < 0 {
			i = x.insert(h, key, entry{id: id})
		}
		e.asset = i
		x.addHashed(h, key, e)
	}
	if k.udi.a != "" {
		x.add(x.key(kindUDI, k.udi.a, k.udi.b, true), e)
	}
	if k.vendor.a != "" {
		x.add(x.key(kindVendor, k.vendor.a, k.vendor.b, true), e)
	}
	for _, m := range k.macs {
		if m != "" {
			x.add(x.key(kindMAC, lowerMAC(m), "", false), e)
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
	gone := func(o entry) bool { return ids[o.id] }
	for i := int32(0); i < x.n; i++ {
		r := x.rec(i)
		if r.key == 0 || (r.e.id != 0 && !ids[r.e.id]) {
			continue
		}
		x.removeAt(x.hash(x.at(r.key)), i, gone)
	}
}

// Remove drops device id from every identity key of d (d as it was added).
func (x *Index) Remove(id int64, d *Device) {
	k := keysOf(d)
	if k.asset != "" {
		x.remove(x.key(kindAsset, k.asset, "", false), id)
	}
	if k.udi.a != "" {
		x.remove(x.key(kindUDI, k.udi.a, k.udi.b, true), id)
	}
	if k.vendor.a != "" {
		x.remove(x.key(kindVendor, k.vendor.a, k.vendor.b, true), id)
	}
	for _, m := range k.macs {
		if m != "" {
			x.remove(x.key(kindMAC, lowerMAC(m), "", false), id)
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
		found[0], shared = x.lookup(x.key(kindAsset, k.asset, "", false), found[0])
		amb = amb || shared
	}
	if k.udi.a != "" {
		found[1], shared = x.lookup(x.key(kindUDI, k.udi.a, k.udi.b, true), found[1])
		amb = amb || shared
	}
	if k.vendor.a != "" {
		found[2], shared = x.lookup(x.key(kindVendor, k.vendor.a, k.vendor.b, true), found[2])
		amb = amb || shared
	}
	for _, m := range k.macs {
		if m != "" {
			found[3], shared = x.lookup(x.key(kindMAC, lowerMAC(m), "", false), found[3])
			amb = amb || shared
		}
	}
	asset := int32(-1) // the matched device's asset tag record
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
	} else if a := x.tag(asset); k.asset != "" && rule != RuleAssetID && a != nil && string(a) != k.asset {
		reason = fmt.Sprintf("%s matches device %d, which has asset_id %q, not %q", rule, id, a, k.asset)
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
