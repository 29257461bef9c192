// Package bus declares the message bus between sensors and servers: a
// publisher hands over a message with an id, the bus keeps it durably
// (within its limits) and drops a second message with an id it has seen
// within its dedupe window; consumers receive each message until they
// acknowledge it, and messages not acknowledged within the ack wait are
// delivered again.
//
// Two implementations exist, sharing one conformance suite (bustest):
// bus/memory, in-process and bounded (the embedded default), and bus/nats,
// NATS JetStream (a stream plus a durable pull consumer) for distributed
// deployments.
package bus

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors.
var (
	// ErrFull: the bus holds as many messages as it may; try again later.
	ErrFull = errors.New("bus full")
	// ErrClosed: the bus or consumer was closed.
	ErrClosed = errors.New("bus closed")
	// ErrNoID: a message was published without an id.
	ErrNoID = errors.New("message has no id")
)

// Defaults shared by the implementations.
const (
	DefaultDedupeWindow = 2 * time.Hour
	DefaultAckWait      = 30 * time.Second
)

// Message is what is published.
type Message struct {
	// ID identifies the message for deduplication ("sensor-id/sequence").
	ID   string
	Data []byte
}

// Bus is a durable, acknowledged queue of messages.
type Bus interface {
	// Publish returns once the bus holds m (or, for an id seen within the
	// dedupe window, once it recognised the duplicate, which is dropped).
	// duplicate reports the latter.
	Publish(ctx context.Context, m Message) (duplicate bool, err error)
	// Consumer opens the durable consumer called name. Consumers of the
	// same name share the messages (each message goes to one of them);
	// delivery state survives the consumer being closed.
	Consumer(ctx context.Context, name string) (Consumer, error)
	Close() error
}

// Consumer receives messages.
type Consumer interface {
	// Next waits for the next message until ctx ends.
	Next(ctx context.Context) (Delivery, error)
	Close() error
}

// Delivery is one delivery of a message. Exactly one of Ack or Nak should
// be called; a delivery neither acked nor nacked within the ack wait is
// delivered again.
type Delivery interface {
	Message() Message
	// Attempt is 1 on the first delivery, 2 on the first redelivery...
	Attempt() int
	// Ack removes the message from the bus.
	Ack(ctx context.Context) error
	// Nak asks for a redelivery after delay.
	Nak(ctx context.Context, delay time.Duration) error
}
