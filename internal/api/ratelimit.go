package api

import (
	"math"
	"sync"
	"time"
)

// RateLimit configures the token buckets in front of the API: one per
// client address (checked before authentication, so guessing tokens is
// slow too) and one per account (user or API token, whatever address it
// comes from).
type RateLimit struct {
	PerClient  float64 // requests per second per client address (0: DefaultPerClient; <0: off)
	PerAccount float64 // requests per second per account (0: DefaultPerAccount; <0: off)
	Burst      int     // bucket size (0: DefaultBurst)
}

// Rate limit defaults: generous for people and scripts, tight enough that
// one client cannot starve the others or brute-force tokens.
const (
	DefaultPerClient  = 200
	DefaultPerAccount = 200
	DefaultBurst      = 400
	// authFailureCost is what a failed authentication takes from the
	// client's bucket.
	authFailureCost = 20
	maxBuckets      = 100_000
)

func (r RateLimit) withDefaults() RateLimit {
	if r.PerClient == 0 {
		r.PerClient = DefaultPerClient
	}
	if r.PerAccount == 0 {
		r.PerAccount = DefaultPerAccount
	}
	if r.Burst <= 0 {
		r.Burst = DefaultBurst
	}
	return r
}

// limiter is a set of token buckets keyed by client or account.
type limiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	if rate <= 0 {
		return nil
	}
	return &limiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// take removes cost tokens from key's bucket. It reports whether they were
// there and, when not, how long until they will be.
func (l *limiter) take(key string, cost float64) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= cost {
		b.tokens -= cost
		return true, 0
	}
	wait := time.Duration((cost - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// sweep drops buckets that are full again (idle clients); if that frees
// nothing the table is reset rather than grown without bound.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets {
		clear(l.buckets)
	}
}

// charge removes cost tokens from key's bucket even when that leaves it
// in debt (down to -burst): failures are paid for after the fact.
func (l *limiter) charge(key string, cost float64) {
	if l == nil {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Max(-l.burst, math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)-cost)
	b.last = now
}
