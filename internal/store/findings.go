package store

import (
	"context"
	"encoding/json"
	"time"
)

// Workflow states of a finding (Workflow.State). A finding starts open; a
// person moves it. The store itself only ever writes StateOpen (new or
// reappearing pairs) and StateResolved (a pair that no longer matches,
// written with UpdatedBy "system").
const (
	StateOpen          = "open"           // new, nobody has looked at it yet
	StateInProgress    = "in_progress"    // someone owns it and is working on it
	StateMitigated     = "mitigated"      // compensating controls applied; the device is still affected
	StateResolved      = "resolved"       // fixed (patched, replaced) or the pair no longer matches
	StateAccepted      = "accepted"       // risk formally accepted (justification, approver, expiry)
	StateFalsePositive = "false_positive" // the match is wrong: the device is not affected
)

// WorkflowStates lists every state, in lifecycle order.
var WorkflowStates = []string{StateOpen, StateInProgress, StateMitigated, StateResolved, StateAccepted, StateFalsePositive}

// ValidWorkflowState reports whether s is one of WorkflowStates.
func ValidWorkflowState(s string) bool {
	for _, x := range WorkflowStates {
		if x == s {
			return true
		}
	}
	return false
}

// SystemActor is the UpdatedBy of workflow changes the store or the
// recompute makes on its own (auto-resolve, reopen).
const SystemActor = "system"

