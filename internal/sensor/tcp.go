package sensor

// tcpDir is the sequence state of one direction of a TCP flow (8 bytes:
// it lives in every flow). In-order bytes are delivered at once;
// out-of-order segments are copied into the flow's oooPair, allocated only
// while some are held, until the hole is filled, within a per-direction
// and a global budget. Retransmissions and overlaps are trimmed against
// what was delivered.
type tcpDir struct {
	next uint32 // next expected sequence number
	init bool
	fin  bool
}

// oooPair holds the out-of-order segments of both directions of a flow.
type oooPair [2]oooDir

type oooDir struct {
	segs  []oooSeg
	bytes int
}

func (p *oooPair) empty() bool {
	return p[0].bytes == 0 && p[1].bytes == 0 && len(p[0].segs) == 0 && len(p[1].segs) == 0
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

// segment processes one TCP segment of direction di. ooo is the flow's
// out-of-order buffer (allocated here when needed, set to nil once empty).
// budget is the global out-of-order byte budget left; the function returns
// how much of it was consumed (negative when bytes were released).
func (d *tcpDir) segment(ooo **oooPair, di int, seq uint32, flags uint8, payload []byte, perDirMax int, budget int, out reassembler) int {
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
	var q *oooDir
	if *ooo != nil {
		q = &(*ooo)[di]
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
		used -= d.drain(q, out)
	case rel > maxSeqJump:
		// Too far ahead: we lost a lot. Resynchronise here.
		used -= q.release()
		out.gap()
		d.next = seq + uint32(len(payload))
		out.deliver(payload)
	default:
		held := 0
		if q != nil {
			held = q.bytes
		}
		if held+len(payload) > perDirMax || len(payload) > budget {
			// No room to wait for the hole: report a gap and move on to the
			// earliest data we have.
			out.gap()
			d.next = seq
			if q != nil && len(q.segs) > 0 && seqDiff(q.segs[0].seq, seq) < 0 {
				d.next = q.segs[0].seq
			}
			used -= d.drain(q, out)
			if rel2 := seqDiff(seq, d.next); rel2 <= 0 && int(-rel2) < len(payload) {
				p := payload[-rel2:]
				out.deliver(p)
				d.next += uint32(len(p))
				used -= d.drain(q, out)
			}
			if *ooo != nil && (*ooo).empty() {
				*ooo = nil
			}
			return used
		}
		if *ooo == nil {
			*ooo = &oooPair{}
			q = &(*ooo)[di]
		}
		cp := append([]byte(nil), payload...)
		// Insert sorted by sequence number.
		i := len(q.segs)
		for i > 0 && seqDiff(q.segs[i-1].seq, seq) > 0 {
			i--
		}
		q.segs = append(q.segs, oooSeg{})
		copy(q.segs[i+1:], q.segs[i:])
		q.segs[i] = oooSeg{seq: seq, data: cp}
		q.bytes += len(cp)
		used += len(cp)
	}
	if flags&tcpFIN != 0 {
		d.fin = true
	}
	if *ooo != nil && (*ooo).empty() {
		*ooo = nil
	}
	return used
}

// drain delivers buffered segments that have become contiguous and returns
// the bytes released from the buffer.
func (d *tcpDir) drain(q *oooDir, out reassembler) int {
	if q == nil {
		return 0
	}
	released := 0
	for len(q.segs) > 0 {
		s := q.segs[0]
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
		q.segs[0] = oooSeg{}
		q.segs = q.segs[1:]
	}
	q.bytes -= released
	if len(q.segs) == 0 {
		q.segs = nil
	}
	return released
}

// release drops everything buffered and returns the bytes released.
func (q *oooDir) release() int {
	if q == nil {
		return 0
	}
	n := q.bytes
	q.segs = nil
	q.bytes = 0
	return n
}
