package findings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/assess"
	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/remediation"
	"github.com/medwarden/medwarden/internal/rubric"
	"github.com/medwarden/medwarden/internal/store"
)

// ErrInvalid wraps every rejected workflow change (the API's 400/422);
// the message names the field.
var ErrInvalid = errors.New("invalid workflow change")

// FieldError is a rejected field of a workflow change.
type FieldError struct {
	Field  string // JSON name: state, owner, due_date, accept.expires, rubric_answers...
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Acceptance is a risk acceptance: why, who approved it, until when.
type Acceptance struct {
	Justification string    `json:"justification"`
	Approver      string    `json:"approver"`
	Expires       time.Time `json:"expires"`
}

// Change is a workflow change; nil fields stay as they are.
type Change struct {
	// State is one of store.WorkflowStates. Moving to accepted needs
	// Accept (or an acceptance already stored); leaving accepted clears
	// the acceptance.
	State *string `json:"state,omitempty"`
	Owner *string `json:"owner,omitempty"`
	Note  *string `json:"note,omitempty"`
	// DueDate overrides the policy due date (YYYY-MM-DD; "" clears it).
	DueDate *string `json:"due_date,omitempty"`
	// Accept records a risk acceptance (and sets State to accepted).
	Accept *Acceptance `json:"accept,omitempty"`
	// RubricAnswers are MITRE rubric answers (question id → answer); they
	// must settle every base metric. The finding is then scored with the
	// rubric's vector. An empty, non-nil map removes the rubric vector.
	RubricAnswers rubric.Answers `json:"rubric_answers,omitempty"`
}

// UpdateWorkflow applies a change to finding id if its workflow revision
// is ifRevision (0: unconditional; store.ErrConflict when stale), audits
// it ("finding.update", workflow before and after, actor from ctx) and
// rescores the finding's device (a rubric vector, a false positive or an
// acceptance change the device risk and the queue). actor names who
// changed it (the audit actor's name when ""). Invalid changes are
// *FieldError (errors.Is ErrInvalid).
func (s *Service) UpdateWorkflow(ctx context.Context, id int64, ch Change, ifRevision int64, actor string) (*store.Finding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	before, err := s.st.GetFinding(ctx, id)
	if err != nil {
		return nil, err
	}
	if ifRevision != 0 && ifRevision != before.Workflow.Revision {
		return nil, fmt.Errorf("finding %d: revision %d is not the stored %d: %w", id, ifRevision, before.Workflow.Revision, store.ErrConflict)
	}
	wf, err := s.apply(before, ch)
	if err != nil {
		return nil, err
	}
	if actor == "" {
		if a, ok := audit.ActorFrom(ctx); ok {
			actor = a.Name
		} else {
			actor = recorder.Unknown.Name
		}
	}
	wf.UpdatedBy = actor
	after, err := s.st.UpdateFindingWorkflow(ctx, id, wf, before.Workflow.Revision)
	if err != nil {
		return nil, err
	}
	if sec := securityOf(s.st); sec != nil {
		if err := recorder.Record(ctx, sec, "finding.update", "finding/"+strconv.FormatInt(id, 10), before.Workflow, after.Workflow); err != nil {
			s.log.Error("audit append failed", "action", "finding.update", "finding", id, "err", err)
			return after, err
		}
	}
	// rescore the device with the new override
	if s.eng != nil {
		o, _ := s.overrideOf(after)
		s.eng.SetOverride(assess.Pair{DeviceID: after.DeviceID, AdvisoryID: after.AdvisoryID}, o)
		if d := s.eng.Device(after.DeviceID); d != nil {
			if _, err := s.devices(ctx, []*inventory.Device{d}, nil); err != nil {
				return after, fmt.Errorf("finding %d: workflow saved, rescoring failed: %w", id, err)
			}
		}
	} else if _, err := s.recomputeAll(ctx, true); err != nil {
		return after, fmt.Errorf("finding %d: workflow saved, rescoring failed: %w", id, err)
	}
	return s.st.GetFinding(ctx, id)
}

// securityOf returns the audit log of st (nil when it keeps none).
func securityOf(st store.Store) store.SecurityStore {
	if r, ok := st.(*recorder.Store); ok {
		return r.Security()
	}
	if sec, ok := st.(store.SecurityStore); ok {
		return sec
	}
	return nil
}

func (s *Service) policy() remediation.Policy {
	if s.opts.Policy != nil {
		return *s.opts.Policy
	}
	return remediation.DefaultPolicy()
}

// apply validates ch against f and returns the new workflow.
func (s *Service) apply(f *store.Finding, ch Change) (store.Workflow, error) {
	wf := f.Workflow
	bad := func(field, format string, a ...any) (store.Workflow, error) {
		return wf, &FieldError{Field: field, Reason: fmt.Sprintf(format, a...)}
	}
	if ch.State != nil {
		st := strings.TrimSpace(*ch.State)
		if !store.ValidWorkflowState(st) {
			return bad("state", "%q is not one of %s", *ch.State, strings.Join(store.WorkflowStates, ", "))
		}
		wf.State = st
	}
	if ch.Owner != nil {
		o := strings.TrimSpace(*ch.Owner)
		if len(o) > 200 {
			return bad("owner", "longer than 200 characters")
		}
		wf.Owner = o
	}
	if ch.Note != nil {
		if len(*ch.Note) > 10000 {
			return bad("note", "longer than 10000 characters")
		}
		wf.Note = *ch.Note
	}
	if ch.DueDate != nil {
		d := strings.TrimSpace(*ch.DueDate)
		if d != "" {
			if _, err := time.Parse(time.DateOnly, d); err != nil {
				return bad("due_date", "%q is not YYYY-MM-DD", *ch.DueDate)
			}
		}
		wf.DueDate = d
	}
	now := s.now()
	if ch.Accept != nil {
		a := ch.Accept
		pol := s.policy()
		switch {
		case strings.TrimSpace(a.Justification) == "":
			return bad("accept.justification", "missing: an acceptance must say why")
		case strings.TrimSpace(a.Approver) == "":
			return bad("accept.approver", "missing: an acceptance must name who approved it")
		case a.Expires.IsZero():
			return bad("accept.expires", "missing: acceptances must expire")
		case !day(a.Expires).After(day(now)):
			return bad("accept.expires", "%s is not after today", a.Expires.Format(time.DateOnly))
		case pol.MaxAcceptanceDays > 0 && day(a.Expires).Sub(day(now)) > time.Duration(pol.MaxAcceptanceDays)*24*time.Hour:
			return bad("accept.expires", "%s is more than the policy's %d days away", a.Expires.Format(time.DateOnly), pol.MaxAcceptanceDays)
		}
		wf.State = store.StateAccepted
		wf.AcceptJustification, wf.AcceptApprover, wf.AcceptExpires = strings.TrimSpace(a.Justification), strings.TrimSpace(a.Approver), day(a.Expires)
	}
	if wf.State == store.StateAccepted && (wf.AcceptExpires.IsZero() || wf.AcceptJustification == "" || wf.AcceptApprover == "") {
		return bad("accept", "state accepted needs an acceptance: justification, approver and expiry")
	}
	if wf.State != store.StateAccepted {
		wf.AcceptJustification, wf.AcceptApprover, wf.AcceptExpires = "", "", time.Time{}
	}
	if ch.RubricAnswers != nil {
		if len(ch.RubricAnswers) == 0 {
			wf.RubricVector, wf.RubricAnswers, wf.RubricRationale = "", nil, nil
		} else {
			r, err := rubric.Default()
			if err != nil {
				return wf, err
			}
			res, err := r.Evaluate(ch.RubricAnswers, rubric.Options{})
			if err != nil {
				return bad("rubric_answers", "%v", err)
			}
			if !res.Complete {
				return bad("rubric_answers", "unanswered questions needed for the vector: %s", strings.Join(res.Missing, ", "))
			}
			norm, _ := r.Normalize(ch.RubricAnswers)
			ans, err := json.Marshal(norm)
			if err != nil {
				return wf, err
			}
			rat, err := json.Marshal(res.Metrics)
			if err != nil {
				return wf, err
			}
			wf.RubricVector, wf.RubricAnswers, wf.RubricRationale = res.Vector, ans, rat
		}
	}
	return wf, nil
}
