// Package memory is the in-process bus, the embedded default: bounded,
// acknowledged and deduplicated like bus/nats, but held in memory, so
// messages not yet acknowledged are lost when the process ends. (The
// sensor keeps every batch in its spool until the server's HTTP response
// acknowledges it, and the server acknowledges only after the batch was
// stored, so nothing acknowledged is lost; see docs/SENSOR.md.)
package memory

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/bus"
)

// Defaults of Options.
const (
	DefaultMaxMessages = 10_000
	DefaultMaxBytes    = 256 << 20
)

// Options bound the bus. Zero fields take their defaults.
type Options struct {
	MaxMessages  int           // messages held (queued or unacknowledged)
	MaxBytes     int64         // bytes of message data held
	DedupeWindow time.Duration // how long an id is remembered
	AckWait      time.Duration // redelivery after this long without ack
}

type entry struct {
	msg      bus.Message
	attempt  int
	notAfter time.Time // in flight until then; zero when queued
	seq      uint64
}

// Bus is the in-process bus. It has one queue; all consumers share it
// (the consumer name is not used: the embedded server has one ingester).
type Bus struct {
	opt Options

	mu      sync.Mutex
	wake    chan struct{} // closed and replaced when something becomes deliverable
	queue   []*entry      // queued, in order (redeliveries go to the front by seq)
	flight  map[uint64]*entry
	bytes   int64
	seen    map[string]time.Time
	seenLog []seenID
	seq     uint64
	closed  bool
}

type seenID struct {
	id string
	at time.Time
}

var _ bus.Bus = (*Bus)(nil)

// New returns an empty bus.
func New(opt Options) *Bus {
	opt.MaxMessages = cmp.Or(opt.MaxMessages, DefaultMaxMessages)
	opt.MaxBytes = cmp.Or(opt.MaxBytes, DefaultMaxBytes)
	opt.DedupeWindow = cmp.Or(opt.DedupeWindow, bus.DefaultDedupeWindow)
	opt.AckWait = cmp.Or(opt.AckWait, bus.DefaultAckWait)
	return &Bus{opt: opt, wake: make(chan struct{}), flight: map[uint64]*entry{}, seen: map[string]time.Time{}}
}

func (b *Bus) signal() {
	close(b.wake)
	b.wake = make(chan struct{})
}

// forget drops ids older than the dedupe window.
func (b *Bus) forget(now time.Time) {
	i := 0
	for ; i < len(b.seenLog) && now.Sub(b.seenLog[i].at) > b.opt.DedupeWindow; i++ {
		if b.seen[b.seenLog[i].id] == b.seenLog[i].at {
			delete(b.seen, b.seenLog[i].id)
		}
	}
	if i > 0 {
		b.seenLog = append(b.seenLog[:0], b.seenLog[i:]...)
	}
}

// Publish queues m. It returns bus.ErrFull when the bus holds
// Options.MaxMessages messages or Options.MaxBytes bytes.
func (b *Bus) Publish(ctx context.Context, m bus.Message) (bool, error) {
	if m.ID == "" {
		return false, bus.ErrNoID
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false, bus.ErrClosed
	}
	now := time.Now()
	b.forget(now)
	if _, dup := b.seen[m.ID]; dup {
		return true, nil
	}
	n := len(b.queue) + len(b.flight)
	if n >= b.opt.MaxMessages || b.bytes+int64(len(m.Data)) > b.opt.MaxBytes && n > 0 {
		return false, fmt.Errorf("publish %s: %w (%d messages, %d bytes held)", m.ID, bus.ErrFull, n, b.bytes)
	}
	b.seen[m.ID] = now
	b.seenLog = append(b.seenLog, seenID{m.ID, now})
	b.seq++
	m.Data = append([]byte(nil), m.Data...)
	b.queue = append(b.queue, &entry{msg: m, seq: b.seq})
	b.bytes += int64(len(m.Data))
	b.signal()
	return false, nil
}

// Consumer returns a consumer of the bus's queue.
func (b *Bus) Consumer(ctx context.Context, name string) (bus.Consumer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, bus.ErrClosed
	}
	return &consumer{b: b}, nil
}

// Close wakes every waiting consumer with bus.ErrClosed.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		b.signal()
	}
	return nil
}

// Len returns the messages held (queued or in flight).
func (b *Bus) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue) + len(b.flight)
}

// take returns the next deliverable entry, or when the next in-flight one
// expires.
func (b *Bus) take(now time.Time) (*entry, time.Time) {
	var (
		expired *entry
		soonest time.Time
	)
	for _, e := range b.flight {
		if !now.Before(e.notAfter) {
			if expired == nil || e.seq < expired.seq {
				expired = e
			}
		} else if soonest.IsZero() || e.notAfter.Before(soonest) {
			soonest = e.notAfter
		}
	}
	if expired != nil && (len(b.queue) == 0 || expired.seq < b.queue[0].seq) {
		expired.attempt++
		expired.notAfter = now.Add(b.opt.AckWait)
		return expired, time.Time{}
	}
	if len(b.queue) > 0 {
		e := b.queue[0]
		b.queue[0] = nil
		b.queue = b.queue[1:]
		e.attempt++
		e.notAfter = now.Add(b.opt.AckWait)
		b.flight[e.seq] = e
		return e, time.Time{}
	}
	return nil, soonest
}

type consumer struct {
	b      *Bus
	closed bool
}

func (c *consumer) Next(ctx context.Context) (bus.Delivery, error) {
	for {
		c.b.mu.Lock()
		if c.b.closed || c.closed {
			c.b.mu.Unlock()
			return nil, bus.ErrClosed
		}
		e, soonest := c.b.take(time.Now())
		wake := c.b.wake
		c.b.mu.Unlock()
		if e != nil {
			return &delivery{b: c.b, e: e, attempt: e.attempt, msg: e.msg}, nil
		}
		var (
			timer <-chan time.Time
			t     *time.Timer
		)
		if !soonest.IsZero() {
			t = time.NewTimer(time.Until(soonest))
			timer = t.C
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
	}
}

func (c *consumer) Close() error {
	c.b.mu.Lock()
	c.closed = true
	c.b.mu.Unlock()
	return nil
}

type delivery struct {
	b       *Bus
	e       *entry
	attempt int
	msg     bus.Message
}

func (d *delivery) Message() bus.Message { return d.msg }
func (d *delivery) Attempt() int         { return d.attempt }

// current reports whether d is still the live delivery of its entry (not
// superseded by a redelivery after the ack wait).
func (d *delivery) current() bool {
	e, ok := d.b.flight[d.e.seq]
	return ok && e.attempt == d.attempt
}

func (d *delivery) Ack(ctx context.Context) error {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	if !d.current() {
		return fmt.Errorf("ack %s: delivery %d expired (redelivered)", d.msg.ID, d.attempt)
	}
	delete(d.b.flight, d.e.seq)
	d.b.bytes -= int64(len(d.e.msg.Data))
	return nil
}

func (d *delivery) Nak(ctx context.Context, delay time.Duration) error {
	d.b.mu.Lock()
	defer d.b.mu.Unlock()
	if !d.current() {
		return nil
	}
	d.e.notAfter = time.Now().Add(delay)
	d.b.signal()
	return nil
}
