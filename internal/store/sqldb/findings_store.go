package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/store"
)

var _ store.FindingStore = (*DB)(nil)

// noDue is eff_due of a finding without any deadline: it sorts last and is
// never "before" a day.
const noDue = "9999-12-31"

// findingCols are the columns of the findings table, in the order
// findingRow and scanFinding use.
const findingCols = `id, device_id, asset_id, advisory_id, advisory_title, product_id, product_name, branch_path, method,
	confidence, match_status, reasons, cves, cvss, cvss_vector, cvss_version, kev, kev_due_date, epss, epss_percentile,
	remediations, score, band, factors, score_vector, action, due, due_rule, sla, actions, first_seen, last_seen,
	resolved_at, wf_state, wf_owner, wf_note, accept_justification, accept_approver, accept_expires, rubric_vector,
	rubric_answers, rubric_rationale, wf_due, wf_revision, wf_updated_by, wf_updated_at, eff_due, source, evidence, suppressed`

const findingNCols = 50

func jsonText(v any, empty string) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return empty
	}
	return string(b)
}

func rawText(r json.RawMessage, empty string) string {
	if len(r) == 0 || string(r) == "null" {
		return empty
	}
	return string(r)
}

func effDue(f *store.Finding) string {
	if d := f.EffectiveDue(); d != "" {
		return d
	}
	return noDue
}

// findingRow is the column values of f (findingCols order).
func findingRow(f *store.Finding) []any {
	wf := &f.Workflow
	cves := ""
	if len(f.CVEs) > 0 {
		cves = " " + strings.Join(f.CVEs, " ") + " "
	}
	return []any{f.ID, f.DeviceID, f.AssetID, f.AdvisoryID, f.AdvisoryTitle, f.ProductID, f.ProductName,
		jsonText(f.BranchPath, "[]"), f.Method, f.Confidence, f.MatchStatus, jsonText(f.Reasons, "[]"), cves, f.CVSS,
		f.CVSSVector, f.CVSSVersion, f.KEV, f.KEVDueDate, f.EPSS, f.EPSSPercentile, rawText(f.Remediations, "[]"),
		f.Score, f.Band, rawText(f.Factors, "[]"), f.ScoreVector, f.Action, f.Due, f.DueRule, f.SLA, rawText(f.Actions, "[]"),
		ts(f.FirstSeen), ts(f.LastSeen), ts(f.ResolvedAt), wf.State, wf.Owner, wf.Note, wf.AcceptJustification,
		wf.AcceptApprover, ts(wf.AcceptExpires), wf.RubricVector, rawText(wf.RubricAnswers, ""), rawText(wf.RubricRationale, ""),
		wf.DueDate, wf.Revision, wf.UpdatedBy, ts(wf.UpdatedAt), effDue(f), cmpOr(f.Source, store.SourceAdvisory),
		rawText(f.Evidence, "[]"), f.Suppressed}
}

type scanner interface{ Scan(dest ...any) error }

// workflowCols are the columns a recompute carries over from a stored
// finding (scanWorkflow's order): identity, history and workflow.
const workflowCols = `id, device_id, advisory_id, first_seen, resolved_at, wf_state, wf_owner, wf_note, accept_justification,
	accept_approver, accept_expires, rubric_vector, rubric_answers, rubric_rationale, wf_due, wf_revision, wf_updated_by, wf_updated_at`

// scanWorkflow reads workflowCols: a finding with only ID, DeviceID,
// AdvisoryID, FirstSeen, ResolvedAt and Workflow set (no JSON to decode).
func scanWorkflow(r scanner) (*store.Finding, error) {
	f := &store.Finding{}
	wf := &f.Workflow
	var first, resolved, accExp, answers, rationale, wfAt string
	if err := r.Scan(&f.ID, &f.DeviceID, &f.AdvisoryID, &first, &resolved, &wf.State, &wf.Owner, &wf.Note, &wf.AcceptJustification,
		&wf.AcceptApprover, &accExp, &wf.RubricVector, &answers, &rationale, &wf.DueDate, &wf.Revision, &wf.UpdatedBy, &wfAt); err != nil {
		return nil, err
	}
	if err := finishWorkflow(f.ID, wf, answers, rationale, []tsColumn{{"first_seen", first, &f.FirstSeen},
		{"resolved_at", resolved, &f.ResolvedAt}, {"accept_expires", accExp, &wf.AcceptExpires}, {"wf_updated_at", wfAt, &wf.UpdatedAt}}); err != nil {
		return nil, err
	}
	return f, nil
}

// tsColumn is a finding's stored time text and where its value goes.
type tsColumn struct {
	name, s string
	t       *time.Time
}

// finishWorkflow sets wf's rubric JSON and parses the time columns of
// finding id (scanWorkflow and scanFinding).
func finishWorkflow(id int64, wf *store.Workflow, answers, rationale string, cols []tsColumn) error {
	if answers != "" {
		wf.RubricAnswers = json.RawMessage(answers)
	}
	if rationale != "" {
		wf.RubricRationale = json.RawMessage(rationale)
	}
	for _, x := range cols {
		t, err := parseTS(x.s)
		if err != nil {
			return fmt.Errorf("finding %d column %s: %w", id, x.name, err)
		}
		*x.t = t
	}
	return nil
}

