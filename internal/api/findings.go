package api

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
	"github.com/medwarden/medwarden/internal/feeds"
	"github.com/medwarden/medwarden/internal/findings"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/remediation"
	"github.com/medwarden/medwarden/internal/risk"
	"github.com/medwarden/medwarden/internal/rubric"
	"github.com/medwarden/medwarden/internal/store"
)

// Findings: GET /api/v1/findings (filters, keyset paging), GET and PATCH
// /api/v1/findings/{id} (the workflow, with ETag/If-Match). Every answer
// that depends on feeds carries the feed freshness report under "feeds".

// Bounds of free-text workflow fields.
const (
	maxNoteLen  = 4000
	maxNameLen  = 200
	maxReasonLn = 4000
)

// matchStatuses are the match statuses a finding may have.
var matchStatuses = []string{"known_affected", "first_affected", "last_affected", "needs_review"}

// WorkflowService applies finding workflow changes with validation, audit
// and an immediate rescore of the device (internal/findings.Service).
type WorkflowService interface {
	UpdateWorkflow(ctx context.Context, id int64, ch findings.Change, ifRevision int64, actor string) (*store.Finding, error)
}

// EnableFindingsService sends PATCH /api/v1/findings/{id} through svc, so a
// workflow change (a rubric vector, a false positive, an acceptance) is
// rescored at once. Without it the API validates, writes and audits the
// workflow itself and the next recompute rescores.
func (s *Server) EnableFindingsService(svc WorkflowService) { s.workflow = svc }

// findingStore is the store's FindingStore (a separate name so handlers
// read as what they use).
func (s *Server) findingStore(http.ResponseWriter, *http.Request) (store.FindingStore, bool) {
	return s.st, true
}

// params checks a query against the names it may hold (each at most once)
// and returns it.
func params(w http.ResponseWriter, r *http.Request, allowed ...string) (url.Values, bool) {
	qv := r.URL.Query()
	for k, vs := range qv {
		if !slices.Contains(allowed, k) {
			badRequest(w, r, fmt.Sprintf("unknown query parameter %q (use %s)", truncate(k, 40), strings.Join(allowed, ", ")),
				&inventory.InputError{Column: truncate(k, 40), Reason: "unknown parameter"})
			return nil, false
		}
		if len(vs) != 1 {
			badRequest(w, r, fmt.Sprintf("parameter %q given %d times", k, len(vs)), &inventory.InputError{Column: k, Reason: "give each parameter once"})
			return nil, false
		}
	}
	return qv, true
}

// paramErr answers 400 naming a query parameter.
func paramErr(w http.ResponseWriter, r *http.Request, name, value, want string) {
	badRequest(w, r, fmt.Sprintf("query parameter %q must be %s", name, want),
		&inventory.InputError{Column: name, Value: truncate(value, 100), Reason: "want " + want})
}

func parseBoolParam(w http.ResponseWriter, r *http.Request, qv url.Values, name string) (*bool, bool) {
	v := qv.Get(name)
	if v == "" {
		return nil, true
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		paramErr(w, r, name, v, "true or false")
		return nil, false
	}
	return &b, true
}

func parseLimit(w http.ResponseWriter, r *http.Request, qv url.Values) (int, bool) {
	v := qv.Get("limit")
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		paramErr(w, r, "limit", v, "a whole number from 1 to 1000")
		return 0, false
	}
	return n, true
}

func parseBand(w http.ResponseWriter, r *http.Request, qv url.Values) (string, bool) {
	v := strings.ToLower(qv.Get("band"))
	if v != "" && !slices.Contains(risk.Bands, risk.Band(v)) {
		paramErr(w, r, "band", v, "one of critical, high, medium, low, info")
		return "", false
	}
	return v, true
}

func parseDay(w http.ResponseWriter, r *http.Request, qv url.Values, name string) (string, bool) {
	v := qv.Get(name)
	if v == "" {
		return "", true
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		paramErr(w, r, name, v, "a date YYYY-MM-DD")
		return "", false
	}
	return v, true
}

