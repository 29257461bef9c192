package sensor

import (
	"bufio"
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
		return &pcapSource{r: pr, lt: pr.LinkType()}, nil
	case 0x0a0d0d0a:
		nr, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, fmt.Errorf("%s: pcapng header: %w", name, err)
		}
		return &ngSource{r: nr}, nil
	}
	return nil, fmt.Errorf("%s: %w (magic %x)", name, ErrUnknownFormat, magic)
}

type pcapSource struct {
	r  *pcapgo.Reader
	lt layers.LinkType
}

func (s *pcapSource) Next() (Frame, error) {
	data, ci, err := s.r.ZeroCopyReadPacketData()
	if err != nil {
		return Frame{}, err
	}
	return Frame{Data: data, Time: ci.Timestamp, Length: ci.Length, LinkType: s.lt}, nil
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
