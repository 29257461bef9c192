package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store"
)

// Authentication of the API. Every route under /api/ and /metrics needs
// either
//
//   - an API token: "Authorization: Bearer mwt_…", whose scopes must
//     include the route's scope and whose user's current role must still
//     allow it; or
//   - the web console's session cookie (mw_session); requests that change
//     anything must also carry the session's CSRF token in X-CSRF-Token.
//
// Each route's scope is declared in RouteScopes; a route without one is
// refused to everybody (deny by default) and fails TestEveryRouteHasAScope.
// Unauthenticated requests get 401 before any 404 or 405.

// SessionCookie is the web console's session cookie (internal/web).
const SessionCookie = "mw_session"

// CSRFHeader carries the session's CSRF token on writes made with the
// session cookie.
const CSRFHeader = "X-CSRF-Token"

// Public routes need no authentication: liveness, readiness (no data
// beyond the schema version) and the API's own description.
var PublicRoutes = []string{"GET /healthz", "GET /readyz", "GET /api/v1/openapi.json",
	"POST /api/v1/sensors/enroll", // the one-time enrolment token in the body is the credential
}

// RouteScopes maps each authenticated route pattern (as registered, "METHOD
// /path") to the scope it requires.
var RouteScopes = map[string]auth.Scope{
	"GET /metrics":                "metrics:read",
	"GET /api/v1/devices":         "devices:read",
	"POST /api/v1/devices":        "devices:write",
	"GET /api/v1/devices/{id}":    "devices:read",
	"PUT /api/v1/devices/{id}":    "devices:write",
	"DELETE /api/v1/devices/{id}": "devices:write",
	"POST /api/v1/imports":        "imports:write",
	"GET /api/v1/advisories":      "advisories:read",
	"GET /api/v1/advisories/{id}": "advisories:read",
	"GET /api/v1/feeds":           "feeds:read",
	"GET /api/v1/audit":           "audit:read",
	"GET /api/v1/auth/whoami":     "",
	"POST /api/v1/sensor/batches": "sensor:write", // a sensor certificate or a token with sensor:write
	"GET /api/v1/edges":           "devices:read",

	// risk & findings: cvss.go, rubric.go, findings.go, risk.go, remediations.go
	"GET /api/v1/cvss":              "findings:read",
	"POST /api/v1/cvss":             "findings:read", // scores vectors; stores nothing
	"GET /api/v1/rubric":            "findings:read",
	"POST /api/v1/rubric":           "findings:read", // evaluates answers; stores nothing
	"GET /api/v1/findings":          "findings:read",
	"GET /api/v1/findings/{id}":     "findings:read",
	"PATCH /api/v1/findings/{id}":   "findings:write",
	"GET /api/v1/risk/devices":      "findings:read",
	"GET /api/v1/risk/devices/{id}": "findings:read",
	"GET /api/v1/risk/register":     "findings:read",
	"GET /api/v1/risk/trend":        "findings:read",
	"GET /api/v1/remediations":      "findings:read",
	// SBOMs (sboms.go): device data; attaching one is a device write
	"GET /api/v1/sboms":              "devices:read",
	"POST /api/v1/sboms":             "devices:write",
	"GET /api/v1/sboms/{id}":         "devices:read",
	"GET /api/v1/sboms/{id}/diff":    "devices:read",
	"GET /api/v1/sboms/{id}/export":  "devices:read",
	"GET /api/v1/components":         "devices:read",
	"GET /api/v1/devices/{id}/sboms": "devices:read",

	// zero trust: sensor certificates and API tokens
	"POST /api/v1/sensors/renew": ScopeSensorRenew,
	"GET /api/v1/tokens":         "", // own tokens; administrators all (tokens.go)
	"POST /api/v1/tokens":        "",
	"DELETE /api/v1/tokens/{id}": "",
}

