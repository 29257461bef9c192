package simulate

import (
	"bufio"
	"encoding/binary"
	"io"
	"net/netip"
	"time"
)

// writer writes a classic pcap file (Ethernet link type) packet by packet,
// building each frame in one reused buffer.
type writer struct {
	w     *bufio.Writer
	buf   []byte
	bytes int64
	pkts  int64
	err   error
	ipID  uint16
	last  time.Time // timestamps never go backwards
}

func newWriter(w io.Writer) *writer {
	p := &writer{w: bufio.NewWriterSize(w, 1<<20), buf: make([]byte, 0, 1<<16)}
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 1) // LINKTYPE_ETHERNET
	p.write(h)
	return p
}

func (p *writer) write(b []byte) {
	if p.err != nil {
		return
	}
	n, err := p.w.Write(b)
	p.bytes += int64(n)
	p.err = err
}

func (p *writer) flush() error {
	if p.err != nil {
		return p.err
	}
	return p.w.Flush()
}

// frame writes the headers in p.buf and the payload as one record.
func (p *writer) frame(t time.Time, payload []byte) {
	if !t.After(p.last) {
		t = p.last.Add(time.Microsecond)
	}
	p.last = t
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(t.Unix()))
	binary.LittleEndian.PutUint32(h[4:], uint32(t.Nanosecond()/1000))
	n := uint32(len(p.buf) + len(payload))
	binary.LittleEndian.PutUint32(h[8:], n)
	binary.LittleEndian.PutUint32(h[12:], n)
	p.write(h[:])
	p.write(p.buf)
	p.write(payload)
	p.pkts++
}

// TCP flags.
const (
	fin = 0x01
	syn = 0x02
	rst = 0x04
	psh = 0x08
	ack = 0x10
)

// ipPacket builds Ethernet + IPv4 + (TCP or UDP) + payload into p.buf and
// writes it. For TCP, seq/ack/flags are used; checksums are computed.
func (p *writer) ipPacket(t time.Time, srcMAC, dstMAC [6]byte, src, dst netip.AddrPort, proto byte, seq, ackn uint32, flags byte, payload []byte) {
	l4 := 8
	if proto == 6 {
		l4 = 20
		if flags&syn != 0 {
			l4 = 24 // MSS option
		}
	}
	total := 20 + l4 + len(payload)
	b := p.buf[:0]
	b = append(b, dstMAC[:]...)
	b = append(b, srcMAC[:]...)
	b = append(b, 0x08, 0x00)
	ip := len(b)
	p.ipID++
	b = append(b, 0x45, 0, byte(total>>8), byte(total), byte(p.ipID>>8), byte(p.ipID), 0x40, 0, 64, proto, 0, 0)
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	if src.Addr() == netip.IPv4Unspecified() {
		b[ip+8] = 64
	}
	b = append(b, s4[:]...)
	b = append(b, d4[:]...)
	cs := checksum(b[ip:ip+20], 0)
	b[ip+10], b[ip+11] = byte(cs>>8), byte(cs)
	l := len(b)
	if proto == 6 {
		b = binary.BigEndian.AppendUint16(b, src.Port())
		b = binary.BigEndian.AppendUint16(b, dst.Port())
		b = binary.BigEndian.AppendUint32(b, seq)
		b = binary.BigEndian.AppendUint32(b, ackn)
		b = append(b, byte(l4/4)<<4, flags, 0xfa, 0xf0, 0, 0, 0, 0) // window 64240
		if l4 == 24 {
			b = append(b, 2, 4, 0x05, 0xb4) // MSS 1460
		}
	} else {
		b = binary.BigEndian.AppendUint16(b, src.Port())
		b = binary.BigEndian.AppendUint16(b, dst.Port())
		b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
		b = append(b, 0, 0)
	}
	// Pseudo-header sum.
	var ph uint32
	ph += uint32(s4[0])<<8 | uint32(s4[1])
	ph += uint32(s4[2])<<8 | uint32(s4[3])
	ph += uint32(d4[0])<<8 | uint32(d4[1])
	ph += uint32(d4[2])<<8 | uint32(d4[3])
	ph += uint32(proto) + uint32(l4+len(payload))
	// The transport header has an even length, so the payload's sum can be
	// added to it without copying the payload next to it.
	cs = checksum(payload, uint32(^checksum(b[l:], ph)))
	if proto == 17 && cs == 0 {
		cs = 0xffff
	}
	off := l + 16
	if proto == 17 {
		off = l + 6
	}
	b[off], b[off+1] = byte(cs>>8), byte(cs)
	p.buf = b
	p.frame(t, payload)
}

