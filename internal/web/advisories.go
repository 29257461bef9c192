package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/epss"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/feeds"
	"github.com/medwarden/medwarden/internal/remediation"
	"github.com/medwarden/medwarden/internal/store"
)

type advisoriesData struct {
	Q, Publisher, CVE string
	Limit             int
	Sizes             []int
	Rows              []store.AdvisorySummary
	Next, First       string
	Error             string
	Active            []string
}

// maxCVEsShown per advisory row; the detail page lists all.
const maxCVEsShown = 4

func (h *Handler) advisories(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	q := r.URL.Query()
	d := advisoriesData{Q: strings.TrimSpace(q.Get("q")), Publisher: strings.TrimSpace(q.Get("publisher")),
		CVE: strings.TrimSpace(q.Get("cve")), Limit: 50, Sizes: pageSizes}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && slices.Contains(pageSizes, n) {
		d.Limit = n
	}
	if len(d.Q) > 200 || len(d.Publisher) > 200 || len(d.CVE) > 40 {
		h.errorPage(w, r, rc, http.StatusBadRequest, "Bad filter", "A filter value is too long.")
		return
	}
	aq := store.AdvisoryQuery{Search: d.Q, Publisher: d.Publisher, CVE: d.CVE, Limit: d.Limit, Cursor: q.Get("cursor")}
	rep, err := h.feedReport(ctx)
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	pg, err := h.st.ListAdvisories(ctx, aq)
	if err != nil && aq.Cursor != "" {
		// A stale or edited cursor: show the first page and say so.
		aq.Cursor = ""
		d.Error = "The page link was not valid; showing the first page."
		pg, err = h.st.ListAdvisories(ctx, aq)
	}
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	d.Rows = pg.Advisories
	for i := range d.Rows {
		if n := len(d.Rows[i].CVEs); n > maxCVEsShown {
			d.Rows[i].CVEs = append(d.Rows[i].CVEs[:maxCVEsShown:maxCVEsShown], fmt.Sprintf("+%d more", n-maxCVEsShown))
		}
	}
	base := url.Values{}
	for k, v := range map[string]string{"q": d.Q, "publisher": d.Publisher, "cve": d.CVE} {
		if v != "" {
			base.Set(k, v)
		}
	}
	if d.Limit != 50 {
		base.Set("limit", strconv.Itoa(d.Limit))
	}
	if pg.Next != "" {
		v := cloneValues(base)
		v.Set("cursor", pg.Next)
		d.Next = "/advisories?" + v.Encode()
	}
	if aq.Cursor != "" {
		d.First = "/advisories?" + base.Encode()
	}
	if d.Q != "" {
		d.Active = append(d.Active, fmt.Sprintf("id or title contains %q", d.Q))
	}
	if d.Publisher != "" {
		d.Active = append(d.Active, "publisher is "+d.Publisher)
	}
	if d.CVE != "" {
		d.Active = append(d.Active, "names "+strings.ToUpper(d.CVE))
	}
	h.render(w, r, http.StatusOK, "advisories", page{Title: "Advisories", Nav: "advisories", RC: rc, Data: d, Feeds: rep})
}

// kevInfo and epssInfo are what the advisory page says about a CVE.
type kevInfo struct {
	DateAdded, DueDate time.Time
	Action             string
	Ransomware         bool
}

type epssInfo struct {
	EPSS, Percentile float64
}

// exploitCache keeps the KEV catalog and EPSS scores indexed by CVE. They
// are reloaded when the feed's import time changes, so an advisory page
// does not decode ~300,000 EPSS rows per request.
type exploitCache struct {
	mu     sync.Mutex
	kevAt  time.Time
	kev    map[string]kevInfo
	epssAt time.Time
	epss   map[string]epssInfo
}

func (h *Handler) exploitData(ctx context.Context, rep *feeds.Report) (map[string]kevInfo, map[string]epssInfo, error) {
	var kevAt, epssAt time.Time
	for _, f := range rep.Feeds {
		switch f.Name {
		case store.FeedKEV:
			kevAt = f.ImportedAt
		case store.FeedEPSS:
			epssAt = f.ImportedAt
		}
	}
	c := &h.exploit
	c.mu.Lock()
	defer c.mu.Unlock()
	if !kevAt.Equal(c.kevAt) || (c.kev == nil && !kevAt.IsZero()) {
		cat, err := h.st.KEV(ctx)
		switch {
		case errors.Is(err, store.ErrNotFound):
			c.kev = map[string]kevInfo{}
		case err != nil:
			return nil, nil, fmt.Errorf("load KEV catalog: %w", err)
		default:
			c.kev = kevIndex(cat)
		}
		c.kevAt = kevAt
	}
	if !epssAt.Equal(c.epssAt) || (c.epss == nil && !epssAt.IsZero()) {
		f, err := h.st.EPSS(ctx)
		switch {
		case errors.Is(err, store.ErrNotFound):
			c.epss = map[string]epssInfo{}
		case err != nil:
			return nil, nil, fmt.Errorf("load EPSS scores: %w", err)
		default:
			c.epss = epssIndex(f)
		}
		c.epssAt = epssAt
	}
	return c.kev, c.epss, nil
}

func kevIndex(c *kev.Catalog) map[string]kevInfo {
	m := make(map[string]kevInfo, len(c.Entries))
	for _, e := range c.Entries {
		m[e.CVEID] = kevInfo{DateAdded: e.DateAdded, DueDate: e.DueDate, Action: e.RequiredAction, Ransomware: e.Ransomware}
	}
	return m
}

