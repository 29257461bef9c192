//go:build linux

package sensor

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"runtime"
	"syscall"

	"github.com/gopacket/gopacket/pcapgo"
)

// A classic pcap that is a regular file is read through a private,
// copy-on-write mapping of it rather than read(2) into a buffer: the
// kernel copied every byte of the capture once more, and bufio's Peek and
// Discard ran for every record. Pages behind the reader are dropped from
// the process as it goes (MADV_DONTNEED: a private mapping's untouched
// pages are then read again from the page cache if ever touched), so the
// capture does not count towards the scan's resident memory; the window
// ahead is mapped in with one call instead of a page fault per page. gzip,
// pcapng, small files, pipes and files not read from their start keep the
// buffered reader.
//
// A capture truncated by another process while it is being read makes
// the process fail (SIGBUS) instead of reporting a truncated capture.
//
// Variables for the tests, which map every file and drop pages often.
var (
	mapMinSize int64 = 1 << 20 // smaller files are read (the mapping costs more than it saves)
	// mapWindow is how far ahead of the reader the mapping is populated;
	// at most about 1.5 windows of the capture are resident.
	mapWindow = 8 << 20
)

// mapping is a mapped file; release unmaps it (once).
type mapping struct {
	data    []byte
	dropped int // pages before this offset were dropped
	ahead   int // pages before this offset were mapped in (populated)
	next    int // consumed's next turn
}

// madvPopulateRead is MADV_POPULATE_READ (not in package syscall).
const madvPopulateRead = 22

// openMapped returns a pcapSource reading f through a mapping, or nil
// (and no error) when f is not a classic pcap it can map: the caller then
// reads f as usual (which also gives the errors of a bad header).
func openMapped(f *os.File, _ string) (Source, error) {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() < mapMinSize || st.Size() != int64(int(st.Size())) {
		return nil, nil
	}
	if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != 0 {
		return nil, nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil
	}
	m := &mapping{data: data}
	ps := pcapHeader(data)
	if ps == nil {
		m.release()
		return nil, nil
	}
	ps.m, ps.pos, ps.big = m, 24, ps.order == binary.BigEndian
	m.consumed(0)
	// A source dropped before its end (an error, a cancelled run)
	// unmaps when it is collected.
	runtime.AddCleanup(ps, func(m *mapping) { m.release() }, m)
	return ps, nil
}

// pcapHeader parses the 24-byte header of a classic pcap with pcapgo, as
// OpenCapture does, or returns nil for anything else (left to OpenCapture,
// for its errors).
func pcapHeader(b []byte) *pcapSource {
	if len(b) < 24 {
		return nil
	}
	ps := &pcapSource{order: binary.LittleEndian, nsFactor: 1000}
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		ps.nsFactor = 1
	case 0xd4c3b2a1:
		ps.order = binary.BigEndian
	case 0x4d3cb2a1:
		ps.order, ps.nsFactor = binary.BigEndian, 1
	default:
		return nil
	}
	pr, err := pcapgo.NewReader(bytes.NewReader(b[:24]))
	if err != nil {
		return nil
	}
	ps.lt, ps.snaplen = pr.LinkType(), pr.Snaplen()
	return ps
}

// consumed tells the mapping that the reader is at off, m.next or past
// it: every half window it drops the pages behind off and maps the window ahead in one
// call (MADV_POPULATE_READ, Linux 5.14; a fault per page otherwise).
func (m *mapping) consumed(off int) {
	if end := off &^ (os.Getpagesize() - 1); end > m.dropped {
		_ = syscall.Madvise(m.data[m.dropped:end], syscall.MADV_DONTNEED)
		m.dropped = end
	}
	if hi := min(len(m.data), off+mapWindow); hi > m.ahead {
		_ = syscall.Madvise(m.data[m.ahead:hi], madvPopulateRead)
		m.ahead = hi
	}
	m.next = off + mapWindow/2
}

func (m *mapping) release() {
	if m.data != nil {
		_ = syscall.Munmap(m.data)
		m.data = nil
	}
}
