package api_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/auth"
)

// FuzzAuthenticate sends arbitrary Authorization headers, session cookies
// and CSRF headers: the answer is always 401 (or 429), never a 5xx and
// never access, since no fuzzed value can be a valid token or session.
func FuzzAuthenticate(f *testing.F) {
	e := newAuthServer(f, api.RateLimit{PerClient: -1, PerAccount: -1})
	valid := newToken(f, e.st, "ana", auth.Analyst, "devices:read")
	f.Add("Bearer mwt_"+valid[4:46], "", "")
	f.Add("bearer  "+valid+"x", "mw_session=abc", "x")
	f.Add("Basic YWRtaW46YWRtaW4=", "mw_session=", "")
	f.Add("", "mw_session=\x00\xff; mw_session=2", "")
	f.Add("Bearer", "", "")
	f.Fuzz(func(t *testing.T, authz, cookie, csrf string) {
		if strings.Contains(authz, valid) {
			return // may legitimately authenticate
		}
		req := httptest.NewRequest("GET", "/api/v1/devices", nil)
		req.Header.Set("Authorization", authz)
		req.Header.Set("Cookie", cookie)
		req.Header.Set(api.CSRFHeader, csrf)
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		if w.Code != 401 && w.Code != 429 {
			t.Fatalf("Authorization %q Cookie %q: status %d, want 401", authz, cookie, w.Code)
		}
	})
}