func epssIndex(f *epss.File) map[string]epssInfo {
	m := make(map[string]epssInfo, len(f.Scores))
	for _, s := range f.Scores {
		m[s.CVE] = epssInfo{EPSS: s.EPSS, Percentile: s.Percentile}
	}
	return m
}

type vulnView struct {
	V            *advisory.Vulnerability
	KEV          *kevInfo
	EPSS         *epssInfo
	MaxScore     float64
	Affected     []string // product names
	Fixed        []string
	NotAffected  []string
	Remediations []remView
}

type remView struct {
	R        advisory.Remediation
	Products []string
}

type productRow struct {
	Vendor, Product, Versions string
	N                         int
}

type advisoryData struct {
	A        *advisory.Advisory
	Vulns    []vulnView
	Products []productRow
	// NProducts counts every product of the advisory.
	NProducts int
	KEVCount  int
	// Affected are the advisory's findings, riskiest first (the devices it
	// affects); MoreAffected when there are more than shown.
	Affected     []findingRow
	MoreAffected bool
	Computed     bool
}

// maxAffectedShown devices are listed on the advisory page.
const maxAffectedShown = 100

// maxNamesShown bounds the product names listed per status so a huge
// advisory still renders a page well under 300 KB.
const maxNamesShown = 30

func (h *Handler) advisoryPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	id := r.PathValue("id")
	a, err := h.st.GetAdvisory(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, rc, http.StatusNotFound, "No such advisory", fmt.Sprintf("There is no advisory %q; import the feed that has it on the Feeds page.", id))
		return
	}
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	rep, err := h.feedReport(ctx)
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	kevs, scores, err := h.exploitData(ctx, rep)
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	d := advisoryData{A: a, NProducts: len(a.Products), Products: productSummary(a)}
	names := func(ids []string) []string {
		var out []string
		for i, id := range ids {
			if i == maxNamesShown {
				out = append(out, fmt.Sprintf("and %d more", len(ids)-maxNamesShown))
				break
			}
			out = append(out, productName(a, id))
		}
		return out
	}
	for i := range a.Vulnerabilities {
		v := &a.Vulnerabilities[i]
		vv := vulnView{V: v}
		if k, ok := kevs[v.CVE]; ok && v.CVE != "" {
			vv.KEV = &k
			d.KEVCount++
		}
		if s, ok := scores[v.CVE]; ok && v.CVE != "" {
			vv.EPSS = &s
		}
		for _, s := range v.Scores {
			vv.MaxScore = max(vv.MaxScore, s.BaseScore)
		}
		vv.Affected = names(v.Affected())
		vv.Fixed = names(append(append([]string(nil), v.Statuses[advisory.StatusFixed]...), v.Statuses[advisory.StatusFirstFixed]...))
		vv.NotAffected = names(v.Statuses[advisory.StatusKnownNotAffected])
		for _, rm := range v.Remediations {
			vv.Remediations = append(vv.Remediations, remView{R: rm, Products: names(rm.ProductIDs)})
		}
		d.Vulns = append(d.Vulns, vv)
	}
	at, err := h.st.FindingsComputedAt(ctx)
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	d.Computed = !at.IsZero()
	fp, err := h.st.ListFindings(ctx, store.FindingQuery{AdvisoryID: a.ID, Sort: "-score", Limit: maxAffectedShown})
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	d.MoreAffected = fp.Next != ""
	for _, f := range fp.Findings {
		d.Affected = append(d.Affected, findingRow{F: f, SLA: slaOf(f, h.now(), remediation.DefaultPolicy().DueSoonDays)})
	}
	h.render(w, r, http.StatusOK, "advisory", page{Title: a.ID, Nav: "advisories", RC: rc, Data: d, Feeds: rep})
}

func productName(a *advisory.Advisory, id string) string {
	if p := a.Product(id); p != nil && p.Name != "" {
		return p.Name
	}
	return id
}

// maxProductRows bounds the product tree summary.
const maxProductRows = 100

// productSummary groups the advisory's products by vendor and product:
// the versions (or version ranges) each covers.
func productSummary(a *advisory.Advisory) []productRow {
	type key struct{ v, p string }
	idx := map[key]int{}
	var rows []productRow
	var vers [][]string
	for _, p := range a.Products {
		if p.Relationship != nil {
			continue
		}
		name := p.ProductName
		if name == "" {
			name = p.ProductFamily
		}
		if name == "" {
			name = p.Name
		}
		k := key{p.Vendor, name}
		i, ok := idx[k]
		if !ok {
			i = len(rows)
			idx[k] = i
			rows = append(rows, productRow{Vendor: p.Vendor, Product: name})
			vers = append(vers, nil)
		}
		rows[i].N++
		if v := firstNonEmpty(p.Version, p.VersionRange); v != "" {
			vers[i] = append(vers[i], v)
		}
	}
	for i := range rows {
		vs := vers[i]
		if len(vs) > 12 {
			vs = append(vs[:12:12], fmt.Sprintf("and %d more", len(vers[i])-12))
		}
		rows[i].Versions = strings.Join(vs, ", ")
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Vendor != rows[j].Vendor {
			return rows[i].Vendor < rows[j].Vendor
		}
		return rows[i].Product < rows[j].Product
	})
	if len(rows) > maxProductRows {
		rows = rows[:maxProductRows]
	}
	return rows
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
