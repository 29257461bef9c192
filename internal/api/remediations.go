package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/remediation"
	"github.com/medwarden/medwarden/internal/store"
)

// GET /api/v1/remediations: the remediation queue, one item per active
// finding (matched; workflow not resolved nor false positive), ordered by
// due date so overdue items come first, each with its SLA state computed
// at the time of the request.

// remediationActions are the actions a queue item may have.
var remediationActions = []string{string(remediation.ActionPatch), string(remediation.ActionConfigure), string(remediation.ActionMitigate),
	string(remediation.ActionSegment), string(remediation.ActionReplace), string(remediation.ActionAccept)}

var slaStates = []string{string(remediation.SLAOverdue), string(remediation.SLADueSoon), string(remediation.SLAOnTrack),
	string(remediation.SLAAccepted), string(remediation.SLANone)}

var remediationParams = []string{"sla", "action", "site", "asset_id", "device_id", "band", "kev", "owner", "due_before", "limit", "cursor", "max_feed_age"}

// maxQueueScan bounds the findings one queue request reads to fill a page
// when sla, action or site filter after the store (the answer then holds
// fewer items and a next cursor).
const (
	maxQueueScan  = 20000
	maxQueueCalls = 20
)

// queueItem is one entry of the remediation queue.
type queueItem struct {
	FindingID  int64    `json:"finding_id,omitempty"` // 0 for device-level items (replace)
	DeviceID   int64    `json:"device_id"`
	AssetID    string   `json:"asset_id"`
	AdvisoryID string   `json:"advisory_id,omitempty"`
	Title      string   `json:"advisory_title,omitempty"`
	CVEs       []string `json:"cves"`
	KEV        bool     `json:"kev"`
	Score      float64  `json:"score"`
	Band       string   `json:"band"`
	// Action is the most urgent action; Actions every action of the
	// finding ([]remediation.Item as the recompute stored them).
	Action  string          `json:"action"`
	Actions json.RawMessage `json:"actions"`
	// Due is the date that applies (the acceptance's expiry while one is
	// in force, else the workflow's due date, else the policy's); DueRule
	// says which; PolicyDue is the policy's date.
	Due       string `json:"due,omitempty"`
	DueRule   string `json:"due_rule,omitempty"`
	PolicyDue string `json:"policy_due,omitempty"`
	// SLA is on_track, due_soon, overdue, accepted or none (no deadline),
	// at the time of the request; DaysLeft is negative when overdue.
	SLA      string `json:"sla"`
	DaysLeft *int   `json:"days_left,omitempty"`
	State    string `json:"state"`
	Owner    string `json:"owner,omitempty"`
	// Acceptance is set while a risk acceptance is on record.
	Acceptance *acceptanceView `json:"acceptance,omitempty"`
	// Rationale and Replacement explain a device-level replace item (the
	// device is out of support and its findings have no fix).
	Rationale   string          `json:"rationale,omitempty"`
	Replacement json.RawMessage `json:"replacement,omitempty"`
}

// slaAt is the SLA state and days left of a due date (YYYY-MM-DD, "" for
// none) at now (remediation.DueState, shared with the console).
func slaAt(due string, now time.Time, dueSoonDays int) (string, *int) {
	st, left := remediation.DueState(due, now, dueSoonDays)
	return string(st), left
}

type acceptanceView struct {
	Justification string    `json:"justification"`
	Approver      string    `json:"approver"`
	Expires       time.Time `json:"expires"`
	Expired       bool      `json:"expired"`
}

