// Package nats is the bus on NATS JetStream, for distributed deployments:
// one stream (file storage, work-queue retention, Nats-Msg-Id dedupe
// window) and durable pull consumers with explicit acks. The stream and
// its consumers are created on first use, so a fresh NATS server with
// JetStream enabled needs no setup.
package nats

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/medwarden/medwarden/internal/bus"
)

// Defaults of Options.
const (
	DefaultStream      = "MEDWARDEN_SENSOR"
	DefaultSubject     = "medwarden.sensor.batches"
	DefaultMaxBytes    = 1 << 30
	DefaultMaxMessages = 1_000_000
)

// Options configure the stream. Zero fields take their defaults.
type Options struct {
	URL          string // nats://host:4222
	Stream       string
	Subject      string
	DedupeWindow time.Duration
	AckWait      time.Duration
	MaxBytes     int64 // stream limit; publishes beyond it fail (discard new)
	MaxMessages  int64
	// Name is the client connection name (shown by the NATS server).
	Name string
}

// ParseURL reads "nats://host:port[?stream=S&subject=X&ack_wait=30s]" into
// Options.
func ParseURL(raw string) (Options, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Options{}, fmt.Errorf("bus url %q: %w", raw, err)
	}
	if u.Scheme != "nats" && u.Scheme != "tls" {
		return Options{}, fmt.Errorf("bus url %q: scheme must be nats:// or tls://", raw)
	}
	q := u.Query()
	o := Options{Stream: q.Get("stream"), Subject: q.Get("subject")}
	if v := q.Get("ack_wait"); v != "" {
		if o.AckWait, err = time.ParseDuration(v); err != nil || o.AckWait < time.Second {
			return Options{}, fmt.Errorf("bus url %q: ack_wait %q: want a duration of 1s or more", raw, v)
		}
	}
	u.RawQuery = ""
	o.URL = u.String()
	return o, nil
}

// Bus is a JetStream-backed bus.
type Bus struct {
	opt    Options
	nc     *natsgo.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
}

var _ bus.Bus = (*Bus)(nil)

// Open connects to opt.URL and creates or updates the stream.
func Open(ctx context.Context, opt Options) (*Bus, error) {
	opt.Stream = cmp.Or(opt.Stream, DefaultStream)
	opt.Subject = cmp.Or(opt.Subject, DefaultSubject)
	opt.DedupeWindow = cmp.Or(opt.DedupeWindow, bus.DefaultDedupeWindow)
	opt.AckWait = cmp.Or(opt.AckWait, bus.DefaultAckWait)
	opt.MaxBytes = cmp.Or(opt.MaxBytes, DefaultMaxBytes)
	opt.MaxMessages = cmp.Or(opt.MaxMessages, DefaultMaxMessages)
	opt.Name = cmp.Or(opt.Name, "medwarden")
	nc, err := natsgo.Connect(opt.URL, natsgo.Name(opt.Name), natsgo.MaxReconnects(-1), natsgo.RetryOnFailedConnect(false))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", opt.URL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS JetStream at %s: %w", opt.URL, err)
	}
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        opt.Stream,
		Description: "MedWarden sensor batches",
		Subjects:    []string{opt.Subject},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew,
		MaxBytes:    opt.MaxBytes,
		MaxMsgs:     opt.MaxMessages,
		Duplicates:  opt.DedupeWindow,
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("create stream %s on %s: %w", opt.Stream, opt.URL, err)
	}
	return &Bus{opt: opt, nc: nc, js: js, stream: st}, nil
}

// Publish publishes m with Nats-Msg-Id m.ID and waits for the stream's ack.
func (b *Bus) Publish(ctx context.Context, m bus.Message) (bool, error) {
	if m.ID == "" {
		return false, bus.ErrNoID
	}
	ack, err := b.js.Publish(ctx, b.opt.Subject, m.Data, jetstream.WithMsgID(m.ID), jetstream.WithExpectStream(b.opt.Stream))
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && (apiErr.Code == 503 || strings.Contains(apiErr.Description, "maximum")) {
			return false, fmt.Errorf("publish %s to stream %s: %w: %v", m.ID, b.opt.Stream, bus.ErrFull, err)
		}
		return false, fmt.Errorf("publish %s to stream %s: %w", m.ID, b.opt.Stream, err)
	}
	return ack.Duplicate, nil
}

// Consumer creates or opens the durable pull consumer name.
func (b *Bus) Consumer(ctx context.Context, name string) (bus.Consumer, error) {
	c, err := b.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       b.opt.AckWait,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: 1000,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s on stream %s: %w", name, b.opt.Stream, err)
	}
	return &consumer{c: c}, nil
}

// DeleteStream removes the stream and everything in it (tests, resets).
func (b *Bus) DeleteStream(ctx context.Context) error {
	return b.js.DeleteStream(ctx, b.opt.Stream)
}

// Close closes the connection (after flushing pending acks).
func (b *Bus) Close() error {
	if err := b.nc.Drain(); err != nil {
		b.nc.Close()
	}
	return nil
}

// consumer reads through one long-lived pull subscription
// (jetstream.MessagesContext) holding at most one message in the client.
// Short Fetch polls were used before: a redelivery the server sent just as
// a poll's request expired went to an inbox nobody read any more, so the
// message waited one more ack wait, and NATS 2.9 then reported its
// delivery count one too low. A subscription that outlives each Next
// never drops a delivery that way.
type consumer struct {
	c jetstream.Consumer

	mu     sync.Mutex
	iter   jetstream.MessagesContext
	closed bool
}

func (c *consumer) messages() (jetstream.MessagesContext, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, jetstream.ErrMsgIteratorClosed
	}
	if c.iter == nil {
		it, err := c.c.Messages(jetstream.PullMaxMessages(1))
		if err != nil {
			return nil, err
		}
		c.iter = it
	}
	return c.iter, nil
}

func (c *consumer) Next(ctx context.Context) (bus.Delivery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	it, err := c.messages()
	if err != nil {
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) || errors.Is(err, natsgo.ErrConnectionClosed) {
			return nil, bus.ErrClosed
		}
		return nil, fmt.Errorf("subscribe to consumer: %w", err)
	}
	m, err := it.Next(jetstream.NextContext(ctx))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) || errors.Is(err, natsgo.ErrConnectionClosed) {
			return nil, bus.ErrClosed
		}
		return nil, fmt.Errorf("fetch from consumer: %w", err)
	}
	d := &delivery{m: m, attempt: 1}
	if md, err := m.Metadata(); err == nil {
		d.attempt = int(md.NumDelivered)
	}
	return d, nil
}

// Close stops the subscription; a message it held but had not handed out
// is delivered again after the ack wait.
func (c *consumer) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.iter != nil {
		c.iter.Stop()
	}
	return nil
}

type delivery struct {
	m       jetstream.Msg
	attempt int
}

func (d *delivery) Message() bus.Message {
	return bus.Message{ID: d.m.Headers().Get(jetstream.MsgIDHeader), Data: d.m.Data()}
}
func (d *delivery) Attempt() int { return d.attempt }

// Ack waits for the server to confirm the ack, so an acknowledged
// message is not redelivered.
func (d *delivery) Ack(ctx context.Context) error { return d.m.DoubleAck(ctx) }

func (d *delivery) Nak(ctx context.Context, delay time.Duration) error {
	if delay <= 0 {
		return d.m.Nak()
	}
	return d.m.NakWithDelay(delay)
}
