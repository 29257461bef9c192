package api_test

import (
	"net/http/httptest"
	"testing"

	"github.com/medwarden/medwarden/internal/auth"
)

// BenchmarkAuthenticatedRequest is the cost of authentication and
// authorisation on top of a trivial handler: token shape check, SHA-256,
// token and user lookups (SQLite), scope check, rate-limit buckets.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	e := newAuthServerTB(b)
	tok := newToken(b, e.st, "ana", auth.Analyst, "devices:read")
	for _, bc := range []struct {
		name, hdr string
		want      int
	}{
		{"token_allowed", "Bearer " + tok, 200},
		{"token_rejected_shape", "Bearer mwt_guess", 401},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/api/v1/auth/whoami", nil)
			req.Header.Set("Authorization", bc.hdr)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				e.srv.ServeHTTP(w, req)
				if w.Code != bc.want {
					b.Fatalf("status %d, want %d", w.Code, bc.want)
				}
			}
		})
	}
}
