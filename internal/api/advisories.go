package api

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/medwarden/medwarden/internal/feeds"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

var cveParam = regexp.MustCompile(`(?i)^CVE-[0-9]{4}-[0-9]{4,}$`)

// advisoryParams are the query parameters of GET /api/v1/advisories.
var advisoryParams = map[string]bool{"publisher": true, "cve": true, "q": true, "limit": true, "cursor": true}

func (s *Server) listAdvisories(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	for k, vs := range qv {
		if !advisoryParams[k] {
			badRequest(w, r, fmt.Sprintf("unknown query parameter %q (use publisher, cve, q, limit, cursor)", k), &inventory.InputError{Column: k, Reason: "unknown parameter"})
			return
		}
		if len(vs) != 1 {
			badRequest(w, r, fmt.Sprintf("parameter %q given %d times", k, len(vs)), &inventory.InputError{Column: k, Reason: "give each parameter once"})
			return
		}
	}
	q := store.AdvisoryQuery{Publisher: qv.Get("publisher"), CVE: qv.Get("cve"), Search: qv.Get("q"), Cursor: qv.Get("cursor")}
	if q.CVE != "" && !cveParam.MatchString(q.CVE) {
		badRequest(w, r, "cve must look like CVE-2024-12345", &inventory.InputError{Column: "cve", Value: q.CVE, Reason: "not a CVE id"})
		return
	}
	if l := qv.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			badRequest(w, r, "limit must be a whole number from 1 to 1000", &inventory.InputError{Column: "limit", Value: l, Reason: "not in 1..1000"})
			return
		}
		q.Limit = n
	}
	page, err := s.st.ListAdvisories(r.Context(), q)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	rep, ok := s.feedReport(w, r, 0)
	if !ok {
		return
	}
	resp := map[string]any{"advisories": page.Advisories, "feeds": rep}
	if page.Next != "" {
		nq := r.URL.Query()
		nq.Set("cursor", page.Next)
		resp["next"] = page.Next
		w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, nq.Encode()))
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) getAdvisory(w http.ResponseWriter, r *http.Request) {
	a, err := s.st.GetAdvisory(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) listFeeds(w http.ResponseWriter, r *http.Request) {
	var maxAge time.Duration
	for k, vs := range r.URL.Query() {
		if k != "max_feed_age" || len(vs) != 1 {
			badRequest(w, r, fmt.Sprintf("unexpected query parameter %q (only max_feed_age, once)", k), &inventory.InputError{Column: k, Reason: "unknown or repeated parameter"})
			return
		}
		d, err := feeds.ParseAge(vs[0])
		if err != nil {
			badRequest(w, r, err.Error(), &inventory.InputError{Column: k, Value: vs[0], Reason: "want an age like 7d or 36h"})
			return
		}
		maxAge = d
	}
	rep, ok := s.feedReport(w, r, maxAge)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// feedReport is the freshness report every feed-dependent answer carries.
func (s *Server) feedReport(w http.ResponseWriter, r *http.Request, maxAge time.Duration) (*feeds.Report, bool) {
	list, err := s.st.ListFeeds(r.Context())
	if err != nil {
		s.storeError(w, r, err)
		return nil, false
	}
	rep := feeds.Status(list, feeds.StatusOptions{MaxAge: maxAge})
	if !rep.OK() {
		w.Header().Set("Warning", `199 medwarden "feeds missing or stale: see feeds.warnings"`)
	}
	return rep, true
}
