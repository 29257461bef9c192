package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/risk"
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

	// Findings and risk (nil findings when no matching run was stored).
	findings  *store.FindingStats
	trendDays []string
	trend     []series
}

// trendDays of risk snapshots are drawn.
const trendDays = 90

// statsState is the cache and its background refresh.
type statsState struct {
	cache   *dashStats
	gen     uint64        // writes seen; dirty when cache.gen < gen
	cgen    uint64        // gen the cache was computed at
	running chan struct{} // closed when the refresh in flight ends; nil when none
	lastErr error
	took    time.Duration // how long the last computation ran
}

// refreshCost: an age-driven refresh waits at least this many times the
// last computation's duration, so a fleet whose counts take seconds is
// not recounted back to back (writes made in the console still refresh
// at once).
const refreshCost = 10

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
		now, start := h.now(), time.Now()
		ds, err := h.computeStats(h.ctx, now)
		h.dashMu.Lock()
		h.dash.took = time.Since(start)
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
	at, err := h.st.FindingsComputedAt(ctx)
	if err != nil {
		return nil, fmt.Errorf("findings computed at: %w", err)
	}
	if at.IsZero() {
		return ds, nil
	}
	if ds.findings, err = h.st.FindingStats(ctx, store.FindingStatsOptions{Today: today, Top: 10}); err != nil {
		return nil, fmt.Errorf("finding counts: %w", err)
	}
	snaps, err := h.st.ListRiskSnapshots(ctx, now.UTC().AddDate(0, 0, -trendDays+1).Format(inventory.DateLayout), "")
	if err != nil {
		return nil, fmt.Errorf("risk snapshots: %w", err)
	}
	ds.trendDays, ds.trend = trendOf(snaps)
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
		if age := h.now().Sub(c.at); age >= h.statsAge && age >= refreshCost*h.dash.took {
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

// trendOf turns daily risk registers into one line per band: the devices
// of that band on each day.
func trendOf(snaps []*store.RiskSnapshot) ([]string, []series) {
	if len(snaps) == 0 {
		return nil, nil
	}
	ss := []series{{Label: "critical", Class: "band-critical"}, {Label: "high", Class: "band-high"},
		{Label: "medium", Class: "band-medium"}, {Label: "low", Class: "band-low"}}
	var days []string
	for _, sn := range snaps {
		var reg risk.Register
		if err := json.Unmarshal(sn.Register, &reg); err != nil {
			continue // a snapshot that cannot be read is left out of the chart
		}
		b := reg.Total.Bands
		days = append(days, sn.Day)
		for i, v := range []int{b.Critical, b.High, b.Medium, b.Low} {
			ss[i].Values = append(ss[i].Values, float64(v))
		}
	}
	if len(days) == 0 {
		return nil, nil
	}
	return days, ss
}
