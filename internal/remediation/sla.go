package remediation

import "time"

// DueState is the SLA state of a due date (YYYY-MM-DD; "" or unparsable:
// no deadline) at now, and the whole days left until it (negative when
// overdue; nil without a deadline). Days count between UTC calendar days.
func DueState(due string, now time.Time, dueSoonDays int) (SLA, *int) {
	if due == "" {
		return SLANone, nil
	}
	t, err := time.Parse(time.DateOnly, due)
	if err != nil {
		return SLANone, nil
	}
	n := int(t.Sub(now.UTC().Truncate(24*time.Hour)).Hours() / 24)
	switch {
	case n < 0:
		return SLAOverdue, &n
	case n <= dueSoonDays:
		return SLADueSoon, &n
	}
	return SLAOnTrack, &n
}

// FindingSLA is where a stored finding stands today.
type FindingSLA struct {
	State SLA
	// Due is the date the state counts to: the acceptance's expiry while
	// an acceptance is in force, else the effective due date ("" none).
	Due string
	// DaysLeft is nil without a deadline.
	DaysLeft *int
	// Accepted is true when an acceptance in force decided the state.
	Accepted bool
}

// StateAt is the one SLA rule the console and the API share: a risk
// acceptance in force (accepted is the workflow state "accepted" and
// acceptExpires is after now) makes a finding "accepted" until it expires;
// otherwise its effective due date (a person's, else the policy's;
// YYYY-MM-DD, "" for none) decides overdue / due soon / on track.
func StateAt(effectiveDue string, accepted bool, acceptExpires, now time.Time, dueSoonDays int) FindingSLA {
	if accepted && acceptExpires.After(now) {
		due := acceptExpires.UTC().Format(time.DateOnly)
		_, left := DueState(due, now, dueSoonDays)
		return FindingSLA{State: SLAAccepted, Due: due, DaysLeft: left, Accepted: true}
	}
	st, left := DueState(effectiveDue, now, dueSoonDays)
	return FindingSLA{State: st, Due: effectiveDue, DaysLeft: left}
}

// Rank orders SLA states for a queue: overdue, due soon, on track,
// accepted, none (and anything else last).
func (s SLA) Rank() int {
	switch s {
	case SLAOverdue:
		return 0
	case SLADueSoon:
		return 1
	case SLAOnTrack:
		return 2
	case SLAAccepted:
		return 3
	}
	return 4
}
