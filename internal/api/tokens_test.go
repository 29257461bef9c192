package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store"
)

// session signs user name in to the console and returns the cookie and
// CSRF headers.
func session(t *testing.T, e *authEnv, name string) []string {
	t.Helper()
	u, err := e.st.GetUserByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	cookie, csrf := "cookie-"+name, "csrf-"+name
	now := time.Now()
	if err := e.st.CreateSession(t.Context(), &store.Session{IDHash: auth.HashToken(cookie), UserID: u.ID, CSRFToken: csrf,
		CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return []string{"Cookie", "mw_session=" + cookie, "X-CSRF-Token", csrf}
}

func TestTokenAPI(t *testing.T) {
	e := newAuthServer(t, api.RateLimit{PerClient: -1, PerAccount: -1})
	adminTok := newToken(t, e.st, "root", auth.Admin, "*")
	anaTok := newToken(t, e.st, "ana", auth.Analyst, "devices:read")
	newToken(t, e.st, "vic", auth.Viewer, "devices:read")
	ana := session(t, e, "ana")
	url := e.ts.URL + "/api/v1/tokens"
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

	// A session creates a token for its user; the secret is shown once and works.
	r := call(t, "POST", url, `{"name":"cmms-sync","scopes":["devices:read","imports:write"],"expires_in":"30d"}`, ana...)
	if r.code != 201 || r.hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("create with session: %d %s", r.code, r.raw)
	}
	var nt struct {
		ID        int64     `json:"id"`
		Token     string    `json:"token"`
		User      string    `json:"user"`
		Scopes    []string  `json:"scopes"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(r.raw), &nt); err != nil || !auth.LooksLikeAPIToken(nt.Token) || nt.User != "ana" ||
		strings.Join(nt.Scopes, ",") != "devices:read,imports:write" || time.Until(nt.ExpiresAt) < 29*24*time.Hour {
		t.Fatalf("created %+v (%v)", nt, err)
	}
	if w := call(t, "GET", e.ts.URL+"/api/v1/auth/whoami", "", bearer(nt.Token)...); w.code != 200 || !strings.Contains(w.raw, `"user":"ana"`) {
		t.Errorf("new token on whoami: %d %s", w.code, w.raw)
	}
	stored, err := e.st.GetToken(t.Context(), nt.ID)
	if err != nil || stored.Hash != auth.HashToken(nt.Token) {
		t.Errorf("stored %+v, want only the hash", stored)
	}

	for _, tc := range []struct {
		name, body string
		hdr        []string
		code       int
		want       string
	}{
		{"no_csrf", `{"scopes":"devices:read"}`, ana[:2], 403, "CSRF"},
		{"beyond_role", `{"scopes":"users:read"}`, ana, 400, `"column":"scopes"`},
		{"unknown_scope", `{"scopes":["devices:delete"]}`, ana, 400, "invalid scope"},
		{"no_scopes", `{"name":"x"}`, ana, 400, "scopes"},
		{"unknown_field", `{"scopes":"devices:read","admin":true}`, ana, 400, "unknown field"},
		{"too_long_life", `{"scopes":"devices:read","expires_in":"400d"}`, ana, 400, "expires_in"},
		{"other_user", `{"scopes":"devices:read","user":"vic"}`, ana, 403, "administrator"},
		{"token_outlives_creator", `{"scopes":"devices:read","expires_in":"90d"}`, bearer(anaTok), 400, "cannot outlive"},
		{"token_widens_itself", `{"scopes":"devices:write","expires_in":"30m"}`, bearer(anaTok), 400, "not held by the token"},
		{"token_narrow_and_shorter", `{"scopes":"devices:read","expires_in":"30m"}`, bearer(anaTok), 201, `"token":"mwt_`},
		{"admin_for_other_user", `{"scopes":"devices:*","user":"vic","name":"kiosk","expires_in":"30m"}`, bearer(adminTok), 201, `"scopes":["devices:read"]`},
		{"admin_for_unknown_user", `{"scopes":"devices:read","user":"nobody"}`, bearer(adminTok), 400, `"column":"user"`},
	} {
		r := call(t, "POST", url, tc.body, tc.hdr...)
		if r.code != tc.code || !strings.Contains(r.raw, tc.want) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, r.code, r.raw, tc.code, tc.want)
		}
	}

	// Listing: one's own tokens; administrators everybody's; never a secret.
	var list struct {
		Tokens []struct {
			ID   int64
			User string
		}
	}
	r = call(t, "GET", url, "", ana...)
	json.Unmarshal([]byte(r.raw), &list)
	for _, tk := range list.Tokens {
		if tk.User != "ana" {
			t.Errorf("ana lists %s's token %d", tk.User, tk.ID)
		}
	}
	if len(list.Tokens) != 3 || strings.Contains(r.raw, "mwt_") || strings.Contains(r.raw, "hash") {
		t.Errorf("ana's list: %s", r.raw)
	}
	if r := call(t, "GET", url+"?user=root", "", ana...); r.code != 403 {
		t.Errorf("ana lists root's tokens: %d", r.code)
	}
	r = call(t, "GET", url+"?user=vic", "", bearer(adminTok)...)
	if r.code != 200 || strings.Count(r.raw, `"user":"vic"`) != 2 || strings.Contains(r.raw, `"user":"ana"`) {
		t.Errorf("admin lists vic's tokens: %d %s", r.code, r.raw)
	}

	// Revoking: own tokens; another user's token does not exist for a
	// non-administrator; administrators revoke any.
	rootTokens, _ := e.st.ListTokens(t.Context(), 0)
	var rootID, vicID int64
	for _, tk := range rootTokens {
		u, _ := e.st.GetUser(t.Context(), tk.UserID)
		switch u.Username {
		case "root":
			rootID = tk.ID
		case "vic":
			vicID = tk.ID
		}
	}
	if r := call(t, "DELETE", url+"/"+itoa(rootID), "", ana...); r.code != 404 {
		t.Errorf("ana revokes root's token: %d %s", r.code, r.raw)
	}
	if r := call(t, "DELETE", url+"/abc", "", ana...); r.code != 400 {
		t.Errorf("revoke non-number: %d", r.code)
	}
	if r := call(t, "DELETE", url+"/"+itoa(nt.ID), "", ana...); r.code != 204 {
		t.Errorf("ana revokes her token: %d %s", r.code, r.raw)
	}
	if w := call(t, "GET", e.ts.URL+"/api/v1/auth/whoami", "", bearer(nt.Token)...); w.code != 401 {
		t.Errorf("revoked token still works: %d", w.code)
	}
	if r := call(t, "DELETE", url+"/"+itoa(vicID), "", bearer(adminTok)...); r.code != 204 {
		t.Errorf("admin revokes vic's token: %d %s", r.code, r.raw)
	}

	// Every creation and revocation is in the audit log, attributed.
	es, err := e.st.ListAudit(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range es {
		if strings.HasPrefix(en.Action, "token.") && en.Actor != "unknown" {
			got = append(got, en.Action+" by "+en.Actor)
		}
	}
	want := []string{"token.create by ana", "token.create by ana/token:2", "token.create by root/token:1", "token.revoke by ana", "token.revoke by root/token:1"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("audited:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
