package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

// bearer maps a test server URL to the admin token do() sends by default.
var bearer sync.Map

func setBearer(req *http.Request) {
	bearer.Range(func(k, v any) bool {
		if strings.HasPrefix(req.URL.String(), k.(string)+"/") {
			req.Header.Set("Authorization", "Bearer "+v.(string))
			return false
		}
		return true
	})
}

type secStore interface {
	store.Store
	store.SecurityStore
}

// newToken creates user name (if missing) with role and a token with scopes.
func newToken(t testing.TB, st secStore, name string, role auth.Role, scopes string) string {
	t.Helper()
	ctx := t.Context()
	u, err := st.GetUserByName(ctx, name)
	if err != nil {
		u = &store.User{Username: name, Role: string(role), PasswordHash: "$argon2id$unused"}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	sc, err := auth.ParseScopes(scopes)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, s := range sc {
		if role.Allows(s) {
			keep = append(keep, string(s))
		}
	}
	tok, err := auth.NewAPIToken()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateToken(ctx, &store.APIToken{UserID: u.ID, Name: "test", Hash: auth.HashToken(tok), Scopes: keep,
		ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return tok
}

type authEnv struct {
	st  *recorder.Store
	ts  *httptest.Server
	srv *api.Server
	log *bytes.Buffer
}

func newAuthServerTB(b testing.TB) *authEnv {
	return newAuthServer(b, api.RateLimit{PerClient: -1, PerAccount: -1})
}

func newAuthServer(t testing.TB, rl api.RateLimit) *authEnv {
	t.Helper()
	raw, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := recorder.Wrap(raw, log)
	if err != nil {
		t.Fatal(err)
	}
	s := api.New(api.Deps{Store: st, Logger: log, RateLimit: rl})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return &authEnv{st: st, ts: ts, srv: s, log: &buf}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// call makes a request with exactly the given headers (no default token).
func call(t *testing.T, method, url, body string, hdr ...string) resp {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body) //nolint:errcheck // the status is what matters
	return resp{code: res.StatusCode, hdr: res.Header, raw: b.String()}
}

// routeAccess is the expected access of every role to every route. A route
// registered in api.New but missing here fails TestEveryRouteAndRole:
// decide who may call it, declare its scope in api.RouteScopes, add it here.
var routeAccess = map[string][]auth.Role{
	"GET /metrics":                {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/devices":         {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/devices/{id}":    {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"POST /api/v1/devices":        {auth.Admin, auth.Analyst, auth.ClinicalEngineer},
	"PUT /api/v1/devices/{id}":    {auth.Admin, auth.Analyst, auth.ClinicalEngineer},
	"DELETE /api/v1/devices/{id}": {auth.Admin, auth.Analyst, auth.ClinicalEngineer},
	"POST /api/v1/imports":        {auth.Admin, auth.Analyst, auth.ClinicalEngineer},
	"GET /api/v1/advisories":      {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/advisories/{id}": {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/feeds":           {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/audit":           {auth.Admin, auth.Auditor},
	"GET /api/v1/auth/whoami":     {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},

	// risk & findings: cvss.go, rubric.go, findings.go, risk.go, remediations.go
	"GET /api/v1/cvss":              {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"POST /api/v1/cvss":             {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/rubric":            {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"POST /api/v1/rubric":           {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/findings":          {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/findings/{id}":     {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"PATCH /api/v1/findings/{id}":   {auth.Admin, auth.Analyst, auth.ClinicalEngineer},
	"GET /api/v1/risk/devices":      {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/risk/devices/{id}": {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/risk/register":     {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/risk/trend":        {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/remediations":      {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	// SBOMs: sboms.go
	"GET /api/v1/sboms":              {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"POST /api/v1/sboms":             {auth.Admin, auth.Analyst, auth.ClinicalEngineer},
	"GET /api/v1/sboms/{id}":         {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/sboms/{id}/diff":    {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/sboms/{id}/export":  {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/components":         {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"GET /api/v1/devices/{id}/sboms": {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},

	// sensor ingestion: sensor_batches.go
	"POST /api/v1/sensor/batches": {auth.Admin, auth.Analyst, auth.ClinicalEngineer},
	"GET /api/v1/edges":           {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},

	// zero trust
	"POST /api/v1/sensors/renew": {}, // sensors only (client certificate): sensors_test.go
	"GET /api/v1/tokens":         {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"POST /api/v1/tokens":        {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
	"DELETE /api/v1/tokens/{id}": {auth.Admin, auth.Analyst, auth.ClinicalEngineer, auth.Auditor, auth.Viewer},
}

func concretePath(p string) string { return strings.ReplaceAll(p, "{id}", "1") }

// TestEveryRouteAndRole enumerates every registered route and every role,
// with a token holding every scope the role allows and with a console
// session, and checks allow (anything but 401/403) or deny (403); and that
// without credentials every non-public route answers 401.
func TestEveryRouteAndRole(t *testing.T) {
	e := newAuthServer(t, api.RateLimit{PerClient: -1, PerAccount: -1})
	ctx := t.Context()
	tokens := map[auth.Role]string{}
	sessions := map[auth.Role][2]string{}
	for _, role := range auth.Roles {
		tokens[role] = newToken(t, e.st, "u-"+string(role), role, "*")
		u, err := e.st.GetUserByName(ctx, "u-"+string(role))
		if err != nil {
			t.Fatal(err)
		}
		cookie, csrf := "cookie-"+string(role), "csrf-"+string(role)
		now := time.Now()
		if err := e.st.CreateSession(ctx, &store.Session{IDHash: auth.HashToken(cookie), UserID: u.ID, CSRFToken: csrf,
			CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		sessions[role] = [2]string{cookie, csrf}
	}
	seen := map[string]bool{}
	for _, rt := range e.srv.Routes() {
		key := rt.Method + " " + rt.Path
		seen[key] = true
		url := e.ts.URL + concretePath(rt.Path)
		if contains(api.PublicRoutes, key) {
			if r := call(t, rt.Method, url, ""); r.code == 401 || r.code == 403 {
				t.Errorf("public route %s: %d without credentials", key, r.code)
			}
			continue
		}
		allowed, ok := routeAccess[key]
		if !ok {
			t.Errorf("route %s has no expected access in routeAccess (and needs a scope in api.RouteScopes)", key)
			continue
		}
		if _, ok := api.RouteScopes[key]; !ok {
			t.Errorf("route %s has no scope in api.RouteScopes: it is denied to everybody", key)
		}
		if r := call(t, rt.Method, url, ""); r.code != 401 || r.hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s without credentials: %d, want 401 with WWW-Authenticate", key, r.code)
		}
		for _, role := range auth.Roles {
			want := contains(allowed, role)
			r := call(t, rt.Method, url, "", "Authorization", "Bearer "+tokens[role])
			if got := r.code != 401 && r.code != 403; got != want {
				t.Errorf("%s as %s with token: status %d, allowed=%v, want allowed=%v (%s)", key, role, r.code, got, want, r.raw)
			}
			if !want && r.code != 403 {
				t.Errorf("%s as %s with token: status %d, want 403", key, role, r.code)
			}
			se := sessions[role]
			r = call(t, rt.Method, url, "", "Cookie", api.SessionCookie+"="+se[0], api.CSRFHeader, se[1])
			if got := r.code != 401 && r.code != 403; got != want {
				t.Errorf("%s as %s with session: status %d, allowed=%v, want allowed=%v (%s)", key, role, r.code, got, want, r.raw)
			}
		}
	}
	for key := range routeAccess {
		if !seen[key] {
			t.Errorf("routeAccess names %s, which is not served", key)
		}
	}
	for key := range api.RouteScopes {
		if !seen[key] {
			t.Errorf("api.RouteScopes names %s, which is not served", key)
		}
	}
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestDeniedByDefault: unknown routes and methods answer 401 before 404
// or 405 to strangers, and 404/405 to authenticated callers.
func TestDeniedByDefault(t *testing.T) {
	e := newAuthServer(t, api.RateLimit{})
	tok := newToken(t, e.st, "viewer", auth.Viewer, "devices:read")
	tests := []struct {
		name, method, path string
		auth               bool
		want               int
	}{
		{"unknown_route_stranger", "GET", "/api/v1/secrets", false, 401},
		{"unknown_route_authenticated", "GET", "/api/v1/secrets", true, 404},
		{"unknown_version_stranger", "GET", "/api/v2/devices", false, 401},
		{"wrong_method_stranger", "PATCH", "/api/v1/devices", false, 401},
		{"wrong_method_authenticated", "PATCH", "/api/v1/devices", true, 404},
		{"dot_segments_stranger", "GET", "/api/v1/../v1/devices", false, 401},
		{"encoded_path_stranger", "GET", "/%61pi/v1/devices", false, 401},
		{"metrics_stranger", "GET", "/metrics", false, 401},
		{"healthz_open", "GET", "/healthz", false, 200},
		{"readyz_open", "GET", "/readyz", false, 200},
		{"openapi_open", "GET", "/api/v1/openapi.json", false, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.auth {
				hdr = []string{"Authorization", "Bearer " + tok}
			}
			if r := call(t, tt.method, e.ts.URL+tt.path, "", hdr...); r.code != tt.want {
				t.Errorf("%s %s: %d, want %d (%s)", tt.method, tt.path, r.code, tt.want, r.raw)
			}
		})
	}
}

// TestTokenLifecycle: scopes narrower than the role, revocation, expiry,
// disabled users, role downgrades and malformed headers.
func TestTokenLifecycle(t *testing.T) {
	e := newAuthServer(t, api.RateLimit{PerClient: -1, PerAccount: -1})
	ctx := t.Context()
	readOnly := newToken(t, e.st, "ana", auth.Analyst, "devices:read")
	full := newToken(t, e.st, "ana", auth.Analyst, "devices:read,devices:write")
	dev := `{"asset_id":"BIO-1","vendor":"Baxter","model":"Sigma Spectrum"}`
	get := func(tok string) int {
		return call(t, "GET", e.ts.URL+"/api/v1/devices", "", "Authorization", "Bearer "+tok).code
	}
	if c := call(t, "POST", e.ts.URL+"/api/v1/devices", dev, "Authorization", "Bearer "+readOnly, "Content-Type", "application/json").code; c != 403 {
		t.Errorf("write with a read-only token: %d, want 403", c)
	}
	if c := call(t, "POST", e.ts.URL+"/api/v1/devices", dev, "Authorization", "Bearer "+full, "Content-Type", "application/json").code; c != 201 {
		t.Errorf("write with a write token: %d, want 201", c)
	}
	// Downgrading the user to viewer takes write away from the token.
	u, _ := e.st.GetUserByName(ctx, "ana")
	u.Role = string(auth.Viewer)
	if err := e.st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if c := call(t, "POST", e.ts.URL+"/api/v1/devices", `{"asset_id":"BIO-2"}`, "Authorization", "Bearer "+full, "Content-Type", "application/json").code; c != 403 {
		t.Errorf("write after downgrade to viewer: %d, want 403", c)
	}
	if c := get(full); c != 200 {
		t.Errorf("read after downgrade: %d, want 200", c)
	}
	// Revocation.
	tk, err := e.st.GetTokenByHash(ctx, auth.HashToken(readOnly))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.RevokeToken(ctx, tk.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if c := get(readOnly); c != 401 {
		t.Errorf("revoked token: %d, want 401", c)
	}
	// Disabled user.
	u.Disabled = true
	if err := e.st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if c := get(full); c != 401 {
		t.Errorf("token of a disabled user: %d, want 401", c)
	}
	// Expiry.
	v := &store.User{Username: "vic", Role: string(auth.Viewer), PasswordHash: "$argon2id$unused"}
	if err := e.st.CreateUser(ctx, v); err != nil {
		t.Fatal(err)
	}
	exp, _ := auth.NewAPIToken()
	if err := e.st.CreateToken(ctx, &store.APIToken{UserID: v.ID, Name: "old", Hash: auth.HashToken(exp), Scopes: []string{"devices:read"},
		ExpiresAt: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if c := get(exp); c != 401 {
		t.Errorf("expired token: %d, want 401", c)
	}
	for _, h := range []string{"Bearer", "Bearer mwt_short", "Basic YWRtaW46YWRtaW4=", "Bearer " + strings.Repeat("x", 47), "Bearer " + auth.TokenPrefix + strings.Repeat("A", 43)} {
		if c := call(t, "GET", e.ts.URL+"/api/v1/devices", "", "Authorization", h).code; c != 401 {
			t.Errorf("Authorization %q: %d, want 401", h, c)
		}
	}
}

// TestSessionWritesNeedCSRF: the console cookie authenticates API calls,
// but a write also needs the session's CSRF token.
func TestSessionWritesNeedCSRF(t *testing.T) {
	e := newAuthServer(t, api.RateLimit{})
	ctx := t.Context()
	u := &store.User{Username: "cleng", Role: string(auth.ClinicalEngineer), PasswordHash: "$argon2id$unused"}
	if err := e.st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := e.st.CreateSession(ctx, &store.Session{IDHash: auth.HashToken("c00kie"), UserID: u.ID, CSRFToken: "tok3n",
		CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	cookie := api.SessionCookie + "=c00kie"
	dev := `{"asset_id":"INF-7","vendor":"B. Braun"}`
	tests := []struct {
		name   string
		method string
		hdr    []string
		want   int
	}{
		{"read_without_csrf", "GET", []string{"Cookie", cookie}, 200},
		{"write_without_csrf", "POST", []string{"Cookie", cookie}, 403},
		{"write_wrong_csrf", "POST", []string{"Cookie", cookie, api.CSRFHeader, "nope"}, 403},
		{"write_with_csrf", "POST", []string{"Cookie", cookie, api.CSRFHeader, "tok3n"}, 201},
		{"unknown_cookie", "GET", []string{"Cookie", api.SessionCookie + "=forged"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := append([]string{"Content-Type", "application/json"}, tt.hdr...)
			if r := call(t, tt.method, e.ts.URL+"/api/v1/devices", dev, hdr...); r.code != tt.want {
				t.Errorf("%s: %d, want %d (%s)", tt.name, r.code, tt.want, r.raw)
			}
		})
	}
}

// TestRateLimit: a client over its bucket gets 429 with Retry-After; other
// clients' accounts are not affected by the per-account bucket of another.
func TestRateLimit(t *testing.T) {
	e := newAuthServer(t, api.RateLimit{PerClient: 1, PerAccount: -1, Burst: 5})
	tok := newToken(t, e.st, "viewer", auth.Viewer, "devices:read")
	codes := map[int]int{}
	var last resp
	for range 8 {
		last = call(t, "GET", e.ts.URL+"/api/v1/devices", "", "Authorization", "Bearer "+tok)
		codes[last.code]++
	}
	if diff := cmp.Diff(map[int]int{200: 5, 429: 3}, codes); diff != "" {
		t.Errorf("status counts (-want +got):\n%s", diff)
	}
	if last.hdr.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	// Health checks are not rate limited.
	if c := call(t, "GET", e.ts.URL+"/healthz", "").code; c != 200 {
		t.Errorf("healthz while limited: %d", c)
	}

	// Per account: one token is limited whatever the client.
	e2 := newAuthServer(t, api.RateLimit{PerClient: -1, PerAccount: 1, Burst: 2})
	a := newToken(t, e2.st, "a", auth.Viewer, "devices:read")
	b := newToken(t, e2.st, "b", auth.Viewer, "devices:read")
	var got []int
	for _, tk := range []string{a, a, a, b} {
		got = append(got, call(t, "GET", e2.ts.URL+"/api/v1/devices", "", "Authorization", "Bearer "+tk).code)
	}
	if diff := cmp.Diff([]int{200, 200, 429, 200}, got); diff != "" {
		t.Errorf("per-account statuses (-want +got):\n%s", diff)
	}
}

// TestFailedAuthCostsMore: guessing tokens drains the client's bucket fast.
func TestFailedAuthCostsMore(t *testing.T) {
	e := newAuthServer(t, api.RateLimit{PerClient: 0.01, PerAccount: -1, Burst: 50})
	var codes []int
	for range 4 {
		codes = append(codes, call(t, "GET", e.ts.URL+"/api/v1/devices", "", "Authorization", "Bearer mwt_guess").code)
	}
	if diff := cmp.Diff([]int{401, 401, 401, 429}, codes); diff != "" {
		t.Errorf("statuses while guessing (-want +got):\n%s", diff)
	}
}

// TestSecretsNeverLogged runs requests with a token, a session cookie and
// a CSRF token (including failing ones that log) and greps the log.
func TestSecretsNeverLogged(t *testing.T) {
	e := newAuthServer(t, api.RateLimit{})
	tok := newToken(t, e.st, "admin", auth.Admin, "*")
	ctx := t.Context()
	u, _ := e.st.GetUserByName(ctx, "admin")
	now := time.Now()
	if err := e.st.CreateSession(ctx, &store.Session{IDHash: auth.HashToken("s3ss10n-c00kie-value"), UserID: u.ID, CSRFToken: "csrf-s3cret",
		CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	call(t, "GET", e.ts.URL+"/api/v1/devices", "", "Authorization", "Bearer "+tok)
	call(t, "POST", e.ts.URL+"/api/v1/devices", `{"asset_id":"X-1"}`, "Authorization", "Bearer "+tok, "Content-Type", "application/json")
	call(t, "POST", e.ts.URL+"/api/v1/devices", `{`, "Cookie", api.SessionCookie+"=s3ss10n-c00kie-value", api.CSRFHeader, "csrf-s3cret")
	call(t, "GET", e.ts.URL+"/api/v1/devices", "", "Authorization", "Bearer "+tok[:len(tok)-1]+"Z")
	call(t, "GET", e.ts.URL+"/metrics", "", "Authorization", "Bearer "+tok)
	logs := e.log.String()
	if !strings.Contains(logs, "authentication") && !strings.Contains(logs, "level=") {
		t.Logf("log output:\n%s", logs)
	}
	for _, secret := range []string{tok, tok[len(auth.TokenPrefix):], tok[:len(tok)-1], "s3ss10n-c00kie-value", "csrf-s3cret", auth.HashToken(tok)} {
		if strings.Contains(logs, secret) {
			t.Errorf("log output contains a secret %.12s…:\n%s", secret, logs)
		}
	}
	// The audit log carries the token's id, never the token.
	var entries []string
	if err := e.st.ScanAudit(ctx, 0, func(en *audit.Entry) error {
		b := fmt.Sprintf("%s %s %s %s", en.Actor, en.Object, en.Before, en.After)
		if strings.Contains(b, tok) || strings.Contains(b, auth.HashToken(tok)) {
			t.Errorf("audit entry %d contains the token or its hash", en.Seq)
		}
		entries = append(entries, en.Action+" by "+en.ActorKind)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"user.create by system", "token.create by system", "device.create by token"}, entries); diff != "" {
		t.Errorf("audit entries (-want +got):\n%s", diff)
	}
}

// TestAuditAPI: changes made through the API are audited with actor,
// source, before and after; the log is readable by auditors and admins only.
func TestAuditAPI(t *testing.T) {
	e := newAuthServer(t, api.RateLimit{})
	writer := newToken(t, e.st, "ana", auth.Analyst, "devices:*")
	auditor := newToken(t, e.st, "audrey", auth.Auditor, "audit:read")
	viewer := newToken(t, e.st, "vic", auth.Viewer, "*")
	r := call(t, "POST", e.ts.URL+"/api/v1/devices", `{"asset_id":"PUMP-9","vendor":"Baxter"}`, "Authorization", "Bearer "+writer, "Content-Type", "application/json")
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.raw)
	}
	loc := r.hdr.Get("Location")
	if c := call(t, "PUT", e.ts.URL+loc, `{"asset_id":"PUMP-9","vendor":"Baxter","version":"8.01"}`, "Authorization", "Bearer "+writer, "If-Match", `"1"`).code; c != 200 {
		t.Fatalf("update: %d", c)
	}
	if c := call(t, "DELETE", e.ts.URL+loc, "", "Authorization", "Bearer "+writer, "If-Match", `"2"`).code; c != 204 {
		t.Fatalf("delete: %d", c)
	}
	if c := call(t, "GET", e.ts.URL+"/api/v1/audit", "", "Authorization", "Bearer "+viewer).code; c != 403 {
		t.Errorf("viewer reads audit: %d, want 403", c)
	}
	r = call(t, "GET", e.ts.URL+"/api/v1/audit?after=3&limit=2", "", "Authorization", "Bearer "+auditor)
	if r.code != 200 {
		t.Fatalf("auditor reads audit: %d %s", r.code, r.raw)
	}
	var page struct {
		Entries []*audit.Entry `json:"entries"`
		Next    string         `json:"next"`
	}
	if err := jsonUnmarshal(r.raw, &page); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Seq                                                int64
		Actor, Kind, Source, Action, Object, Before, After string
	}
	var got []row
	for _, en := range page.Entries {
		got = append(got, row{en.Seq, en.Actor, en.ActorKind, en.Source, en.Action, en.Object, trunc(en.Before), trunc(en.After)})
	}
	if len(got) != 2 || page.Next != "5" {
		t.Fatalf("page after=3 limit=2: %d entries, next %q", len(got), page.Next)
	}
	all := auditActions(t, e.st)
	if diff := cmp.Diff([]string{"user.create", "token.create", "user.create", "token.create", "user.create", "token.create",
		"device.create", "device.update", "device.delete"}, all); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	ents, err := e.st.ListAudit(ctx(t), 7, 10)
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, en := range ents {
		got = append(got, row{en.Seq, en.Actor, en.ActorKind, en.Source, en.Action, en.Object, trunc(en.Before), trunc(en.After)})
	}
	tk, _ := e.st.GetTokenByHash(ctx(t), auth.HashToken(writer))
	actor := fmt.Sprintf("ana/token:%d", tk.ID)
	want := []row{
		{8, actor, "token", "127.0.0.1", "device.update", "device/1", `{"asset_id":"PUMP-9","created_at"`, `{"asset_id":"PUMP-9","created_at"`},
		{9, actor, "token", "127.0.0.1", "device.delete", "device/1", `{"asset_id":"PUMP-9","created_at"`, "null"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit entries (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(ents[0].Before), `"revision":1`) || !strings.Contains(string(ents[0].After), `"version":"8.01"`) {
		t.Errorf("update entry lacks before/after detail: %s -> %s", ents[0].Before, ents[0].After)
	}
}

func trunc(b []byte) string {
	if len(b) > 33 {
		return string(b[:33])
	}
	return string(b)
}

func auditActions(t *testing.T, st store.SecurityStore) []string {
	t.Helper()
	var out []string
	v := audit.NewVerifier()
	if err := st.ScanAudit(t.Context(), 0, func(e *audit.Entry) error {
		out = append(out, e.Action)
		return v.Add(e)
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func ctx(t *testing.T) context.Context { return t.Context() }

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
