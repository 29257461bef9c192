package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/oidc"
)

// oidcFlags are serve's single sign-on flags (docs/SSO.md).
type oidcFlags struct {
	issuer, clientID, secretFile, redirect, roleClaim, roleMap, defRole, userClaim, name string
	env                                                                                  *Env
}

func addOIDCFlags(fs *flag.FlagSet, env *Env) *oidcFlags {
	f := &oidcFlags{env: env}
	fs.StringVar(&f.issuer, "oidc-issuer", "", "OpenID Connect issuer URL; turns on single sign-on (docs/SSO.md)")
	fs.StringVar(&f.clientID, "oidc-client-id", "", "client id registered at the identity provider")
	fs.StringVar(&f.secretFile, "oidc-client-secret-file", "", "file holding the client secret (or $MEDWARDEN_OIDC_CLIENT_SECRET; none: a public client, PKCE only)")
	fs.StringVar(&f.redirect, "oidc-redirect-url", "", "https://THIS-SERVER/auth/oidc/callback, as registered at the provider")
	fs.StringVar(&f.roleClaim, "oidc-role-claim", "groups", "ID token claim holding group or role names")
	fs.StringVar(&f.roleMap, "oidc-role-map", "", `claim value to role, e.g. "medwarden-admins=admin,biomed=clinical-engineer,ward=viewer" (most privileged match wins)`)
	fs.StringVar(&f.defRole, "oidc-default-role", "", "role for users with no mapped value (default: refuse them)")
	fs.StringVar(&f.userClaim, "oidc-username-claim", "preferred_username", "claim naming the account (falls back to email)")
	fs.StringVar(&f.name, "oidc-name", "single sign-on", `label of the login page's button ("Sign in with …")`)
	return f
}

// provider returns nil when --oidc-issuer is not set.
func (f *oidcFlags) provider(ctx context.Context) (*oidc.Provider, error) {
	if f.issuer == "" {
		return nil, nil
	}
	if f.clientID == "" || f.redirect == "" {
		return nil, usageErr("--oidc-issuer needs --oidc-client-id and --oidc-redirect-url")
	}
	rm, err := oidc.ParseRoleMap(f.roleMap)
	if err != nil {
		return nil, usageErr("--oidc-role-map: %v", err)
	}
	var def auth.Role
	if f.defRole != "" {
		if def, err = auth.ParseRole(f.defRole); err != nil {
			return nil, usageErr("--oidc-default-role: %v", err)
		}
	}
	secret := f.env.Getenv("MEDWARDEN_OIDC_CLIENT_SECRET")
	if f.secretFile != "" {
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return nil, fmt.Errorf("--oidc-client-secret-file: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	p, err := oidc.New(ctx, oidc.Config{Issuer: f.issuer, ClientID: f.clientID, ClientSecret: secret, RedirectURL: f.redirect,
		RoleClaim: f.roleClaim, RoleMap: rm, DefaultRole: def, UsernameClaim: f.userClaim, Name: f.name})
	if err != nil {
		return nil, err
	}
	return p, nil
}
