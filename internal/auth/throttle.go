package auth

import (
	"sync"
	"time"
)

// Throttle limits failed logins per account and per client address. After
// Limit failures inside Window a key is locked; each further failure
// doubles the lock, up to MaxLock. A success clears the account's count
// (not the address's, so one good account cannot launder guessing at others).
type Throttle struct {
	AccountLimit int
	AddressLimit int
	Window       time.Duration
	BaseLock     time.Duration
	MaxLock      time.Duration
	Now          func() time.Time

	mu   sync.Mutex
	keys map[string]*attempts
}

type attempts struct {
	fails       int
	first       time.Time
	lockedUntil time.Time
}

// NewThrottle returns the defaults: 5 failures per account, 20 per address
// in 15 minutes; locks start at 1 minute and double up to 1 hour.
func NewThrottle() *Throttle {
	return &Throttle{AccountLimit: 5, AddressLimit: 20, Window: 15 * time.Minute, BaseLock: time.Minute, MaxLock: time.Hour, Now: time.Now}
}

// maxKeys bounds memory: past it, entries with no lock are forgotten.
const maxKeys = 100_000

func accountKey(user string) string { return "u\x00" + user }
func addressKey(addr string) string { return "a\x00" + addr }

// Allowed says whether a login for user from addr may be tried now, and if
// not, how long until it may.
func (t *Throttle) Allowed(user, addr string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	var wait time.Duration
	for _, k := range []string{accountKey(user), addressKey(addr)} {
		if a := t.keys[k]; a != nil && now.Before(a.lockedUntil) {
			wait = max(wait, a.lockedUntil.Sub(now))
		}
	}
	return wait == 0, wait
}

// Failure records a failed login.
func (t *Throttle) Failure(user, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys == nil {
		t.keys = make(map[string]*attempts)
	}
	if len(t.keys) >= maxKeys {
		t.prune()
	}
	now := t.Now()
	for _, k := range []struct {
		key   string
		limit int
	}{{accountKey(user), t.AccountLimit}, {addressKey(addr), t.AddressLimit}} {
		a := t.keys[k.key]
		if a == nil || (now.Sub(a.first) > t.Window && !now.Before(a.lockedUntil)) {
			a = &attempts{first: now}
			t.keys[k.key] = a
		}
		a.fails++
		if a.fails >= k.limit {
			lock := t.BaseLock << min(a.fails-k.limit, 16)
			if lock > t.MaxLock || lock <= 0 {
				lock = t.MaxLock
			}
			a.lockedUntil = now.Add(lock)
		}
	}
}

// Success clears the account's failures.
func (t *Throttle) Success(user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, accountKey(user))
}

func (t *Throttle) prune() {
	now := t.Now()
	for k, a := range t.keys {
		if !now.Before(a.lockedUntil) {
			delete(t.keys, k)
		}
	}
}
