// Package remediation turns scored findings into a remediation queue: what
// to do (patch, configure, mitigate, segment, replace, accept), by when
// (from a configurable due-date policy whose defaults follow CISA BOD 22-01
// for known exploited vulnerabilities), and where each item stands against
// its deadline. It also tracks risk acceptances and recommends replacing
// devices that cannot be fixed and are out of vendor support.
//
// The package is pure: no I/O and no clock; the caller passes "now".
package remediation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/risk"
)

// ErrInvalidPolicy is wrapped by every policy error.
var ErrInvalidPolicy = errors.New("invalid remediation policy")

// MaxPolicySize bounds the size of a policy file.
const MaxPolicySize = 16 << 20

// Policy sets due dates. The zero value is not useful; start from
// DefaultPolicy (ParsePolicy does).
type Policy struct {
	KEV KEVPolicy `json:"kev"`
	// Days are the days allowed per risk band, counted from detection;
	// 0 means no deadline (the item is tracked, not timed).
	Days BandDays `json:"days"`
	// DueSoonDays: an item due within this many days is "due_soon".
	DueSoonDays int `json:"due_soon_days"`
	// MaxAcceptanceDays bounds how long a risk acceptance may last.
	MaxAcceptanceDays int `json:"max_acceptance_days"`
	// Acceptances are the risk acceptances in force or expired.
	Acceptances []Acceptance `json:"acceptances,omitempty"`
}

// KEVPolicy is the rule for findings in CISA's KEV catalog (BOD 22-01):
// the catalog's due date when it has one; else, from the date the CVE was
// added to KEV, RecentDays for CVE ids of CutoffYear or later and
// OlderMonths for older ones.
type KEVPolicy struct {
	UseCatalogDueDate bool `json:"use_catalog_due_date"`
	RecentDays        int  `json:"recent_days"`
	OlderMonths       int  `json:"older_months"`
	CutoffYear        int  `json:"cutoff_year"`
}

// BandDays are the days allowed per band.
type BandDays struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

// For returns the days of a band.
func (b BandDays) For(band risk.Band) int {
	switch band {
	case risk.BandCritical:
		return b.Critical
	case risk.BandHigh:
		return b.High
	case risk.BandMedium:
		return b.Medium
	case risk.BandLow:
		return b.Low
	}
	return b.Info
}

// Acceptance is a documented decision to accept the risk of one finding
// (or, with AdvisoryID "*", of every finding of a device) until Expires.
type Acceptance struct {
	AssetID       string `json:"asset_id"`
	AdvisoryID    string `json:"advisory_id"`
	Justification string `json:"justification"`
	Approver      string `json:"approver"`
	// Accepted and Expires are dates "2006-01-02".
	Accepted Date `json:"accepted"`
	Expires  Date `json:"expires"`
}

// Date is a calendar date in JSON "2006-01-02".
type Date struct{ time.Time }

// MarshalJSON writes "2006-01-02".
func (d Date) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.Format(time.DateOnly) + `"`), nil
}

// UnmarshalJSON reads "2006-01-02".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date must be a string \"YYYY-MM-DD\"")
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	d.Time = t
	return nil
}

// DefaultPolicy returns the defaults: KEV per BOD 22-01 (catalog due date,
// else 14 days for CVEs from 2021 on and 6 months for older ones, from the
// date added), critical 15 days, high 30, medium 90, low 180, info none;
// due soon within 7 days; acceptances at most 365 days.
func DefaultPolicy() Policy {
	return Policy{
		KEV:               KEVPolicy{UseCatalogDueDate: true, RecentDays: 14, OlderMonths: 6, CutoffYear: 2021},
		Days:              BandDays{Critical: 15, High: 30, Medium: 90, Low: 180, Info: 0},
		DueSoonDays:       7,
		MaxAcceptanceDays: 365,
	}
}

