package hl7

import (
	"bytes"
	"time"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// A monitor or an interface engine sends, on one connection, message after
// message that differ only in what the sensor never reports: times, control
// ids, patient data, observation values. Each such message would only move
// the times of the dedupe records its predecessor made. repeat finds that
// case without decoding anything: it walks the segments and builds the
// message's signature (the raw bytes of every field decode reads, and
// which patient-data segments are present) and, when an earlier message of
// the direction had the same signature, replays what observe did for that
// message on the same records, in the same order, without a lookup: within
// the DedupeWindow that only moves their times; past it, it reports the
// value again.

// msgCacheSize is how many signatures a direction remembers: an EHR link
// alternates ADT and ORM messages (and their ACKs).
const msgCacheSize = 4

// maxSignature bounds a remembered signature; a longer message is always
// decoded.
const maxSignature = 4 << 10

// msgCache is one remembered signature and, in order, the dedupe records
// of what its message reported.
type msgCache struct {
	sig []byte
	obs []msgObs
	ok  bool // every observation has a record (the dedupe table was not full)
	// oldest is at most every record's reported time (records' reported
	// times only grow while the stream is fed).
	oldest time.Time
}

// settle sets c.oldest from c's records.
func (c *msgCache) settle() {
	for i, o := range c.obs {
		if i == 0 || o.r.reported.Before(c.oldest) {
			c.oldest = o.r.reported
		}
	}
}

type msgObs struct {
	r *obsSeen
	k obsKey
}

type msgCaches struct {
	e    [msgCacheSize]msgCache
	next int // the entry to replace next
}

// Segment ids: the three name bytes as a number.
const (
	segMSH = 'M'<<16 | 'S'<<8 | 'H'
	segFHS = 'F'<<16 | 'H'<<8 | 'S'
	segBHS = 'B'<<16 | 'H'<<8 | 'S'
	segMSA = 'M'<<16 | 'S'<<8 | 'A'
	segPRT = 'P'<<16 | 'R'<<8 | 'T'
	segOBX = 'O'<<16 | 'B'<<8 | 'X'
)

// segmentID returns the id of a segment of at least three bytes.
func segmentID(seg []byte) uint32 {
	return uint32(seg[0])<<16 | uint32(seg[1])<<8 | uint32(seg[2])
}

func isHeaderBytes(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	id := segmentID(b)
	return id == segMSH || id == segFHS || id == segBHS
}

// obxBit is OBX's bit in the phiSegments mask.
const obxBit = 8

// phiBit returns the bit of a segment in the phiSegments mask, 0 when it
// carries no patient data.
func phiBit(seg []byte) uint32 {
	i := -1
	switch segmentID(seg) {
	case 'A'<<16 | 'L'<<8 | '1':
		i = 0
	case 'D'<<16 | 'G'<<8 | '1':
		i = 1
	case 'G'<<16 | 'T'<<8 | '1':
		i = 2
	case 'I'<<16 | 'N'<<8 | '1':
		i = 3
	case 'I'<<16 | 'N'<<8 | '2':
		i = 4
	case 'M'<<16 | 'R'<<8 | 'G':
		i = 5
	case 'N'<<16 | 'K'<<8 | '1':
		i = 6
	case 'N'<<16 | 'T'<<8 | 'E':
		i = 7
	case segOBX:
		i = obxBit
	case 'P'<<16 | 'D'<<8 | '1':
		i = 9
	case 'P'<<16 | 'I'<<8 | 'D':
		i = 10
	case 'P'<<16 | 'V'<<8 | '1':
		i = 11
	case 'P'<<16 | 'V'<<8 | '2':
		i = 12
	case 'R'<<16 | 'O'<<8 | 'L':
		i = 13
	case 'S'<<16 | 'P'<<8 | 'M':
		i = 14
	}
	if i < 0 {
		return 0
	}
	return 1 << i
}

// repeat handles message b of dir (delimiters in s.d) when it repeats an
// earlier one, reporting through out what observe would, and then reports
// done. Otherwise it returns the cache entry
// that decode is to fill (its signature set, its records empty), or nil
// when the message is not to be remembered (its signature is too long,
// decode will find it malformed, or the flow's first message is still to
// be reported).
func (s *stream) repeat(dir dissect.Direction, b []byte, t time.Time, out dissect.Emitter) (c *msgCache, done bool) {
	if s.decodeAll {
		return nil, false
	}
	sig, ok := s.signature(b)
	s.sig = sig
	if !ok || !s.reported {
		return nil, false
	}
	mc := &s.msgs[dir&1]
	var slot *msgCache
	for i := range mc.e {
		c := &mc.e[i]
		if len(c.sig) == 0 || !bytes.Equal(c.sig, sig) {
			continue
		}
		if c.ok {
			if withinWindow(t, c.oldest) {
				// Every record is within its window: only times move.
				for i := range c.obs {
					c.obs[i].r.seen(t)
				}
			} else {
				for _, o := range c.obs {
					s.again(out, o.r, o.k, t)
				}
				c.settle()
			}
			s.repeats++
			return nil, true
		}
		slot = c
		break
	}
	if slot == nil {
		slot = &mc.e[mc.next]
		mc.next = (mc.next + 1) % msgCacheSize
	}
	slot.sig = append(slot.sig[:0], sig...)
	if slot.obs == nil {
		slot.obs = make([]msgObs, 0, 16) // a message reports about a dozen values
	}
	slot.obs, slot.ok = slot.obs[:0], true
	return slot, false
}

// signature appends to s.sig[:0] what decode reads of message b: the
// delimiters; each header segment but its fields 7 (time) and 10 (control
// id); MSA-1; PRT-16 and PRT-20; each non-empty OBX-18; and the mask of
// patient-data segments present. Each part ends with a carriage return,
// which no segment holds. It reports false when decode would fail (or the
// signature grows past maxSignature).
func (s *stream) signature(b []byte) ([]byte, bool) {
	d := &s.d
	sig := append(s.sig[:0], d.Field, d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation)
	// Without a line feed anywhere, carriage returns alone end segments.
	crOnly := bytes.IndexByte(b, '\n') < 0
	var phi uint32
	for n := 1; len(b) > 0; n++ {
		var seg []byte
		seg, b = nextSegment(b, crOnly)
		if len(seg) < 3 {
			continue
		}
		if n > MaxSegments || len(sig) > maxSignature {
			return sig, false
		}
		id := segmentID(seg)
		switch id {
		case segMSH, segFHS, segBHS:
			if len(seg) < 4 || seg[3] != d.Field {
				return sig, false
			}
			// All but fields 7 and 10; seg[4:] holds field 2 onwards.
			rest := seg[4:]
			f7, e7 := fieldSpan(rest, d.Field, 5)
			f10, e10 := fieldSpan(rest[e7:], d.Field, 3) // from the separator ending field 7
			f10, e10 = f10+e7, e10+e7
			sig = append(sig, seg[:4+f7]...)
			sig = append(sig, rest[e7:f10]...)
			sig = append(sig, rest[e10:]...)
		case segMSA, segPRT, segOBX:
			if len(seg) < 5 {
				break // no field 1: decode reads nothing
			}
			rest := seg[4:] // field 1 onwards (decode skips seg[3] whatever it is)
			switch id {
			case segMSA:
				f, e := fieldSpan(rest, d.Field, 0)
				sig = append(append(sig, 'A'), rest[f:e]...)
			case segPRT:
				f, e := fieldSpan(rest, d.Field, 15)
				sig = append(append(sig, 'P'), rest[f:e]...)
				f, e = fieldSpan(rest, d.Field, 19)
				sig = append(append(sig, d.Field), rest[f:e]...)
			case segOBX:
				f, e := fieldSpan(rest, d.Field, 17)
				if f == e {
					phi |= 1 << obxBit
					continue // no equipment instance identifier: nothing read
				}
				sig = append(append(sig, 'O'), rest[f:e]...)
			}
		default:
			phi |= phiBit(seg)
			continue
		}
		sig = append(sig, '\r')
		phi |= phiBit(seg)
	}
	sig = append(sig, byte(phi), byte(phi>>8), byte(phi>>16), byte(phi>>24))
	return sig, len(sig) <= maxSignature
}

// fieldSpan returns the bounds [from, to) in b of part i (0-based) of b
// split at sep; from == to == len(b) when there is no such part. Past the
// first few parts it walks from whichever end is nearer: OBX-18 and PRT-20
// are usually among the last fields of their segments.
func fieldSpan(b []byte, sep byte, i int) (from, to int) {
	if i <= 8 {
		return fieldFromStart(b, sep, i)
	}
	c := bytes.Count(b, []byte{sep})
	if i > c {
		return len(b), len(b)
	}
	if i <= c-i {
		return fieldFromStart(b, sep, i)
	}
	to = len(b)
	for j := c - i; j > 0; j-- {
		to = bytes.LastIndexByte(b[:to], sep)
	}
	return bytes.LastIndexByte(b[:to], sep) + 1, to
}

func fieldFromStart(b []byte, sep byte, i int) (from, to int) {
	for ; i > 0; i-- {
		j := bytes.IndexByte(b[from:], sep)
		if j < 0 {
			return len(b), len(b)
		}
		from += j + 1
	}
	to = len(b)
	if j := bytes.IndexByte(b[from:], sep); j >= 0 {
		to = from + j
	}
	return from, to
}
