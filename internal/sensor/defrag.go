package sensor

import (
	"net/netip"
	"sort"
	"time"
)

// Fragment reassembly limits (IPv4 and IPv6). A datagram that exceeds a
// limit, overlaps inconsistently or times out is dropped and counted.
const (
	maxFragDatagram = 65535 // bytes of one reassembled datagram
	maxFragPieces   = 64    // fragments of one datagram
)

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	v6       bool
}

type fragPiece struct {
	off  int
	data []byte
}

type fragDatagram struct {
	pieces  []fragPiece
	bytes   int
	total   int // -1 until the last fragment is seen
	first   time.Time
	proto   uint8
	srcMAC  [6]byte
	dstMAC  [6]byte
	hasMAC  bool
	ttl     uint8
	ipv6    bool
	invalid bool
}

// defragmenter reassembles IPv4 and IPv6 fragments with a bound on the
// number of pending datagrams, their total bytes and their age.
type defragmenter struct {
	pending    map[fragKey]*fragDatagram
	bytes      int
	maxPending int
	maxBytes   int
	timeout    time.Duration
	lastSweep  time.Time
	buf        []byte
	// counters
	dropped   uint64
	completed uint64
}

func newDefragmenter(maxPending, maxBytes int, timeout time.Duration) *defragmenter {
	return &defragmenter{pending: map[fragKey]*fragDatagram{}, maxPending: maxPending, maxBytes: maxBytes, timeout: timeout}
}

// add takes the fragment described by p. When it completes a datagram, it
// returns the reassembled L4 bytes (valid until the next call) and true.
func (d *defragmenter) add(p *packet, t time.Time) ([]byte, bool) {
	if t.Sub(d.lastSweep) > time.Second {
		d.sweep(t)
		d.lastSweep = t
	}
	k := fragKey{src: p.src, dst: p.dst, id: p.fragID, proto: p.proto, v6: p.ipv6}
	if p.ipv6 {
		k.proto = 0 // v6 fragments carry the next header only in the first one
	}
	dg := d.pending[k]
	if dg == nil {
		if len(d.pending) >= d.maxPending {
			d.dropped++
			return nil, false
		}
		dg = &fragDatagram{total: -1, first: t}
		d.pending[k] = dg
	}
	if dg.invalid {
		return nil, false
	}
	end := p.fragOffset + len(p.fragData)
	if end > maxFragDatagram || len(dg.pieces) >= maxFragPieces || d.bytes+len(p.fragData) > d.maxBytes {
		d.drop(k, dg)
		return nil, false
	}
	if p.fragOffset == 0 {
		dg.proto = p.proto
		dg.srcMAC, dg.dstMAC, dg.hasMAC = p.srcMAC, p.dstMAC, p.hasMAC
		dg.ttl, dg.ipv6 = p.ttl, p.ipv6
	}
	if !p.fragMore {
		if dg.total >= 0 && dg.total != end {
			d.drop(k, dg)
			return nil, false
		}
		dg.total = end
	}
	piece := fragPiece{off: p.fragOffset, data: append([]byte(nil), p.fragData...)}
	dg.pieces = append(dg.pieces, piece)
	dg.bytes += len(piece.data)
	d.bytes += len(piece.data)
	if dg.total < 0 {
		return nil, false
	}
	// Complete when the pieces cover [0, total) without holes.
	sort.Slice(dg.pieces, func(i, j int) bool { return dg.pieces[i].off < dg.pieces[j].off })
	covered := 0
	for _, pc := range dg.pieces {
		if pc.off > covered {
			return nil, false
		}
		if e := pc.off + len(pc.data); e > covered {
			covered = e
		}
	}
	if covered < dg.total {
		return nil, false
	}
	if cap(d.buf) < dg.total {
		d.buf = make([]byte, dg.total)
	}
	out := d.buf[:dg.total]
	for _, pc := range dg.pieces { // in offset order; a later piece overwrites an overlap
		copy(out[pc.off:], pc.data)
	}
	p.proto = dg.proto
	p.srcMAC, p.dstMAC, p.hasMAC = dg.srcMAC, dg.dstMAC, dg.hasMAC
	d.bytes -= dg.bytes
	delete(d.pending, k)
	d.completed++
	return out, true
}

func (d *defragmenter) drop(k fragKey, dg *fragDatagram) {
	d.bytes -= dg.bytes
	dg.bytes = 0
	dg.pieces = nil
	dg.invalid = true // keep the key until it times out, so later pieces are ignored
	d.dropped++
}

func (d *defragmenter) sweep(t time.Time) {
	for k, dg := range d.pending {
		if t.Sub(dg.first) > d.timeout || t.Before(dg.first.Add(-d.timeout)) {
			if !dg.invalid {
				d.dropped++
			}
			d.bytes -= dg.bytes
			delete(d.pending, k)
		}
	}
}
