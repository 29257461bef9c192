package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/oidc"
	"github.com/medwarden/medwarden/internal/store"
)

// ssoEnv is the console with single sign-on against a real OpenID
// provider (mockoidc: discovery, JWKS, authorization code + PKCE, signed
// ID tokens) listening on loopback.
func ssoEnv(t *testing.T, roleMap string, def auth.Role) (*env, *mockoidc.MockOIDC) {
	t.Helper()
	e := newEnv(t, 0)
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	rm, err := oidc.ParseRoleMap(roleMap)
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.Config()
	p, err := oidc.New(context.Background(), oidc.Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		RedirectURL: e.srv.URL + "/auth/oidc/callback", RoleMap: rm, DefaultRole: def, Name: "Hospital SSO"})
	if err != nil {
		t.Fatal(err)
	}
	e.h.EnableOIDC(p, e.st.(store.OIDCStore))
	return e, m
}

// browser follows redirects and keeps cookies, like a browser.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func fetch(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOIDCSignInFullFlow(t *testing.T) {
	e, m := ssoEnv(t, "medwarden-admins=admin, Biomedical Engineering=clinical-engineer, ward-staff=viewer", "")

	// The login page offers the button.
	if code, body := fetch(t, browser(t), e.srv.URL+"/login"); code != 200 || !strings.Contains(body, "Sign in with Hospital SSO") {
		t.Fatalf("login page: %d, button missing", code)
	}

	// First sign-in creates the account with the most privileged mapped role.
	m.QueueUser(&mockoidc.MockUser{Subject: "f3a1-77", Email: "Jane.Doe@hospital.example", PreferredUsername: "jdoe",
		Groups: []string{"ward-staff", "Biomedical Engineering", "unrelated"}})
	b := browser(t)
	code, body := fetch(t, b, e.srv.URL+"/auth/oidc/login?next=/devices")
	if code != 200 || !strings.Contains(body, `url=/devices`) {
		t.Fatalf("after the provider: %d %s", code, body)
	}
	if code, body := fetch(t, b, e.srv.URL+"/devices"); code != 200 || !strings.Contains(body, "jdoe") {
		t.Fatalf("signed-in page: %d (user name shown: %v)", code, strings.Contains(body, "jdoe"))
	}
	u, err := e.st.GetUserByName(t.Context(), "jdoe")
	if err != nil || u.Role != string(auth.ClinicalEngineer) || u.PasswordHash != oidc.NoPassword {
		t.Fatalf("provisioned %+v, %v", u, err)
	}
	// No password sign-in for an SSO account.
	form := url.Values{"username": {"jdoe"}, "password": {"anything at all"}}
	if r := e.client().login("jdoe", "anything at all"); r.Code == http.StatusSeeOther {
		t.Errorf("password sign-in of an SSO account succeeded (%v)", form)
	}

	// Next sign-in: the role follows the provider (groups changed).
	m.QueueUser(&mockoidc.MockUser{Subject: "f3a1-77", PreferredUsername: "jdoe", Groups: []string{"medwarden-admins"}})
	if code, _ := fetch(t, browser(t), e.srv.URL+"/auth/oidc/login"); code != 200 {
		t.Fatalf("second sign-in: %d", code)
	}
	if u, _ := e.st.GetUserByName(t.Context(), "jdoe"); u.Role != string(auth.Admin) {
		t.Errorf("role after the groups changed: %s, want admin", u.Role)
	}

	// Audited, with the provider's identity.
	es, err := e.st.(store.SecurityStore).ListAudit(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, en := range es {
		if en.Action == "user.login.oidc" && en.Actor == "jdoe" && strings.Contains(string(en.After), `"subject":"f3a1-77"`) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d audited SSO sign-ins, want 2", n)
	}
}

func TestOIDCSignInRefusals(t *testing.T) {
	e, m := ssoEnv(t, "medwarden-admins=admin", "")

	// No mapped group and no default role: refused, no account.
	m.QueueUser(&mockoidc.MockUser{Subject: "s-2", PreferredUsername: "visitor", Groups: []string{"guests"}})
	code, body := fetch(t, browser(t), e.srv.URL+"/auth/oidc/login")
	if code != http.StatusUnauthorized || !strings.Contains(body, "none of your groups") {
		t.Errorf("unmapped groups: %d", code)
	}
	if _, err := e.st.GetUserByName(t.Context(), "visitor"); err == nil {
		t.Error("an account was created for an unmapped user")
	}

	// A provider name equal to a local account is not taken over.
	m.QueueUser(&mockoidc.MockUser{Subject: "s-3", PreferredUsername: "admin", Groups: []string{"medwarden-admins"}})
	code, body = fetch(t, browser(t), e.srv.URL+"/auth/oidc/login")
	if code != http.StatusForbidden || !strings.Contains(body, "local account already has this user name") {
		t.Errorf("name of a local account: %d", code)
	}

	// A callback not started in this browser (login CSRF) is refused.
	b := browser(t)
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := b.Get(e.srv.URL + "/auth/oidc/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Errorf("authorization request lacks PKCE S256, nonce or state: %s", loc)
	}
	other := browser(t)
	code, _ = fetch(t, other, e.srv.URL+"/auth/oidc/callback?state="+url.QueryEscape(q.Get("state"))+"&code=x")
	if code != http.StatusForbidden {
		t.Errorf("callback in another browser: %d, want 403", code)
	}
	// A replayed state (already used) is refused.
	code, _ = fetch(t, b, e.srv.URL+"/auth/oidc/callback?state=unknown&code=x")
	if code != http.StatusForbidden {
		t.Errorf("unknown state: %d, want 403", code)
	}
	// The provider's own refusal is shown.
	if code, body := fetch(t, browser(t), e.srv.URL+"/auth/oidc/callback?error=access_denied"); code != http.StatusUnauthorized || !strings.Contains(body, "access_denied") {
		t.Errorf("provider error: %d", code)
	}
}

func TestOIDCOffAnswers404(t *testing.T) {
	e := newEnv(t, 0)
	if code, _ := fetch(t, browser(t), e.srv.URL+"/auth/oidc/login"); code != 404 {
		t.Errorf("SSO off: %d", code)
	}
	if code, body := fetch(t, browser(t), e.srv.URL+"/login"); strings.Contains(body, "sso-login") {
		t.Errorf("login page shows the SSO button when it is off (%d)", code)
	}
}
