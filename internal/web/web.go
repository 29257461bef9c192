// Package web is MedWarden's web console: server-rendered pages
// (html/template, assets embedded, no build step, no third-party assets)
// with local accounts, sessions, CSRF protection and role checks on every
// route. Handlers decode the request, call the store and render; the
// pages work without JavaScript, and app.js only adds live import
// progress and confirmations.
package web

import (
	"context"
	"crypto/ed25519"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/feeds"
	"github.com/medwarden/medwarden/internal/findings"
	"github.com/medwarden/medwarden/internal/oidc"
	"github.com/medwarden/medwarden/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Defaults.
const (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
	DefaultMaxUpload       = 256 << 20 // 256 MiB inventory file
	DefaultStatsMaxAge     = 30 * time.Second
	maxFormBody            = 64 << 10 // every other form
	sessionCookie          = "mw_session"
	loginCSRFCookie        = "mw_login"
	touchEvery             = time.Minute // last_seen is written at most this often
)

// Deps are what the console needs.
type Deps struct {
	Store  store.Store
	Logger *slog.Logger
	// Params are the argon2id costs for new hashes (zero: auth.DefaultParams).
	Params          auth.Params
	IdleTimeout     time.Duration // zero: DefaultIdleTimeout
	AbsoluteTimeout time.Duration // zero: DefaultAbsoluteTimeout
	MaxUploadBytes  int64         // zero: DefaultMaxUpload
	// TempDir receives uploads while they are imported (zero: os.TempDir()).
	TempDir string
	// TrustForwardedProto marks cookies Secure when a reverse proxy says
	// X-Forwarded-Proto: https (set only behind a proxy you control).
	TrustForwardedProto bool
	// Now is the clock (zero: time.Now).
	Now func() time.Time
	// StatsMaxAge is how long dashboard counts are reused (zero:
	// DefaultStatsMaxAge; negative: never).
	StatsMaxAge time.Duration
	// MaxFeedAge is when a feed is called stale in the freshness banner
	// (zero: feeds.DefaultMaxAge, 7 days), as --max-feed-age elsewhere.
	MaxFeedAge time.Duration
	// AfterImport, when set, is called after each import that wrote to
	// the store (serve: run the index builds a large import deferred).
	AfterImport func()
	// MaxFeedUploadBytes bounds a feed file uploaded on the Feeds page
	// (zero: DefaultMaxFeedUpload).
	MaxFeedUploadBytes int64
	// BundleKeys are ed25519 public keys trusted for signed offline
	// bundles uploaded on the Feeds page (besides a key uploaded with the
	// bundle).
	BundleKeys []ed25519.PublicKey
	// Findings is the findings service; workflow changes made on finding
	// pages go through it (validated, audited, device rescored at once).
	// Nil: they are written to the store directly with the same rules.
	Findings *findings.Service
}

// Handler serves the console. Close stops running imports.
type Handler struct {
	afterImport func() // Deps.AfterImport
	st          store.Store
	log         *slog.Logger
	params      auth.Params
	idle        time.Duration
	absolute    time.Duration
	maxUp       int64
	tempDir     string
	fwdProto    bool
	now         func() time.Time
	throttle    *auth.Throttle
	pages       map[string]*template.Template
	mux         *http.ServeMux
	routes      []Route
	static      http.Handler

	ctx    context.Context // import jobs run under it
	cancel context.CancelFunc
	jobs   *jobs

	maxFeedAge time.Duration
	maxFeedUp  int64
	bundleKeys []ed25519.PublicKey
	findings   *findings.Service
	feedMuT
	exploit exploitCache
	auditV  auditVerifier

	statsAge time.Duration
	dashMu   sync.Mutex
	dash     statsState
	bg       sync.WaitGroup // background work Close waits for

	// oidc is single sign-on (oidc.go; nil: off) and oidcLinks its identity links.
	oidc      *oidc.Provider
	oidcLinks store.OIDCStore
}

// Route is one console endpoint and the permission it needs; Routes lists
// them so a test can check every route against every role.
type Route struct {
	Method, Path string
	// Public routes need no session (login, static assets).
	Public bool
	Perm   auth.Permission
	// MaxBody bounds the request body of a POST.
	MaxBody int64
	h       func(w http.ResponseWriter, r *http.Request, rc *reqCtx)
}

// reqCtx is the signed-in user of a request.
type reqCtx struct {
	User    *store.User
	Role    auth.Role
	Session *store.Session
}

// New builds the console.
func New(ctx context.Context, d Deps) (*Handler, error) {
	if d.Store == nil {
		return nil, errors.New("web: no store")
	}
	h := &Handler{st: d.Store, log: d.Logger, params: d.Params, idle: d.IdleTimeout, absolute: d.AbsoluteTimeout,
		maxUp: d.MaxUploadBytes, tempDir: d.TempDir, fwdProto: d.TrustForwardedProto, now: d.Now,
		throttle: auth.NewThrottle(), mux: http.NewServeMux(), jobs: newJobs()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.params == (auth.Params{}) {
		h.params = auth.DefaultParams
	}
	if h.idle <= 0 {
		h.idle = DefaultIdleTimeout
	}
	if h.absolute <= 0 {
		h.absolute = DefaultAbsoluteTimeout
	}
	if h.maxUp <= 0 {
		h.maxUp = DefaultMaxUpload
	}
	h.maxFeedAge, h.maxFeedUp, h.bundleKeys, h.findings = d.MaxFeedAge, d.MaxFeedUploadBytes, d.BundleKeys, d.Findings
	h.afterImport = d.AfterImport
	if h.maxFeedAge <= 0 {
		h.maxFeedAge = feeds.DefaultMaxAge
	}
	if h.maxFeedUp <= 0 {
		h.maxFeedUp = DefaultMaxFeedUpload
	}
	h.statsAge = d.StatsMaxAge
	if h.statsAge == 0 {
		h.statsAge = DefaultStatsMaxAge
	}
	if h.tempDir == "" {
		h.tempDir = os.TempDir()
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.throttle.Now = h.now
	h.ctx, h.cancel = context.WithCancel(ctx)
	if err := h.parseTemplates(); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("web: static assets: %w", err)
	}
	h.static = http.StripPrefix("/static/", http.FileServerFS(sub))

	h.route(Route{Method: "GET", Path: "/static/", Public: true}, h.serveStatic)
	h.route(Route{Method: "GET", Path: "/login", Public: true}, h.loginPage)
	h.route(Route{Method: "POST", Path: "/login", Public: true}, h.login)
	h.routeOIDC() // GET /auth/oidc/login, /auth/oidc/callback (oidc.go)
	h.route(Route{Method: "POST", Path: "/logout", Perm: auth.PermRead}, h.logout)
	h.route(Route{Method: "GET", Path: "/{$}", Perm: auth.PermRead}, h.dashboard)
	h.route(Route{Method: "GET", Path: "/devices", Perm: auth.PermRead}, h.devices)
	h.route(Route{Method: "GET", Path: "/devices.csv", Perm: auth.PermRead}, h.devicesCSV)
	h.route(Route{Method: "GET", Path: "/devices/{id}", Perm: auth.PermRead}, h.device)
	h.route(Route{Method: "POST", Path: "/devices/{id}/conflicts", Perm: auth.PermWrite}, h.resolveConflict)
	h.route(Route{Method: "POST", Path: "/views", Perm: auth.PermRead}, h.saveView)
	h.route(Route{Method: "POST", Path: "/views/{id}/delete", Perm: auth.PermRead}, h.deleteView)
	h.route(Route{Method: "GET", Path: "/imports", Perm: auth.PermRead}, h.importsPage)
	h.route(Route{Method: "POST", Path: "/imports", Perm: auth.PermWrite, MaxBody: h.maxUp}, h.upload)
	h.route(Route{Method: "GET", Path: "/imports/{id}", Perm: auth.PermRead}, h.importPage)
	h.route(Route{Method: "GET", Path: "/imports/{id}/events", Perm: auth.PermRead}, h.importEvents)
	h.route(Route{Method: "GET", Path: "/imports/{id}/errors.csv", Perm: auth.PermRead}, h.importErrorsCSV)
	h.route(Route{Method: "GET", Path: "/advisories", Perm: auth.PermRead}, h.advisories)
	h.route(Route{Method: "GET", Path: "/advisories/{id}", Perm: auth.PermRead}, h.advisoryPage)
	h.route(Route{Method: "GET", Path: "/findings", Perm: auth.PermRead}, h.findingsPage)
	h.route(Route{Method: "GET", Path: "/findings/{id}", Perm: auth.PermRead}, h.findingPage)
	h.route(Route{Method: "POST", Path: "/findings/{id}", Perm: auth.PermWrite}, h.updateFinding)
	h.route(Route{Method: "GET", Path: "/remediations", Perm: auth.PermRead}, h.remediationsPage)
	h.route(Route{Method: "GET", Path: "/feeds", Perm: auth.PermRead}, h.feedsPage)
	h.route(Route{Method: "POST", Path: "/feeds", Perm: auth.PermWrite, MaxBody: h.maxFeedUp + maxKeyFile + 64<<10}, h.feedUpload)
	h.routeSBOMUpload() // GET/POST /sboms/upload: attach an SBOM (sbom_upload.go)
	h.route(Route{Method: "GET", Path: "/audit", Perm: auth.PermAudit}, h.auditPage)
	h.route(Route{Method: "GET", Path: "/account/password", Perm: auth.PermRead}, h.passwordPage)
	h.route(Route{Method: "POST", Path: "/account/password", Perm: auth.PermRead}, h.changePassword)
	h.route(Route{Method: "GET", Path: "/settings/users", Perm: auth.PermAdmin}, h.usersPage)
	h.route(Route{Method: "POST", Path: "/settings/users", Perm: auth.PermAdmin}, h.createUser)
	h.route(Route{Method: "POST", Path: "/settings/users/{id}", Perm: auth.PermAdmin}, h.updateUser)
	if h.statsAge > 0 { // the first dashboard need not wait for its counts
		h.dashMu.Lock()
		h.startRefreshLocked()
		h.dashMu.Unlock()
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, nil, http.StatusNotFound, "Page not found", "There is no page at "+r.URL.Path+".")
	})
	return h, nil
}

