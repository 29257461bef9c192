package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/store"
)

// Audit page bounds.
const (
	auditPageSize = 50
	// auditWindow entries are read per store call when walking back.
	auditWindow = 500
	// maxAuditScan bounds the entries one filtered request examines; the
	// page then offers to continue further back.
	maxAuditScan = 20_000
	// auditFullEvery: the whole chain is re-verified (in the background)
	// at most this often; in between, only new entries are verified.
	auditFullEvery = 10 * time.Minute
	// maxJSONShown bytes of an entry's before/after are shown.
	maxJSONShown = 1200
)

// chainState is the result of verifying the audit chain.
type chainState struct {
	Verified int64     // entries 1..Verified verified
	Last     int64     // highest sequence number seen
	Head     string    // hash of the last verified entry
	Err      string    // why the chain is broken ("" when intact)
	At       time.Time // when the whole chain was last verified from entry 1
}

// auditVerifier verifies the chain incrementally: new entries are checked
// on every request; the whole chain again every auditFullEvery, off the
// request path, so that edits of old entries are found too.
type auditVerifier struct {
	mu      sync.Mutex
	v       *audit.Verifier
	st      chainState
	running bool
}

func scanChain(ctx context.Context, sec store.SecurityStore, v *audit.Verifier, st *chainState) error {
	after := st.Last
	if st.Err == "" {
		after = v.Count()
	}
	return sec.ScanAudit(ctx, after, func(e *audit.Entry) error {
		st.Last = max(st.Last, e.Seq)
		if st.Err == "" {
			if err := v.Add(e); err != nil {
				st.Err = err.Error()
			}
		}
		return nil
	})
}

func (h *Handler) chain(ctx context.Context, sec store.SecurityStore) (chainState, error) {
	a := &h.auditV
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.v == nil {
		v, st := audit.NewVerifier(), chainState{At: h.now()}
		if err := scanChain(ctx, sec, v, &st); err != nil {
			return chainState{}, fmt.Errorf("verify audit log: %w", err)
		}
		a.v, a.st = v, st
	} else if err := scanChain(ctx, sec, a.v, &a.st); err != nil {
		return chainState{}, fmt.Errorf("verify audit log: %w", err)
	}
	a.st.Verified, a.st.Head = a.v.Count(), a.v.Head()
	if !a.running && h.now().Sub(a.st.At) > auditFullEvery {
		a.running = true
		h.bg.Add(1)
		go func() {
			defer h.bg.Done()
			h.reverifyChain(sec)
		}()
	}
	return a.st, nil
}

func (h *Handler) reverifyChain(sec store.SecurityStore) {
	v, st := audit.NewVerifier(), chainState{At: h.now()}
	err := scanChain(h.ctx, sec, v, &st)
	a := &h.auditV
	a.mu.Lock()
	defer a.mu.Unlock()
	a.running = false
	if err != nil {
		h.log.Warn("re-verify audit log", "err", err)
		return
	}
	st.Verified, st.Head = v.Count(), v.Head()
	a.v, a.st = v, st
}

type auditRow struct {
	*audit.Entry
	BeforeS, AfterS string
}

type auditData struct {
	Chain                  chainState
	Actor, Action, Object  string
	Rows                   []auditRow
	Older, Newest          string
	ScannedFrom, ScannedTo int64
	Filtered               bool
}

func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	sec, ok := h.st.(store.SecurityStore)
	if !ok {
		h.errorPage(w, r, rc, http.StatusNotImplemented, "No audit log", "This store does not keep an audit log.")
		return
	}
	q := r.URL.Query()
	d := auditData{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")), Object: strings.TrimSpace(q.Get("object"))}
	if len(d.Actor) > 200 || len(d.Action) > 100 || len(d.Object) > 200 {
		h.errorPage(w, r, rc, http.StatusBadRequest, "Bad filter", "A filter value is too long.")
		return
	}
	d.Filtered = d.Actor != "" || d.Action != "" || d.Object != ""
	ch, err := h.chain(ctx, sec)
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	d.Chain = ch
	before := ch.Last + 1
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			h.errorPage(w, r, rc, http.StatusBadRequest, "Bad page link", "The page link is not valid.")
			return
		}
		before = min(n, ch.Last+1)
	}
	match := func(e *audit.Entry) bool {
		return (d.Actor == "" || strings.EqualFold(e.Actor, d.Actor)) &&
			(d.Action == "" || strings.EqualFold(e.Action, d.Action) || strings.HasPrefix(strings.ToLower(e.Action), strings.ToLower(strings.TrimSuffix(d.Action, "."))+".")) &&
			(d.Object == "" || strings.Contains(strings.ToLower(e.Object), strings.ToLower(d.Object)))
	}
	// Sequence numbers have no gaps, so entries before a number are read
	// back in windows, newest first.
	hi := before // exclusive
	d.ScannedTo = before - 1
	var scanned int64
	for hi > 1 && len(d.Rows) < auditPageSize && scanned < maxAuditScan {
		lo := max(1, hi-auditWindow)
		es, err := sec.ListAudit(ctx, lo-1, int(hi-lo))
		if err != nil {
			h.serverError(w, r, rc, fmt.Errorf("list audit log: %w", err))
			return
		}
		was := hi
		for i := len(es) - 1; i >= 0 && len(d.Rows) < auditPageSize; i-- {
			e := es[i]
			if e.Seq >= hi {
				continue
			}
			scanned++
			hi = e.Seq
			if match(e) {
				d.Rows = append(d.Rows, auditRow{Entry: e, BeforeS: shortJSON(e.Before), AfterS: shortJSON(e.After)})
			}
		}
		if hi == was { // nothing older is stored
			hi = 1
		}
	}
	d.ScannedFrom = hi
	if hi > 1 {
		v := url.Values{}
		for k, s := range map[string]string{"actor": d.Actor, "action": d.Action, "object": d.Object} {
			if s != "" {
				v.Set(k, s)
			}
		}
		newest := v.Encode()
		v.Set("before", strconv.FormatInt(hi, 10))
		d.Older = "/audit?" + v.Encode()
		if before <= ch.Last {
			d.Newest = "/audit?" + newest
		}
	} else if before <= ch.Last {
		d.Newest = "/audit"
	}
	h.render(w, r, http.StatusOK, "audit", page{Title: "Audit log", Nav: "audit", RC: rc, Data: d})
}

func shortJSON(b []byte) string {
	s := string(b)
	if s == "null" || s == "" {
		return ""
	}
	if len(s) > maxJSONShown {
		s = s[:maxJSONShown] + "… (truncated; 'medwarden audit export' has the whole entry)"
	}
	return s
}