func parseSort(w http.ResponseWriter, r *http.Request, qv url.Values, fields []string) (string, bool) {
	v := qv.Get("sort")
	if v != "" && !slices.Contains(fields, strings.TrimPrefix(v, "-")) {
		paramErr(w, r, "sort", v, "one of "+strings.Join(fields, ", ")+" (prefix - for descending)")
		return "", false
	}
	return v, true
}

// feedsFor is the feed report of a feed-dependent answer, honouring the
// max_feed_age parameter (default: feeds.DefaultMaxAge).
func (s *Server) feedsFor(w http.ResponseWriter, r *http.Request, qv url.Values) (*feeds.Report, bool) {
	var maxAge time.Duration
	if v := qv.Get("max_feed_age"); v != "" {
		d, err := feeds.ParseAge(v)
		if err != nil {
			badRequest(w, r, err.Error(), &inventory.InputError{Column: "max_feed_age", Value: truncate(v, 40), Reason: "want an age like 7d or 36h"})
			return nil, false
		}
		maxAge = d
	}
	return s.feedReport(w, r, maxAge)
}

// setNext adds the next-page cursor to resp and a Link header.
func setNext(w http.ResponseWriter, r *http.Request, resp map[string]any, next string) {
	if next == "" {
		return
	}
	nq := r.URL.Query()
	nq.Set("cursor", next)
	resp["next"] = next
	w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, nq.Encode()))
}

var findingParams = []string{"device", "device_id", "asset_id", "advisory", "cve", "source", "status", "state", "include_resolved", "kev",
	"min_confidence", "band", "owner", "site", "due_before", "sort", "limit", "cursor", "max_feed_age"}

// findingQuery reads the filters of GET /api/v1/findings.
func (s *Server) findingQuery(w http.ResponseWriter, r *http.Request, qv url.Values) (store.FindingQuery, bool) {
	q := store.FindingQuery{AdvisoryID: qv.Get("advisory"), AssetID: qv.Get("asset_id"), Owner: qv.Get("owner"), Site: strings.TrimSpace(qv.Get("site")), Cursor: qv.Get("cursor")}
	if v := qv.Get("device_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			paramErr(w, r, "device_id", v, "a device id (a positive whole number)")
			return q, false
		}
		q.DeviceID = n
	}
	if v := qv.Get("device"); v != "" {
		// an asset id when a device has it, else a numeric device id
		d, err := s.st.GetDeviceByAssetID(r.Context(), v)
		switch {
		case err == nil:
			q.DeviceID = d.ID
		case !errors.Is(err, store.ErrNotFound):
			s.storeError(w, r, err)
			return q, false
		default:
			n, perr := strconv.ParseInt(v, 10, 64)
			if perr != nil || n <= 0 {
				badRequest(w, r, fmt.Sprintf("no device has asset id %q", truncate(v, 100)),
					&inventory.InputError{Column: "device", Value: truncate(v, 100), Reason: "neither an asset id nor a device id"})
				return q, false
			}
			q.DeviceID = n
		}
	}
	if v := qv.Get("cve"); v != "" {
		if !cveParam.MatchString(v) {
			paramErr(w, r, "cve", v, "a CVE id like CVE-2024-12345")
			return q, false
		}
		q.CVE = strings.ToUpper(v)
	}
	if v := qv.Get("source"); v != "" {
		if v != store.SourceAdvisory && v != store.SourceSBOM {
			paramErr(w, r, "source", v, "advisory or sbom")
			return q, false
		}
		q.Source = v
	}
	if v := qv.Get("status"); v != "" {
		if !slices.Contains(matchStatuses, v) {
			paramErr(w, r, "status", v, "one of "+strings.Join(matchStatuses, ", "))
			return q, false
		}
		q.MatchStatus = v
	}
	if v := qv.Get("state"); v != "" {
		if !store.ValidWorkflowState(v) {
			paramErr(w, r, "state", v, "one of "+strings.Join(store.WorkflowStates, ", "))
			return q, false
		}
		q.State = v
		// asking for resolved findings means asking for them all
		q.IncludeResolved = v == store.StateResolved
	}
	inc, ok := parseBoolParam(w, r, qv, "include_resolved")
	if !ok {
		return q, false
	}
	if inc != nil {
		q.IncludeResolved = *inc
	}
	if q.KEV, ok = parseBoolParam(w, r, qv, "kev"); !ok {
		return q, false
	}
	if v := qv.Get("min_confidence"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0 && f <= 1) {
			paramErr(w, r, "min_confidence", v, "a number from 0 to 1")
			return q, false
		}
		q.MinConfidence = f
	}
	if q.Band, ok = parseBand(w, r, qv); !ok {
		return q, false
	}
	if q.DueBefore, ok = parseDay(w, r, qv, "due_before"); !ok {
		return q, false
	}
	if q.Sort, ok = parseSort(w, r, qv, store.FindingSortFields); !ok {
		return q, false
	}
	if q.Limit, ok = parseLimit(w, r, qv); !ok {
		return q, false
	}
	return q, true
}