func scanFinding(r scanner) (*store.Finding, error) {
	f := &store.Finding{}
	wf := &f.Workflow
	var branch, reasons, cves, rems, factors, actions, first, last, resolved, accExp, answers, rationale, wfAt, eff, evidence string
	if err := r.Scan(&f.ID, &f.DeviceID, &f.AssetID, &f.AdvisoryID, &f.AdvisoryTitle, &f.ProductID, &f.ProductName,
		&branch, &f.Method, &f.Confidence, &f.MatchStatus, &reasons, &cves, &f.CVSS, &f.CVSSVector, &f.CVSSVersion, &f.KEV,
		&f.KEVDueDate, &f.EPSS, &f.EPSSPercentile, &rems, &f.Score, &f.Band, &factors, &f.ScoreVector, &f.Action, &f.Due,
		&f.DueRule, &f.SLA, &actions, &first, &last, &resolved, &wf.State, &wf.Owner, &wf.Note, &wf.AcceptJustification,
		&wf.AcceptApprover, &accExp, &wf.RubricVector, &answers, &rationale, &wf.DueDate, &wf.Revision, &wf.UpdatedBy,
		&wfAt, &eff, &f.Source, &evidence, &f.Suppressed); err != nil {
		return nil, err
	}
	bad := func(field string, err error) error {
		return fmt.Errorf("finding %d column %s: %w", f.ID, field, err)
	}
	if err := json.Unmarshal([]byte(branch), &f.BranchPath); err != nil {
		return nil, bad("branch_path", err)
	}
	if err := json.Unmarshal([]byte(reasons), &f.Reasons); err != nil {
		return nil, bad("reasons", err)
	}
	f.CVEs = strings.Fields(cves)
	if f.CVEs == nil {
		f.CVEs = []string{}
	}
	if f.BranchPath == nil {
		f.BranchPath = []string{}
	}
	if f.Reasons == nil {
		f.Reasons = []string{}
	}
	f.Remediations, f.Factors, f.Actions = json.RawMessage(rems), json.RawMessage(factors), json.RawMessage(actions)
	f.Evidence = json.RawMessage(evidence)
	if err := finishWorkflow(f.ID, wf, answers, rationale, []tsColumn{{"first_seen", first, &f.FirstSeen},
		{"last_seen", last, &f.LastSeen}, {"resolved_at", resolved, &f.ResolvedAt}, {"accept_expires", accExp, &wf.AcceptExpires},
		{"wf_updated_at", wfAt, &wf.UpdatedAt}}); err != nil {
		return nil, err
	}
	return f, nil
}

// pairKey identifies a (device, advisory) pair.
type pairKey struct {
	device   int64
	advisory string
}

// sqlTx is a transaction with the dialect's placeholder style for bulk
// inserts.
type sqlTx struct {
	tx     *sql.Tx
	sqlite bool
}

func (s *DB) bulk(tx *sql.Tx) sqlTx { return sqlTx{tx: tx, sqlite: s.dialect.Name() == "sqlite"} }

