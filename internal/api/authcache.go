package api

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store"
)

// Token verification cache. Without it every API request read the token
// and its user from the store (two queries, 0.1-0.2 ms of CPU and a
// database connection each). A verified token is kept for at most
// DefaultAuthCacheTTL, and only while the store's security generation
// (SecurityGenerationer) is the one read before the lookup: a token
// revoked, or a user disabled or downgraded, through this process (API,
// console, OIDC sign-in; all go through the audit recorder, which bumps
// the generation after the write) is refused from the next request on.
// Changes made by another process on the same database (the CLI's
// 'medwarden token revoke' while serve runs) take effect within the TTL.
// Expiry is checked on every request. A store without a generation is
// never cached.

// DefaultAuthCacheTTL bounds how long a verified API token is trusted
// without reading the store again.
const DefaultAuthCacheTTL = time.Second

// maxAuthCacheEntries bounds the cache; when full it starts over.
const maxAuthCacheEntries = 10_000

// SecurityGenerationer is implemented by stores that count the changes
// to accounts and API tokens made through them (recorder.Store).
type SecurityGenerationer interface {
	SecurityGeneration() uint64
}

type authEntry struct {
	token   store.APIToken
	user    store.User
	role    auth.Role
	gen     uint64
	expires time.Time    // when the entry must be read again (TTL)
	touched atomic.Int64 // unix nanoseconds of the last recorded use
}

type authCache struct {
	ttl time.Duration
	gen SecurityGenerationer
	mu  sync.Mutex
	m   map[string]*authEntry // by token hash
}

func newAuthCache(ttl time.Duration, gen SecurityGenerationer) *authCache {
	if ttl == 0 {
		ttl = DefaultAuthCacheTTL
	}
	if ttl < 0 || gen == nil {
		return nil
	}
	return &authCache{ttl: ttl, gen: gen, m: map[string]*authEntry{}}
}

// generation is the value to store with an entry; read it before the
// lookup the entry records.
func (c *authCache) generation() uint64 { return c.gen.SecurityGeneration() }

// get returns the entry of hash when it is still valid at now.
func (c *authCache) get(hash string, now time.Time) *authEntry {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	e := c.m[hash]
	c.mu.Unlock()
	if e == nil || !now.Before(e.expires) || e.gen != c.gen.SecurityGeneration() {
		return nil
	}
	return e
}

// ttlOr0 is the entry lifetime (0 without a cache).
func (c *authCache) ttlOr0() time.Duration {
	if c == nil {
		return 0
	}
	return c.ttl
}

func (c *authCache) put(hash string, e *authEntry) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxAuthCacheEntries {
		clear(c.m)
	}
	c.m[hash] = e
}
