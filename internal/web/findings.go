package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/findings"
	"github.com/medwarden/medwarden/internal/remediation"
	"github.com/medwarden/medwarden/internal/risk"
	"github.com/medwarden/medwarden/internal/store"
)

// Bounds of the free-text workflow fields (as the API's).
const (
	maxOwnerLen = 200
	maxNoteLen  = 4000
)

var bands = []string{string(risk.BandCritical), string(risk.BandHigh), string(risk.BandMedium), string(risk.BandLow), string(risk.BandInfo)}

// stateLabels name workflow states for people.
var stateLabels = map[string]string{
	store.StateOpen: "Open", store.StateInProgress: "In progress", store.StateMitigated: "Mitigated",
	store.StateResolved: "Resolved", store.StateAccepted: "Risk accepted", store.StateFalsePositive: "False positive",
}

func stateLabel(s string) string {
	if l, ok := stateLabels[s]; ok {
		return l
	}
	return s
}

// slaLabels name the SLA states.
var slaLabels = map[string]string{
	string(remediation.SLAOverdue): "Overdue", string(remediation.SLADueSoon): "Due soon", string(remediation.SLAOnTrack): "On track",
	string(remediation.SLAAccepted): "Accepted", string(remediation.SLANone): "No deadline",
}

// sla is a finding's due date and SLA state today (the same rules as the
// API's remediation queue): an acceptance in force makes it "accepted"
// until it expires; otherwise the effective due date (a person's, else the
// policy's) decides overdue / due soon / on track.
type sla struct {
	State, Label, Due, Rule string
	DaysLeft                *int
}

func slaOf(f *store.Finding, now time.Time, dueSoonDays int) sla {
	s := sla{Rule: f.DueRule}
	if f.Workflow.DueDate != "" {
		s.Rule = "due date set by " + firstNonEmpty(f.Workflow.UpdatedBy, "a person")
	}
	wf := f.Workflow
	st := remediation.StateAt(f.EffectiveDue(), wf.State == store.StateAccepted, wf.AcceptExpires, now, dueSoonDays)
	s.State, s.Due, s.DaysLeft = string(st.State), st.Due, st.DaysLeft
	if st.Accepted {
		s.Rule = "risk acceptance expires"
	}
	s.Label = slaLabels[s.State]
	return s
}

func slaRank(s string) int { return remediation.SLA(s).Rank() }

// findingRow is one finding with its SLA for the lists.
type findingRow struct {
	F   *store.Finding
	SLA sla
}

type findingsData struct {
	State, Band, KEV, Asset, Advisory, Owner, Sort string
	Site                                           string
	States, Bands                                  []string
	Limit                                          int
	Sizes                                          []int
	Rows                                           []findingRow
	Next, First                                    string
	Error                                          string
	Queue                                          bool // the remediation queue view
	Today                                          string
	Sorts                                          []choice
}

// findingSorts are the sorts the findings page offers.
var findingSorts = []choice{{"-score", "Risk, highest first"}, {"-cvss", "CVSS, highest first"}, {"-epss", "EPSS, highest first"},
	{"due", "Due date, earliest first"}, {"-first_seen", "Newest first"}, {"asset_id", "Device"}, {"advisory_id", "Advisory"}}

