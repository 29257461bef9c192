package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

// fakeClock is a settable clock for api.Deps.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type cacheEnv struct {
	raw   store.Store     // the driver, as another process would write it
	rec   *recorder.Store // what the server uses, as serve wires it
	srv   *api.Server
	clock *fakeClock
}

func newCacheEnv(t *testing.T, ttl time.Duration) *cacheEnv {
	t.Helper()
	raw, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	rec, err := recorder.Wrap(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now()}
	srv := api.New(api.Deps{Store: rec, Now: clock.Now, AuthCacheTTL: ttl, RateLimit: api.RateLimit{PerClient: -1, PerAccount: -1}})
	return &cacheEnv{raw: raw, rec: rec, srv: srv, clock: clock}
}

func (e *cacheEnv) status(t *testing.T, tok string) int {
	t.Helper()
	req := httptest.NewRequest("GET", "/api/v1/auth/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, req)
	return w.Code
}

// TestTokenCacheHonoursRevocation: a verified token is cached, but a
// revocation or a disabled or downgraded user through the server's store
// counts from the next request; a change made behind its back (another
// process on the same database) counts once the TTL has passed; expiry is
// checked on every request.
func TestTokenCacheHonoursRevocation(t *testing.T) {
	e := newCacheEnv(t, time.Second)
	ctx := t.Context()
	tok := newToken(t, e.rec, "ana", auth.Analyst, "devices:read")
	if c := e.status(t, tok); c != 200 {
		t.Fatalf("valid token: %d, want 200", c)
	}
	tk, err := e.raw.(store.SecurityStore).GetTokenByHash(ctx, auth.HashToken(tok))
	if err != nil {
		t.Fatal(err)
	}

	// Revoked behind the server's back: still trusted until the TTL ends.
	if err := e.raw.(store.SecurityStore).RevokeToken(ctx, tk.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if c := e.status(t, tok); c != 200 {
		t.Errorf("token revoked by another process, within the TTL: %d, want 200 (cached)", c)
	}
	e.clock.Add(1001 * time.Millisecond)
	if c := e.status(t, tok); c != 401 {
		t.Errorf("token revoked by another process, after the TTL: %d, want 401", c)
	}

	// Revoked through the server's store: refused at once.
	tok2 := newToken(t, e.rec, "ana", auth.Analyst, "devices:read")
	if c := e.status(t, tok2); c != 200 {
		t.Fatalf("second token: %d, want 200", c)
	}
	tk2, err := e.rec.GetTokenByHash(ctx, auth.HashToken(tok2))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rec.RevokeToken(ctx, tk2.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if c := e.status(t, tok2); c != 401 {
		t.Errorf("token revoked through the server's store: %d, want 401 at once", c)
	}

	// A user disabled through the server's store: refused at once.
	tok3 := newToken(t, e.rec, "bob", auth.Analyst, "devices:read")
	if c := e.status(t, tok3); c != 200 {
		t.Fatalf("third token: %d, want 200", c)
	}
	u, err := e.rec.GetUserByName(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = true
	if err := e.rec.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if c := e.status(t, tok3); c != 401 {
		t.Errorf("token of a user disabled through the server's store: %d, want 401 at once", c)
	}
}

// TestTokenCacheChecksExpiry: a cached token stops working when it
// expires, however long the cache would keep it.
func TestTokenCacheChecksExpiry(t *testing.T) {
	e := newCacheEnv(t, time.Hour)
	ctx := t.Context()
	newToken(t, e.rec, "vic", auth.Viewer, "devices:read") // creates the user
	u, err := e.rec.GetUserByName(ctx, "vic")
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := auth.NewAPIToken()
	if err := e.rec.CreateToken(ctx, &store.APIToken{UserID: u.ID, Name: "short", Hash: auth.HashToken(tok), Scopes: []string{"devices:read"},
		ExpiresAt: e.clock.Now().Add(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if c := e.status(t, tok); c != 200 {
		t.Fatalf("fresh token: %d, want 200", c)
	}
	e.clock.Add(2 * time.Second)
	if c := e.status(t, tok); c != 401 {
		t.Errorf("cached token after its expiry: %d, want 401", c)
	}
}

// TestTokenCacheOffWithoutGeneration: a store that does not count security
// changes is read on every request, so a revocation counts at once.
func TestTokenCacheOffWithoutGeneration(t *testing.T) {
	raw, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	srv := api.New(api.Deps{Store: raw, AuthCacheTTL: time.Hour, RateLimit: api.RateLimit{PerClient: -1, PerAccount: -1}})
	tok := newToken(t, raw, "ana", auth.Analyst, "devices:read")
	get := func() int {
		req := httptest.NewRequest("GET", "/api/v1/auth/whoami", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		return w.Code
	}
	if c := get(); c != 200 {
		t.Fatalf("valid token: %d", c)
	}
	tk, err := raw.GetTokenByHash(t.Context(), auth.HashToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.RevokeToken(t.Context(), tk.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if c := get(); c != 401 {
		t.Errorf("revoked token on an uncounted store: %d, want 401", c)
	}
}

// TestClientGoneIsNotAnError: a request whose client went away while the
// store worked (wrk stopping, a client timeout) is logged at debug level
// and counted as 499, not logged as a server error. These were the
// "level=ERROR … context canceled" lines of bench/load.sh.
func TestClientGoneIsNotAnError(t *testing.T) {
	raw, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rec, err := recorder.Wrap(raw, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Deps{Store: rec, Logger: log, RateLimit: api.RateLimit{PerClient: -1, PerAccount: -1}})
	tok := newToken(t, rec, "ana", auth.Analyst, "devices:read")
	do := func(ctx context.Context) int {
		req := httptest.NewRequest("GET", "/api/v1/devices?limit=5", nil).WithContext(ctx)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		return w.Code
	}
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	// not yet cached: the token lookup is what the cancellation stops
	if c := do(gone); c != api.StatusClientClosedRequest {
		t.Errorf("cancelled during authentication: %d, want 499", c)
	}
	if c := do(t.Context()); c != 200 {
		t.Fatalf("normal request: %d", c)
	}
	// cached now: the device list is what the cancellation stops
	if c := do(gone); c != api.StatusClientClosedRequest {
		t.Errorf("cancelled during the list: %d, want 499", c)
	}
	out := buf.String()
	if strings.Contains(out, "level=ERROR") {
		t.Errorf("a client going away was logged as an error:\n%s", out)
	}
	if n := strings.Count(out, `msg="client went away"`); n != 2 {
		t.Errorf("%d debug lines for the two abandoned requests, want 2:\n%s", n, out)
	}
}