func (s *Server) listFindings(w http.ResponseWriter, r *http.Request) {
	qv, ok := params(w, r, findingParams...)
	if !ok {
		return
	}
	fs, ok := s.findingStore(w, r)
	if !ok {
		return
	}
	q, ok := s.findingQuery(w, r, qv)
	if !ok {
		return
	}
	page, err := fs.ListFindings(r.Context(), q)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	rep, ok := s.feedsFor(w, r, qv)
	if !ok {
		return
	}
	list := page.Findings
	if list == nil {
		list = []*store.Finding{}
	}
	resp := map[string]any{"findings": list, "feeds": rep}
	setNext(w, r, resp, page.Next)
	writeJSON(w, http.StatusOK, resp)
}

func findingETag(f *store.Finding) string {
	return `"f` + strconv.FormatInt(f.Workflow.Revision, 10) + `"`
}

func (s *Server) findingByPath(w http.ResponseWriter, r *http.Request, fs store.FindingStore) (*store.Finding, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		badRequest(w, r, "finding id must be a positive whole number", &inventory.InputError{Column: "id", Value: truncate(r.PathValue("id"), 40), Reason: "not a finding id"})
		return nil, false
	}
	f, err := fs.GetFinding(r.Context(), id)
	if err != nil {
		s.findingError(w, r, err)
		return nil, false
	}
	return f, true
}

func (s *Server) getFinding(w http.ResponseWriter, r *http.Request) {
	qv, ok := params(w, r, "max_feed_age")
	if !ok {
		return
	}
	fs, ok := s.findingStore(w, r)
	if !ok {
		return
	}
	f, ok := s.findingByPath(w, r, fs)
	if !ok {
		return
	}
	rep, ok := s.feedsFor(w, r, qv)
	if !ok {
		return
	}
	w.Header().Set("ETag", findingETag(f))
	writeJSON(w, http.StatusOK, findingView{Finding: f, Feeds: rep})
}

// findingView is one finding with the feed report.
type findingView struct {
	*store.Finding
	Feeds *feeds.Report `json:"feeds"`
}

// WorkflowPatch is the body of PATCH /api/v1/findings/{id}: a JSON merge
// patch of the workflow. Absent members are left alone; "" clears a text
// member; "rubric": null removes the rubric vector.
type WorkflowPatch struct {
	State      *string          `json:"state"`
	Owner      *string          `json:"owner"`
	Note       *string          `json:"note"`
	DueDate    *string          `json:"due_date"`
	Acceptance *AcceptancePatch `json:"acceptance"`
	Rubric     json.RawMessage  `json:"rubric"`
}

// AcceptancePatch is a risk acceptance: why, who approved, until when.
type AcceptancePatch struct {
	Justification string `json:"justification"`
	Approver      string `json:"approver"`
	// Expires is a date (YYYY-MM-DD) or an RFC 3339 time; a date means
	// the end of that day (UTC).
	Expires string `json:"expires"`
}

// acceptancePolicy bounds risk acceptances (the remediation policy's
// MaxAcceptanceDays).
func (s *Server) acceptancePolicy() remediation.Policy { return remediation.DefaultPolicy() }