func (h *Handler) findingsQuery(r *http.Request, d *findingsData) (store.FindingQuery, string) {
	v := r.URL.Query()
	d.State, d.Band, d.KEV = v.Get("state"), v.Get("band"), v.Get("kev")
	d.Asset, d.Advisory, d.Owner = strings.TrimSpace(v.Get("asset_id")), strings.TrimSpace(v.Get("advisory")), strings.TrimSpace(v.Get("owner"))
	d.Site = strings.TrimSpace(v.Get("site"))
	d.Sort = v.Get("sort")
	d.States, d.Bands, d.Limit, d.Sizes = store.WorkflowStates, bands, 50, pageSizes
	if n, err := strconv.Atoi(v.Get("limit")); err == nil && slices.Contains(pageSizes, n) {
		d.Limit = n
	}
	q := store.FindingQuery{AssetID: d.Asset, AdvisoryID: d.Advisory, Owner: d.Owner, Site: d.Site, Limit: d.Limit, Cursor: v.Get("cursor")}
	if d.State != "" {
		if !store.ValidWorkflowState(d.State) {
			return q, "Unknown state " + strconv.Quote(d.State) + "."
		}
		q.State = d.State
		q.IncludeResolved = d.State == store.StateResolved
	}
	if d.Band != "" {
		if !slices.Contains(bands, d.Band) {
			return q, "Unknown risk band " + strconv.Quote(d.Band) + "."
		}
		q.Band = d.Band
	}
	switch d.KEV {
	case "":
	case "yes", "no":
		b := d.KEV == "yes"
		q.KEV = &b
	default:
		return q, "KEV must be yes or no."
	}
	if d.Sort == "" {
		d.Sort = "-score"
	}
	if !slices.ContainsFunc(findingSorts, func(c choice) bool { return c.Value == d.Sort }) {
		return q, "Unknown sort " + strconv.Quote(d.Sort) + "."
	}
	q.Sort = d.Sort
	if len(d.Asset) > 200 || len(d.Advisory) > 200 || len(d.Owner) > maxOwnerLen || len(d.Site) > 200 {
		return q, "A filter value is too long."
	}
	return q, ""
}

func (d *findingsData) links(path string, cursor, next string) {
	base := url.Values{}
	for k, s := range map[string]string{"state": d.State, "band": d.Band, "kev": d.KEV, "asset_id": d.Asset, "advisory": d.Advisory, "owner": d.Owner, "site": d.Site} {
		if s != "" {
			base.Set(k, s)
		}
	}
	if !d.Queue && d.Sort != "-score" {
		base.Set("sort", d.Sort)
	}
	if d.Limit != 50 {
		base.Set("limit", strconv.Itoa(d.Limit))
	}
	if next != "" {
		v := cloneValues(base)
		v.Set("cursor", next)
		d.Next = path + "?" + v.Encode()
	}
	if cursor != "" {
		d.First = path + "?" + base.Encode()
	}
}

func (h *Handler) findingsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.findingsList(w, r, rc, false)
}

func (h *Handler) remediationsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	h.findingsList(w, r, rc, true)
}

// maxQueueScan bounds the findings one queue page reads past resolved ones.
const maxQueueScan = 5000

func (h *Handler) findingsList(w http.ResponseWriter, r *http.Request, rc *reqCtx, queue bool) {
	ctx := r.Context()
	now := h.now()
	d := findingsData{Queue: queue, Today: now.UTC().Format(time.DateOnly), Sorts: findingSorts}
	q, msg := h.findingsQuery(r, &d)
	nav, path, title := "findings", "/findings", "Findings"
	if queue {
		q.Sort, d.Sort = "due", "due"
		nav, path, title = "remediations", "/remediations", "Remediation queue"
	}
	rep, err := h.feedReport(ctx)
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	if msg != "" {
		d.Error = msg
		h.render(w, r, http.StatusBadRequest, "findings", page{Title: title, Nav: nav, RC: rc, Data: d, Feeds: rep})
		return
	}
	dueSoon := remediation.DefaultPolicy().DueSoonDays
	cursor := q.Cursor
	limit := q.Limit
	next := cursor
	for scanned := 0; len(d.Rows) < limit && scanned < maxQueueScan; {
		q.Limit, q.Cursor = limit-len(d.Rows), next
		pg, err := h.st.ListFindings(ctx, q)
		if err != nil && q.Cursor != "" && scanned == 0 {
			d.Error = "The page link was not valid; showing the first page."
			cursor, next = "", ""
			continue
		}
		if err != nil {
			h.serverError(w, r, rc, err)
			return
		}
		scanned += len(pg.Findings)
		for _, f := range pg.Findings {
			if queue && (f.Workflow.State == store.StateResolved || f.Workflow.State == store.StateFalsePositive) {
				continue
			}
			d.Rows = append(d.Rows, findingRow{F: f, SLA: slaOf(f, now, dueSoon)})
		}
		next = pg.Next
		if next == "" || !queue {
			break
		}
	}
	if queue { // overdue first within the page
		slices.SortStableFunc(d.Rows, func(a, b findingRow) int { return slaRank(a.SLA.State) - slaRank(b.SLA.State) })
	}
	d.links(path, cursor, next)
	h.render(w, r, http.StatusOK, "findings", page{Title: title, Nav: nav, RC: rc, Data: d, Feeds: rep, Flash: flash(r)})
}

