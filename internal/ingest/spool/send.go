package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/medwarden/medwarden/internal/bus"
)

// Backoff bounds of the sender.
const (
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 5 * time.Minute
)

// ErrRejected: the server refused a batch as invalid (HTTP 400/413); it
// is dropped from the spool, since sending it again cannot succeed.
var ErrRejected = errors.New("batch rejected by the server")

// Sender sends the spool's batches, oldest first, to a server's
// POST /api/v1/sensor/batches (URL) or straight to the bus (Bus), and
// deletes each once acknowledged. On failure it waits (exponential
// backoff with jitter, MinBackoff to MaxBackoff) and resends in order.
type Sender struct {
	Spool *Spool
	// URL is the endpoint, e.g. https://server:8443/api/v1/sensor/batches.
	URL    string
	Client *http.Client
	// Token is an API token with sensor:write (empty with a client certificate).
	Token string
	// Bus, when set, is used instead of URL: publish with the batch id.
	Bus bus.Bus
	// ID returns the bus message id of a spooled batch (sensor/seq).
	ID         func(seq uint64) string
	Log        *slog.Logger
	MinBackoff time.Duration
	MaxBackoff time.Duration

	wake                     chan struct{}
	sent, rejected, failures atomic.Int64
	lastErr                  atomic.Value // string
	consecutive              int
}

// Wake tells a running sender that a batch was spooled.
func (s *Sender) Wake() {
	if s.wake == nil {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Counters of a sender.
type Counters struct {
	Sent, Rejected, Failures int64
	LastError                string
}

// Counters returns the totals so far.
func (s *Sender) Counters() Counters {
	c := Counters{Sent: s.sent.Load(), Rejected: s.rejected.Load(), Failures: s.failures.Load()}
	c.LastError, _ = s.lastErr.Load().(string)
	return c
}

func (s *Sender) init() {
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Client == nil {
		s.Client = &http.Client{Timeout: 2 * time.Minute}
	}
	if s.MinBackoff <= 0 {
		s.MinBackoff = DefaultMinBackoff
	}
	if s.MaxBackoff <= 0 {
		s.MaxBackoff = DefaultMaxBackoff
	}
}

// Run sends until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	s.init()
	for {
		err := s.Flush(ctx)
		var wait <-chan time.Time
		if err != nil {
			wait = time.After(s.backoff())
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-wait:
		}
	}
}

func (s *Sender) backoff() time.Duration {
	d := s.MinBackoff << min(s.consecutive, 20)
	d = min(d, s.MaxBackoff)
	return d/2 + rand.N(d/2+1) // jitter: many sensors must not retry in step
}

// Flush sends every spooled batch in order; it returns the first failure
// (the batch stays spooled).
func (s *Sender) Flush(ctx context.Context) error {
	s.init()
	for {
		seq, data, ok, err := s.Spool.Oldest()
		if err != nil {
			return err
		}
		if !ok {
			s.consecutive = 0
			return nil
		}
		err = s.send(ctx, seq, data)
		switch {
		case err == nil:
			s.sent.Add(1)
			s.consecutive = 0
		case errors.Is(err, ErrRejected):
			s.rejected.Add(1)
			s.Log.Error("the server rejected a batch; it is dropped", "seq", seq, "err", err)
		default:
			s.failures.Add(1)
			s.consecutive++
			s.lastErr.Store(err.Error())
			if s.consecutive == 1 || s.consecutive%10 == 0 {
				s.Log.Warn("server unreachable; batches stay spooled and are resent in order", "seq", seq, "attempt", s.consecutive, "err", err)
			}
			return err
		}
		if err := s.Spool.Remove(seq); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func (s *Sender) send(ctx context.Context, seq uint64, data []byte) error {
	if s.Bus != nil {
		if _, err := s.Bus.Publish(ctx, bus.Message{ID: s.ID(seq), Data: data}); err != nil {
			return fmt.Errorf("publish batch %d: %w", seq, err)
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return fmt.Errorf("send batch %d to %s: %w", seq, s.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestEntityTooLarge:
		return fmt.Errorf("batch %d: %w: %s: %s", seq, ErrRejected, resp.Status, strings.TrimSpace(string(body)))
	default:
		return fmt.Errorf("send batch %d to %s: %s: %s", seq, s.URL, resp.Status, strings.TrimSpace(string(body)))
	}
}
