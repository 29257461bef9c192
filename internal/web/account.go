package web

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store"
)

type loginData struct {
	Token, Next, Username, Error string
	SSO                          string // single sign-on button label (oidc.go); "" when off
}

// safeNext keeps a post-login redirect on this site.
func safeNext(s string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") ||
		strings.ContainsAny(s, "\r\n\\") || strings.HasPrefix(s, "/login") {
		return "/"
	}
	if u, err := url.Parse(s); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return s
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	if rc, err := h.authenticate(w, r); err == nil && rc != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

// renderLogin sets a fresh login CSRF token (double-submit cookie: there
// is no session yet to hold it).
func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	tok, err := auth.NewToken()
	if err != nil {
		h.serverError(w, r, nil, err)
		return
	}
	h.setCookie(w, r, loginCSRFCookie, tok, 3600)
	d.Token, d.SSO = tok, h.ssoName()
	h.render(w, r, status, "login", page{Title: "Sign in", Data: d})
}

// clientAddr is the address login throttling counts against.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, nil, http.StatusBadRequest, "Bad request", "The sign-in form could not be read.")
		return
	}
	c, _ := r.Cookie(loginCSRFCookie)
	if c == nil || !auth.TokensEqual(c.Value, r.PostFormValue("csrf")) {
		h.renderLogin(w, r, http.StatusForbidden, loginData{Next: safeNext(r.PostFormValue("next")),
			Error: "The sign-in form expired or was not sent from this site. Please try again."})
		return
	}
	name := strings.TrimSpace(r.PostFormValue("username"))
	pw := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	key := strings.ToLower(name)
	addr := clientAddr(r)
	if ok, wait := h.throttle.Allowed(key, addr); !ok {
		secs := int(wait.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		h.renderLogin(w, r, http.StatusTooManyRequests, loginData{Next: next, Username: name,
			Error: fmt.Sprintf("Too many failed sign-in attempts. Try again in %s.", waitText(secs))})
		return
	}
	ctx := r.Context()
	u, err := h.st.GetUserByName(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.serverError(w, r, nil, err)
		return
	}
	hash := auth.DummyHash
	if u != nil && !u.Disabled {
		hash = u.PasswordHash
	}
	ok, rehash, verr := auth.VerifyPassword(hash, pw, h.params)
	if u == nil || u.Disabled || !ok || verr != nil {
		if verr != nil && u != nil {
			h.log.Error("stored password hash unreadable", "user", u.Username, "err", verr)
		}
		h.throttle.Failure(key, addr)
		h.log.Info("sign-in failed", "user", name, "addr", addr)
		h.renderLogin(w, r, http.StatusUnauthorized, loginData{Next: next, Username: name, Error: "Wrong user name or password, or the account is disabled."})
		return
	}
	h.throttle.Success(key)
	if rehash {
		if nh, err := auth.HashPassword(pw, h.params); err == nil {
			u.PasswordHash = nh
		}
	}
	u.LastLogin = h.now()
	if err := h.st.UpdateUser(ctx, u); err != nil {
		h.serverError(w, r, nil, err)
		return
	}
	if err := h.startSession(w, r, u); err != nil {
		h.serverError(w, r, nil, err)
		return
	}
	h.setCookie(w, r, loginCSRFCookie, "", -1)
	h.log.Info("signed in", "user", u.Username, "addr", addr)
	if u.MustChangePassword {
		next = "/account/password"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func waitText(secs int) string {
	if secs < 90 {
		return fmt.Sprintf("%d seconds", secs)
	}
	return fmt.Sprintf("%d minutes", (secs+59)/60)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if err := h.st.DeleteSession(r.Context(), rc.Session.IDHash); err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	h.clearCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type passwordData struct {
	Min   int
	Error string
}

func (h *Handler) passwordPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.render(w, r, http.StatusOK, "password", page{Title: "Change password", RC: rc, Data: passwordData{Min: auth.MinPasswordLen}})
}

func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	fail := func(status int, msg string) {
		h.render(w, r, status, "password", page{Title: "Change password", RC: rc, Data: passwordData{Min: auth.MinPasswordLen, Error: msg}})
	}
	cur, nw, conf := r.PostFormValue("current"), r.PostFormValue("new"), r.PostFormValue("confirm")
	key, addr := strings.ToLower(rc.User.Username), clientAddr(r)
	if ok, _ := h.throttle.Allowed(key, addr); !ok {
		fail(http.StatusTooManyRequests, "Too many wrong passwords. Wait a few minutes and try again.")
		return
	}
	if ok, _, err := auth.VerifyPassword(rc.User.PasswordHash, cur, h.params); err != nil || !ok {
		h.throttle.Failure(key, addr)
		fail(http.StatusBadRequest, "The current password is wrong.")
		return
	}
	if nw != conf {
		fail(http.StatusBadRequest, "The two new passwords differ.")
		return
	}
	if nw == cur {
		fail(http.StatusBadRequest, "The new password must differ from the current one.")
		return
	}
	if err := auth.ValidatePassword(nw, rc.User.Username); err != nil {
		fail(http.StatusBadRequest, "The new password is too weak: "+strings.TrimPrefix(err.Error(), auth.ErrWeakPassword.Error()+": ")+".")
		return
	}
	hash, err := auth.HashPassword(nw, h.params)
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	u := rc.User
	u.PasswordHash, u.MustChangePassword = hash, false
	ctx := r.Context()
	if err := h.st.UpdateUser(ctx, u); err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	if err := h.st.DeleteUserSessions(ctx, u.ID); err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	if err := h.startSession(w, r, u); err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	http.Redirect(w, r, "/?flash=password", http.StatusSeeOther)
}