// factorView and actionView are the decoded explanation of a score and
// the remediation items of a finding or device.
type factorView = risk.Factor

func decodeFactors(raw json.RawMessage) []factorView {
	var fs []factorView
	if len(raw) > 0 {
		json.Unmarshal(raw, &fs) //nolint:errcheck // stored by the findings service; shown as empty when unreadable
	}
	return fs
}

// componentEvidence is one SBOM component behind a finding (the JSON of
// store.Finding.Evidence, written by assess.Evidence).
type componentEvidence struct {
	SBOMID        int64  `json:"sbom_id"`
	SBOMVersion   int    `json:"sbom_version"`
	Subject       string `json:"subject"`
	Component     string `json:"component"`
	Version       string `json:"version"`
	PURL          string `json:"purl"`
	CPE           string `json:"cpe"`
	Vulnerability string `json:"vulnerability"`
	Source        string `json:"source"`
	Method        string `json:"method"`
	Confidence    string `json:"confidence"`
	Status        string `json:"status"`
	Suppressed    bool   `json:"suppressed"`
	Justification string `json:"justification"`
	Detail        string `json:"detail"`
	NeedsReview   bool   `json:"needs_review"`
	Fixed         string `json:"fixed"`
	NoFix         bool   `json:"no_fix"`
}

func decodeEvidence(raw json.RawMessage) []componentEvidence {
	var ev []componentEvidence
	if len(raw) > 0 {
		json.Unmarshal(raw, &ev) //nolint:errcheck // as above
	}
	return ev
}

func decodeActions(raw json.RawMessage) []remediation.Item {
	var is []remediation.Item
	if len(raw) > 0 {
		json.Unmarshal(raw, &is) //nolint:errcheck // as above
	}
	return is
}

type matchRemediation struct {
	Category string    `json:"category"`
	Details  string    `json:"details"`
	URL      string    `json:"url,omitempty"`
	Date     time.Time `json:"date,omitzero"`
}

func decodeRemediations(raw json.RawMessage) []matchRemediation {
	var rs []matchRemediation
	if len(raw) > 0 {
		json.Unmarshal(raw, &rs) //nolint:errcheck // as above
	}
	return rs
}

type findingData struct {
	F            *store.Finding
	SLA          sla
	Factors      []factorView
	Actions      []remediation.Item
	Remediations []matchRemediation
	// Evidence are the SBOM components behind the finding (SBOM findings
	// and advisory findings an SBOM confirms).
	Evidence []componentEvidence
	States   []string
	Error    string
	// MaxAccept is the latest acceptance expiry the policy allows.
	MaxAccept, MinAccept string
}

func (h *Handler) loadFinding(w http.ResponseWriter, r *http.Request, rc *reqCtx) *store.Finding {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.errorPage(w, r, rc, http.StatusNotFound, "No such finding", "There is no finding with that number.")
		return nil
	}
	f, err := h.st.GetFinding(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, rc, http.StatusNotFound, "No such finding", fmt.Sprintf("Finding %d does not exist.", id))
		return nil
	}
	if err != nil {
		h.serverError(w, r, rc, err)
		return nil
	}
	return f
}

func (h *Handler) findingPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if f := h.loadFinding(w, r, rc); f != nil {
		h.renderFinding(w, r, rc, f, http.StatusOK, "")
	}
}