// applyPatch validates p and applies it to wf; the InputError names the
// field at fault.
func (s *Server) applyPatch(wf *store.Workflow, p *WorkflowPatch, now time.Time) *inventory.InputError {
	text := func(field string, v *string, max int, dst *string) *inventory.InputError {
		if v == nil {
			return nil
		}
		t := strings.TrimSpace(*v)
		if !utf8.ValidString(t) || strings.ContainsRune(t, 0) {
			return &inventory.InputError{Column: field, Reason: "not valid UTF-8 text"}
		}
		if utf8.RuneCountInString(t) > max {
			return &inventory.InputError{Column: field, Value: truncate(t, 40), Reason: fmt.Sprintf("longer than %d characters", max)}
		}
		*dst = t
		return nil
	}
	if p.State != nil {
		st := strings.ToLower(strings.TrimSpace(*p.State))
		if !store.ValidWorkflowState(st) {
			return &inventory.InputError{Column: "state", Value: truncate(*p.State, 40), Reason: "want one of " + strings.Join(store.WorkflowStates, ", ")}
		}
		wf.State = st
	}
	if ie := text("owner", p.Owner, maxNameLen, &wf.Owner); ie != nil {
		return ie
	}
	if ie := text("note", p.Note, maxNoteLen, &wf.Note); ie != nil {
		return ie
	}
	if p.DueDate != nil {
		d := strings.TrimSpace(*p.DueDate)
		if d != "" {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				return &inventory.InputError{Column: "due_date", Value: truncate(d, 40), Reason: "want a date YYYY-MM-DD (\"\" for the policy's)"}
			}
		}
		wf.DueDate = d
	}
	if a := p.Acceptance; a != nil {
		if wf.State != store.StateAccepted {
			return &inventory.InputError{Column: "acceptance", Reason: `an acceptance needs "state": "accepted"`}
		}
		var acc store.Workflow
		if ie := text("acceptance.justification", &a.Justification, maxReasonLn, &acc.AcceptJustification); ie != nil {
			return ie
		}
		if ie := text("acceptance.approver", &a.Approver, maxNameLen, &acc.AcceptApprover); ie != nil {
			return ie
		}
		if acc.AcceptJustification == "" {
			return &inventory.InputError{Column: "acceptance.justification", Reason: "required: why the risk is accepted"}
		}
		if acc.AcceptApprover == "" {
			return &inventory.InputError{Column: "acceptance.approver", Reason: "required: who approved the acceptance"}
		}
		exp, err := parseExpiry(a.Expires)
		if err != nil {
			return &inventory.InputError{Column: "acceptance.expires", Value: truncate(a.Expires, 40), Reason: err.Error()}
		}
		if !exp.After(now) {
			return &inventory.InputError{Column: "acceptance.expires", Value: a.Expires, Reason: "already past"}
		}
		maxDays := s.acceptancePolicy().MaxAcceptanceDays
		if limit := now.AddDate(0, 0, maxDays); exp.After(limit.Add(24 * time.Hour)) {
			return &inventory.InputError{Column: "acceptance.expires", Value: a.Expires,
				Reason: fmt.Sprintf("more than %d days ahead (the policy's maximum acceptance; latest %s)", maxDays, limit.UTC().Format(time.DateOnly))}
		}
		wf.AcceptJustification, wf.AcceptApprover, wf.AcceptExpires = acc.AcceptJustification, acc.AcceptApprover, exp
	}
	if wf.State != store.StateAccepted {
		// leaving accepted ends the acceptance (as the findings service does)
		wf.AcceptJustification, wf.AcceptApprover, wf.AcceptExpires = "", "", time.Time{}
	}
	if wf.State == store.StateAccepted {
		switch {
		case wf.AcceptJustification == "" || wf.AcceptApprover == "" || wf.AcceptExpires.IsZero():
			return &inventory.InputError{Column: "acceptance", Reason: `state "accepted" needs an acceptance {justification, approver, expires}`}
		case !wf.AcceptExpires.After(now):
			return &inventory.InputError{Column: "acceptance.expires", Value: wf.AcceptExpires.Format(time.DateOnly),
				Reason: "the acceptance on record has expired; send a new acceptance"}
		}
	}
	if len(p.Rubric) > 0 {
		if string(p.Rubric) == "null" {
			wf.RubricVector, wf.RubricAnswers, wf.RubricRationale = "", nil, nil
		} else {
			var req RubricRequest
			if err := decodeStrict(p.Rubric, &req); err != nil {
				return &inventory.InputError{Column: "rubric", Reason: "want {\"answers\": {question id: answer}, \"cvss_version\", \"unknown_impact\"}: " + err.Error()}
			}
			// findings are scored with the rubric's CVSS v3.1 vector,
			// UNKNOWN impacts counting as None (as the recompute does)
			if req.CVSSVersion != "" && req.CVSSVersion != "3.1" {
				return &inventory.InputError{Column: "rubric.cvss_version", Value: truncate(req.CVSSVersion, 20), Reason: "findings keep CVSS 3.1 rubric vectors (leave it out or send 3.1)"}
			}
			if req.UnknownImpact != "" && req.UnknownImpact != "none" {
				return &inventory.InputError{Column: "rubric.unknown_impact", Value: truncate(req.UnknownImpact, 20), Reason: "findings count UNKNOWN impacts as None (leave it out or send none)"}
			}
			res, ie := evalRubric(req, "rubric.")
			if ie != nil {
				return ie
			}
			if !res.Complete {
				return &inventory.InputError{Column: "rubric.answers." + res.Missing[0],
					Reason: fmt.Sprintf("unanswered: the rubric needs %d more answers (%s) before it yields a vector", len(res.Missing), strings.Join(res.Missing, ", "))}
			}
			answers, _ := json.Marshal(res.Answers)
			rationale, _ := json.Marshal(res.Metrics)
			wf.RubricVector, wf.RubricAnswers, wf.RubricRationale = res.Vector, answers, rationale
		}
	}
	return nil
}

