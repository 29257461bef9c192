package findings

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/assess"
	"github.com/medwarden/medwarden/internal/match"
	"github.com/medwarden/medwarden/internal/remediation"
	"github.com/medwarden/medwarden/internal/risk"
	"github.com/medwarden/medwarden/internal/store"
)

// toStore maps an assessment onto store rows.
func toStore(res *assess.Result) ([]*store.Finding, []*store.DeviceRisk, error) {
	fs := make([]*store.Finding, 0, len(res.Records))
	for i := range res.Records {
		f, err := findingOf(&res.Records[i])
		if err != nil {
			return nil, nil, err
		}
		fs = append(fs, f)
	}
	risks := make([]*store.DeviceRisk, 0, len(res.Devices))
	for i := range res.Devices {
		d := &res.Devices[i]
		r := &store.DeviceRisk{DeviceID: d.DeviceID, Score: d.Score, Band: string(d.Band), Findings: d.Findings, KEV: d.KEV}
		if d.Device != nil {
			r.AssetID, r.Site, r.Department, r.DeviceType, r.Vendor = d.Device.AssetID, d.Device.Site, d.Device.Department, d.Device.DeviceType, d.Device.Vendor
		}
		var err error
		if r.Factors, err = marshal(d.Factors, "[]"); err != nil {
			return nil, nil, fmt.Errorf("device %d factors: %w", d.DeviceID, err)
		}
		if r.Actions, err = marshal(d.Items, "[]"); err != nil {
			return nil, nil, fmt.Errorf("device %d actions: %w", d.DeviceID, err)
		}
		risks = append(risks, r)
	}
	return fs, risks, nil
}

func marshal[T any](v []T, empty string) (json.RawMessage, error) {
	if len(v) == 0 {
		return json.RawMessage(empty), nil
	}
	b, err := json.Marshal(v)
	return json.RawMessage(b), err
}

func findingOf(r *assess.Record) (*store.Finding, error) {
	m := &r.Match
	f := &store.Finding{
		DeviceID: r.DeviceID, AssetID: r.Device.AssetID, AdvisoryID: r.AdvisoryID, AdvisoryTitle: m.AdvisoryTitle,
		ProductID: m.ProductID, ProductName: m.ProductName, BranchPath: nonNil(m.BranchPath), Method: m.Method,
		Confidence: m.Confidence, MatchStatus: m.Status, Reasons: nonNil(m.Reasons), CVEs: slices.Sorted(slices.Values(m.CVEs)),
		KEV: r.Input.KEV, EPSS: -1,
		Score: r.Risk.Score, Band: string(r.Risk.Band), ScoreVector: r.Risk.Vector,
		Source: r.Source, Suppressed: r.Suppressed,
	}
	if f.Source == "" {
		f.Source = store.SourceAdvisory
	}
	if f.Band == "" {
		f.Band = string(risk.BandInfo)
	}
	if m.CVSS != nil {
		f.CVSS, f.CVSSVector, f.CVSSVersion = m.CVSS.BaseScore, m.CVSS.Vector, m.CVSS.Version
	}
	if !r.Input.KEVDueDate.IsZero() {
		f.KEVDueDate = r.Input.KEVDueDate.Format("2006-01-02")
	} else if m.KEVDueDate != nil {
		f.KEVDueDate = *m.KEVDueDate
	}
	if m.EPSS != nil {
		f.EPSS, f.EPSSPercentile = m.EPSS.Score, m.EPSS.Percentile
	}
	var err error
	if f.Remediations, err = marshal(m.Remediations, "[]"); err != nil {
		return nil, fmt.Errorf("finding %s × %s remediations: %w", f.AssetID, f.AdvisoryID, err)
	}
	if f.Factors, err = marshal(r.Risk.Factors, "[]"); err != nil {
		return nil, fmt.Errorf("finding %s × %s factors: %w", f.AssetID, f.AdvisoryID, err)
	}
	if f.Evidence, err = marshal(r.Evidence, "[]"); err != nil {
		return nil, fmt.Errorf("finding %s × %s evidence: %w", f.AssetID, f.AdvisoryID, err)
	}
	if r.Source == store.SourceSBOM {
		upgradeRationale(r.Items, m.Remediations)
	}
	if r.Source == store.SourceAdvisorySBOM {
		for _, ev := range r.Evidence {
			if !slices.Contains(f.MergedFrom, ev.Vulnerability) {
				f.MergedFrom = append(f.MergedFrom, ev.Vulnerability)
			}
		}
	}
	if f.Actions, err = marshal(r.Items, "[]"); err != nil {
		return nil, fmt.Errorf("finding %s × %s actions: %w", f.AssetID, f.AdvisoryID, err)
	}
	f.SLA = string(remediation.SLANone)
	if len(r.Items) > 0 {
		it := firstItem(r.Items)
		f.Action, f.Due, f.DueRule, f.SLA = string(it.Action), it.Due, it.DueRule, string(it.SLA)
	}
	return f, nil
}

// upgradeRationale makes the patch item of an SBOM finding say what to
// install: the upgrades of its vendor_fix remediations ("upgrade lodash
// from 4.17.20 to 4.17.21 (osv GHSA-35jh-r3h4-6jhm)"), as the queue shows
// them. items are the record's own copy.
func upgradeRationale(items []remediation.Item, rems []match.Remediation) {
	var ups []string
	for _, r := range rems {
		if r.Category == advisory.RemediationVendorFix {
			ups = append(ups, r.Details)
		}
	}
	if len(ups) == 0 {
		return
	}
	for i := range items {
		if items[i].Action == remediation.ActionPatch {
			items[i].Rationale = strings.Join(ups, "; ")
		}
	}
}

// firstItem is the most urgent item: overdue first, then the earliest due
// date (items without a deadline last).
func firstItem(items []remediation.Item) remediation.Item {
	best := items[0]
	for _, it := range items[1:] {
		bo, io := best.SLA == remediation.SLAOverdue, it.SLA == remediation.SLAOverdue
		switch {
		case io && !bo:
			best = it
		case io == bo && it.Due != "" && (best.Due == "" || it.Due < best.Due):
			best = it
		}
	}
	return best
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