func (h *Handler) renderFinding(w http.ResponseWriter, r *http.Request, rc *reqCtx, f *store.Finding, status int, errMsg string) {
	now := h.now()
	pol := remediation.DefaultPolicy()
	d := findingData{F: f, SLA: slaOf(f, now, pol.DueSoonDays), Factors: decodeFactors(f.Factors), Actions: decodeActions(f.Actions),
		Remediations: decodeRemediations(f.Remediations), Evidence: decodeEvidence(f.Evidence), States: store.WorkflowStates, Error: errMsg,
		MinAccept: now.UTC().AddDate(0, 0, 1).Format(time.DateOnly), MaxAccept: now.UTC().AddDate(0, 0, pol.MaxAcceptanceDays).Format(time.DateOnly)}
	rep, err := h.feedReport(r.Context())
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	h.render(w, r, status, "finding", page{Title: fmt.Sprintf("Finding %d", f.ID), Nav: "findings", RC: rc, Data: d, Feeds: rep, Flash: flash(r)})
}

// cleanText checks a free-text form field.
func cleanText(field, v string, maxLen int) (string, error) {
	t := strings.TrimSpace(v)
	if !utf8.ValidString(t) || strings.ContainsRune(t, 0) {
		return "", fmt.Errorf("%s is not valid text", field)
	}
	if utf8.RuneCountInString(t) > maxLen {
		return "", fmt.Errorf("%s is longer than %d characters", field, maxLen)
	}
	return t, nil
}

// updateFinding applies one of the finding forms: "update" (state, owner,
// note, due date) or "accept" (justification and expiry; the approver is
// the signed-in user). The form carries the workflow revision it was
// rendered with, so a concurrent change is reported, not overwritten.
// The change is audited as finding.workflow, as through the API.
func (h *Handler) updateFinding(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	ctx := r.Context()
	f := h.loadFinding(w, r, rc)
	if f == nil {
		return
	}
	rev, err := strconv.ParseInt(r.PostFormValue("revision"), 10, 64)
	if err != nil || rev < 0 {
		h.renderFinding(w, r, rc, f, http.StatusBadRequest, "The form is incomplete; reload the page and try again.")
		return
	}
	if rev != f.Workflow.Revision {
		h.renderFinding(w, r, rc, f, http.StatusConflict, fmt.Sprintf("%s changed this finding since you opened it. Review the current state below and try again.", firstNonEmpty(f.Workflow.UpdatedBy, "Someone")))
		return
	}
	fail := func(msg string) { h.renderFinding(w, r, rc, f, http.StatusUnprocessableEntity, msg) }
	ch, msg := h.findingChange(r, rc, f)
	if msg != "" {
		fail(msg)
		return
	}
	var after *store.Finding
	if h.findings != nil {
		// The findings service validates, writes, audits (finding.update)
		// and rescores the device at once.
		after, err = h.findings.UpdateWorkflow(ctx, f.ID, ch, rev, rc.User.Username)
		var fe *findings.FieldError
		if errors.As(err, &fe) {
			fail("The change was refused: " + fe.Error() + ".")
			return
		}
	} else {
		after, err = h.updateWorkflowDirect(ctx, f, ch, rev, rc.User.Username)
		if errors.Is(err, errBadChange) {
			fail(strings.TrimPrefix(err.Error(), errBadChange.Error()+": "))
			return
		}
	}
	if errors.Is(err, store.ErrConflict) {
		cur := h.loadFinding(w, r, rc)
		if cur != nil {
			h.renderFinding(w, r, rc, cur, http.StatusConflict, "Someone changed this finding at the same moment. Review the current state and try again.")
		}
		return
	}
	if err != nil {
		h.serverError(w, r, rc, err)
		return
	}
	h.dropStats()
	http.Redirect(w, r, fmt.Sprintf("/findings/%d?flash=finding", after.ID), http.StatusSeeOther)
}

// errBadChange wraps the form's validation messages (shown as they are).
var errBadChange = errors.New("bad change")