// Validate checks the policy; errors name the JSON member.
func (p *Policy) Validate() error {
	bad := func(ptr, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidPolicy, ptr, fmt.Sprintf(format, a...))
	}
	const maxDays = 3650
	for _, x := range []struct {
		ptr string
		v   int
	}{
		{"/kev/recent_days", p.KEV.RecentDays}, {"/days/critical", p.Days.Critical}, {"/days/high", p.Days.High},
		{"/days/medium", p.Days.Medium}, {"/days/low", p.Days.Low}, {"/days/info", p.Days.Info},
		{"/due_soon_days", p.DueSoonDays}, {"/max_acceptance_days", p.MaxAcceptanceDays},
	} {
		if x.v < 0 || x.v > maxDays {
			return bad(x.ptr, "%d is not in [0,%d]", x.v, maxDays)
		}
	}
	if p.KEV.OlderMonths < 0 || p.KEV.OlderMonths > 120 {
		return bad("/kev/older_months", "%d is not in [0,120]", p.KEV.OlderMonths)
	}
	if p.KEV.CutoffYear != 0 && (p.KEV.CutoffYear < 1999 || p.KEV.CutoffYear > 2100) {
		return bad("/kev/cutoff_year", "%d is not a CVE year", p.KEV.CutoffYear)
	}
	// a more urgent band must not get more time than a less urgent one
	order := []struct {
		name string
		v    int
	}{{"critical", p.Days.Critical}, {"high", p.Days.High}, {"medium", p.Days.Medium}, {"low", p.Days.Low}}
	for i := 1; i < len(order); i++ {
		a, b := order[i-1], order[i]
		if a.v == 0 && b.v != 0 {
			return bad("/days/"+a.name, "no deadline for %s while %s has %d days", a.name, b.name, b.v)
		}
		if a.v > b.v && b.v != 0 {
			return bad("/days/"+a.name, "%d days is more than %s's %d", a.v, b.name, b.v)
		}
	}
	for i, a := range p.Acceptances {
		ptr := fmt.Sprintf("/acceptances/%d", i)
		switch {
		case strings.TrimSpace(a.AssetID) == "":
			return bad(ptr+"/asset_id", "missing")
		case strings.TrimSpace(a.AdvisoryID) == "":
			return bad(ptr+"/advisory_id", "missing (use \"*\" for every finding of the device)")
		case strings.TrimSpace(a.Justification) == "":
			return bad(ptr+"/justification", "missing: an acceptance must say why")
		case strings.TrimSpace(a.Approver) == "":
			return bad(ptr+"/approver", "missing: an acceptance must name who approved it")
		case a.Accepted.IsZero():
			return bad(ptr+"/accepted", "missing")
		case a.Expires.IsZero():
			return bad(ptr+"/expires", "missing: acceptances must expire")
		case !a.Expires.After(a.Accepted.Time):
			return bad(ptr+"/expires", "%s is not after accepted %s", a.Expires.Format(time.DateOnly), a.Accepted.Format(time.DateOnly))
		case p.MaxAcceptanceDays > 0 && a.Expires.Sub(a.Accepted.Time) > time.Duration(p.MaxAcceptanceDays)*24*time.Hour:
			return bad(ptr+"/expires", "acceptance lasts longer than max_acceptance_days (%d)", p.MaxAcceptanceDays)
		}
	}
	return nil
}

// ParsePolicy reads a policy file: members it omits keep their defaults
// (DefaultPolicy); unknown members are errors. Errors name the file and the
// JSON member.
func ParsePolicy(r io.Reader, name string) (Policy, error) {
	p := DefaultPolicy()
	data, err := io.ReadAll(io.LimitReader(r, MaxPolicySize+1))
	if err != nil {
		return Policy{}, fmt.Errorf("policy %s: %w", name, err)
	}
	if len(data) > MaxPolicySize {
		return Policy{}, fmt.Errorf("policy %s: %w: larger than %d bytes", name, ErrInvalidPolicy, MaxPolicySize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			err = fmt.Errorf("line %d: %v", lineOf(data, se.Offset), err)
		case errors.As(err, &te):
			err = fmt.Errorf("line %d: /%s: %s is not a %s", lineOf(data, te.Offset), strings.ReplaceAll(te.Field, ".", "/"), te.Value, te.Type)
		case errors.Is(err, io.EOF):
			err = errors.New("empty document")
		}
		return Policy{}, fmt.Errorf("policy %s: %w: %v", name, ErrInvalidPolicy, err)
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(data[off:])) > 0 {
		return Policy{}, fmt.Errorf("policy %s: %w: line %d: data after the JSON object", name, ErrInvalidPolicy, lineOf(data, off))
	}
	if err := p.Validate(); err != nil {
		return Policy{}, fmt.Errorf("policy %s: %w", name, err)
	}
	return p, nil
}

func lineOf(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}
