// Package oidc is MedWarden's OpenID Connect single sign-on: the
// authorization code flow with PKCE (S256), state and nonce against any
// standard provider (Keycloak, Entra ID, ADFS, Okta…); the account's role
// comes from a configurable claim (e.g. groups) through a role map.
// Accounts are created on first sign-in, linked by issuer and subject,
// and have no local password.
package oidc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/medwarden/medwarden/internal/auth"
)

// Config configures single sign-on.
type Config struct {
	Issuer       string // e.g. https://idp.hospital.example/realms/staff (discovery at /.well-known/openid-configuration)
	ClientID     string
	ClientSecret string // empty for a public client (PKCE only)
	// RedirectURL is https://<medwarden>/auth/oidc/callback, as registered
	// at the provider.
	RedirectURL string
	// Scopes requested besides "openid" (default: profile, email, groups).
	Scopes []string
	// RoleClaim names the claim holding group or role names (default
	// "groups"); a string or a list of strings.
	RoleClaim string
	// RoleMap maps claim values to roles; when several match, the most
	// privileged role (first in auth.Roles) wins.
	RoleMap map[string]auth.Role
	// DefaultRole is given when no value maps; empty refuses the sign-in.
	DefaultRole auth.Role
	// UsernameClaim is the claim that names the account (default
	// "preferred_username", then "email").
	UsernameClaim string
	// Name labels the sign-in button (default "single sign-on").
	Name string
	// HTTPClient reaches the provider (nil: http.DefaultClient).
	HTTPClient *http.Client
}

// Errors of a sign-in.
var (
	ErrState  = errors.New("the sign-in request expired or was not started here; start again")
	ErrNoRole = errors.New("none of your groups is mapped to a MedWarden role; ask your administrator")
	ErrClaims = errors.New("the identity provider's token lacks a required claim")
)

// Identity is a verified sign-in.
type Identity struct {
	Issuer, Subject string
	Username        string
	Email           string
	Role            auth.Role
	Groups          []string // values of the role claim
}

// loginTTL bounds how long a started sign-in may take.
const loginTTL = 10 * time.Minute

type pending struct {
	nonce, verifier, next string
	expires               time.Time
}

// Provider runs sign-ins against one OpenID provider.
type Provider struct {
	cfg      Config
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
	mu       sync.Mutex
	pending  map[string]pending // by state
}

// New discovers the provider at cfg.Issuer and checks the configuration.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("oidc: issuer, client id and redirect URL are required")
	}
	if !strings.HasPrefix(cfg.RedirectURL, "https://") && !strings.HasPrefix(cfg.RedirectURL, "http://127.0.0.1") && !strings.HasPrefix(cfg.RedirectURL, "http://localhost") {
		return nil, fmt.Errorf("oidc: redirect URL %q must be https (or loopback http)", cfg.RedirectURL)
	}
	if len(cfg.RoleMap) == 0 && cfg.DefaultRole == "" {
		return nil, errors.New("oidc: no role map and no default role: nobody could sign in")
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "groups"
	}
	if cfg.UsernameClaim == "" {
		cfg.UsernameClaim = "preferred_username"
	}
	if cfg.Name == "" {
		cfg.Name = "single sign-on"
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{"profile", "email", "groups"}
	}
	if cfg.HTTPClient != nil {
		ctx = gooidc.ClientContext(ctx, cfg.HTTPClient)
	}
	p, err := gooidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discover %s: %w", cfg.Issuer, err)
	}
	return &Provider{
		cfg: cfg,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: cfg.RedirectURL, Scopes: append([]string{gooidc.ScopeOpenID}, cfg.Scopes...)},
		verifier: p.Verifier(&gooidc.Config{ClientID: cfg.ClientID}),
		pending:  map[string]pending{},
	}, nil
}

// Name is the button label.
func (p *Provider) Name() string { return p.cfg.Name }