// Principal is who made an authenticated request.
type Principal struct {
	User  *store.User
	Role  auth.Role
	Token *store.APIToken // nil for a session
	// Session is the console session when the cookie authenticated.
	Session *store.Session
	// Sensor is set (and User nil) when an enrolled sensor's client
	// certificate authenticated; SensorCert is that certificate's record.
	Sensor     *store.Sensor
	SensorCert *store.SensorCert
}

// Allows reports whether p may act in scope s: its role must allow it and,
// for a token, the token must carry it.
func (p *Principal) Allows(s auth.Scope) bool {
	if p.Sensor != nil { // a sensor holds the sensor scopes and nothing else
		return strings.HasPrefix(string(s), "sensor:")
	}
	if !p.Role.Allows(s) {
		return false
	}
	return p.Token == nil || slices.Contains(p.Token.Scopes, string(s))
}

// Account is the rate-limit and audit name of p: "alice" for a session,
// "alice/token:7" for a token.
func (p *Principal) Account() string {
	if p.Sensor != nil {
		return "sensor:" + p.Sensor.ID
	}
	if p.Token != nil {
		return p.User.Username + "/token:" + strconv.FormatInt(p.Token.ID, 10)
	}
	return p.User.Username
}

type principalKey struct{}

// PrincipalFrom returns the authenticated caller of a request's context.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok
}

var errUnauthenticated = errors.New("unauthenticated")

// Problem types of refusals.
const (
	typeUnauthorized = "https://medwarden.org/problems/unauthorized"
	typeForbidden    = "https://medwarden.org/problems/forbidden"
	typeRateLimited  = "https://medwarden.org/problems/rate-limited"
)

// needsAuth reports whether a path is behind authentication.
func needsAuth(p string) bool {
	p = path.Clean("/" + p)
	return p == "/metrics" || strings.HasPrefix(p, "/api/") || p == "/api"
}