// insertRows inserts rows in multi-row INSERTs. Full batches reuse one
// prepared statement; SQLite gets anonymous "?" parameters (numbered "$n"
// parameters make its parser look names up linearly: quadratic in the
// batch size).
func (t sqlTx) insertRows(ctx context.Context, prefix string, cols int, rows [][]any) error {
	const maxParams = 4000 // under SQLite's 32766 and PostgreSQL's 65535
	batch := max(1, maxParams/cols)
	values := func(n int) string {
		var b strings.Builder
		b.WriteString(prefix)
		p := 0
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for j := range cols {
				if j > 0 {
					b.WriteByte(',')
				}
				p++
				if t.sqlite {
					b.WriteByte('?')
				} else {
					b.WriteString("$" + strconv.Itoa(p))
				}
			}
			b.WriteByte(')')
		}
		return b.String()
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, batch*cols)
	for start := 0; start < len(rows); start += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+batch, len(rows))
		args = args[:0]
		for _, r := range rows[start:end] {
			args = append(args, r...)
		}
		var err error
		if end-start == batch {
			if full == nil {
				if full, err = t.tx.PrepareContext(ctx, values(batch)); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = t.tx.ExecContext(ctx, values(end-start), args...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// inChunks runs fn over ids in chunks small enough for one statement;
// placeholders are "?" on SQLite (see sqlTx.insertRows), "$n" elsewhere.
func inChunks[T any](sqlite bool, ids []T, fn func(placeholders string, args []any) error) error {
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		end := min(start+chunk, len(ids))
		var b strings.Builder
		args := make([]any, 0, end-start)
		for i, id := range ids[start:end] {
			if i > 0 {
				b.WriteByte(',')
			}
			args = append(args, id)
			if sqlite {
				b.WriteByte('?')
			} else {
				b.WriteString("$" + strconv.Itoa(len(args)))
			}
		}
		if err := fn(b.String(), args); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceFindings stores a recompute of scope in one transaction (see
// store.FindingStore).
func (s *DB) ReplaceFindings(ctx context.Context, scope store.FindingScope, fs []*store.Finding, risks []*store.DeviceRisk) (*store.ReplaceResult, error) {
	n := 0
	if scope.All {
		n++
	}
	if scope.DeviceIDs != nil {
		n++
	}
	if scope.AdvisoryIDs != nil {
		n++
	}
	if n != 1 {
		return nil, errors.New("replace findings: the scope must be exactly one of all, device ids or advisory ids")
	}
	inDev := map[int64]bool{}
	for _, id := range scope.DeviceIDs {
		inDev[id] = true
	}
	inAdv := map[string]bool{}
	for _, id := range scope.AdvisoryIDs {
		inAdv[id] = true
	}
	inScope := func(dev int64, adv string) bool {
		return scope.All || inDev[dev] || inAdv[adv]
	}
	for _, f := range fs {
		if f.DeviceID == 0 || f.AdvisoryID == "" {
			return nil, fmt.Errorf("replace findings: finding for asset %q advisory %q has no device id or advisory id", f.AssetID, f.AdvisoryID)
		}
		if !inScope(f.DeviceID, f.AdvisoryID) {
			return nil, fmt.Errorf("replace findings: device %d advisory %q lies outside the scope", f.DeviceID, f.AdvisoryID)
		}
	}
	now := store.Now()
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("replace findings: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op

	// 1. the stored pairs in scope, with what a recompute must keep
	old := map[pairKey]*store.Finding{}
	load := func(where string, args []any) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+workflowCols+" FROM findings"+where, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			f, err := scanWorkflow(rows)
			if err != nil {
				return err
			}
			old[pairKey{f.DeviceID, f.AdvisoryID}] = f
		}
		return rows.Err()
	}
	switch {
	case scope.All:
		err = load("", nil)
	case scope.DeviceIDs != nil:
		err = inChunks(s.dialect.Name() == "sqlite", scope.DeviceIDs, func(ph string, args []any) error { return load(" WHERE device_id IN ("+ph+")", args) })
	default:
		err = inChunks(s.dialect.Name() == "sqlite", scope.AdvisoryIDs, func(ph string, args []any) error { return load(" WHERE advisory_id IN ("+ph+")", args) })
	}
	if err != nil {
		return nil, fmt.Errorf("replace findings: read stored findings: %w", err)
	}

	// 2. decide every row: rewrite (matched now) or resolve (vanished)
	res := &store.ReplaceResult{}
	seen := make(map[pairKey]bool, len(fs))
	var del []int64      // stored rows rewritten below with their id
	var reopened []int64 // stored resolved rows that match again
	rows := make([][]any, 0, len(fs))
	for _, f := range fs {
		k := pairKey{f.DeviceID, f.AdvisoryID}
		if seen[k] {
			return nil, fmt.Errorf("replace findings: device %d advisory %q given twice", f.DeviceID, f.AdvisoryID)
		}
		seen[k] = true
		f.LastSeen, f.ResolvedAt = now, time.Time{}
		o := old[k]
		switch {
		case f.Suppressed && o != nil:
			// a VEX says not affected: resolved (kept resolved) with the
			// new evidence
			f.ID, f.FirstSeen, f.Workflow, f.ResolvedAt = o.ID, o.FirstSeen, o.Workflow, o.ResolvedAt
			del = append(del, o.ID)
			if o.ResolvedAt.IsZero() {
				f.ResolvedAt = now
				resolveBySystem(&f.Workflow, now)
				res.Suppressed++
			} else {
				res.Updated++
				reopened = append(reopened, o.ID) // a resolved row: deleted by id
			}
		case f.Suppressed:
			f.ID, f.FirstSeen, f.ResolvedAt = 0, now, now
			f.Workflow = store.Workflow{State: store.StateResolved, Revision: 1, UpdatedBy: store.SystemActor, UpdatedAt: now}
			res.Suppressed++
		case o != nil:
			f.ID, f.FirstSeen, f.Workflow = o.ID, o.FirstSeen, o.Workflow
			del = append(del, o.ID)
			if o.ResolvedAt.IsZero() {
				res.Updated++
			} else {
				res.Reopened++
				reopened = append(reopened, o.ID)
				if f.Workflow.State == store.StateResolved && f.Workflow.UpdatedBy == store.SystemActor {
					f.Workflow.State = store.StateOpen
					f.Workflow.Revision++
					f.Workflow.UpdatedAt = now
				}
			}
		default:
			f.ID, f.FirstSeen = 0, now
			f.Workflow = store.Workflow{State: store.StateOpen, Revision: 1}
			res.New++
		}
		if len(f.MergedFrom) > 0 && !f.Suppressed {
			// an advisory took SBOM findings of this device in: carry the
			// workflow a person set on one of them (store.CarryWorkflow)
			var from []*store.Finding
			for _, id := range f.MergedFrom {
				if o := old[pairKey{f.DeviceID, id}]; o != nil && id != f.AdvisoryID {
					from = append(from, o)
				}
			}
			if wf, donor, ok := store.CarryWorkflow(f.Workflow, from, now); ok {
				f.Carried = &store.CarriedWorkflow{FromID: donor.ID, FromAdvisoryID: donor.AdvisoryID, Before: f.Workflow}
				f.Workflow = wf
			}
		}
		if f.Remediations == nil {
			f.Remediations = json.RawMessage("[]")
		}
		rows = append(rows, nil) // filled once ids are known
	}
	// pairs that stopped matching: resolved in place (their other columns
	// stay as last computed), before the deletes below
	var vanished []*store.Finding
	for k, o := range old {
		if seen[k] || !o.ResolvedAt.IsZero() {
			continue
		}
		o.ResolvedAt = now
		resolveBySystem(&o.Workflow, now)
		vanished = append(vanished, o)
		res.Resolved++
	}
	if err := resolveFindings(ctx, tx, vanished); err != nil {
		return nil, err
	}

	// 3. delete the rows that are rewritten, then bulk insert them
	if scope.All && len(del) > len(old)/2 {
		// most rows change: every row still matching is rewritten (the
		// vanished ones are resolved already, so resolved_at is set), so
		// one statement deletes them; the resolved rows that match again
		// go by id
		if _, err := tx.ExecContext(ctx, "DELETE FROM findings WHERE resolved_at = ''"); err != nil {
			return nil, fmt.Errorf("replace findings: delete: %w", err)
		}
		if err := s.deleteFindingIDs(ctx, tx, reopened); err != nil {
			return nil, err
		}
	} else if err := s.deleteFindingIDs(ctx, tx, del); err != nil {
		return nil, err
	}
	// new pairs need ids: take them after the current maximum
	var maxID sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT max(id) FROM findings").Scan(&maxID); err != nil {
		return nil, fmt.Errorf("replace findings: next id: %w", err)
	}
	next := maxID.Int64
	for _, o := range old {
		next = max(next, o.ID)
	}
	for i, f := range fs {
		if f.ID == 0 {
			next++
			f.ID = next
		}
		rows[i] = findingRow(f)
	}
	if err := s.bulk(tx).insertRows(ctx, "INSERT INTO findings ("+findingCols+") VALUES ", findingNCols, rows); err != nil {
		return nil, fmt.Errorf("replace findings: insert: %w", err)
	}
	if s.dialect.Name() == "postgres" && next > 0 {
		if _, err := tx.ExecContext(ctx, "SELECT setval('findings_id_seq', $1)", next); err != nil {
			return nil, fmt.Errorf("replace findings: id sequence: %w", err)
		}
	}

	// 4. device risk
	if err := s.replaceDeviceRisk(ctx, tx, scope, risks, now); err != nil {
		return nil, err
	}
	if scope.All {
		if err := setMeta(ctx, tx, "computed_at", ts(now)); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("replace findings: commit: %w", err)
	}
	return res, nil
}

// resolveFindings writes the resolution of vanished pairs (resolved_at and
// the workflow resolveBySystem changed).
func resolveFindings(ctx context.Context, tx *sql.Tx, vanished []*store.Finding) error {
	if len(vanished) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `UPDATE findings SET resolved_at = $2, wf_state = $3, wf_updated_by = $4, wf_updated_at = $5,
		wf_revision = $6 WHERE id = $1`)
	if err != nil {
		return fmt.Errorf("replace findings: resolve: %w", err)
	}
	defer st.Close()
	for _, o := range vanished {
		wf := &o.Workflow
		if _, err := st.ExecContext(ctx, o.ID, ts(o.ResolvedAt), wf.State, wf.UpdatedBy, ts(wf.UpdatedAt), wf.Revision); err != nil {
			return fmt.Errorf("replace findings: resolve finding %d: %w", o.ID, err)
		}
	}
	return nil
}

// resolveBySystem moves an open, in-progress or mitigated workflow to
// resolved by the system (a pair that stopped matching or that a VEX
// statement suppresses); other states are people's decisions and stay.
func resolveBySystem(wf *store.Workflow, now time.Time) {
	switch wf.State {
	case store.StateOpen, store.StateInProgress, store.StateMitigated:
		wf.State = store.StateResolved
		wf.UpdatedBy = store.SystemActor
		wf.UpdatedAt = now
		wf.Revision++
	}
}

func (s *DB) deleteFindingIDs(ctx context.Context, tx *sql.Tx, ids []int64) error {
	return inChunks(s.dialect.Name() == "sqlite", ids, func(ph string, args []any) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM findings WHERE id IN ("+ph+")", args...); err != nil {
			return fmt.Errorf("replace findings: delete: %w", err)
		}
		return nil
	})
}

