package ingest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/bus"
	"github.com/medwarden/medwarden/internal/ingest/batch"
)

// ErrNotApplied: the batch was handed over but not applied within the
// wait (the store is slow or failing); the sender should resend.
var ErrNotApplied = errors.New("batch not applied in time")

// Submit outcomes.
const (
	StatusApplied   = "applied"   // stored (in-process bus: the response waits for the commit)
	StatusQueued    = "queued"    // held durably by the bus (NATS JetStream)
	StatusDuplicate = "duplicate" // seen before; nothing to do
)

// Sink hands batches from the HTTP endpoint to the bus.
//
// With a durable bus (NATS JetStream) a batch is acknowledged once the
// stream holds it. With the in-process bus nothing survives the process,
// so Sink waits until the ingester has committed the batch before
// acknowledging: a server killed before then has acknowledged nothing,
// and the sensor, which keeps every unacknowledged batch in its spool,
// sends it again.
type Sink struct {
	Bus bus.Bus
	// Durable says the bus keeps messages across restarts (NATS).
	Durable bool
	// Wait bounds the wait for the commit (in-process bus); default 30 s.
	Wait time.Duration
	svc  *Service
}

// NewSink returns a sink publishing to b whose batches svc applies.
func NewSink(b bus.Bus, durable bool, svc *Service) *Sink {
	return &Sink{Bus: b, Durable: durable, svc: svc}
}

// Submit publishes b (data is its encoding) and returns one of the Status
// values. The actor ctx carries (audit.WithActor) is sent along and named
// in the audit entries of the devices the batch changes.
func (k *Sink) Submit(ctx context.Context, b *batch.Batch, data []byte) (string, error) {
	// Who sent it (the API's authenticated caller and address) travels
	// with the batch for the audit log.
	if a, ok := audit.ActorFrom(ctx); ok {
		data = withSender(a, data)
	}
	if k.Durable {
		dup, err := k.Bus.Publish(ctx, bus.Message{ID: b.ID(), Data: data})
		if err != nil {
			return "", err
		}
		if dup {
			return StatusDuplicate, nil
		}
		return StatusQueued, nil
	}
	// In-process: a unique message id per request (the store dedupes by
	// sensor and sequence), and wait for the commit.
	var nonce [6]byte
	rand.Read(nonce[:])
	id := b.ID() + "#" + hex.EncodeToString(nonce[:])
	done := k.svc.waitFor(id)
	defer k.svc.stopWaiting(id)
	if _, err := k.Bus.Publish(ctx, bus.Message{ID: id, Data: data}); err != nil {
		return "", err
	}
	wait := k.Wait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case st := <-done:
		return st, nil
	case <-t.C:
		return "", fmt.Errorf("batch %s: %w (%s)", b.ID(), ErrNotApplied, wait)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

type waiters struct {
	mu sync.Mutex
	m  map[string]chan string
}

func (s *Service) waitFor(id string) <-chan string {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if s.w.m == nil {
		s.w.m = map[string]chan string{}
	}
	c := make(chan string, 1)
	s.w.m[id] = c
	return c
}

func (s *Service) stopWaiting(id string) {
	s.w.mu.Lock()
	delete(s.w.m, id)
	s.w.mu.Unlock()
}

func (s *Service) notify(id, status string) {
	s.w.mu.Lock()
	c := s.w.m[id]
	s.w.mu.Unlock()
	if c != nil {
		select {
		case c <- status:
		default:
		}
	}
}

// Counters are the ingester's totals (for metrics).
func (k *Sink) Counters() Counters { return k.svc.Counters() }
