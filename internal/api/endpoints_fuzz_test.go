package api_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/auth"
)

// fuzzRoutes are the endpoints FuzzEndpoints drives: every route that
// reads a JSON body or query parameters. {id} is replaced by the fuzzed
// path segment (or a real id when that is empty).
var fuzzRoutes = []struct{ method, path string }{
	{"GET", "/api/v1/cvss"},
	{"POST", "/api/v1/cvss"},
	{"GET", "/api/v1/rubric"},
	{"POST", "/api/v1/rubric"},
	{"GET", "/api/v1/findings"},
	{"GET", "/api/v1/findings/{id}"},
	{"PATCH", "/api/v1/findings/{id}"},
	{"GET", "/api/v1/risk/devices"},
	{"GET", "/api/v1/risk/devices/{id}"},
	{"GET", "/api/v1/risk/register"},
	{"GET", "/api/v1/risk/trend"},
	{"GET", "/api/v1/remediations"},
	// routes of other areas that take JSON bodies or query parameters
	{"GET", "/api/v1/devices"},
	{"POST", "/api/v1/devices"},
	{"PUT", "/api/v1/devices/{id}"},
	{"GET", "/api/v1/advisories"},
	{"GET", "/api/v1/feeds"},
	{"GET", "/api/v1/audit"},
}

// FuzzEndpoints sends random bodies, query strings, path ids and If-Match
// headers through the real handlers (SQLite store with findings, feeds and
// devices) as an admin: no request may crash the server or answer 5xx,
// and every 4xx must be an RFC 9457 problem+json document with a title
// and a detail or field errors.
func FuzzEndpoints(f *testing.F) {
	e := newFindingsEnv(f, sqliteStore(f), true)
	admin := newToken(f, e.st, "root", auth.Admin, "*")
	fid := fmt.Sprint(e.finding["CARD-0001 ICSMA-17-009-01A"])
	did := fmt.Sprint(e.dev["CARD-0001"])
	seeds := []struct {
		route                 uint8
		query, body, id, etag string
	}{
		{0, "vector=CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "", "", ""},
		{0, "vector=CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", "", "", ""},
		{1, "", `{"vectors":["CVSS:3.1/AV:X","(AV:N/AC:L/Au:N/C:P/I:P/A:P)",""]}`, "", ""},
		{1, "", `["CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 1e999]`, "", ""},
		{3, "", `{"answers":{"XAVN":"YES","XAVT":"yes"},"cvss_version":"3.0","unknown_impact":"high"}`, "", ""},
		{3, "", `{"answers":{"xavn":null}}`, "", ""},
		{4, "device=CARD-0001&kev=true&min_confidence=0.5&band=high&sort=-cvss&limit=2", "", "", ""},
		{4, "cursor=eyJ2IjoxfQ&due_before=2026-02-30", "", "", ""},
		{5, "max_feed_age=36h", "", "", ""},
		{6, "", `{"state":"accepted","acceptance":{"justification":"isolated","approver":"CISO","expires":"2026-12-31"}}`, "", `"f1"`},
		{6, "", `{"rubric":{"answers":{"XAVN":"NO"}},"owner":"","due_date":"2026-01-01"}`, "", `W/"f1"`},
		{6, "", `{"state":"in_progress","note":"\u0000"}`, "99999999999999999999", `"f-1"`},
		{7, "min_score=1e308&sort=-findings&site=North", "", "", ""},
		{8, "", "", "0", ""},
		{10, "from=2026-01-01&to=2025-01-01&group=vendor", "", "", ""},
		{11, "sla=overdue&action=patch&site=South&limit=1", "", "", ""},
		{13, "", `{"asset_id":"BIO-9","vendor":"Baxter","macs":["zz"],"criticality":42}`, "", ""},
		{14, "", `{"asset_id":"BIO-9","ips":"10.0.0.1"}`, "", `"1"`},
		{17, "after=-1&limit=99999", "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.route, s.query, s.body, s.id, s.etag)
	}
	f.Fuzz(func(t *testing.T, route uint8, query, body, id, etag string) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		if id == "" {
			id = fid
			if strings.Contains(rt.path, "devices") {
				id = did
			}
		}
		path := strings.ReplaceAll(rt.path, "{id}", id)
		req := httptest.NewRequest(rt.method, "/", strings.NewReader(body))
		req.URL = &url.URL{Path: path, RawQuery: query}
		req.RequestURI = ""
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		if etag != "" {
			req.Header.Set("If-Match", etag)
		}
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { e.srv.ServeHTTP(w, req); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s %s?%s body %q If-Match %q: no answer in 10 s", rt.method, path, query, body, etag)
		}
		if w.Code >= 500 {
			t.Fatalf("%s %s?%s body %q: %d %s", rt.method, path, query, body, w.Code, w.Body.String())
		}
		if w.Code < 400 {
			return
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s %s: %d with Content-Type %q, want application/problem+json", rt.method, path, w.Code, ct)
		}
		var p struct {
			Title  string            `json:"title"`
			Status int               `json:"status"`
			Detail string            `json:"detail"`
			Errors []json.RawMessage `json:"errors"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatalf("%s %s: problem is not JSON: %v: %s", rt.method, path, err, w.Body.String())
		}
		if p.Title == "" || p.Status != w.Code || (p.Detail == "" && len(p.Errors) == 0) {
			t.Fatalf("%s %s: unclear problem: %s", rt.method, path, w.Body.String())
		}
	})
}