// findingChange reads the update or accept form into a workflow change;
// msg says what is wrong with the form.
func (h *Handler) findingChange(r *http.Request, rc *reqCtx, f *store.Finding) (ch findings.Change, msg string) {
	now := h.now()
	switch r.PostFormValue("action") {
	case "update":
		st := r.PostFormValue("state")
		if !store.ValidWorkflowState(st) {
			return ch, "Choose one of the states."
		}
		if st == store.StateAccepted && !(f.Workflow.State == store.StateAccepted && f.Workflow.AcceptExpires.After(now)) {
			return ch, "To accept the risk, use “Accept the risk” with a justification and an expiry date."
		}
		owner, err := cleanText("Owner", r.PostFormValue("owner"), maxOwnerLen)
		if err != nil {
			return ch, err.Error() + "."
		}
		note, err := cleanText("Note", r.PostFormValue("note"), maxNoteLen)
		if err != nil {
			return ch, err.Error() + "."
		}
		due := strings.TrimSpace(r.PostFormValue("due_date"))
		if due != "" {
			if _, err := time.Parse(time.DateOnly, due); err != nil {
				return ch, "The due date must be a date (YYYY-MM-DD), or empty for the policy's."
			}
		}
		ch.State, ch.Owner, ch.Note, ch.DueDate = &st, &owner, &note, &due
	case "accept":
		just, err := cleanText("Justification", r.PostFormValue("justification"), maxNoteLen)
		if err != nil {
			return ch, err.Error() + "."
		}
		if just == "" {
			return ch, "Say why the risk is accepted (justification)."
		}
		exp, err := time.Parse(time.DateOnly, strings.TrimSpace(r.PostFormValue("expires")))
		if err != nil {
			return ch, "Give the date the acceptance ends (YYYY-MM-DD)."
		}
		exp = exp.Add(24*time.Hour - time.Second) // the end of that day, UTC
		maxDays := remediation.DefaultPolicy().MaxAcceptanceDays
		switch {
		case !exp.After(now):
			return ch, "The acceptance would already have ended; choose a later date."
		case exp.After(now.AddDate(0, 0, maxDays).Add(24 * time.Hour)):
			return ch, fmt.Sprintf("An acceptance may last at most %d days (until %s).", maxDays, now.UTC().AddDate(0, 0, maxDays).Format(time.DateOnly))
		}
		ch.Accept = &findings.Acceptance{Justification: just, Approver: rc.User.Username, Expires: exp}
	default:
		return ch, "Unknown action."
	}
	return ch, ""
}

// updateWorkflowDirect applies ch to the stored workflow when the console
// runs without a findings service (tests, tools): the same rules, the
// revision check, and an audit entry (finding.update); the device is
// rescored by the findings service's watcher when one runs.
func (h *Handler) updateWorkflowDirect(ctx context.Context, f *store.Finding, ch findings.Change, rev int64, user string) (*store.Finding, error) {
	wf := f.Workflow
	if ch.State != nil {
		wf.State, wf.Owner, wf.Note, wf.DueDate = *ch.State, *ch.Owner, *ch.Note, *ch.DueDate
	}
	if a := ch.Accept; a != nil {
		wf.State, wf.AcceptJustification, wf.AcceptApprover, wf.AcceptExpires = store.StateAccepted, a.Justification, a.Approver, a.Expires
	}
	if wf.State != store.StateAccepted {
		wf.AcceptJustification, wf.AcceptApprover, wf.AcceptExpires = "", "", time.Time{}
	}
	wf.UpdatedBy = user
	after, err := h.st.UpdateFindingWorkflow(ctx, f.ID, wf, rev)
	if err != nil {
		return nil, err
	}
	if sec, ok := h.st.(store.SecurityStore); ok {
		if err := recorder.Record(ctx, sec, "finding.update", "finding/"+strconv.FormatInt(after.ID, 10), f.Workflow, after.Workflow); err != nil {
			return nil, err
		}
	}
	return after, nil
}
