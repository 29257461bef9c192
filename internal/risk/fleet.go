package risk

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Assessment is one device with its findings, the input of a fleet
// recompute.
type Assessment struct {
	Device   Device
	Findings []Finding
}

// Score is a device's score and band without the explanation.
type Score struct {
	Score float64 `json:"score"`
	Band  Band    `json:"band"`
}

// fleetChunk is the number of devices a worker takes at a time; ctx is
// checked once per chunk.
const fleetChunk = 4096

// FleetScores recomputes the score of every device (the path run when a
// feed or the model changes). out[i] is the score of items[i]; it equals
// Device(...).Score. workers ≤ 0 means GOMAXPROCS. Each worker has its own
// Scorer (and CVSS cache).
func FleetScores(ctx context.Context, m Model, now time.Time, items []Assessment, workers int) ([]Score, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := make([]Score, len(items))
	var (
		mu   sync.Mutex
		next int
		wg   sync.WaitGroup
	)
	take := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		lo := next
		next = min(next+fleetChunk, len(items))
		return lo, next
	}
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newScorer(m, now)
			for {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				lo, hi := take()
				if lo >= hi {
					return
				}
				for i := lo; i < hi; i++ {
					it := &items[i]
					sc, b := s.DeviceScore(&it.Device, it.Findings)
					out[i] = Score{sc, b}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
