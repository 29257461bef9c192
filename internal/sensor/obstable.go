package sensor

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"unsafe"
)

// obsEntry is an observation record as strings and an address (the form
// Sensor.Observe looks records up by and take.go reads them in); the
// table stores it as an obsRec.
type obsEntry struct {
	k obsKey
	v obsVal
}

// obsRec is one stored observation record: its texts as ids into the
// table's texts and its address as 16 bytes, so that it holds no pointer
// (72 bytes; an obsEntry is 120 with five pointers) and the garbage
// collector neither scans the record chunks nor marks from them.
type obsRec struct {
	ip                             [16]byte // As16 form
	mac, field, value, proto, zone uint32   // ids in obsTable.texts; 0 is ""
	ipKind                         uint8    // 0: no address, 4: IPv4, 6: IPv6
	t, first, last                 int64
	count                          uint64
}

// obsChunkBits sets the obsTable chunk: 512 records (36 KB).
const (
	obsChunkBits = 9
	obsChunk     = 1 << obsChunkBits
)

// obsTable holds the observation records in chunks that never move,
// in the order they were added, under an open-addressing index (linear
// probing; a slot holds the record's index + 1 and 32 bits of its key's
// hash). It replaced a Go map of obsKey: growing the map rehashed every
// key (three strings and an address) again and again, and its entries of
// 120 bytes sat in groups at most 7/8 full; growing this index moves
// 8-byte slots only. The records' texts are stored once each in texts
// (the table's own copies), the records holding their ids.
type obsTable struct {
	chunks [][]obsRec
	n      int
	slots  []uint64 // index+1 | hash32<<32; 0: empty
	mask   uint32
	seed   maphash.Seed
	texts  []string          // texts[0] is ""
	ids    map[string]uint32 // index in texts
	// byData remembers the id of the texts last looked up by where
	// their bytes are (dissectors pass the same constant field and
	// protocol names and the sensor's MAC texts again and again): a hit
	// costs a comparison instead of a map lookup. The address is kept
	// as a number, not a pointer (no write barrier, nothing kept alive),
	// so a hit is confirmed by comparing the text.
	byData [256]struct {
		data uintptr
		id   uint32
	}
	view obsEntry // at's result
}

func newObsTable() *obsTable {
	return &obsTable{slots: make([]uint64, 256), mask: 255, seed: maphash.MakeSeed(), texts: []string{""}, ids: map[string]uint32{}}
}

// len is the number of records.
func (t *obsTable) len() int { return t.n }

// rec returns stored record i (0-based).
func (t *obsTable) rec(i int) *obsRec { return &t.chunks[i>>obsChunkBits][i&(obsChunk-1)] }

// at returns record i (0-based) as an obsEntry. The entry is the table's
// scratch copy: valid until the next call, and changing it does not
// change the record.
func (t *obsTable) at(i int) *obsEntry {
	r := t.rec(i)
	t.view = obsEntry{k: obsKey{mac: t.texts[r.mac], ip: t.addr(r), field: t.texts[r.field], value: t.texts[r.value]},
		v: obsVal{proto: t.texts[r.proto], t: r.t, first: r.first, last: r.last, count: r.count}}
	return &t.view
}

// addr returns r's address.
func (t *obsTable) addr(r *obsRec) netip.Addr {
	switch r.ipKind {
	case 4:
		return netip.AddrFrom4([4]byte(r.ip[12:]))
	case 6:
		return netip.AddrFrom16(r.ip).WithZone(t.texts[r.zone])
	}
	return netip.Addr{}
}

// textID returns the id of v in texts, adding a copy of it.
func (t *obsTable) textID(v string) uint32 {
	if v == "" {
		return 0
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(v)))
	e := &t.byData[(p>>3^uintptr(len(v)))&255]
	if e.data == p && t.texts[e.id] == v {
		return e.id
	}
	id, ok := t.ids[v]
	if !ok {
		c := strings.Clone(v)
		t.texts = append(t.texts, c)
		id = uint32(len(t.texts) - 1)
		t.ids[c] = id
	}
	e.data, e.id = p, id
	return id
}

func (t *obsTable) hash32(k *obsKey) uint32 {
	a := k.ip.As16()
	h := mix64(maphash.String(t.seed, k.value)^binary.LittleEndian.Uint64(a[:8]), maphash.String(t.seed, k.field)^binary.LittleEndian.Uint64(a[8:]))
	h = mix64(h^maphash.String(t.seed, k.mac), uint64(k.ip.BitLen())^0x8ebc6af09c88c6e3)
	return uint32(h >> 32)
}

