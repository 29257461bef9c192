package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/store"
)

// FuzzFindingsQuery: any findings URL query maps to a store query without
// panicking; accepted values are valid for the store.
func FuzzFindingsQuery(f *testing.F) {
	for _, s := range []string{"state=open&band=critical&kev=yes&sort=-cvss", "state=bogus", "kev=maybe&limit=9999", "asset_id=%3Cscript%3E&advisory=X&owner=a", "sort=due&cursor=%%"} {
		f.Add(s)
	}
	h := &Handler{}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/findings", nil)
		r.URL.RawQuery = raw
		var d findingsData
		q, msg := h.findingsQuery(r, &d)
		if msg != "" {
			return
		}
		if q.State != "" && !store.ValidWorkflowState(q.State) {
			t.Fatalf("findingsQuery(%q) accepted state %q", raw, q.State)
		}
		if q.Limit < 1 || q.Limit > 200 {
			t.Fatalf("findingsQuery(%q) limit %d", raw, q.Limit)
		}
	})
}

// FuzzPagesQuery: the advisory, findings, queue and audit pages answer any
// query string without a server error, and never reflect it unescaped.
func FuzzPagesQuery(f *testing.F) {
	for _, s := range []string{"q=<script>&publisher=x&cve=CVE-1", "cursor=!!!", "actor=<b>&action=device.&object=device/1&before=0", "before=-5", "state=accepted&kev=no", "limit=25"} {
		f.Add(s)
	}
	e := newEnv(f, 2)
	c := e.signedIn("auditor")
	f.Fuzz(func(t *testing.T, raw string) {
		if _, err := url.ParseQuery(raw); err != nil || strings.ContainsAny(raw, "# \r\n\x00") {
			return
		}
		for _, p := range []string{"/advisories", "/findings", "/remediations", "/audit"} {
			req, err := http.NewRequest("GET", e.srv.URL+p+"?"+raw, nil)
			if err != nil {
				return // not a URL a client can send (control characters)
			}
			res, err := c.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode >= 500 {
				t.Fatalf("GET %s?%s = %d", p, raw, res.StatusCode)
			}
			if strings.Contains(string(b), "<script>") {
				t.Fatalf("GET %s?%s reflects <script>", p, raw)
			}
		}
	})
}
