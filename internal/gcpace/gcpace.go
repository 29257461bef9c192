// Package gcpace lets a long-running server trade a bounded amount of
// memory for less garbage collection.
//
// Go's default (GOGC=100) lets the heap grow to twice the live heap before
// the next collection. For 'medwarden serve' with 100,000 devices (about
// 190 MB live: the findings engine's fleet, the list caches) under
// bench/load.sh's mixed API load, that meant a collection every 0.8 s whose
// mark phase (about 250 ms, a quarter of the CPU) overlapped a third of
// all requests. A higher percentage collects less often, but multiplies
// the heap: at 1,000,000 devices (live heap well over 1 GB) GOGC=200
// would add gigabytes. So the percentage follows the live heap: after
// each collection it is set so that the heap may grow by at most Headroom
// bytes beyond the live heap, and never below 100 (Go's default) nor above
// Max.
package gcpace

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Config bounds the pacing.
type Config struct {
	Max      int    // the highest GC percentage (e.g. 200)
	Headroom uint64 // bytes the heap may grow beyond the live heap
}

// Percent is the GC percentage for a live heap of live bytes.
func (c Config) Percent(live uint64) int {
	if live == 0 {
		return c.Max
	}
	p := c.Headroom * 100 / live
	switch {
	case p < 100:
		return 100
	case p > uint64(c.Max):
		return c.Max
	}
	return int(p)
}

// Start sets the GC percentage after every collection from now on, unless
// the GOGC environment variable is set (the operator's choice wins). It
// returns false when it does nothing; only the first call of a process
// starts the pacing.
func Start(c Config) bool {
	if _, set := os.LookupEnv("GOGC"); set || c.Max <= 100 {
		return false
	}
	started := false
	once.Do(func() {
		debug.SetGCPercent(c.Max)
		arm(c)
		started = true
	})
	return started
}

var once sync.Once

// arm attaches to a new object a cleanup that runs after the collection
// that frees it: it sets the percentage and arms the next one.
func arm(c Config) {
	s := new([16]byte) // large enough not to be a tiny, shared allocation
	runtime.AddCleanup(s, func(c Config) {
		debug.SetGCPercent(c.Percent(liveHeap()))
		arm(c)
	}, c)
}

var sample = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}

// liveHeap is the heap marked live by the last collection. Cleanups run on
// one goroutine, so the shared sample is not read concurrently.
func liveHeap() uint64 {
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}
