package remediation

import (
	"testing"
	"time"
)

func TestStateAt(t *testing.T) {
	now := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		due      string
		accepted bool
		expires  time.Time
		want     SLA
		wantDue  string
		left     *int
	}{
		{"no deadline", "", false, time.Time{}, SLANone, "", nil},
		{"unparsable due", "soon", false, time.Time{}, SLANone, "soon", nil},
		{"overdue by a day", "2026-11-27", false, time.Time{}, SLAOverdue, "2026-11-27", days(-1)},
		{"due today", "2026-11-28", false, time.Time{}, SLADueSoon, "2026-11-28", days(0)},
		{"due at the soon limit", "2026-12-12", false, time.Time{}, SLADueSoon, "2026-12-12", days(14)},
		{"on track", "2026-12-13", false, time.Time{}, SLAOnTrack, "2026-12-13", days(15)},
		{"acceptance in force", "2026-11-01", true, now.AddDate(0, 1, 0), SLAAccepted, "2026-12-28", days(30)},
		{"acceptance expired: the due date decides", "2026-11-01", true, now.Add(-time.Hour), SLAOverdue, "2026-11-01", days(-27)},
		{"expiry without the accepted state", "2026-12-20", false, now.AddDate(0, 1, 0), SLAOnTrack, "2026-12-20", days(22)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := StateAt(tc.due, tc.accepted, tc.expires, now, 14)
			if got.State != tc.want || got.Due != tc.wantDue || (got.DaysLeft == nil) != (tc.left == nil) ||
				(got.DaysLeft != nil && *got.DaysLeft != *tc.left) || got.Accepted != (tc.want == SLAAccepted) {
				t.Errorf("StateAt = %+v (days %v), want %s due %s days %v", got, deref(got.DaysLeft), tc.want, tc.wantDue, deref(tc.left))
			}
		})
	}
	ranks := []SLA{SLAOverdue, SLADueSoon, SLAOnTrack, SLAAccepted, SLANone}
	for i, s := range ranks {
		if s.Rank() != i {
			t.Errorf("%s.Rank() = %d, want %d", s, s.Rank(), i)
		}
	}
}

func days(n int) *int { return &n }

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
