package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// API token management. Every signed-in user manages their own tokens;
// an administrator (scope users:read / users:write) sees and manages
// everybody's. A token is shown once, at creation; only its SHA-256 is
// stored. A token created with an API token holds no scope that token
// lacks and expires no later than it, so a leaked token cannot mint
// itself a wider or longer-lived successor. Creation and revocation are
// audited (token.create, token.revoke).

// TokenInfo is a token as listed (never the secret).
type TokenInfo struct {
	ID        int64     `json:"id"`
	User      string    `json:"user"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	LastUsed  time.Time `json:"last_used,omitzero"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Status    string    `json:"status"` // active, expired, revoked
}

// NewToken is the answer to a creation: the only time Token is shown.
type NewToken struct {
	TokenInfo
	Token string `json:"token"`
}

type createTokenRequest struct {
	Name      string `json:"name"`
	Scopes    any    `json:"scopes"`     // ["devices:read", …] or "devices:read,imports:write"
	ExpiresIn string `json:"expires_in"` // "90d", "12h"; default 90d, at most 366d
	User      string `json:"user"`       // administrators only; default: the caller
}

func (s *Server) tokenInfo(t *store.APIToken, user string) TokenInfo {
	status := "active"
	switch {
	case !t.RevokedAt.IsZero():
		status = "revoked"
	case !s.now().Before(t.ExpiresAt):
		status = "expired"
	}
	return TokenInfo{ID: t.ID, User: user, Name: t.Name, Scopes: t.Scopes, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt,
		LastUsed: t.LastUsed, RevokedAt: t.RevokedAt, Status: status}
}

// userPrincipal returns the caller if it is a user (session or token).
func userPrincipal(w http.ResponseWriter, r *http.Request) (*Principal, bool) {
	p, ok := PrincipalFrom(r.Context())
	if !ok || p.User == nil {
		forbidden(w, r, "API tokens belong to users; sensors have none")
		return nil, false
	}
	return p, true
}

// listTokens: GET /api/v1/tokens[?user=NAME]. Administrators see every
// token (or one user's); others their own.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	p, ok := userPrincipal(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	uid := p.User.ID
	if p.Allows("users:read") {
		uid = 0
		if name := r.URL.Query().Get("user"); name != "" {
			u, err := s.st.GetUserByName(ctx, name)
			if err != nil {
				s.storeError(w, r, err)
				return
			}
			uid = u.ID
		}
	} else if name := r.URL.Query().Get("user"); name != "" && name != p.User.Username {
		forbidden(w, r, "only an administrator may list another user's tokens")
		return
	}
	ts, err := s.sec.ListTokens(ctx, uid)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	names := map[int64]string{p.User.ID: p.User.Username}
	out := make([]TokenInfo, 0, len(ts))
	for _, t := range ts {
		if _, ok := names[t.UserID]; !ok {
			names[t.UserID] = "?"
			if u, err := s.st.GetUser(ctx, t.UserID); err == nil {
				names[t.UserID] = u.Username
			}
		}
		out = append(out, s.tokenInfo(t, names[t.UserID]))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

func tokenFieldError(w http.ResponseWriter, r *http.Request, field, reason string) {
	badRequest(w, r, "field "+field+": "+reason, &inventory.InputError{Column: field, Reason: reason})
}

// createToken: POST /api/v1/tokens.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	p, ok := userPrincipal(w, r)
	if !ok {
		return
	}
	var req createTokenRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		badRequest(w, r, "body: "+err.Error())
		return
	}
	ctx := r.Context()
	owner := p.User
	if req.User != "" && req.User != p.User.Username {
		if !p.Allows("users:write") {
			forbidden(w, r, "only an administrator may create a token for another user")
			return
		}
		u, err := s.st.GetUserByName(ctx, req.User)
		if errors.Is(err, store.ErrNotFound) {
			tokenFieldError(w, r, "user", fmt.Sprintf("no user %q", req.User))
			return
		}
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		owner = u
	}
	if owner.Disabled {
		tokenFieldError(w, r, "user", fmt.Sprintf("user %q is disabled", owner.Username))
		return
	}
	role, err := auth.ParseRole(owner.Role)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	var list string
	switch v := req.Scopes.(type) {
	case string:
		list = v
	case []any:
		parts := make([]string, 0, len(v))
		for _, e := range v {
			str, ok := e.(string)
			if !ok {
				tokenFieldError(w, r, "scopes", "each scope must be a string")
				return
			}
			parts = append(parts, str)
		}
		list = strings.Join(parts, ",")
	default:
		tokenFieldError(w, r, "scopes", `required: a list like ["devices:read","imports:write"]`)
		return
	}
	scopes, err := auth.ParseScopes(list)
	if err != nil {
		tokenFieldError(w, r, "scopes", err.Error())
		return
	}
	if strings.Contains(list, "*") { // wildcards: as much as the role allows within what was named
		var keep []auth.Scope
		for _, sc := range scopes {
			if role.Allows(sc) {
				keep = append(keep, sc)
			}
		}
		scopes = keep
		if len(scopes) == 0 {
			tokenFieldError(w, r, "scopes", fmt.Sprintf("role %s allows none of %s", role, list))
			return
		}
	}
	if err := role.CheckScopes(scopes); err != nil {
		tokenFieldError(w, r, "scopes", err.Error())
		return
	}
	// A token cannot grant more than the token that creates it.
	if p.Token != nil {
		for _, sc := range scopes {
			if !p.Allows(sc) {
				tokenFieldError(w, r, "scopes", fmt.Sprintf("%s is not held by the token making this request", sc))
				return
			}
		}
	}
	life := 90 * 24 * time.Hour
	if req.ExpiresIn != "" {
		if life, err = auth.ParseLifetime(req.ExpiresIn); err != nil {
			tokenFieldError(w, r, "expires_in", err.Error())
			return
		}
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = "token for " + owner.Username
	}
	if len(name) > 100 {
		tokenFieldError(w, r, "name", "longer than 100 characters")
		return
	}
	secret, err := auth.NewAPIToken()
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	now := s.now()
	t := &store.APIToken{UserID: owner.ID, Name: name, Hash: auth.HashToken(secret), CreatedAt: now, ExpiresAt: now.Add(life)}
	if p.Token != nil && t.ExpiresAt.After(p.Token.ExpiresAt) {
		tokenFieldError(w, r, "expires_in", fmt.Sprintf("a token made with an API token cannot outlive it (it expires %s)", p.Token.ExpiresAt.Format(time.RFC3339)))
		return
	}
	for _, sc := range scopes {
		t.Scopes = append(t.Scopes, string(sc))
	}
	if err := s.sec.CreateToken(ctx, t); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/api/v1/tokens/"+strconv.FormatInt(t.ID, 10))
	writeJSON(w, http.StatusCreated, NewToken{TokenInfo: s.tokenInfo(t, owner.Username), Token: secret})
}

// revokeToken: DELETE /api/v1/tokens/{id}. Another user's token is "not
// found" to a non-administrator (its existence is not revealed).
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	p, ok := userPrincipal(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		badRequest(w, r, "path: token id must be a positive number")
		return
	}
	ctx := r.Context()
	t, err := s.sec.GetToken(ctx, id)
	if err == nil && t.UserID != p.User.ID && !p.Allows("users:write") {
		err = fmt.Errorf("api token %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if err := s.sec.RevokeToken(ctx, id, s.now()); err != nil {
		s.storeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