// queueItemOf computes the queue entry of f at now.
func queueItemOf(f *store.Finding, now time.Time, dueSoonDays int) queueItem {
	it := queueItem{FindingID: f.ID, DeviceID: f.DeviceID, AssetID: f.AssetID, AdvisoryID: f.AdvisoryID, Title: f.AdvisoryTitle,
		CVEs: f.CVEs, KEV: f.KEV, Score: f.Score, Band: f.Band, Action: f.Action, Actions: f.Actions, PolicyDue: f.Due,
		State: f.Workflow.State, Owner: f.Workflow.Owner, Due: f.EffectiveDue(), DueRule: f.DueRule}
	if it.CVEs == nil {
		it.CVEs = []string{}
	}
	if len(it.Actions) == 0 {
		it.Actions = json.RawMessage("[]")
	}
	if f.Workflow.DueDate != "" {
		it.DueRule = "due date set by " + nonEmpty(f.Workflow.UpdatedBy, "a person")
	}
	wf := f.Workflow
	if wf.AcceptApprover != "" || !wf.AcceptExpires.IsZero() {
		it.Acceptance = &acceptanceView{Justification: wf.AcceptJustification, Approver: wf.AcceptApprover, Expires: wf.AcceptExpires,
			Expired: !wf.AcceptExpires.After(now)}
	}
	st := remediation.StateAt(it.Due, wf.State == store.StateAccepted, wf.AcceptExpires, now, dueSoonDays)
	it.SLA, it.Due, it.DaysLeft = string(st.State), st.Due, st.DaysLeft
	if st.Accepted {
		it.Action = string(remediation.ActionAccept)
		it.DueRule = "risk acceptance expires"
	}
	return it
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (s *Server) listRemediations(w http.ResponseWriter, r *http.Request) {
	qv, ok := params(w, r, remediationParams...)
	if !ok {
		return
	}
	fs, ok := s.findingStore(w, r)
	if !ok {
		return
	}
	q, ok := s.findingQuery(w, r, qv) // asset_id, device_id, band, kev, owner, due_before, limit, cursor
	if !ok {
		return
	}
	q.Sort = "due"
	sla, action := qv.Get("sla"), qv.Get("action")
	if sla != "" && !slices.Contains(slaStates, sla) {
		paramErr(w, r, "sla", sla, "one of "+strings.Join(slaStates, ", "))
		return
	}
	if action != "" && !slices.Contains(remediationActions, action) {
		paramErr(w, r, "action", action, "one of "+strings.Join(remediationActions, ", "))
		return
	}
	ctx := r.Context()
	if action == string(remediation.ActionReplace) {
		s.replacementQueue(w, r, qv, fs, sla)
		return
	}
	// site: the store selects the findings of the site's devices (pages
	// stay full)
	q.Site = strings.TrimSpace(qv.Get("site"))
	limit := q.Limit
	if limit == 0 {
		limit = 50
	}
	now := s.now()
	dueSoon := s.acceptancePolicy().DueSoonDays
	items := make([]queueItem, 0, limit)
	next, scanned := q.Cursor, 0
	// Each store page asks for no more rows than the page still needs, so
	// the filtered page never exceeds limit and the store's cursor resumes
	// exactly after the last row read.
	for calls := 0; len(items) < limit && scanned < maxQueueScan && calls < maxQueueCalls; calls++ {
		q.Limit = limit - len(items)
		q.Cursor = next
		page, err := fs.ListFindings(ctx, q)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		scanned += len(page.Findings)
		for _, f := range page.Findings {
			if f.Workflow.State == store.StateResolved || f.Workflow.State == store.StateFalsePositive {
				continue
			}
			it := queueItemOf(f, now, dueSoon)
			if (sla != "" && it.SLA != sla) || (action != "" && it.Action != action) {
				continue
			}
			items = append(items, it)
		}
		next = page.Next
		if next == "" {
			break
		}
	}
	// overdue first: the store orders by due date; an acceptance in force
	// moves an item's date to the acceptance's expiry, so order again
	// within the page (stable: ties keep the store's order)
	slices.SortStableFunc(items, func(a, b queueItem) int {
		return slaRank(a) - slaRank(b)
	})
	rep, ok := s.feedsFor(w, r, qv)
	if !ok {
		return
	}
	resp := map[string]any{"items": items, "feeds": rep, "as_of": now.UTC().Format(time.DateOnly)}
	setNext(w, r, resp, next)
	writeJSON(w, http.StatusOK, resp)
}

// slaRank orders a page: overdue, due soon, on track, accepted, none.
func slaRank(it queueItem) int { return remediation.SLA(it.SLA).Rank() }

// replacementQueue lists the device-level "replace" items (plan the
// replacement of an unsupported device whose findings have no fix), which
// the recompute keeps with each device's risk: riskiest device first,
// paged by the device-risk cursor.
func (s *Server) replacementQueue(w http.ResponseWriter, r *http.Request, qv url.Values, fs store.FindingStore, sla string) {
	for _, k := range []string{"due_before", "owner"} {
		if qv.Get(k) != "" {
			paramErr(w, r, k, qv.Get(k), "left out with action=replace (replacements are per device)")
			return
		}
	}
	q := store.DeviceRiskQuery{Site: qv.Get("site"), Cursor: qv.Get("cursor")}
	var ok bool
	if q.Band, ok = parseBand(w, r, qv); !ok {
		return
	}
	if q.KEV, ok = parseBoolParam(w, r, qv, "kev"); !ok {
		return
	}
	limit, ok := parseLimit(w, r, qv)
	if !ok {
		return
	}
	if limit == 0 {
		limit = 50
	}
	asset := qv.Get("asset_id")
	var devID int64
	if v := qv.Get("device_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			paramErr(w, r, "device_id", v, "a device id (a positive whole number)")
			return
		}
		devID = n
	}
	now, dueSoon := s.now(), s.acceptancePolicy().DueSoonDays
	items := []queueItem{}
	next, scanned := q.Cursor, 0
	for calls := 0; len(items) < limit && scanned < maxQueueScan && calls < maxQueueCalls; calls++ {
		q.Limit, q.Cursor = limit-len(items), next
		page, err := fs.ListDeviceRisk(r.Context(), q)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		scanned += len(page.Devices)
		for _, dr := range page.Devices {
			if (asset != "" && !strings.EqualFold(dr.AssetID, asset)) || (devID != 0 && dr.DeviceID != devID) {
				continue
			}
			var acts []remediation.Item
			if err := json.Unmarshal(dr.Actions, &acts); err != nil {
				continue // written by the recompute; an unreadable row is skipped, not fatal
			}
			for _, a := range acts {
				if a.Action != remediation.ActionReplace {
					continue
				}
				one, _ := json.Marshal([]remediation.Item{a})
				it := queueItem{DeviceID: dr.DeviceID, AssetID: dr.AssetID, CVEs: []string{}, KEV: dr.KEV, Score: dr.Score, Band: dr.Band,
					Action: string(a.Action), Actions: one, Due: a.Due, DueRule: a.DueRule, PolicyDue: a.Due, Rationale: a.Rationale}
				if a.Replacement != nil {
					it.Replacement, _ = json.Marshal(a.Replacement)
				}
				it.SLA, it.DaysLeft = slaAt(a.Due, now, dueSoon)
				if sla == "" || it.SLA == sla {
					items = append(items, it)
				}
			}
		}
		next = page.Next
		if next == "" {
			break
		}
	}
	rep, ok := s.feedsFor(w, r, qv)
	if !ok {
		return
	}
	resp := map[string]any{"items": items, "feeds": rep, "as_of": now.UTC().Format(time.DateOnly)}
	setNext(w, r, resp, next)
	writeJSON(w, http.StatusOK, resp)
}
