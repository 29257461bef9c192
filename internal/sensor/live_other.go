//go:build !linux

package sensor

import (
	"errors"
	"time"

	"golang.org/x/net/bpf"
)

// LiveOptions configure a live capture.
type LiveOptions struct {
	Filter      []bpf.RawInstruction
	RingMB      int
	PollTimeout time.Duration
}

// Live is unavailable outside Linux.
type Live struct{}

// OpenLive reports that live capture needs Linux.
func OpenLive(iface string, opt LiveOptions) (*Live, error) {
	return nil, errors.New("live capture needs Linux (AF_PACKET)")
}

// Next implements Source.
func (l *Live) Next() (Frame, error) { return Frame{}, errors.New("live capture needs Linux") }

// Drops is always 0.
func (l *Live) Drops() uint64 { return 0 }

// Close does nothing.
func (l *Live) Close() {}