// checksum is the Internet checksum (RFC 1071) of b plus an initial sum.
func checksum(b []byte, initial uint32) uint16 {
	sum := uint64(initial)
	for len(b) >= 8 {
		sum += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	for len(b) >= 2 {
		sum += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// conn is one TCP connection with its sequence numbers.
type conn struct {
	w          *writer
	cli, srv   *Host
	c, s       netip.AddrPort
	cseq, sseq uint32
	t          time.Time
	open       bool
}

const mss = 1460

func (w *writer) dial(t time.Time, cli, srv *Host, cport, sport uint16, isn uint32) *conn {
	c := &conn{w: w, cli: cli, srv: srv, c: netip.AddrPortFrom(cli.addr, cport), s: netip.AddrPortFrom(srv.addr, sport), cseq: isn, sseq: isn*7 + 12345, t: t}
	w.ipPacket(c.tick(), cli.mac, srv.mac, c.c, c.s, 6, c.cseq, 0, syn, nil)
	w.ipPacket(c.tick(), srv.mac, cli.mac, c.s, c.c, 6, c.sseq, c.cseq+1, syn|ack, nil)
	c.cseq++
	c.sseq++
	w.ipPacket(c.tick(), cli.mac, srv.mac, c.c, c.s, 6, c.cseq, c.sseq, ack, nil)
	c.open = true
	return c
}

func (c *conn) tick() time.Time {
	c.t = c.t.Add(137 * time.Microsecond)
	return c.t
}

// send writes data from one side in MSS-sized segments; the other side
// acknowledges every second segment and the last.
func (c *conn) send(fromClient bool, data []byte) {
	src, dst, sm, dm := c.c, c.s, c.cli.mac, c.srv.mac
	seq, peer := &c.cseq, &c.sseq
	if !fromClient {
		src, dst, sm, dm = c.s, c.c, c.srv.mac, c.cli.mac
		seq, peer = &c.sseq, &c.cseq
	}
	for i := 0; len(data) > 0; i++ {
		n := min(mss, len(data))
		fl := byte(ack)
		if n == len(data) {
			fl |= psh
		}
		c.w.ipPacket(c.tick(), sm, dm, src, dst, 6, *seq, *peer, fl, data[:n])
		*seq += uint32(n)
		data = data[n:]
		if i%2 == 1 || len(data) == 0 {
			c.w.ipPacket(c.tick(), dm, sm, dst, src, 6, *peer, *seq, ack, nil)
		}
	}
}

// close is an orderly client-initiated teardown.
func (c *conn) close() {
	if !c.open {
		return
	}
	w := c.w
	w.ipPacket(c.tick(), c.cli.mac, c.srv.mac, c.c, c.s, 6, c.cseq, c.sseq, fin|ack, nil)
	w.ipPacket(c.tick(), c.srv.mac, c.cli.mac, c.s, c.c, 6, c.sseq, c.cseq+1, fin|ack, nil)
	w.ipPacket(c.tick(), c.cli.mac, c.srv.mac, c.c, c.s, 6, c.cseq+1, c.sseq+1, ack, nil)
	c.open = false
}

// udp writes one datagram.
func (w *writer) udp(t time.Time, from, to *Host, sport, dport uint16, payload []byte) {
	w.ipPacket(t, from.mac, to.mac, netip.AddrPortFrom(from.addr, sport), netip.AddrPortFrom(to.addr, dport), 17, 0, 0, 0, payload)
}
