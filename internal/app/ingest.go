package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/bus"
	"github.com/medwarden/medwarden/internal/bus/memory"
	busnats "github.com/medwarden/medwarden/internal/bus/nats"
	"github.com/medwarden/medwarden/internal/ingest"
	"github.com/medwarden/medwarden/internal/store"
)

// OpenBus opens the bus named by url: "" or "memory" for the in-process
// bus (durable=false), "nats://host:port[?stream=S&subject=X]" for NATS
// JetStream (durable=true).
func OpenBus(ctx context.Context, url, clientName string) (b bus.Bus, durable bool, err error) {
	switch {
	case url == "" || url == "memory":
		return memory.New(memory.Options{}), false, nil
	case strings.HasPrefix(url, "nats://") || strings.HasPrefix(url, "tls://"):
		opt, err := busnats.ParseURL(url)
		if err != nil {
			return nil, false, err
		}
		opt.Name = clientName
		nb, err := busnats.Open(ctx, opt)
		if err != nil {
			return nil, false, err
		}
		return nb, true, nil
	}
	return nil, false, fmt.Errorf("bus %q: want memory or nats://host:port", url)
}

// Ingest is the running sensor ingestion of a server.
type Ingest struct {
	Service *ingest.Service
	Sink    *ingest.Sink
	bus     bus.Bus
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// StartIngest opens the bus, starts the consumer that applies batches to
// st and returns the sink the API publishes to. onChanged (may be nil)
// hears of devices a batch created or changed.
func StartIngest(ctx context.Context, busURL string, st store.Store, log *slog.Logger, onChanged func(context.Context, []int64)) (*Ingest, error) {
	b, durable, err := OpenBus(ctx, busURL, "medwarden-serve")
	if err != nil {
		return nil, err
	}
	c, err := b.Consumer(ctx, ingest.ConsumerName)
	if err != nil {
		b.Close()
		return nil, err
	}
	svc := ingest.New(st, log)
	svc.OnChanged = onChanged
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	in := &Ingest{Service: svc, Sink: ingest.NewSink(b, durable, svc), bus: b, cancel: cancel}
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		svc.Run(rctx, c) //nolint:errcheck // Run returns nil when stopped
		c.Close()
	}()
	kind := "memory"
	if durable {
		kind = "nats"
	}
	log.Info("sensor ingestion", "bus", kind)
	return in, nil
}

// Stop stops consuming (a batch being applied finishes or rolls back) and
// closes the bus.
func (in *Ingest) Stop() {
	in.cancel()
	in.bus.Close()
	in.wg.Wait()
}

var _ api.BatchSink = (*ingest.Sink)(nil)

// Coalesce runs fn in its own goroutine with the device ids handed to the
// returned notify, merging ids that arrive while fn runs, so a slow
// consumer (findings recompute) never holds up ingestion. stop ends the
// goroutine after a last call for ids still pending.
func Coalesce(fn func(context.Context, []int64)) (notify func(context.Context, []int64), stop func()) {
	var (
		mu      sync.Mutex
		pending = map[int64]bool{}
	)
	wake := make(chan struct{}, 1)
	quit := make(chan struct{})
	done := make(chan struct{})
	flush := func() {
		mu.Lock()
		ids := make([]int64, 0, len(pending))
		for id := range pending {
			ids = append(ids, id)
		}
		clear(pending)
		mu.Unlock()
		if len(ids) > 0 {
			fn(context.Background(), ids)
		}
	}
	go func() {
		defer close(done)
		for {
			select {
			case <-wake:
				flush()
			case <-quit:
				flush()
				return
			}
		}
	}()
	notify = func(_ context.Context, ids []int64) {
		mu.Lock()
		for _, id := range ids {
			pending[id] = true
		}
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-done }) }
	return notify, stop
}
