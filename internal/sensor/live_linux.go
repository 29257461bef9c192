//go:build linux

package sensor

import (
	"errors"
	"fmt"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// LiveOptions configure a live capture.
type LiveOptions struct {
	// Filter is a compiled classic BPF program (e.g. from `tcpdump -ddd`);
	// nil captures everything.
	Filter []bpf.RawInstruction
	// RingMB is the size of the memory-mapped ring (default 64 MB: a
	// second of traffic at 500 Mbit/s, which the sensor rides out when it
	// waits for a CPU).
	RingMB int
	// PollTimeout bounds how long Next waits, so callers can check their
	// context (default 200 ms).
	PollTimeout time.Duration
}

// Live is a live capture on a Linux interface through an AF_PACKET
// TPACKET_V3 memory-mapped ring. It needs CAP_NET_RAW.
type Live struct {
	h *afpacket.TPacket
}

// OpenLive opens iface for capture.
func OpenLive(iface string, opt LiveOptions) (*Live, error) {
	if opt.RingMB <= 0 {
		opt.RingMB = DefaultRingMB
	}
	if opt.PollTimeout <= 0 {
		opt.PollTimeout = 200 * time.Millisecond
	}
	const block = 1 << 20
	h, err := afpacket.NewTPacket(
		afpacket.OptInterface(iface),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptFrameSize(1<<16),
		afpacket.OptBlockSize(block),
		afpacket.OptNumBlocks(opt.RingMB*(1<<20)/block),
		afpacket.OptPollTimeout(opt.PollTimeout),
		afpacket.OptBlockTimeout(opt.PollTimeout/2),
		afpacket.OptAddVLANHeader(true),
	)
	if err != nil {
		return nil, fmt.Errorf("live capture on %s: %w", iface, err)
	}
	if opt.Filter != nil {
		if err := h.SetBPF(opt.Filter); err != nil {
			h.Close()
			return nil, fmt.Errorf("live capture on %s: set filter: %w", iface, err)
		}
	}
	return &Live{h: h}, nil
}

// Next implements Source. It returns ErrNoPacket when the poll timeout
// passes without a packet.
func (l *Live) Next() (Frame, error) {
	data, ci, err := l.h.ZeroCopyReadPacketData()
	if err != nil {
		if errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, afpacket.ErrPoll) {
			return Frame{}, ErrNoPacket
		}
		return Frame{}, err
	}
	return Frame{Data: data, Time: ci.Timestamp, Length: ci.Length, LinkType: layers.LinkTypeEthernet}, nil
}

// Drops returns the packets the kernel dropped because the ring was full.
func (l *Live) Drops() uint64 {
	_, v3, err := l.h.SocketStats()
	if err != nil {
		return 0
	}
	return uint64(v3.Drops())
}

// Close releases the ring and socket.
func (l *Live) Close() { l.h.Close() }