func setMeta(ctx context.Context, tx *sql.Tx, key, value string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM findings_meta WHERE key = $1", key); err != nil {
		return fmt.Errorf("findings meta %s: %w", key, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO findings_meta (key, value) VALUES ($1, $2)", key, value); err != nil {
		return fmt.Errorf("findings meta %s: %w", key, err)
	}
	return nil
}

const deviceRiskCols = "device_id, asset_id, score, band, factors, findings, kev, actions, site, department, device_type, vendor, updated_at"

func (s *DB) replaceDeviceRisk(ctx context.Context, tx *sql.Tx, scope store.FindingScope, risks []*store.DeviceRisk, now time.Time) error {
	var del []int64
	switch {
	case scope.All:
		if _, err := tx.ExecContext(ctx, "DELETE FROM device_risk"); err != nil {
			return fmt.Errorf("replace device risk: %w", err)
		}
	case scope.DeviceIDs != nil:
		del = append(del, scope.DeviceIDs...)
	}
	seen := map[int64]bool{}
	for _, r := range risks {
		if !scope.All && !slices.Contains(scope.DeviceIDs, r.DeviceID) {
			del = append(del, r.DeviceID)
		}
		seen[r.DeviceID] = true
	}
	if err := inChunks(s.dialect.Name() == "sqlite", del, func(ph string, args []any) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM device_risk WHERE device_id IN ("+ph+")", args...)
		return err
	}); err != nil {
		return fmt.Errorf("replace device risk: %w", err)
	}
	rows := make([][]any, 0, len(risks))
	dup := map[int64]bool{}
	for _, r := range risks {
		if r.Findings <= 0 {
			continue
		}
		if dup[r.DeviceID] {
			return fmt.Errorf("replace device risk: device %d given twice", r.DeviceID)
		}
		dup[r.DeviceID] = true
		r.UpdatedAt = now
		rows = append(rows, []any{r.DeviceID, r.AssetID, r.Score, r.Band, rawText(r.Factors, "[]"), r.Findings, r.KEV,
			rawText(r.Actions, "[]"), r.Site, r.Department, r.DeviceType, r.Vendor, ts(now)})
	}
	if err := s.bulk(tx).insertRows(ctx, "INSERT INTO device_risk ("+deviceRiskCols+") VALUES ", 13, rows); err != nil {
		return fmt.Errorf("replace device risk: insert: %w", err)
	}
	return nil
}

