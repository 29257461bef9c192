package sensor

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/rand/v2"
	"net/netip"
	"slices"
)

// obsEntry is one observation record in an obsTable.
type obsEntry struct {
	k obsKey
	v obsVal
}

// obsChunkBits sets the obsTable chunk: 512 records (60 KB).
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
// 8-byte slots only.
type obsTable struct {
	chunks [][]obsEntry
	n      int
	slots  []uint64 // index+1 | hash32<<32; 0: empty
	mask   uint32
	seed   maphash.Seed
}

func newObsTable() *obsTable {
	return &obsTable{slots: make([]uint64, 256), mask: 255, seed: maphash.MakeSeed()}
}

// len is the number of records.
func (t *obsTable) len() int { return t.n }

// at returns record i (0-based).
func (t *obsTable) at(i int) *obsEntry { return &t.chunks[i>>obsChunkBits][i&(obsChunk-1)] }

func (t *obsTable) hash32(k *obsKey) uint32 {
	a := k.ip.As16()
	h := mix64(maphash.String(t.seed, k.value)^binary.LittleEndian.Uint64(a[:8]), maphash.String(t.seed, k.field)^binary.LittleEndian.Uint64(a[8:]))
	h = mix64(h^maphash.String(t.seed, k.mac), uint64(k.ip.BitLen())^0x8ebc6af09c88c6e3)
	return uint32(h >> 32)
}

// find returns the record of k, or nil and the slot and hash to pass to
// insert.
func (t *obsTable) find(k *obsKey) (*obsEntry, uint32, uint32) {
	h := t.hash32(k)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return nil, i, h
		}
		if uint32(s>>32) == h {
			if e := t.at(int(uint32(s)) - 1); e.k == *k {
				return e, i, h
			}
		}
	}
}

// insert adds a record for a key that find did not find, at the slot
// and with the hash it returned (the key's text may since have been
// replaced by an equal copy).
func (t *obsTable) insert(slot, h uint32, k obsKey, v obsVal) {
	if t.n>>obsChunkBits == len(t.chunks) {
		t.chunks = append(t.chunks, make([]obsEntry, obsChunk))
	}
	*t.at(t.n) = obsEntry{k: k, v: v}
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
