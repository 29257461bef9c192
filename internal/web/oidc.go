package web

import (
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/oidc"
	"github.com/medwarden/medwarden/internal/store"
)

// Single sign-on with OpenID Connect (internal/oidc): GET /auth/oidc/login
// sends the browser to the identity provider with state, nonce and a
// PKCE challenge; GET /auth/oidc/callback checks the state against the
// cookie set on this browser, redeems the code, verifies the ID token,
// provisions the account (role from the mapped claim) and starts a
// console session. Both answer 404 when single sign-on is not configured.

const oidcStateCookie = "mw_oidc_state"

// EnableOIDC turns on single sign-on with provider p; links keeps the
// identity↔account links.
func (h *Handler) EnableOIDC(p *oidc.Provider, links store.OIDCStore) {
	h.oidc, h.oidcLinks = p, links
}

// ssoName is the label of the login page's single sign-on button ("" when off).
func (h *Handler) ssoName() string {
	if h.oidc == nil {
		return ""
	}
	return h.oidc.Name()
}

func (h *Handler) routeOIDC() {
	h.route(Route{Method: "GET", Path: "/auth/oidc/login", Public: true}, h.oidcLogin)
	h.route(Route{Method: "GET", Path: "/auth/oidc/callback", Public: true}, h.oidcCallback)
}

func (h *Handler) oidcLogin(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	if h.oidc == nil {
		h.errorPage(w, r, nil, http.StatusNotFound, "Page not found", "Single sign-on is not configured on this server.")
		return
	}
	authURL, state, err := h.oidc.Start(safeNext(r.URL.Query().Get("next")), h.now())
	if err != nil {
		h.serverError(w, r, nil, err)
		return
	}
	// SameSite=Lax: the provider's redirect back is a cross-site top-level
	// GET, which Lax cookies accompany and Strict ones do not.
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Value: state, Path: "/auth/oidc/", MaxAge: 600,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

func (h *Handler) oidcFail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.renderLogin(w, r, status, loginData{Next: "/", Error: "Single sign-on failed: " + msg})
}

var continueTmpl = template.Must(template.New("continue").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">` +
	`<meta http-equiv="refresh" content="0;url={{.}}"><title>Signed in</title></head>` +
	`<body><p>Signed in. <a href="{{.}}">Continue to MedWarden</a>.</p></body></html>`))

func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	if h.oidc == nil {
		h.errorPage(w, r, nil, http.StatusNotFound, "Page not found", "Single sign-on is not configured on this server.")
		return
	}
	q := r.URL.Query()
	http.SetCookie(w, &http.Cookie{Name: oidcStateCookie, Value: "", Path: "/auth/oidc/", MaxAge: -1, HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode})
	if e := q.Get("error"); e != "" {
		h.log.Info("single sign-on refused by the provider", "error", e, "description", q.Get("error_description"))
		h.oidcFail(w, r, http.StatusUnauthorized, "the identity provider answered "+e+".")
		return
	}
	c, _ := r.Cookie(oidcStateCookie)
	state := q.Get("state")
	if c == nil || state == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		h.oidcFail(w, r, http.StatusForbidden, "the sign-in was not started in this browser or expired; please try again.")
		return
	}
	ctx := r.Context()
	id, next, err := h.oidc.Finish(ctx, state, q.Get("code"), h.now())
	if err != nil {
		h.log.Warn("single sign-on failed", "err", err, "addr", clientAddr(r))
		msg := "the identity could not be verified; please try again."
		if errors.Is(err, oidc.ErrNoRole) || errors.Is(err, oidc.ErrState) || errors.Is(err, oidc.ErrClaims) {
			msg = err.Error() + "."
		}
		h.oidcFail(w, r, http.StatusUnauthorized, msg)
		return
	}
	actx := audit.WithActor(ctx, audit.Actor{Name: id.Username, Kind: audit.KindUser, Source: clientAddr(r)})
	u, created, err := oidc.Provision(actx, h.st, h.oidcLinks, id, h.now())
	if err != nil {
		h.log.Warn("single sign-on refused", "user", id.Username, "subject", id.Subject, "err", err)
		h.oidcFail(w, r, http.StatusForbidden, err.Error()+".")
		return
	}
	if sec, ok := h.st.(store.SecurityStore); ok {
		if err := recorder.Record(actx, sec, "user.login.oidc", "user/"+u.Username, nil, map[string]any{
			"issuer": id.Issuer, "subject": id.Subject, "role": id.Role, "groups": id.Groups, "account_created": created}); err != nil {
			h.serverError(w, r, nil, err)
			return
		}
	}
	if err := h.startSession(w, r, u); err != nil {
		h.serverError(w, r, nil, err)
		return
	}
	h.log.Info("signed in with single sign-on", "user", u.Username, "role", u.Role, "addr", clientAddr(r))
	// The session cookie is SameSite=Strict: a redirect chain that began at
	// the provider would not carry it, so continue with a same-site page.
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := continueTmpl.Execute(w, (&url.URL{Path: safeNext(next)}).String()); err != nil {
		h.log.Warn("write continue page", "err", err)
	}
}
