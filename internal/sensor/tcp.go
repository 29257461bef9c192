package sensor

// tcpDir is the reassembly state of one direction of a TCP flow. In-order
// bytes are delivered at once; out-of-order segments are copied and held
// until the hole is filled, within a per-direction and a global budget.
// Retransmissions and overlaps are trimmed against what was delivered.
type tcpDir struct {
	init     bool
	next     uint32 // next expected sequence number
	ooo      []oooSeg
	oooBytes int
	fin      bool
}

type oooSeg struct {
	seq  uint32
	data []byte
}

// maxSeqJump is how far ahead of the expected sequence number a segment may
// start and still be buffered; beyond that it is treated as a new stream
// position after a loss.
const maxSeqJump = 1 << 20

// seqDiff returns a-b in sequence space.
func seqDiff(a, b uint32) int32 { return int32(a - b) }

// reassembler delivers bytes and gaps of one direction.
type reassembler interface {
	deliver(data []byte)
	gap()
}

// segment processes one TCP segment. budget is the global out-of-order
// byte budget left; the function returns how much of it was consumed
// (negative when bytes were released).
func (d *tcpDir) segment(seq uint32, flags uint8, payload []byte, perDirMax int, budget int, out reassembler) int {
	used := 0
	if flags&tcpSYN != 0 {
		d.init = true
		d.next = seq + 1
		if len(payload) == 0 {
			return 0
		}
		seq++
	}
	if !d.init {
		// Midstream pickup: start at the first segment seen.
		d.init = true
		d.next = seq
	}
	if len(payload) == 0 {
		if flags&tcpFIN != 0 {
			d.fin = true
		}
		return 0
	}
	rel := seqDiff(seq, d.next)
	switch {
	case rel <= 0:
		skip := int(-rel)
		if skip >= len(payload) {
			return 0 // pure retransmission
		}
		payload = payload[skip:]
		out.deliver(payload)
		d.next += uint32(len(payload))
		used -= d.drain(out)
	case rel > maxSeqJump:
		// Too far ahead: we lost a lot. Resynchronise here.
		used -= d.release()
		out.gap()
		d.next = seq + uint32(len(payload))
		out.deliver(payload)
	default:
		if d.oooBytes+len(payload) > perDirMax || len(payload) > budget {
			// No room to wait for the hole: report a gap and move on to the
			// earliest data we have.
			out.gap()
			d.next = seq
			if len(d.ooo) > 0 && seqDiff(d.ooo[0].seq, seq) < 0 {
				d.next = d.ooo[0].seq
			}
			used -= d.drain(out)
			if rel2 := seqDiff(seq, d.next); rel2 <= 0 && int(-rel2) < len(payload) {
				p := payload[-rel2:]
				out.deliver(p)
				d.next += uint32(len(p))
				used -= d.drain(out)
			}
			return used
		}
		cp := append([]byte(nil), payload...)
		// Insert sorted by sequence number.
		i := len(d.ooo)
		for i > 0 && seqDiff(d.ooo[i-1].seq, seq) > 0 {
			i--
		}
		d.ooo = append(d.ooo, oooSeg{})
		copy(d.ooo[i+1:], d.ooo[i:])
		d.ooo[i] = oooSeg{seq: seq, data: cp}
		d.oooBytes += len(cp)
		used += len(cp)
	}
	if flags&tcpFIN != 0 {
		d.fin = true
	}
	return used
}

// drain delivers buffered segments that have become contiguous and returns
// the bytes released from the buffer.
func (d *tcpDir) drain(out reassembler) int {
	released := 0
	for len(d.ooo) > 0 {
		s := d.ooo[0]
		rel := seqDiff(s.seq, d.next)
		if rel > 0 {
			break
		}
		if skip := int(-rel); skip < len(s.data) {
			p := s.data[skip:]
			out.deliver(p)
			d.next += uint32(len(p))
		}
		released += len(s.data)
		d.ooo[0] = oooSeg{}
		d.ooo = d.ooo[1:]
	}
	d.oooBytes -= released
	if len(d.ooo) == 0 {
		d.ooo = nil
	}
	return released
}

// release drops everything buffered and returns the bytes released.
func (d *tcpDir) release() int {
	n := d.oooBytes
	d.ooo = nil
	d.oooBytes = 0
	return n
}