// is reports whether r is the record of k.
func (t *obsTable) is(r *obsRec, k *obsKey) bool {
	if t.texts[r.value] != k.value || t.texts[r.field] != k.field || t.texts[r.mac] != k.mac {
		return false
	}
	switch r.ipKind {
	case 0:
		return !k.ip.IsValid()
	case 4:
		return k.ip.Is4() && r.ip == k.ip.As16()
	}
	return k.ip.Is6() && r.ip == k.ip.As16() && t.texts[r.zone] == k.ip.Zone()
}

// find returns the record of k, or nil and the slot and hash to pass to
// insert.
func (t *obsTable) find(k *obsKey) (*obsRec, uint32, uint32) {
	h := t.hash32(k)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return nil, i, h
		}
		if uint32(s>>32) == h {
			if r := t.rec(int(uint32(s)) - 1); t.is(r, k) {
				return r, i, h
			}
		}
	}
}

// insert adds a record for a key that find did not find, at the slot
// and with the hash it returned.
func (t *obsTable) insert(slot, h uint32, k obsKey, v obsVal) {
	if t.n>>obsChunkBits == len(t.chunks) {
		t.chunks = append(t.chunks, make([]obsRec, obsChunk))
	}
	r := obsRec{mac: t.textID(k.mac), field: t.textID(k.field), value: t.textID(k.value), proto: t.textID(v.proto),
		t: v.t, first: v.first, last: v.last, count: v.count}
	switch {
	case k.ip.Is4():
		r.ipKind, r.ip = 4, k.ip.As16()
	case k.ip.Is6():
		r.ipKind, r.ip, r.zone = 6, k.ip.As16(), t.textID(k.ip.Zone())
	}
	*t.rec(t.n) = r
	t.n++
	t.slots[slot] = uint64(t.n) | uint64(h)<<32
	if t.n*2 > len(t.slots) {
		t.slots, t.mask = growSlots(t.slots)
	}
}

// hostEntry is one MAC/IP binding and how it was learnt (Bind* bits).
type hostEntry struct {
	k   hostKey
	how uint8
}

// hostTable holds the MAC/IP bindings in a slice under an open-addressing
// index, like obsTable (it replaced a Go map of hostKey whose growth
// rehashed every binding).
type hostTable struct {
	entries []hostEntry
	slots   []uint64 // index+1 | hash32<<32; 0: empty
	mask    uint32
	seed    uint64
}

func newHostTable() *hostTable {
	return &hostTable{slots: make([]uint64, 256), mask: 255, seed: rand.Uint64() | 1}
}

func (t *hostTable) hash32(k *hostKey) uint32 {
	w2 := uint64(k.mac[0]) | uint64(k.mac[1])<<8 | uint64(k.mac[2])<<16 | uint64(k.mac[3])<<24 |
		uint64(k.mac[4])<<32 | uint64(k.mac[5])<<40
	if k.v6 {
		w2 |= 1 << 48
	}
	h := mix64(binary.LittleEndian.Uint64(k.ip[:8])^t.seed, binary.LittleEndian.Uint64(k.ip[8:])^0xa0761d6478bd642f)
	h = mix64(h^w2, t.seed^0xe7037ed1a0b428db)
	return uint32(h >> 32)
}

// set ors how into k's bits, adding k.
func (t *hostTable) set(k hostKey, how uint8) {
	h := t.hash32(&k)
	i := h & t.mask
	for ; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			break
		}
		if uint32(s>>32) == h {
			if e := &t.entries[uint32(s)-1]; e.k == k {
				e.how |= how
				return
			}
		}
	}
	t.entries = append(t.entries, hostEntry{k: k, how: how})
	t.slots[i] = uint64(len(t.entries)) | uint64(h)<<32
	if len(t.entries)*2 > len(t.slots) {
		t.slots, t.mask = growSlots(t.slots)
	}
}

// byMAC calls each with the bindings of every MAC, each group's map sized
// for it.
func (t *hostTable) byMAC(each func(mac [6]byte, ips map[netip.Addr]uint8)) {
	e := slices.Clone(t.entries) // the index points into t.entries
	slices.SortFunc(e, func(a, b hostEntry) int { return bytes.Compare(a.k.mac[:], b.k.mac[:]) })
	for i := 0; i < len(e); {
		j := i + 1
		for j < len(e) && e[j].k.mac == e[i].k.mac {
			j++
		}
		ips := make(map[netip.Addr]uint8, j-i)
		for _, x := range e[i:j] {
			ips[keyAddr(x.k.ip, x.k.v6)] = x.how
		}
		each(e[i].k.mac, ips)
		i = j
	}
}