// Routes lists the console's endpoints.
func (h *Handler) Routes() []Route { return h.routes }

// Close cancels running imports.
func (h *Handler) Close() {
	h.cancel()
	h.bg.Wait()
}

func (h *Handler) route(rt Route, fn func(http.ResponseWriter, *http.Request, *reqCtx)) {
	if rt.MaxBody == 0 {
		rt.MaxBody = maxFormBody
	}
	rt.h = fn
	h.routes = append(h.routes, rt)
	h.mux.Handle(rt.Method+" "+rt.Path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serveRoute(w, r, rt) }))
}

// csp allows our own scripts, styles and images only.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP sets the security headers and dispatches.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if h.secure(r) {
		hd.Set("Strict-Transport-Security", "max-age=31536000")
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) secure(r *http.Request) bool {
	return r.TLS != nil || (h.fwdProto && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

func (h *Handler) serveRoute(w http.ResponseWriter, r *http.Request, rt Route) {
	if rt.Method == "POST" {
		r.Body = http.MaxBytesReader(w, r.Body, rt.MaxBody)
		if !sameOrigin(r) {
			h.errorPage(w, r, nil, http.StatusForbidden, "Request refused", "The request came from another site.")
			return
		}
	}
	if rt.Public {
		rt.h(w, r, nil)
		return
	}
	rc, err := h.authenticate(w, r)
	if err != nil {
		h.serverError(w, r, nil, err)
		return
	}
	if rc == nil {
		if r.Method == "GET" && !strings.HasSuffix(r.URL.Path, "/events") {
			http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h.errorPage(w, r, nil, http.StatusUnauthorized, "Signed out", "Your session has ended. Sign in again.")
		return
	}
	if !rc.Role.Can(rt.Perm) {
		h.errorPage(w, r, rc, http.StatusForbidden, "Not allowed", fmt.Sprintf("Your role (%s) may not do this.", rc.Role.Label()))
		return
	}
	if rt.Method == "POST" {
		var err error
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			err = r.ParseMultipartForm(1 << 20) // larger parts are spooled to disk
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			if tooLarge(err) {
				h.errorPage(w, r, rc, http.StatusRequestEntityTooLarge, "Upload too large",
					fmt.Sprintf("The request exceeds the limit of %s. Nothing was written.", humanBytes(rt.MaxBody)))
				return
			}
			h.errorPage(w, r, rc, http.StatusBadRequest, "Bad request", "The form could not be read.")
			return
		}
		if !auth.TokensEqual(r.PostFormValue("csrf"), rc.Session.CSRFToken) {
			h.errorPage(w, r, rc, http.StatusForbidden, "Request refused",
				"The form's security token is missing or out of date. Go back, reload the page and try again.")
			return
		}
	}
	// Changes are audited under the signed-in user (the API's session
	// wrapper sets the same actor when the console is mounted behind it).
	if a, ok := audit.ActorFrom(r.Context()); !ok || a.Name == "anonymous" {
		src := r.RemoteAddr
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			src = host
		}
		r = r.WithContext(audit.WithActor(r.Context(), audit.Actor{Name: rc.User.Username, Kind: audit.KindUser, Source: src}))
	}
	if rc.User.MustChangePassword && r.URL.Path != "/account/password" && r.URL.Path != "/logout" {
		http.Redirect(w, r, "/account/password", http.StatusSeeOther)
		return
	}
	rt.h(w, r, rc)
}

// sameOrigin rejects cross-site POSTs when the browser says where they came
// from (defence in depth beside SameSite cookies and CSRF tokens).
func sameOrigin(r *http.Request) bool {
	if v := r.Header.Get("Sec-Fetch-Site"); v != "" && v != "same-origin" && v != "none" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

func tooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// authenticate returns the request's session, or nil when there is none
// or it expired.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (*reqCtx, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil, nil
	}
	hash := auth.HashToken(c.Value)
	ctx := r.Context()
	se, err := h.st.GetSession(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		h.clearCookie(w, r)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := h.now()
	if now.After(se.ExpiresAt) || now.Sub(se.LastSeen) > h.idle {
		if err := h.st.DeleteSession(ctx, hash); err != nil {
			return nil, err
		}
		h.clearCookie(w, r)
		return nil, nil
	}
	u, err := h.st.GetUser(ctx, se.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		if err := h.st.DeleteUserSessions(ctx, u.ID); err != nil {
			return nil, err
		}
		h.clearCookie(w, r)
		return nil, nil
	}
	role, err := auth.ParseRole(u.Role)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", u.Username, err)
	}
	if now.Sub(se.LastSeen) > touchEvery {
		if err := h.st.TouchSession(ctx, hash, now); err != nil {
			return nil, err
		}
		se.LastSeen = now
	}
	return &reqCtx{User: u, Role: role, Session: se}, nil
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteStrictMode})
}

func (h *Handler) clearCookie(w http.ResponseWriter, r *http.Request) {
	h.setCookie(w, r, sessionCookie, "", -1)
}

// startSession creates a session for u and sets the cookie.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, u *store.User) error {
	tok, err := auth.NewToken()
	if err != nil {
		return err
	}
	csrf, err := auth.NewToken()
	if err != nil {
		return err
	}
	now := h.now()
	se := &store.Session{IDHash: auth.HashToken(tok), UserID: u.ID, CSRFToken: csrf, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(h.absolute)}
	if err := h.st.CreateSession(r.Context(), se); err != nil {
		return err
	}
	// Housekeeping: drop expired sessions while we are writing anyway.
	if _, err := h.st.DeleteExpiredSessions(r.Context(), now, now.Add(-h.idle)); err != nil {
		h.log.Warn("delete expired sessions", "err", err)
	}
	h.setCookie(w, r, sessionCookie, tok, int(h.absolute/time.Second))
	return nil
}