// parseExpiry reads a date (the end of that day, UTC) or an RFC 3339 time.
func parseExpiry(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("required: the date the acceptance ends (YYYY-MM-DD)")
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Add(24*time.Hour - time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("want a date YYYY-MM-DD or an RFC 3339 time")
	}
	return t.UTC(), nil
}

// findingIfMatch reads If-Match: the finding ETag ("f3", or a bare
// revision) is required.
func findingIfMatch(w http.ResponseWriter, r *http.Request) (int64, bool) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		writeProblem(w, r, Problem{Type: typePrecond, Title: "precondition required", Status: http.StatusPreconditionRequired,
			Detail: "send If-Match with the ETag of the finding you read, so concurrent workflow changes are not lost"})
		return 0, false
	}
	v := strings.TrimPrefix(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), "f")
	rev, err := strconv.ParseInt(v, 10, 64)
	if err != nil || rev <= 0 {
		badRequest(w, r, "If-Match must be an ETag returned by GET /api/v1/findings/{id}", &inventory.InputError{Column: "If-Match", Value: truncate(h, 40), Reason: "not a finding ETag"})
		return 0, false
	}
	return rev, true
}

func (s *Server) patchFinding(w http.ResponseWriter, r *http.Request) {
	qv, ok := params(w, r, "max_feed_age")
	if !ok {
		return
	}
	rev, ok := findingIfMatch(w, r)
	if !ok {
		return
	}
	fs, ok := s.findingStore(w, r)
	if !ok {
		return
	}
	before, ok := s.findingByPath(w, r, fs)
	if !ok {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/merge-patch+json") {
		writeProblem(w, r, Problem{Type: typeValidation, Title: "unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: "send the workflow change as application/merge-patch+json or application/json"})
		return
	}
	r.Header.Del("Content-Type") // checked above
	body, ok := readJSONBody(w, r, MaxJSONBody)
	if !ok {
		return
	}
	var p WorkflowPatch
	if err := decodeStrict(body, &p); err != nil {
		jsonError(w, r, err, "")
		return
	}
	if p.State == nil && p.Owner == nil && p.Note == nil && p.DueDate == nil && p.Acceptance == nil && len(p.Rubric) == 0 {
		badRequest(w, r, "the patch changes nothing: send at least one of state, owner, note, due_date, acceptance, rubric")
		return
	}
	if rev != before.Workflow.Revision {
		s.findingError(w, r, fmt.Errorf("finding %d is at workflow revision %d, not %d: %w", before.ID, before.Workflow.Revision, rev, store.ErrConflict))
		return
	}
	wf := before.Workflow
	if ie := s.applyPatch(&wf, &p, s.now()); ie != nil {
		badRequest(w, r, fmt.Sprintf("invalid workflow change: %s: %s", ie.Column, ie.Reason), ie)
		return
	}
	if pr, ok := PrincipalFrom(r.Context()); ok {
		wf.UpdatedBy = pr.Account()
	} else {
		wf.UpdatedBy = actor(r)
	}
	if s.workflow != nil {
		after, err := s.workflow.UpdateWorkflow(r.Context(), before.ID, changeOf(&p, wf), rev, wf.UpdatedBy)
		var fe *findings.FieldError
		switch {
		case errors.As(err, &fe):
			field := strings.NewReplacer("accept.", "acceptance.", "rubric_answers", "rubric.answers").Replace(fe.Field)
			badRequest(w, r, fmt.Sprintf("invalid workflow change: %s: %s", field, fe.Reason), &inventory.InputError{Column: field, Reason: fe.Reason})
			return
		case err != nil && after == nil:
			s.findingError(w, r, err)
			return
		case err != nil:
			// saved, but the audit append or the rescore failed
			s.storeError(w, r, err)
			return
		}
		s.writeFinding(w, r, qv, after)
		return
	}
	after, err := fs.UpdateFindingWorkflow(r.Context(), before.ID, wf, rev)
	if err != nil {
		s.findingError(w, r, err)
		return
	}
	if s.sec != nil {
		// the change is made: a failed audit append is an error, not a
		// silent success (as for devices)
		if err := recorder.Record(r.Context(), s.sec, "finding.update", "finding/"+strconv.FormatInt(after.ID, 10), before.Workflow, after.Workflow); err != nil {
			s.storeError(w, r, err)
			return
		}
	}
	s.writeFinding(w, r, qv, after)
}

// writeFinding answers one finding with its ETag and the feed report.
func (s *Server) writeFinding(w http.ResponseWriter, r *http.Request, qv url.Values, f *store.Finding) {
	rep, ok := s.feedsFor(w, r, qv)
	if !ok {
		return
	}
	w.Header().Set("ETag", findingETag(f))
	writeJSON(w, http.StatusOK, findingView{Finding: f, Feeds: rep})
}

// changeOf is the service's form of a validated patch; wf is the workflow
// the patch gives (its acceptance and rubric answers are normalised).
func changeOf(p *WorkflowPatch, wf store.Workflow) findings.Change {
	ch := findings.Change{Owner: p.Owner, Note: p.Note, DueDate: p.DueDate}
	if p.State != nil {
		st := wf.State
		ch.State = &st
	}
	if p.Acceptance != nil {
		ch.Accept = &findings.Acceptance{Justification: wf.AcceptJustification, Approver: wf.AcceptApprover, Expires: wf.AcceptExpires}
	}
	if len(p.Rubric) > 0 {
		ch.RubricAnswers = rubric.Answers{} // null: remove the rubric vector
		if len(wf.RubricAnswers) > 0 {
			json.Unmarshal(wf.RubricAnswers, &ch.RubricAnswers) //nolint:errcheck // written by applyPatch
		}
	}
	return ch
}

// findingError is storeError with the finding's words for a stale ETag.
func (s *Server) findingError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrConflict):
		writeProblem(w, r, Problem{Type: typeConflict, Title: "revision conflict", Status: http.StatusPreconditionFailed,
			Detail: err.Error() + "; someone changed the finding since you read it: fetch it again, check their change and retry with its ETag"})
	case errors.Is(err, store.ErrNotFound):
		writeProblem(w, r, Problem{Type: typeNotFound, Title: "not found", Status: http.StatusNotFound, Detail: "no finding " + r.PathValue("id")})
	default:
		s.storeError(w, r, err)
	}
}