func random() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Start begins a sign-in that returns to next: it returns the provider URL
// to send the browser to and the state, which the caller binds to the
// browser (a cookie) so that the callback cannot be replayed elsewhere.
func (p *Provider) Start(next string, now time.Time) (authURL, state string, err error) {
	state, err = random()
	if err != nil {
		return "", "", err
	}
	nonce, err := random()
	if err != nil {
		return "", "", err
	}
	verifier := oauth2.GenerateVerifier()
	p.mu.Lock()
	for s, pd := range p.pending { // drop abandoned sign-ins
		if now.After(pd.expires) {
			delete(p.pending, s)
		}
	}
	if len(p.pending) >= 10000 {
		p.mu.Unlock()
		return "", "", errors.New("oidc: too many sign-ins in progress")
	}
	p.pending[state] = pending{nonce: nonce, verifier: verifier, next: next, expires: now.Add(loginTTL)}
	p.mu.Unlock()
	return p.oauth.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), state, nil
}

// Finish completes the sign-in whose state came back with code: it
// redeems the code with the PKCE verifier, verifies the ID token
// (signature, issuer, audience, expiry, nonce) and maps the role. A state
// is usable once.
func (p *Provider) Finish(ctx context.Context, state, code string, now time.Time) (*Identity, string, error) {
	p.mu.Lock()
	pd, ok := p.pending[state]
	delete(p.pending, state)
	p.mu.Unlock()
	if !ok || now.After(pd.expires) {
		return nil, "", ErrState
	}
	if p.cfg.HTTPClient != nil {
		ctx = gooidc.ClientContext(ctx, p.cfg.HTTPClient)
	}
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(pd.verifier))
	if err != nil {
		return nil, "", fmt.Errorf("oidc: redeem the authorization code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, "", fmt.Errorf("%w: no id_token in the token response", ErrClaims)
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, "", fmt.Errorf("oidc: ID token: %w", err)
	}
	if idt.Nonce != pd.nonce {
		return nil, "", fmt.Errorf("oidc: ID token nonce does not match the sign-in (replayed token?)")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, "", fmt.Errorf("oidc: ID token claims: %w", err)
	}
	id, err := p.identity(idt.Issuer, idt.Subject, claims)
	if err != nil {
		return nil, "", err
	}
	return id, pd.next, nil
}

// identity reads the account name and role from verified claims.
func (p *Provider) identity(issuer, subject string, claims map[string]any) (*Identity, error) {
	id := &Identity{Issuer: issuer, Subject: subject}
	id.Email, _ = claims["email"].(string)
	for _, c := range []string{p.cfg.UsernameClaim, "preferred_username", "email"} {
		if v, ok := claims[c].(string); ok && strings.TrimSpace(v) != "" {
			id.Username = strings.ToLower(strings.TrimSpace(v))
			break
		}
	}
	if id.Username == "" || subject == "" {
		return nil, fmt.Errorf("%w: %s (or email) and sub", ErrClaims, p.cfg.UsernameClaim)
	}
	switch v := claims[p.cfg.RoleClaim].(type) {
	case string:
		id.Groups = []string{v}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				id.Groups = append(id.Groups, s)
			}
		}
	}
	role, err := MapRole(id.Groups, p.cfg.RoleMap, p.cfg.DefaultRole)
	if err != nil {
		return nil, err
	}
	id.Role = role
	return id, nil
}

// MapRole returns the most privileged role any of values maps to, else
// def, else ErrNoRole.
func MapRole(values []string, m map[string]auth.Role, def auth.Role) (auth.Role, error) {
	best := -1
	for _, v := range values {
		r, ok := m[v]
		if !ok {
			continue
		}
		if i := slices.Index(auth.Roles, r); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best >= 0 {
		return auth.Roles[best], nil
	}
	if def != "" {
		return def, nil
	}
	return "", ErrNoRole
}

// ParseRoleMap reads "group=role,group=role" (a group name may contain
// spaces; roles are MedWarden's).
func ParseRoleMap(s string) (map[string]auth.Role, error) {
	out := map[string]auth.Role{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		i := strings.LastIndex(part, "=")
		if i <= 0 {
			return nil, fmt.Errorf("role map entry %q: want GROUP=ROLE", part)
		}
		role, err := auth.ParseRole(strings.TrimSpace(part[i+1:]))
		if err != nil {
			return nil, fmt.Errorf("role map entry %q: %w", part, err)
		}
		out[strings.TrimSpace(part[:i])] = role
	}
	return out, nil
}