// clientIP is the address of the peer (X-Forwarded-For is not trusted).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// guard authenticates and authorises r. It writes the refusal and returns
// nil when r may not proceed.
func (s *Server) guard(w http.ResponseWriter, r *http.Request) *http.Request {
	_, pattern := s.mux.Handler(r)
	if slices.Contains(PublicRoutes, pattern) {
		return r
	}
	ip := clientIP(r)
	if ok, wait := s.clientLimit.take(ip, 1); !ok {
		tooMany(w, r, wait, "too many requests from "+ip)
		return nil
	}
	p, err := s.authenticate(r)
	if err != nil {
		s.clientLimit.charge(ip, authFailureCost)
		if errors.Is(err, errUnauthenticated) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="medwarden"`)
			writeProblem(w, r, Problem{Type: typeUnauthorized, Title: "authentication required", Status: http.StatusUnauthorized, Detail: err.Error()})
			return nil
		}
		if clientGone(r.Context(), err) {
			s.abandoned(w, r, err)
			return nil
		}
		if store.Unavailable(err) {
			s.unavailable(w, r, err)
			return nil
		}
		s.log.Error("authentication failed", "err", err)
		writeProblem(w, r, Problem{Type: typeInternal, Title: "internal error", Status: http.StatusInternalServerError, Detail: "authentication could not be checked"})
		return nil
	}
	if ok, wait := s.accountLimit.take(p.Account(), 1); !ok {
		tooMany(w, r, wait, "too many requests for account "+p.Account())
		return nil
	}
	if p.Token == nil && p.Sensor == nil && p.User.MustChangePassword {
		forbidden(w, r, "the account must change its password in the web console first")
		return nil
	}
	if p.Token == nil && p.Sensor == nil && !safeMethod(r.Method) && !auth.TokensEqual(r.Header.Get(CSRFHeader), p.Session.CSRFToken) {
		forbidden(w, r, "a request with the session cookie that changes data needs the session's CSRF token in "+CSRFHeader)
		return nil
	}
	if pattern != "/api/" && pattern != "" { // not the 404 catch-all nor a 405
		scope, declared := RouteScopes[pattern]
		switch {
		case !declared:
			forbidden(w, r, "route "+pattern+" has no declared permission (denied by default)")
			return nil
		case scope != "" && !p.Allows(scope):
			forbidden(w, r, fmt.Sprintf("%s %s needs scope %s, which %s does not have", r.Method, r.URL.Path, scope, p.describe()))
			return nil
		}
	}
	kind := audit.KindUser
	if p.Token != nil {
		kind = audit.KindToken
	}
	if p.Sensor != nil {
		kind = audit.KindSensor
	}
	ctx := context.WithValue(r.Context(), principalKey{}, p)
	ctx = audit.WithActor(ctx, audit.Actor{Name: p.Account(), Kind: kind, Source: ip})
	return r.WithContext(ctx)
}

func (p *Principal) describe() string {
	if p.Sensor != nil {
		return fmt.Sprintf("sensor %s (%s)", p.Sensor.ID, p.Sensor.Name)
	}
	if p.Token != nil {
		return fmt.Sprintf("token %d of %s (role %s)", p.Token.ID, p.User.Username, p.Role)
	}
	return fmt.Sprintf("%s (role %s)", p.User.Username, p.Role)
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func forbidden(w http.ResponseWriter, r *http.Request, detail string) {
	writeProblem(w, r, Problem{Type: typeForbidden, Title: "forbidden", Status: http.StatusForbidden, Detail: detail})
}

func tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration, detail string) {
	secs := int(wait/time.Second) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeProblem(w, r, Problem{Type: typeRateLimited, Title: "too many requests", Status: http.StatusTooManyRequests,
		Detail: fmt.Sprintf("%s; retry after %d s", detail, secs)})
}

// authenticate finds the caller from a bearer token or the session cookie.
func (s *Server) authenticate(r *http.Request) (*Principal, error) {
	if s.sec == nil {
		return nil, fmt.Errorf("%w: this store keeps no API tokens", errUnauthenticated)
	}
	ctx := r.Context()
	now := s.now()
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		// A client certificate was sent and the TLS layer verified it
		// against the sensor CA: only a sensor can be this caller.
		return s.sensorPrincipal(ctx, r.TLS.VerifiedChains, now)
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return nil, fmt.Errorf("%w: Authorization must be \"Bearer <token>\"", errUnauthenticated)
		}
		return s.tokenPrincipal(ctx, strings.TrimSpace(tok), now)
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" && len(c.Value) <= 128 {
		return s.sessionPrincipal(ctx, c.Value, now)
	}
	return nil, fmt.Errorf("%w: send \"Authorization: Bearer <API token>\" (see 'medwarden token create') or sign in to the console", errUnauthenticated)
}

var errBadToken = fmt.Errorf("%w: the API token is invalid, expired or revoked", errUnauthenticated)

func (s *Server) tokenPrincipal(ctx context.Context, tok string, now time.Time) (*Principal, error) {
	if !auth.LooksLikeAPIToken(tok) {
		return nil, errBadToken
	}
	hash := auth.HashToken(tok)
	if e := s.authCache.get(hash, now); e != nil {
		if !now.Before(e.token.ExpiresAt) {
			return nil, errBadToken
		}
		s.touchToken(ctx, e, now)
		t, u := e.token, e.user
		return &Principal{User: &u, Role: e.role, Token: &t}, nil
	}
	var gen uint64
	if s.authCache != nil {
		gen = s.authCache.generation() // before the reads (authcache.go)
	}
	t, err := s.sec.GetTokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	if !auth.TokensEqual(t.Hash, hash) || !t.RevokedAt.IsZero() || !now.Before(t.ExpiresAt) {
		return nil, errBadToken
	}
	u, err := s.st.GetUser(ctx, t.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errBadToken
	}
	role, err := auth.ParseRole(u.Role)
	if err != nil {
		return nil, errBadToken
	}
	e := &authEntry{token: *t, user: *u, role: role, gen: gen, expires: now.Add(s.authCache.ttlOr0())}
	e.touched.Store(t.LastUsed.UnixNano())
	s.touchToken(ctx, e, now)
	s.authCache.put(hash, e)
	return &Principal{User: u, Role: role, Token: t}, nil
}

// touchToken records the token's use at most once a minute (one request
// of those running at the same time does it).
func (s *Server) touchToken(ctx context.Context, e *authEntry, now time.Time) {
	last := e.touched.Load()
	if now.UnixNano()-last <= int64(time.Minute) || !e.touched.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	if err := s.sec.TouchToken(ctx, e.token.ID, now); err != nil && !clientGone(ctx, err) {
		s.log.Warn("record api token use", "token_id", e.token.ID, "err", err)
	}
}

var errBadSession = fmt.Errorf("%w: the session expired; sign in again", errUnauthenticated)

func (s *Server) sessionPrincipal(ctx context.Context, cookie string, now time.Time) (*Principal, error) {
	se, err := s.st.GetSession(ctx, auth.HashToken(cookie))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadSession
	}
	if err != nil {
		return nil, err
	}
	if now.After(se.ExpiresAt) || now.Sub(se.LastSeen) > s.sessionIdle {
		return nil, errBadSession
	}
	u, err := s.st.GetUser(ctx, se.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errBadSession
	}
	if err != nil {
		return nil, err
	}
	role, err := auth.ParseRole(u.Role)
	if u.Disabled || err != nil {
		return nil, errBadSession
	}
	return &Principal{User: u, Role: role, Session: se}, nil
}

// WithSessionActor marks requests to h (the web console) with the signed-in
// user as the audit actor, so changes made in the console are attributed.
// It only reads the session; the console still authenticates every request.
func (s *Server) WithSessionActor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := audit.Actor{Name: "anonymous", Kind: audit.KindUser, Source: clientIP(r)}
		if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" && len(c.Value) <= 128 {
			if p, err := s.sessionPrincipal(r.Context(), c.Value, s.now()); err == nil {
				a.Name = p.User.Username
			}
		}
		h.ServeHTTP(w, r.WithContext(audit.WithActor(r.Context(), a)))
	})
}

// whoami tells a caller who it is authenticated as and what it may do.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		writeProblem(w, r, Problem{Type: typeUnauthorized, Title: "authentication required", Status: http.StatusUnauthorized})
		return
	}
	if p.Sensor != nil {
		writeJSON(w, http.StatusOK, map[string]any{"sensor": p.Sensor.ID, "name": p.Sensor.Name, "via": "client certificate",
			"certificate_serial": p.SensorCert.Serial, "certificate_expires_at": p.SensorCert.NotAfter})
		return
	}
	var scopes []string
	for _, sc := range auth.AllScopes {
		if p.Allows(sc) {
			scopes = append(scopes, string(sc))
		}
	}
	out := map[string]any{"user": p.User.Username, "role": p.Role, "scopes": scopes, "via": "session"}
	if p.Token != nil {
		out["via"] = "token"
		out["token_id"] = p.Token.ID
		out["token_expires_at"] = p.Token.ExpiresAt
	}
	writeJSON(w, http.StatusOK, out)
}

// listAudit serves a page of the audit log: ?after=SEQ&limit=N (≤ 1000).
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, limit := int64(0), 100
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			badParam(w, r, "after", "a sequence number (0 or more)")
			return
		}
		after = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			badParam(w, r, "limit", "a number from 1 to 1000")
			return
		}
		limit = n
	}
	es, err := s.sec.ListAudit(r.Context(), after, limit)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := map[string]any{"entries": es}
	if es == nil {
		out["entries"] = []any{}
	}
	if len(es) == limit {
		out["next"] = strconv.FormatInt(es[len(es)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, out)
}

func badParam(w http.ResponseWriter, r *http.Request, name, want string) {
	writeProblem(w, r, Problem{Type: typeValidation, Title: "invalid query parameter", Status: http.StatusBadRequest,
		Detail: fmt.Sprintf("query parameter %q must be %s", name, want)})
}
