package store

import (
	"testing"
	"time"
)

func TestCarryWorkflow(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	early, late := now.Add(-48*time.Hour), now.Add(-time.Hour)
	fresh := Workflow{State: StateOpen, Revision: 1}
	donor := func(id int64, state, by string, at time.Time) *Finding {
		f := &Finding{ID: id, AdvisoryID: "CVE-X", Workflow: Workflow{State: state, Owner: "o" + state, UpdatedBy: by, UpdatedAt: at, Revision: 3}}
		if state == StateAccepted {
			f.Workflow.AcceptJustification, f.Workflow.AcceptApprover, f.Workflow.AcceptExpires = "why", "ciso", now.AddDate(0, 0, 30)
		}
		return f
	}
	expired := donor(9, StateAccepted, "bob", late)
	expired.Workflow.AcceptExpires = now.Add(-time.Hour)
	vanished := donor(10, StateMitigated, "bob", late)
	vanished.ResolvedAt = early
	tests := []struct {
		name      string
		to        Workflow
		from      []*Finding
		wantState string // "" = nothing carried
		wantFrom  int64
	}{
		{"most_advanced_wins", fresh, []*Finding{donor(1, StateInProgress, "alice", late), donor(2, StateAccepted, "bob", early), donor(3, StateMitigated, "carol", late)}, StateAccepted, 2},
		{"tie_latest_change", fresh, []*Finding{donor(1, StateInProgress, "alice", early), donor(2, StateInProgress, "bob", late)}, StateInProgress, 2},
		{"tie_same_time_lowest_id", fresh, []*Finding{donor(5, StateInProgress, "alice", late), donor(4, StateInProgress, "bob", late)}, StateInProgress, 4},
		{"person_set_taker_keeps_its_own", Workflow{State: StateOpen, Owner: "dan", UpdatedBy: "dan", Revision: 2}, []*Finding{donor(1, StateMitigated, "alice", late)}, "", 0},
		{"system_moved_taker_keeps_its_own", Workflow{State: StateResolved, UpdatedBy: SystemActor, Revision: 2}, []*Finding{donor(1, StateMitigated, "alice", late)}, "", 0},
		{"reopened_by_system_takes_it", Workflow{State: StateOpen, UpdatedBy: SystemActor, Revision: 3}, []*Finding{donor(1, StateMitigated, "alice", late)}, StateMitigated, 1},
		{"system_workflow_not_carried", fresh, []*Finding{donor(1, StateOpen, SystemActor, late), donor(2, StateOpen, "", time.Time{})}, "", 0},
		{"resolved_and_false_positive_not_carried", fresh, []*Finding{donor(1, StateResolved, "alice", late), donor(2, StateFalsePositive, "bob", late)}, "", 0},
		{"expired_acceptance_not_carried", fresh, []*Finding{expired, donor(1, StateOpen, "alice", early)}, StateOpen, 1},
		{"already_vanished_not_carried", fresh, []*Finding{vanished}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf, d, ok := CarryWorkflow(tt.to, tt.from, now)
			if tt.wantState == "" {
				if ok || d != nil || wf.State != tt.to.State || wf.Revision != tt.to.Revision {
					t.Fatalf("carried %+v from %+v, want nothing", wf, d)
				}
				return
			}
			if !ok || d.ID != tt.wantFrom || wf.State != tt.wantState || wf.Owner != d.Workflow.Owner || wf.UpdatedBy != SystemActor ||
				!wf.UpdatedAt.Equal(now) || wf.Revision != tt.to.Revision+1 || wf.AcceptExpires != d.Workflow.AcceptExpires {
				t.Fatalf("carried %+v from %+v (ok %v), want %s from %d by the system", wf, d, ok, tt.wantState, tt.wantFrom)
			}
		})
	}
}
