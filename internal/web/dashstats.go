package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// dashStats are the dashboard's counts. Grouping a fleet several ways
// costs tens of milliseconds at 100,000 devices and seconds at a million,
// so no request computes them while it can avoid it: the counts are
// computed in the background (at start, after every write made through
// the console, and when they are older than Deps.StatsMaxAge), and a
// request shows the newest complete set with its time. A request waits
// only when there is no set yet, when the day changed ("past end of
// support" depends on it) or when the console itself just wrote, and
// then only for the computation already running.
type dashStats struct {
	stats         *store.DeviceStats
	conflicts     int64
	conflictsMore bool
	at            time.Time
	day           string
	refreshing    bool // a copy for one page: newer counts are on their way
}

// statsState is the cache and its background refresh.
type statsState struct {
	cache   *dashStats
	gen     uint64        // writes seen; dirty when cache.gen < gen
	cgen    uint64        // gen the cache was computed at
	running chan struct{} // closed when the refresh in flight ends; nil when none
	lastErr error
}

// maxConflictScan bounds the devices examined for the conflict count.
const maxConflictScan = 50_000

// dropStats marks the counts out of date after a write and starts
// computing new ones at once.
func (h *Handler) dropStats() {
	h.dashMu.Lock()
	defer h.dashMu.Unlock()
	h.dash.gen++
	if h.statsAge > 0 {
		h.startRefreshLocked()
	} else {
		h.dash.cache = nil
	}
}

// startRefreshLocked starts a background computation unless one runs.
func (h *Handler) startRefreshLocked() chan struct{} {
	if h.dash.running != nil {
		return h.dash.running
	}
	done := make(chan struct{})
	h.dash.running = done
	gen := h.dash.gen
	h.bg.Add(1)
	go func() {
		defer h.bg.Done()
		now := h.now()
		ds, err := h.computeStats(h.ctx, now)
		h.dashMu.Lock()
		if err == nil {
			h.dash.cache, h.dash.cgen = ds, gen
		} else if h.ctx.Err() == nil {
			h.log.Error("dashboard counts", "err", err)
		}
		h.dash.lastErr = err
		h.dash.running = nil
		h.dashMu.Unlock()
		close(done)
	}()
	return done
}

func (h *Handler) computeStats(ctx context.Context, now time.Time) (*dashStats, error) {
	today := now.UTC().Format(inventory.DateLayout)
	st, err := h.st.DeviceStats(ctx, today)
	if err != nil {
		return nil, fmt.Errorf("device counts: %w", err)
	}
	ds := &dashStats{stats: st, at: now, day: today}
	var seen int64
	err = h.st.ScanObserved(ctx, func(d *inventory.Device) error {
		seen++
		if seen > maxConflictScan {
			ds.conflictsMore = true
			return errStop
		}
		if len(openConflicts(d)) > 0 {
			ds.conflicts++
		}
		return nil
	})
	if err != nil && err != errStop {
		return nil, fmt.Errorf("conflict count: %w", err)
	}
	return ds, nil
}

// stats returns the counts to show for today.
func (h *Handler) stats(r *http.Request, today string) (*dashStats, error) {
	if h.statsAge < 0 { // never reuse: compute on the request
		return h.computeStats(r.Context(), h.now())
	}
	h.dashMu.Lock()
	c := h.dash.cache
	usable := c != nil && c.day == today && h.dash.cgen == h.dash.gen
	if usable {
		cp := *c
		if h.now().Sub(c.at) >= h.statsAge {
			h.startRefreshLocked()
		}
		cp.refreshing = h.dash.running != nil
		h.dashMu.Unlock()
		return &cp, nil
	}
	done := h.startRefreshLocked()
	h.dashMu.Unlock()
	select {
	case <-done:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	h.dashMu.Lock()
	defer h.dashMu.Unlock()
	c = h.dash.cache
	if c == nil || c.day != today {
		if h.dash.lastErr != nil {
			return nil, h.dash.lastErr
		}
		// The day turned while computing: compute on this request.
		return h.computeStats(r.Context(), h.now())
	}
	cp := *c
	cp.refreshing = h.dash.running != nil || h.dash.cgen != h.dash.gen
	return &cp, nil
}
