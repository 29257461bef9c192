// Package indexbuild runs a store's deferred index builds in the
// background (store.DeviceStore.BuildIndexes): at start, and again after
// each import that may have left some, one run at a time.
package indexbuild

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/store"
)

// Runner runs BuildIndexes in the background.
type Runner struct {
	ctx context.Context
	st  store.DeviceStore
	log *slog.Logger

	// RetryMin and RetryMax bound the wait before a failed run is tried
	// again (doubling from RetryMin). A build fails on a lost database
	// connection, a full disk or a lock held past the busy timeout; the
	// devices stay unindexed until a run succeeds, so it is not left to
	// the next import or start.
	RetryMin, RetryMax time.Duration

	mu      sync.Mutex
	running bool
	again   bool          // kicked during a run: run once more
	idle    chan struct{} // closed when no run is going on
	kick    chan struct{} // a Kick during the wait before a retry
}

// Default retry waits.
const (
	DefaultRetryMin = 5 * time.Second
	DefaultRetryMax = 5 * time.Minute
)

// New returns a Runner whose runs stop when ctx ends (a build interrupted
// then is rolled back and resumed by the next run, in this process or
// another).
func New(ctx context.Context, st store.DeviceStore, log *slog.Logger) *Runner {
	idle := make(chan struct{})
	close(idle)
	return &Runner{ctx: ctx, st: st, log: log, idle: idle, kick: make(chan struct{}, 1),
		RetryMin: DefaultRetryMin, RetryMax: DefaultRetryMax}
}

// Kick starts a run, or another one after the current run.
func (r *Runner) Kick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		r.again = true
		select {
		case r.kick <- struct{}{}:
		default:
		}
		return
	}
	r.running, r.idle = true, make(chan struct{})
	go r.run(r.idle)
}

// Wait returns once no run is going on.
func (r *Runner) Wait() {
	r.mu.Lock()
	idle := r.idle
	r.mu.Unlock()
	<-idle
}

func (r *Runner) run(idle chan struct{}) {
	wait := r.RetryMin
	for {
		start, n := time.Now(), 0
		err := r.st.BuildIndexes(r.ctx, func(b store.IndexBuild) {
			n++
			r.log.Info("deferred index built", "index", b.Name, "took", b.Took.Round(time.Millisecond), "left", b.Left)
		})
		retry := false
		switch {
		case err != nil && r.ctx.Err() != nil:
			r.log.Info("deferred index builds interrupted; the next start resumes them", "built", n)
		case err != nil:
			r.log.Error("deferred index builds failed; retrying", "built", n, "retry_in", wait, "err", err)
			retry = true
		case n > 0:
			r.log.Info("deferred index builds done", "built", n, "took", time.Since(start).Round(time.Millisecond))
		}
		if retry && r.sleep(wait) {
			wait = min(wait*2, r.RetryMax)
			continue
		}
		r.mu.Lock()
		if !r.again || r.ctx.Err() != nil {
			r.running, r.again = false, false
			close(idle)
			r.mu.Unlock()
			return
		}
		r.again = false
		r.mu.Unlock()
		wait = r.RetryMin
	}
}

// sleep waits d, or less when kicked; false when the Runner's context ended.
func (r *Runner) sleep(d time.Duration) bool {
	select {
	case <-r.kick:
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.kick:
		return true
	case <-r.ctx.Done():
		return false
	}
}