// Finding is one stored (device, advisory) pair: what the matcher found,
// how risky it is for this device, what to do about it and where people
// are with it. The pair (DeviceID, AdvisoryID) is unique; ID is assigned
// on first sight and kept for the life of the pair, also while it is
// resolved and when it reappears.
type Finding struct {
	// ID is the stable finding id (store-assigned; 0 before the first save).
	ID int64 `json:"id"`
	// DeviceID and AssetID name the device (AssetID is a copy, kept current
	// by every recompute of the device).
	DeviceID int64  `json:"device_id"`
	AssetID  string `json:"asset_id"`
	// AdvisoryID is the CSAF tracking id; AdvisoryTitle a copy of its title.
	AdvisoryID    string `json:"advisory_id"`
	AdvisoryTitle string `json:"advisory_title"`

	// Match: the advisory product the device was matched to (ProductID and
	// its product-tree BranchPath), the method (match.Method*), the
	// confidence in (0,1], the reasons, and the match status
	// (known_affected, first_affected, last_affected or needs_review).
	ProductID   string   `json:"product_id"`
	ProductName string   `json:"product_name"`
	BranchPath  []string `json:"branch_path"`
	Method      string   `json:"method"`
	Confidence  float64  `json:"confidence"`
	MatchStatus string   `json:"match_status"`
	Reasons     []string `json:"reasons"`

	// CVEs of the advisory (sorted); CVSS is the highest published base
	// score for the product with its vector and version ("" / 0: none).
	CVEs        []string `json:"cves"`
	CVSS        float64  `json:"cvss"`
	CVSSVector  string   `json:"cvss_vector,omitempty"`
	CVSSVersion string   `json:"cvss_version,omitempty"`
	// KEV is true when a CVE is in CISA KEV; KEVDueDate is its due date
	// (YYYY-MM-DD, "" when none).
	KEV        bool   `json:"kev"`
	KEVDueDate string `json:"kev_due_date,omitempty"`
	// EPSS is the highest EPSS probability of the CVEs, EPSSPercentile its
	// percentile; EPSS is -1 when unknown (no EPSS feed or no score).
	EPSS           float64 `json:"epss"`
	EPSSPercentile float64 `json:"epss_percentile"`
	// Remediations are the advisory's remediations for the product (the
	// JSON of []match.Remediation: category, details, url, date).
	Remediations json.RawMessage `json:"remediations"`

	// Risk: the clinical risk of this finding on this device (0-100), its
	// band (risk.Band: critical, high, medium, low, info) and the factors
	// (the JSON of []risk.Factor; contributions sum to Score). When the
	// workflow holds a rubric vector, the score is computed from it.
	Score       float64         `json:"score"`
	Band        string          `json:"band"`
	Factors     json.RawMessage `json:"factors"`
	ScoreVector string          `json:"score_vector,omitempty"` // the CVSS vector the score used

	// Remediation: the first (most urgent) action of the queue for this
	// finding (remediation.Action: patch, configure, mitigate, segment,
	// accept), its policy due date (YYYY-MM-DD, "" when no deadline), the
	// rule that set it, and the SLA state at the last recompute
	// (on_track, due_soon, overdue, accepted, none). Actions is the JSON
	// of every []remediation.Item for the finding.
	Action  string          `json:"action"`
	Due     string          `json:"due,omitempty"`
	DueRule string          `json:"due_rule,omitempty"`
	SLA     string          `json:"sla"`
	Actions json.RawMessage `json:"actions"`

	// FirstSeen is when the pair was first matched (the policy's deadlines
	// count from it); LastSeen the last recompute that matched it;
	// ResolvedAt when it stopped matching (zero while it matches).
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`

	// Source is where the finding comes from: SourceAdvisory (a CSAF
	// advisory matched the device; AdvisoryID is its tracking id),
	// SourceSBOM (a vulnerability of a component of an SBOM covering the
	// device; AdvisoryID is the vulnerability id, a CVE or OSV id) or
	// SourceAdvisorySBOM (an advisory finding whose CVE an SBOM component
	// of the device also has: one finding, both evidences).
	Source string `json:"source"`
	// Evidence is the JSON of the SBOM components behind the finding
	// ([]assess.Evidence: SBOM version, component name, version, PURL, CPE,
	// vulnerability id, match method, confidence, VEX status and
	// justification); "[]" for advisory-only findings.
	Evidence json.RawMessage `json:"evidence"`
	// Suppressed: every SBOM component behind the finding is not affected
	// (or fixed) by a VEX statement; the finding is stored resolved and its
	// evidence shows the justification.
	Suppressed bool `json:"suppressed,omitempty"`

	// Workflow is what people did with the finding. ReplaceFindings never
	// overwrites it for pairs that still match (it takes it from the store),
	// except to carry a merged SBOM finding's workflow over (MergedFrom).
	Workflow Workflow `json:"workflow"`

	// MergedFrom (not stored) are, for a SourceAdvisorySBOM finding given
	// to ReplaceFindings, the vulnerability ids of its SBOM evidence: the
	// AdvisoryIDs of the device's SBOM findings it takes in. When its own
	// workflow was never set by a person, ReplaceFindings carries over the
	// most advanced workflow a person set on one of those (CarryWorkflow).
	MergedFrom []string `json:"-"`
	// Carried (not stored) is set by ReplaceFindings on a given finding
	// that took a workflow over; the findings service audits it.
	Carried *CarriedWorkflow `json:"-"`
}

// CarryRank orders the workflow states a merge carries over (higher is
// more advanced); states not in it (resolved, false_positive) are not
// carried: they take a finding out of the risk, and the advisory is
// evidence the person did not see.
var CarryRank = map[string]int{StateOpen: 1, StateInProgress: 2, StateMitigated: 3, StateAccepted: 4}

// CarriedWorkflow is a workflow ReplaceFindings carried from a merged SBOM
// finding (FromID, FromAdvisoryID) to the advisory finding that took it
// in, as the system's change: Before is the taker's workflow before.
type CarriedWorkflow struct {
	FromID         int64
	FromAdvisoryID string
	Before         Workflow
}

// CarryWorkflow decides the carry-over of a merge: to is the taking
// finding's workflow, from the candidates (stored findings of the same
// device named by MergedFrom, still matching before this replace). It
// returns the new workflow and the donor, or ok false when nothing is
// carried: to was set by a person (or the system moved it from open), or
// no candidate has a workflow a person set in a state of CarryRank (an
// acceptance must not have expired). The most advanced state wins (ties:
// the latest change, then the lowest id); state, owner, note, due date
// and acceptance are carried, not the rubric vector (answered for one
// CVE; the advisory may name several). The result is the system's change.
func CarryWorkflow(to Workflow, from []*Finding, now time.Time) (Workflow, *Finding, bool) {
	if (to.UpdatedBy != "" && to.UpdatedBy != SystemActor) || to.State != StateOpen {
		return to, nil, false
	}
	var best *Finding
	for _, o := range from {
		wf := &o.Workflow
		r := CarryRank[wf.State]
		if r == 0 || wf.UpdatedBy == "" || wf.UpdatedBy == SystemActor || !o.ResolvedAt.IsZero() {
			continue
		}
		if wf.State == StateAccepted && !wf.AcceptExpires.After(now) {
			continue
		}
		if best != nil {
			br := CarryRank[best.Workflow.State]
			if r < br || (r == br && (wf.UpdatedAt.Before(best.Workflow.UpdatedAt) || (wf.UpdatedAt.Equal(best.Workflow.UpdatedAt) && o.ID > best.ID))) {
				continue
			}
		}
		best = o
	}
	if best == nil {
		return to, nil, false
	}
	b := &best.Workflow
	wf := to
	wf.State, wf.Owner, wf.Note, wf.DueDate = b.State, b.Owner, b.Note, b.DueDate
	wf.AcceptJustification, wf.AcceptApprover, wf.AcceptExpires = b.AcceptJustification, b.AcceptApprover, b.AcceptExpires
	wf.UpdatedBy, wf.UpdatedAt = SystemActor, now
	wf.Revision++
	return wf, best, true
}

// Finding sources (Finding.Source, FindingQuery.Source).
const (
	SourceAdvisory     = "advisory"
	SourceSBOM         = "sbom"
	SourceAdvisorySBOM = "advisory+sbom"
)

// EffectiveDue is the workflow's due date when a person set one, else the
// policy's ("" when neither).
func (f *Finding) EffectiveDue() string {
	if f.Workflow.DueDate != "" {
		return f.Workflow.DueDate
	}
	return f.Due
}

// Workflow is the human state of a finding.
type Workflow struct {
	// State is one of WorkflowStates.
	State string `json:"state"`
	// Owner is who works on it (a user name or team, free text).
	Owner string `json:"owner,omitempty"`
	// Note is free text (the last comment).
	Note string `json:"note,omitempty"`
	// Acceptance of the risk (State accepted): why, who approved it, until
	// when (zero: no acceptance). An expired acceptance reopens the
	// remediation deadline (see docs/FINDINGS.md).
	AcceptJustification string    `json:"accept_justification,omitempty"`
	AcceptApprover      string    `json:"accept_approver,omitempty"`
	AcceptExpires       time.Time `json:"accept_expires,omitzero"`
	// RubricVector is the device-specific CVSS vector from the MITRE
	// rubric questionnaire ("" when none was answered); RubricAnswers the
	// answers given (JSON object question id → answer) and RubricRationale
	// the rubric's explanation (JSON of []rubric.MetricResult). The risk
	// score of the finding uses RubricVector instead of the published ones.
	RubricVector    string          `json:"rubric_vector,omitempty"`
	RubricAnswers   json.RawMessage `json:"rubric_answers,omitempty"`
	RubricRationale json.RawMessage `json:"rubric_rationale,omitempty"`
	// DueDate overrides the policy due date (YYYY-MM-DD; "": the policy's).
	DueDate string `json:"due_date,omitempty"`
	// Revision increases on every workflow write (optimistic concurrency:
	// UpdateFindingWorkflow's ifRevision; the API's ETag).
	Revision int64 `json:"revision"`
	// UpdatedBy is the user (or SystemActor) of the last workflow write;
	// UpdatedAt its time (zero: never changed since first seen).
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// DeviceRisk is the stored risk of one device over its active findings
// (matched, not resolved, not false_positive). Devices without active
// findings have no row (GetDeviceRisk: ErrNotFound, meaning score 0, band
// info).
type DeviceRisk struct {
	DeviceID int64  `json:"device_id"`
	AssetID  string `json:"asset_id"`
	// Score (0-100) and Band (risk.Band) of the device; Factors the JSON
	// of []risk.Factor explaining it.
	Score   float64         `json:"score"`
	Band    string          `json:"band"`
	Factors json.RawMessage `json:"factors"`
	// Findings counts active findings; KEV is true when one is in KEV.
	Findings int  `json:"findings"`
	KEV      bool `json:"kev"`
	// Actions is the JSON of the device-level remediation items
	// ([]remediation.Item, e.g. "replace" for an unsupported device whose
	// findings have no fix); "[]" when none.
	Actions json.RawMessage `json:"actions"`
	// Copies of the device's grouping fields (for lists and the register).
	Site       string `json:"site,omitempty"`
	Department string `json:"department,omitempty"`
	DeviceType string `json:"device_type,omitempty"`
	Vendor     string `json:"vendor,omitempty"`
	// UpdatedAt is the recompute that wrote the row.
	UpdatedAt time.Time `json:"updated_at"`
}

// FindingScope says which pairs a ReplaceFindings call recomputed. Exactly
// one of All, DeviceIDs and AdvisoryIDs is set.
type FindingScope struct {
	// All: every pair (a full recompute).
	All bool
	// DeviceIDs: every pair of these devices (devices created, edited,
	// deleted or observed; include care-area peers whose scores changed).
	DeviceIDs []int64
	// AdvisoryIDs: every pair of these advisories (new or revised advisories).
	AdvisoryIDs []string
}

// ReplaceResult counts what a ReplaceFindings call did.
type ReplaceResult struct {
	New      int `json:"new"`      // pairs seen for the first time
	Updated  int `json:"updated"`  // pairs that still match (match/risk fields rewritten)
	Reopened int `json:"reopened"` // resolved pairs that match again
	Resolved int `json:"resolved"` // pairs in scope that no longer match
	// Suppressed counts pairs resolved by a VEX statement (Finding.Suppressed)
	// that were matching or new.
	Suppressed int `json:"suppressed"`
}

// FindingQuery selects a page of findings. Zero fields do not filter.
type FindingQuery struct {
	DeviceID   int64
	AssetID    string // exact
	AdvisoryID string // exact
	CVE        string // findings naming this CVE (case-insensitive)
	// Source: "advisory" selects findings from a CSAF advisory (including
	// advisory+sbom), "sbom" findings with SBOM component evidence
	// (including advisory+sbom); "" both.
	Source string
	// MatchStatus: known_affected, first_affected, last_affected, needs_review.
	MatchStatus string
	// State is a workflow state (one of WorkflowStates). "" lists every
	// state.
	State string
	// IncludeResolved also lists pairs that no longer match (ResolvedAt
	// set); by default only matching pairs are listed.
	IncludeResolved bool
	KEV             *bool
	MinConfidence   float64
	Band            string // risk band of the finding
	Owner           string // exact, case-insensitive
	// Site selects the findings of the devices of one site (exact,
	// case-insensitive, as the device list's site filter; the device's
	// current site).
	Site string
	// DueBefore selects findings whose effective due date (workflow due
	// date, else policy due date) is before this day (YYYY-MM-DD).
	DueBefore string
	// Sort is one of FindingSortFields, "-" prefixed for descending; ""
	// means "-score" (riskiest first). Ties are broken by id.
	Sort   string
	Limit  int    // default 50, at most 1000
	Cursor string // opaque, from FindingPage.Next
	// WorkflowSince selects findings whose workflow was written at or
	// after this time (zero: no filter); the findings service uses it to
	// pick up workflow changes made without it.
	WorkflowSince time.Time
}

// FindingSortFields are the sort keys of ListFindings.
var FindingSortFields = []string{"id", "score", "cvss", "epss", "confidence", "due", "first_seen", "last_seen", "asset_id", "advisory_id"}

// FindingPage is one page of findings.
type FindingPage struct {
	Findings []*Finding `json:"findings"`
	Next     string     `json:"next,omitempty"` // cursor of the next page; "" at the end
}

// DeviceRiskQuery selects a page of device risks. Zero fields do not filter.
type DeviceRiskQuery struct {
	Band       string
	KEV        *bool
	MinScore   float64
	Site       string // exact, case-insensitive
	Department string // exact, case-insensitive
	DeviceType string // exact, case-insensitive
	Vendor     string // exact, case-insensitive
	// Sort: "score" or "-score" (default), "findings" / "-findings",
	// "asset_id" / "-asset_id". Ties are broken by device id.
	Sort   string
	Limit  int    // default 50, at most 1000
	Cursor string // opaque, from DeviceRiskPage.Next
}

// DeviceRiskPage is one page of device risks.
type DeviceRiskPage struct {
	Devices []*DeviceRisk `json:"devices"`
	Next    string        `json:"next,omitempty"`
}

// FindingStats is what the dashboard shows about findings and risk.
type FindingStats struct {
	// Findings counts matching (unresolved) pairs; Active those also not
	// false_positive and not resolved by a person.
	Findings int64 `json:"findings"`
	Active   int64 `json:"active"`
	// NeedsReview counts active findings with match status needs_review.
	NeedsReview int64 `json:"needs_review"`
	// KEVFindings counts active KEV findings, KEVDevices devices with one.
	KEVFindings int64 `json:"kev_findings"`
	KEVDevices  int64 `json:"kev_devices"`
	// DevicesAtRisk counts devices with at least one active finding.
	DevicesAtRisk int64 `json:"devices_at_risk"`
	// DevicesByBand counts devices per risk band (critical first; devices
	// without active findings are not counted). FindingsByBand the same
	// for active findings.
	DevicesByBand  []Count `json:"devices_by_band"`
	FindingsByBand []Count `json:"findings_by_band"`
	// ByState counts matching findings per workflow state.
	ByState []Count `json:"by_state"`
	// BySLA counts open remediations (active findings not accepted) by
	// due status at the given day: "overdue", "due_soon", "on_track",
	// "none" (no deadline); accepted findings count as "accepted" (or
	// "overdue" once the acceptance expired).
	BySLA []Count `json:"by_sla"`
	// TopDevices are the riskiest devices (score descending).
	TopDevices []*DeviceRisk `json:"top_devices"`
	// ComputedAt is the last full recompute (zero: never).
	ComputedAt time.Time `json:"computed_at,omitzero"`
}

// FindingStatsOptions tune FindingStats.
type FindingStatsOptions struct {
	// Today (YYYY-MM-DD) decides overdue and due soon.
	Today string
	// DueSoonDays: a due date within this many days of Today is "due_soon"
	// (0: 14).
	DueSoonDays int
	// Top is the number of TopDevices (0: 10).
	Top int
}

// RiskSnapshot is the risk register of one day, kept so trends can be drawn.
type RiskSnapshot struct {
	Day string `json:"day"` // YYYY-MM-DD (UTC)
	// Register is the JSON of the risk.Register of that day (totals and
	// groups by site, department, device type and vendor).
	Register  json.RawMessage `json:"register"`
	CreatedAt time.Time       `json:"created_at"`
}

// FindingStore keeps findings, their workflow, device risk and the daily
// risk snapshots (findings_store.go in sqldb). The findings service
// (internal/findings) computes; the store only keeps.
type FindingStore interface {
	// ReplaceFindings stores the result of a recompute of scope in ONE
	// transaction. fs are the pairs that match now (each with DeviceID,
	// AdvisoryID and the match/risk/remediation fields; ID, FirstSeen,
	// LastSeen, ResolvedAt and Workflow are ignored and set by the store);
	// every pair must lie inside scope. For each pair: a new pair gets an
	// id, FirstSeen = LastSeen = now and workflow state open; a pair that
	// still matches keeps its id, FirstSeen and Workflow and gets the new
	// fields and LastSeen = now; a resolved pair that matches again is
	// reopened (ResolvedAt cleared; a state resolved by the system goes
	// back to open). A pair with Suppressed set (a VEX says not affected)
	// is written with its new fields but stored resolved: new, it is added
	// resolved (UpdatedBy SystemActor); matching, it is resolved as below;
	// resolved, it stays so. Stored matching pairs inside scope that are not in fs
	// are marked resolved (ResolvedAt = now; open, in_progress and
	// mitigated become resolved with UpdatedBy SystemActor), never
	// deleted. risks replaces the device-risk rows of the devices it names;
	// a DeviceRisk with Findings == 0 deletes the device's row, and with
	// scope All or DeviceIDs the rows of devices in scope that risks does
	// not name are deleted too. Scope All also records ComputedAt. On
	// return fs carry their ids.
	ReplaceFindings(ctx context.Context, scope FindingScope, fs []*Finding, risks []*DeviceRisk) (*ReplaceResult, error)
	// ListFindings returns a page of findings (keyset paging).
	ListFindings(ctx context.Context, q FindingQuery) (*FindingPage, error)
	// GetFinding returns one finding by id (ErrNotFound).
	GetFinding(ctx context.Context, id int64) (*Finding, error)
	// ScanFindings streams every finding (resolved ones too) in id order;
	// the findings service uses it to carry first-seen dates and workflow
	// into a recompute.
	ScanFindings(ctx context.Context, fn func(*Finding) error) error
	// ScanFindingWorkflows is ScanFindings with only ID, DeviceID,
	// AdvisoryID, FirstSeen, ResolvedAt and Workflow filled in (no JSON
	// columns read): what a recompute carries over, cheap for millions
	// of SBOM findings.
	ScanFindingWorkflows(ctx context.Context, fn func(*Finding) error) error
	// UpdateFindingWorkflow writes wf as the finding's workflow if its
	// stored revision equals ifRevision (0: unconditional; ErrConflict
	// otherwise, ErrNotFound for an unknown id). wf.State must be one of
	// WorkflowStates. The store sets Revision (+1) and UpdatedAt (now);
	// the caller sets UpdatedBy. Returns the updated finding.
	UpdateFindingWorkflow(ctx context.Context, id int64, wf Workflow, ifRevision int64) (*Finding, error)
	// ListDeviceRisk returns a page of device risks (keyset paging).
	ListDeviceRisk(ctx context.Context, q DeviceRiskQuery) (*DeviceRiskPage, error)
	// GetDeviceRisk returns one device's risk (ErrNotFound: the device has
	// no active finding, i.e. score 0, band info).
	GetDeviceRisk(ctx context.Context, deviceID int64) (*DeviceRisk, error)
	// FindingStats computes the dashboard figures.
	FindingStats(ctx context.Context, o FindingStatsOptions) (*FindingStats, error)
	// FindingsComputedAt is when the last full recompute (scope All) was
	// stored; zero when never.
	FindingsComputedAt(ctx context.Context) (time.Time, error)
	// PutRiskSnapshot stores the register of day (YYYY-MM-DD), replacing
	// that day's earlier snapshot (idempotent per day).
	PutRiskSnapshot(ctx context.Context, day string, register json.RawMessage) error
	// ListRiskSnapshots returns the snapshots of days from..to (inclusive,
	// YYYY-MM-DD; "" is open-ended), oldest first.
	ListRiskSnapshots(ctx context.Context, from, to string) ([]*RiskSnapshot, error)
}
