package sensor

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Errors returned by OpenCapture.
var (
	// ErrUnknownFormat means the input is neither pcap, pcapng nor a gzip
	// of one of them.
	ErrUnknownFormat = errors.New("not a pcap or pcapng capture")
	// ErrNoPacket is returned by a live Source when no packet arrived
	// within its poll timeout; it is not an end of capture.
	ErrNoPacket = errors.New("no packet within the poll timeout")
)

// Frame is one captured frame. Data is only valid until the next call to
// Next on the same source.
type Frame struct {
	Data     []byte
	Time     time.Time
	Length   int // original length on the wire
	LinkType layers.LinkType
}

// Source yields frames. Next returns io.EOF at the end of the capture; any
// other error means the rest of the capture cannot be read (truncated or
// corrupt file, closed interface).
type Source interface {
	Next() (Frame, error)
}

const readBufferSize = 256 << 10

// OpenCapture detects the format of a capture by its magic number (not its
// name): classic pcap in either byte order with micro- or nanosecond
// timestamps, pcapng (several interfaces with different link types are
// allowed), and gzip-compressed files of either. name is used in errors.
func OpenCapture(r io.Reader, name string) (Source, error) {
	br := bufio.NewReaderSize(r, readBufferSize)
	magic, err := br.Peek(4)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s: %w: file is shorter than a capture header", name, ErrUnknownFormat)
		}
		return nil, fmt.Errorf("%s: read header: %w", name, err)
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		br = bufio.NewReaderSize(zr, readBufferSize)
		if magic, err = br.Peek(4); err != nil {
			return nil, fmt.Errorf("%s: gzip content: %w: %v", name, ErrUnknownFormat, err)
		}
	}
	switch binary.LittleEndian.Uint32(magic) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: pcap header: %w", name, err)
		}
		ps := &pcapSource{br: br, lt: pr.LinkType(), snaplen: pr.Snaplen(), order: binary.LittleEndian, nsFactor: 1000}
		switch binary.LittleEndian.Uint32(magic) {
		case 0xd4c3b2a1, 0x4d3cb2a1:
			ps.order = binary.BigEndian
		}
		if m := binary.LittleEndian.Uint32(magic); m == 0xa1b23c4d || m == 0x4d3cb2a1 {
			ps.nsFactor = 1
		}
		return ps, nil
	case 0x0a0d0d0a:
		nr, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, fmt.Errorf("%s: pcapng header: %w", name, err)
		}
		return &ngSource{r: nr}, nil
	}
	return nil, fmt.Errorf("%s: %w (magic %x)", name, ErrUnknownFormat, magic)
}

// pcapSource reads the records of a classic pcap file straight out of
// the read buffer (pcapgo.Reader, which only reads the file header here,
// copied every record into a buffer of its own through two io.ReadFull
// calls). Records and errors are pcapgo's: the same length checks and
// messages, timestamps computed the same way, io.EOF for a capture that
// ends cleanly or right after a record header, io.ErrUnexpectedEOF for one
// cut inside a record.
type pcapSource struct {
	br       *bufio.Reader
	lt       layers.LinkType
	snaplen  uint32
	order    binary.ByteOrder
	nsFactor uint32 // 1000 for microsecond files, 1 for nanosecond ones
}

// maxEagerRecord is pcapgo's eagerReadMax (libpcap's MAXIMUM_SNAPLEN):
// records up to it are taken whatever the snap length; longer ones only
// under a larger snap length.
const maxEagerRecord = 262144

func (s *pcapSource) Next() (Frame, error) {
	hdr, err := s.br.Peek(16)
	if len(hdr) < 16 {
		s.br.Discard(len(hdr))
		if err == io.EOF && len(hdr) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	sec, frac := s.order.Uint32(hdr[0:4]), s.order.Uint32(hdr[4:8])
	capLen, origLen := int(s.order.Uint32(hdr[8:12])), int(s.order.Uint32(hdr[12:16]))
	s.br.Discard(16)
	if capLen > max(int(s.snaplen), maxEagerRecord) {
		return Frame{}, fmt.Errorf("capture length exceeds snap length: %d > %d", capLen, s.snaplen)
	}
	if capLen > origLen {
		return Frame{}, fmt.Errorf("capture length exceeds original packet length: %d > %d", capLen, origLen)
	}
	// As pcapgo: the fraction times the factor in 32 bits (it wraps for
	// absurd fractions), then UTC.
	t := time.Unix(int64(sec), int64(frac*s.nsFactor)).UTC()
	var data []byte
	if capLen <= s.br.Size() {
		data, err = s.br.Peek(capLen)
		s.br.Discard(len(data))
		if len(data) < capLen {
			if err == io.EOF && len(data) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return Frame{}, err
		}
	} else if data, err = readRecord(s.br, capLen); err != nil {
		return Frame{}, err
	}
	return Frame{Data: data, Time: t, Length: origLen, LinkType: s.lt}, nil
}

// readRecord reads a record longer than the read buffer, growing the
// slice with the bytes actually read (a short file cannot make it
// allocate what a bogus length says), with io.ReadFull's errors.
func readRecord(r io.Reader, n int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(maxEagerRecord)
	m, err := io.CopyN(&buf, r, int64(n))
	if err == io.EOF && m > 0 {
		err = io.ErrUnexpectedEOF
	}
	return buf.Bytes(), err
}

type ngSource struct {
	r *pcapgo.NgReader
}

func (s *ngSource) Next() (Frame, error) {
	data, ci, err := s.r.ZeroCopyReadPacketData()
	if err != nil {
		return Frame{}, err
	}
	lt := s.r.LinkType()
	if len(ci.AncillaryData) > 0 {
		if l, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			lt = l
		}
	}
	return Frame{Data: data, Time: ci.Timestamp, Length: ci.Length, LinkType: lt}, nil
}