// GetFinding returns one finding by id.
func (s *DB) GetFinding(ctx context.Context, id int64) (*store.Finding, error) {
	f, err := scanFinding(s.SQL.QueryRowContext(ctx, "SELECT "+findingCols+" FROM findings WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("finding %d", id))
	}
	return f, nil
}

// ScanFindingWorkflows streams every finding's identity, history and
// workflow in id order (see store.FindingStore).
func (s *DB) ScanFindingWorkflows(ctx context.Context, fn func(*store.Finding) error) error {
	return s.scanAllFindings(ctx, "scan finding workflows", workflowCols, scanWorkflow, fn)
}

// ScanFindings streams every finding in id order.
func (s *DB) ScanFindings(ctx context.Context, fn func(*store.Finding) error) error {
	return s.scanAllFindings(ctx, "scan findings", findingCols, scanFinding, fn)
}

// scanAllFindings streams the columns cols of every finding in id order,
// each row read by scan; errors are prefixed with what.
func (s *DB) scanAllFindings(ctx context.Context, what, cols string, scan func(scanner) (*store.Finding, error), fn func(*store.Finding) error) error {
	rows, err := s.SQL.QueryContext(ctx, "SELECT "+cols+" FROM findings ORDER BY id")
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		f, err := scan(rows)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return rows.Err()
}

// UpdateFindingWorkflow writes a finding's workflow (optimistic concurrency).
func (s *DB) UpdateFindingWorkflow(ctx context.Context, id int64, wf store.Workflow, ifRevision int64) (*store.Finding, error) {
	if !store.ValidWorkflowState(wf.State) {
		return nil, fmt.Errorf("finding %d: workflow state %q is not one of %s", id, wf.State, strings.Join(store.WorkflowStates, ", "))
	}
	if wf.DueDate != "" {
		if _, err := time.Parse(time.DateOnly, wf.DueDate); err != nil {
			return nil, fmt.Errorf("finding %d: workflow due date %q is not YYYY-MM-DD", id, wf.DueDate)
		}
	}
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("update finding %d: %w", id, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	var rev int64
	var due string
	if err := tx.QueryRowContext(ctx, "SELECT wf_revision, due FROM findings WHERE id = $1", id).Scan(&rev, &due); err != nil {
		return nil, notFound(err, fmt.Sprintf("finding %d", id))
	}
	if ifRevision != 0 && ifRevision != rev {
		return nil, fmt.Errorf("finding %d: revision %d is not the stored %d: %w", id, ifRevision, rev, store.ErrConflict)
	}
	eff := cmpOr(wf.DueDate, due, noDue)
	now := store.Now()
	if _, err := tx.ExecContext(ctx, `UPDATE findings SET wf_state = $2, wf_owner = $3, wf_note = $4, accept_justification = $5,
		accept_approver = $6, accept_expires = $7, rubric_vector = $8, rubric_answers = $9, rubric_rationale = $10, wf_due = $11,
		wf_revision = $12, wf_updated_by = $13, wf_updated_at = $14, eff_due = $15 WHERE id = $1`,
		id, wf.State, wf.Owner, wf.Note, wf.AcceptJustification, wf.AcceptApprover, ts(wf.AcceptExpires), wf.RubricVector,
		rawText(wf.RubricAnswers, ""), rawText(wf.RubricRationale, ""), wf.DueDate, rev+1, wf.UpdatedBy, ts(now), eff); err != nil {
		return nil, fmt.Errorf("update finding %d: %w", id, err)
	}
	f, err := scanFinding(tx.QueryRowContext(ctx, "SELECT "+findingCols+" FROM findings WHERE id = $1", id))
	if err != nil {
		return nil, fmt.Errorf("update finding %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("update finding %d: commit: %w", id, err)
	}
	return f, nil
}

func cmpOr(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// findingSort maps FindingSortFields to columns.
var findingSort = map[string]string{"id": "id", "score": "score", "cvss": "cvss", "epss": "epss", "confidence": "confidence",
	"due": "eff_due", "first_seen": "first_seen", "last_seen": "last_seen", "asset_id": "asset_id", "advisory_id": "advisory_id"}

// findingCursor is a keyset position: the sort value and the id of the last row.
type findingCursor struct {
	V  any   `json:"v"`
	ID int64 `json:"id"`
}

func encodeFindingCursor(v any, id int64) string {
	b, _ := json.Marshal(findingCursor{V: v, ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeFindingCursor(s string, numeric bool) (*findingCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, &QueryError{Param: "cursor", Reason: "invalid cursor"}
	}
	var c findingCursor
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return nil, &QueryError{Param: "cursor", Reason: "invalid cursor"}
	}
	switch v := c.V.(type) {
	case json.Number:
		if !numeric {
			return nil, &QueryError{Param: "cursor", Reason: "cursor does not fit the sort"}
		}
		f, err := v.Float64()
		if err != nil {
			return nil, &QueryError{Param: "cursor", Reason: "invalid cursor"}
		}
		c.V = f
	case string:
		if numeric {
			return nil, &QueryError{Param: "cursor", Reason: "cursor does not fit the sort"}
		}
	default:
		return nil, &QueryError{Param: "cursor", Reason: "invalid cursor"}
	}
	return &c, nil
}

var numericFindingSort = map[string]bool{"id": true, "score": true, "cvss": true, "epss": true, "confidence": true}

// ListFindings returns a page of findings.
func (s *DB) ListFindings(ctx context.Context, q store.FindingQuery) (*store.FindingPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	sortKey := cmpOr(q.Sort, "-score")
	desc := strings.HasPrefix(sortKey, "-")
	field := strings.TrimPrefix(sortKey, "-")
	col, ok := findingSort[field]
	if !ok {
		return nil, &QueryError{Param: "sort", Reason: fmt.Sprintf("cannot sort by %q (one of %s)", field, strings.Join(store.FindingSortFields, ", "))}
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !q.IncludeResolved {
		where = append(where, "resolved_at = ''")
	}
	if q.DeviceID != 0 {
		where = append(where, "device_id = "+arg(q.DeviceID))
	}
	if q.AssetID != "" {
		where = append(where, "asset_id = "+arg(q.AssetID))
	}
	if q.AdvisoryID != "" {
		where = append(where, "advisory_id = "+arg(q.AdvisoryID))
	}
	if q.CVE != "" {
		c := strings.ToUpper(strings.TrimSpace(q.CVE))
		// SBOM findings are keyed by vulnerability id, not by a stored
		// advisory: their CVEs are only in the cves column
		where = append(where, "(source = 'sbom' OR advisory_id IN (SELECT advisory_id FROM advisory_cves WHERE cve = "+arg(c)+"))",
			"cves LIKE "+arg("% "+escapeLike(c)+" %")+" ESCAPE '\\'")
	}
	if q.MatchStatus != "" {
		where = append(where, "match_status = "+arg(q.MatchStatus))
	}
	switch q.Source {
	case "":
	case store.SourceAdvisory:
		where = append(where, "source IN ('advisory', 'advisory+sbom')")
	case store.SourceSBOM:
		where = append(where, "source IN ('sbom', 'advisory+sbom')")
	default:
		return nil, &QueryError{Param: "source", Reason: fmt.Sprintf("%q is not one of advisory, sbom", q.Source)}
	}
	if q.State != "" {
		if !store.ValidWorkflowState(q.State) {
			return nil, &QueryError{Param: "state", Reason: fmt.Sprintf("%q is not one of %s", q.State, strings.Join(store.WorkflowStates, ", "))}
		}
		where = append(where, "wf_state = "+arg(q.State))
	}
	if q.KEV != nil {
		where = append(where, "kev = "+arg(*q.KEV))
	}
	if q.MinConfidence > 0 {
		where = append(where, "confidence >= "+arg(q.MinConfidence))
	}
	if q.Band != "" {
		where = append(where, "band = "+arg(strings.ToLower(q.Band)))
	}
	if q.Owner != "" {
		where = append(where, "lower(wf_owner) = "+arg(strings.ToLower(q.Owner)))
	}
	if q.Site != "" {
		// a semi-join probed per row in the sort's order (stops at the
		// page), not the site's whole device list built first
		where = append(where, "EXISTS (SELECT 1 FROM devices WHERE devices.id = findings.device_id AND "+s.dialect.Fold("devices.site")+" = "+s.dialect.FoldParam(arg(q.Site))+")")
	}
	if q.DueBefore != "" {
		if _, err := time.Parse(time.DateOnly, q.DueBefore); err != nil {
			return nil, &QueryError{Param: "due_before", Reason: "must be YYYY-MM-DD"}
		}
		where = append(where, "eff_due < "+arg(q.DueBefore))
	}
	if !q.WorkflowSince.IsZero() {
		where = append(where, "wf_updated_at >= "+arg(ts(q.WorkflowSince)))
	}
	op, dir := ">", "ASC"
	if desc {
		op, dir = "<", "DESC"
	}
	if q.Cursor != "" {
		c, err := decodeFindingCursor(q.Cursor, numericFindingSort[field])
		if err != nil {
			return nil, err
		}
		if col == "id" {
			where = append(where, "id "+op+" "+arg(c.ID))
		} else {
			v := arg(c.V)
			where = append(where, "("+col+" "+op+" "+v+" OR ("+col+" = "+v+" AND id "+op+" "+arg(c.ID)+"))")
		}
	}
	query := "SELECT " + findingCols + " FROM findings"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	if col == "id" {
		query += " ORDER BY id " + dir
	} else {
		query += " ORDER BY " + col + " " + dir + ", id " + dir
	}
	query += " LIMIT " + arg(limit+1)
	rows, err := s.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	defer rows.Close()
	page := &store.FindingPage{Findings: []*store.Finding{}}
	for rows.Next() {
		f, err := scanFinding(rows)
		if err != nil {
			return nil, fmt.Errorf("list findings: %w", err)
		}
		page.Findings = append(page.Findings, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	if len(page.Findings) > limit {
		page.Findings = page.Findings[:limit]
		last := page.Findings[limit-1]
		page.Next = encodeFindingCursor(findingSortValue(last, field), last.ID)
	}
	return page, nil
}

func findingSortValue(f *store.Finding, field string) any {
	switch field {
	case "score":
		return f.Score
	case "cvss":
		return f.CVSS
	case "epss":
		return f.EPSS
	case "confidence":
		return f.Confidence
	case "due":
		return effDue(f)
	case "first_seen":
		return ts(f.FirstSeen)
	case "last_seen":
		return ts(f.LastSeen)
	case "asset_id":
		return f.AssetID
	case "advisory_id":
		return f.AdvisoryID
	}
	return f.ID
}

func scanDeviceRisk(r scanner) (*store.DeviceRisk, error) {
	d := &store.DeviceRisk{}
	var factors, actions, at string
	if err := r.Scan(&d.DeviceID, &d.AssetID, &d.Score, &d.Band, &factors, &d.Findings, &d.KEV, &actions, &d.Site,
		&d.Department, &d.DeviceType, &d.Vendor, &at); err != nil {
		return nil, err
	}
	d.Factors, d.Actions = json.RawMessage(factors), json.RawMessage(actions)
	var err error
	if d.UpdatedAt, err = parseTS(at); err != nil {
		return nil, fmt.Errorf("device risk %d updated_at: %w", d.DeviceID, err)
	}
	return d, nil
}

// GetDeviceRisk returns one device's stored risk.
func (s *DB) GetDeviceRisk(ctx context.Context, deviceID int64) (*store.DeviceRisk, error) {
	d, err := scanDeviceRisk(s.SQL.QueryRowContext(ctx, "SELECT "+deviceRiskCols+" FROM device_risk WHERE device_id = $1", deviceID))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("risk of device %d", deviceID))
	}
	return d, nil
}

var deviceRiskSort = map[string]string{"score": "score", "findings": "findings", "asset_id": "asset_id"}

// ListDeviceRisk returns a page of device risks.
func (s *DB) ListDeviceRisk(ctx context.Context, q store.DeviceRiskQuery) (*store.DeviceRiskPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	sortKey := cmpOr(q.Sort, "-score")
	desc := strings.HasPrefix(sortKey, "-")
	field := strings.TrimPrefix(sortKey, "-")
	col, ok := deviceRiskSort[field]
	if !ok {
		return nil, &QueryError{Param: "sort", Reason: fmt.Sprintf("cannot sort by %q (one of score, findings, asset_id)", field)}
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Band != "" {
		where = append(where, "band = "+arg(strings.ToLower(q.Band)))
	}
	if q.KEV != nil {
		where = append(where, "kev = "+arg(*q.KEV))
	}
	if q.MinScore > 0 {
		where = append(where, "score >= "+arg(q.MinScore))
	}
	for _, x := range []struct{ col, v string }{{"site", q.Site}, {"department", q.Department}, {"device_type", q.DeviceType}, {"vendor", q.Vendor}} {
		if x.v != "" {
			where = append(where, "lower("+x.col+") = "+arg(strings.ToLower(x.v)))
		}
	}
	op, dir := ">", "ASC"
	if desc {
		op, dir = "<", "DESC"
	}
	if q.Cursor != "" {
		c, err := decodeFindingCursor(q.Cursor, field != "asset_id")
		if err != nil {
			return nil, err
		}
		v := arg(c.V)
		where = append(where, "("+col+" "+op+" "+v+" OR ("+col+" = "+v+" AND device_id "+op+" "+arg(c.ID)+"))")
	}
	query := "SELECT " + deviceRiskCols + " FROM device_risk"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY " + col + " " + dir + ", device_id " + dir + " LIMIT " + arg(limit+1)
	rows, err := s.SQL.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list device risk: %w", err)
	}
	defer rows.Close()
	page := &store.DeviceRiskPage{Devices: []*store.DeviceRisk{}}
	for rows.Next() {
		d, err := scanDeviceRisk(rows)
		if err != nil {
			return nil, fmt.Errorf("list device risk: %w", err)
		}
		page.Devices = append(page.Devices, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list device risk: %w", err)
	}
	if len(page.Devices) > limit {
		page.Devices = page.Devices[:limit]
		last := page.Devices[limit-1]
		var v any = last.Score
		switch field {
		case "findings":
			v = float64(last.Findings)
		case "asset_id":
			v = last.AssetID
		}
		page.Next = encodeFindingCursor(v, last.DeviceID)
	}
	return page, nil
}

// FindingStats computes the dashboard figures.
func (s *DB) FindingStats(ctx context.Context, o store.FindingStatsOptions) (*store.FindingStats, error) {
	if o.Today == "" {
		o.Today = store.Now().Format(time.DateOnly)
	}
	today, err := time.Parse(time.DateOnly, o.Today)
	if err != nil {
		return nil, &QueryError{Param: "today", Reason: "must be YYYY-MM-DD"}
	}
	if o.DueSoonDays <= 0 {
		o.DueSoonDays = 14
	}
	if o.Top <= 0 {
		o.Top = 10
	}
	soon := today.AddDate(0, 0, o.DueSoonDays).Format(time.DateOnly)
	st := &store.FindingStats{}
	// One pass over the matching findings (the findings_stats index covers
	// every column read), grouped by every
	// dimension the dashboard counts; the totals are summed here. Before:
	// ten count/GROUP BY statements, each a scan of the table.
	rows, err := s.SQL.QueryContext(ctx, `SELECT wf_state, match_status, kev, band, CASE
		WHEN wf_state = 'accepted' AND accept_expires >= $1 THEN 'accepted'
		WHEN eff_due = '`+noDue+`' THEN 'none'
		WHEN eff_due < $1 THEN 'overdue'
		WHEN eff_due <= $2 THEN 'due_soon'
		ELSE 'on_track' END AS s, count(*)
		FROM findings WHERE resolved_at = '' GROUP BY wf_state, match_status, kev, band, s`, o.Today, soon)
	if err != nil {
		return nil, fmt.Errorf("finding stats: %w", err)
	}
	byState, byBand, bySLA := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for rows.Next() {
		var state, status, band, sla string
		var kev bool
		var n int64
		if err := rows.Scan(&state, &status, &kev, &band, &sla, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("finding stats: %w", err)
		}
		st.Findings += n
		byState[state] += n
		if state == store.StateFalsePositive || state == store.StateResolved {
			continue
		}
		st.Active += n
		if status == "needs_review" {
			st.NeedsReview += n
		}
		if kev {
			st.KEVFindings += n
		}
		byBand[band] += n
		bySLA[sla] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finding stats: %w", err)
	}
	// one pass over device_risk (covered by device_risk_band_kev)
	devBand := map[string]int64{}
	rows, err = s.SQL.QueryContext(ctx, "SELECT band, kev, count(*) FROM device_risk GROUP BY band, kev")
	if err != nil {
		return nil, fmt.Errorf("finding stats: %w", err)
	}
	for rows.Next() {
		var band string
		var kev bool
		var n int64
		if err := rows.Scan(&band, &kev, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("finding stats: %w", err)
		}
		st.DevicesAtRisk += n
		if kev {
			st.KEVDevices += n
		}
		devBand[band] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finding stats: %w", err)
	}
	bandRank := map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
	stateRank := map[string]int{}
	for i, s := range store.WorkflowStates {
		stateRank[s] = i
	}
	slaRank := map[string]int{"overdue": 0, "due_soon": 1, "on_track": 2, "accepted": 3, "none": 4}
	st.DevicesByBand = rankedCounts(devBand, bandRank)
	st.FindingsByBand = rankedCounts(byBand, bandRank)
	st.ByState = rankedCounts(byState, stateRank)
	st.BySLA = rankedCounts(bySLA, slaRank)
	top, err := s.ListDeviceRisk(ctx, store.DeviceRiskQuery{Limit: o.Top})
	if err != nil {
		return nil, fmt.Errorf("finding stats: %w", err)
	}
	st.TopDevices = top.Devices
	if st.ComputedAt, err = s.FindingsComputedAt(ctx); err != nil {
		return nil, err
	}
	return st, nil
}

// rankedCounts lists counts in rank order (keys without a rank last, by
// key); a key with no rows is left out, as a GROUP BY would.
func rankedCounts(m map[string]int64, rank map[string]int) []store.Count {
	out := make([]store.Count, 0, len(m))
	for k, n := range m {
		out = append(out, store.Count{Key: k, N: n})
	}
	r := func(k string) int {
		if i, ok := rank[k]; ok {
			return i
		}
		return len(rank)
	}
	slices.SortFunc(out, func(a, b store.Count) int {
		return cmp.Or(r(a.Key)-r(b.Key), strings.Compare(a.Key, b.Key))
	})
	return out
}

// FindingsComputedAt is when the last full recompute was stored.
func (s *DB) FindingsComputedAt(ctx context.Context) (time.Time, error) {
	var v string
	err := s.SQL.QueryRowContext(ctx, "SELECT value FROM findings_meta WHERE key = 'computed_at'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) || err != nil && isNoRows(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("findings computed at: %w", err)
	}
	return parseTS(v)
}

// PutRiskSnapshot stores the register of one day (replacing that day's).
func (s *DB) PutRiskSnapshot(ctx context.Context, day string, register json.RawMessage) error {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return fmt.Errorf("risk snapshot: day %q is not YYYY-MM-DD", day)
	}
	if !json.Valid(register) {
		return fmt.Errorf("risk snapshot %s: register is not valid JSON", day)
	}
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("risk snapshot %s: %w", day, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.ExecContext(ctx, "DELETE FROM risk_snapshots WHERE day = $1", day); err != nil {
		return fmt.Errorf("risk snapshot %s: %w", day, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO risk_snapshots (day, register, created_at) VALUES ($1, $2, $3)",
		day, string(register), ts(store.Now())); err != nil {
		return fmt.Errorf("risk snapshot %s: %w", day, err)
	}
	return tx.Commit()
}

// ListRiskSnapshots returns the snapshots of days from..to, oldest first.
func (s *DB) ListRiskSnapshots(ctx context.Context, from, to string) ([]*store.RiskSnapshot, error) {
	q := "SELECT day, register, created_at FROM risk_snapshots"
	var where []string
	var args []any
	for _, x := range []struct{ op, v, name string }{{">=", from, "from"}, {"<=", to, "to"}} {
		if x.v == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, x.v); err != nil {
			return nil, &QueryError{Param: x.name, Reason: "must be YYYY-MM-DD"}
		}
		args = append(args, x.v)
		where = append(where, "day "+x.op+" $"+strconv.Itoa(len(args)))
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.SQL.QueryContext(ctx, q+" ORDER BY day", args...)
	if err != nil {
		return nil, fmt.Errorf("list risk snapshots: %w", err)
	}
	defer rows.Close()
	out := []*store.RiskSnapshot{}
	for rows.Next() {
		var r store.RiskSnapshot
		var reg, at string
		if err := rows.Scan(&r.Day, &reg, &at); err != nil {
			return nil, fmt.Errorf("list risk snapshots: %w", err)
		}
		r.Register = json.RawMessage(reg)
		if r.CreatedAt, err = parseTS(at); err != nil {
			return nil, fmt.Errorf("risk snapshot %s created_at: %w", r.Day, err)
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}
