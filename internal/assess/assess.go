// Package assess turns devices and advisories into scored findings: the
// matcher's (device, advisory) pairs, each with its clinical risk, its
// remediation actions and due dates, the risk of every device, the
// remediation queue and the risk register.
//
// It is pure: devices, advisories, KEV, EPSS, controls, the due-date policy
// and the clock come in as values, and nothing is read or written. The
// `risk` and `match` verbs use the batch functions (Assess, Queue,
// Register); the findings service (internal/findings) keeps an Engine that
// re-assesses only the devices or advisories that changed.
package assess

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/match"
	"github.com/medwarden/medwarden/internal/remediation"
	"github.com/medwarden/medwarden/internal/risk"
)

// ScoredFinding is one finding of a device with its risk (the JSON shape of
// the `risk` verb's findings).
type ScoredFinding struct {
	AdvisoryID string        `json:"advisory_id"`
	Title      string        `json:"advisory_title,omitempty"`
	CVEs       []string      `json:"cves"`
	Status     string        `json:"status"`
	Score      float64       `json:"score"`
	Band       risk.Band     `json:"band"`
	CVSS       float64       `json:"cvss"`
	Vector     string        `json:"vector,omitempty"`
	KEV        bool          `json:"kev"`
	Factors    []risk.Factor `json:"factors"`
}

// Device is one assessed device with at least one finding.
type Device struct {
	Device *inventory.Device
	// Risk is the device as the risk model sees it (exposure, controls,
	// care-area fleet...); Info the same for the remediation queue.
	Risk risk.Device
	Info *remediation.DeviceInfo
	// Matched are the matcher's findings and Found their risk inputs
	// (parallel slices, in matcher order).
	Matched []match.Finding
	Found   []risk.Finding
	// Score, Band and Factors are the device risk; Findings the scored
	// findings, riskiest first.
	Score    float64
	Band     risk.Band
	Factors  []risk.Factor
	Findings []ScoredFinding
	// Actions are the device's remediation items (set by Queue).
	Actions []remediation.Item
}

// Finding returns the scored finding of advisory id (zero when none).
func (d *Device) Finding(advisoryID string) ScoredFinding {
	for _, f := range d.Findings {
		if f.AdvisoryID == advisoryID {
			return f
		}
	}
	return ScoredFinding{}
}

// AreaKey is a care area fleet: devices of one type in one site and
// department (case and surrounding space ignored).
type AreaKey struct{ Site, Department, DeviceType string }

// AreaOf returns the care area of a device; ok is false for a device
// without a device type (it belongs to no fleet).
func AreaOf(d *inventory.Device) (AreaKey, bool) {
	n := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	return AreaKey{n(d.Site), n(d.Department), n(d.DeviceType)}, strings.TrimSpace(d.DeviceType) != ""
}

// AreaCounts counts the devices of every care area.
func AreaCounts(devices []*inventory.Device) map[AreaKey]int {
	area := map[AreaKey]int{}
	for _, d := range devices {
		if k, ok := AreaOf(d); ok {
			area[k]++
		}
	}
	return area
}

// RiskDevice is the risk model's view of d; fleet is the size of its care
// area fleet.
func RiskDevice(d *inventory.Device, controls *risk.Controls, fleet int) risk.Device {
	rd := risk.Device{
		AssetID: d.AssetID, Criticality: d.Criticality, PatientConnected: d.PatientConnected, PHI: d.PHI,
		Exposure: controls.Exposure(d.Zone), InboundPeers: -1, Controls: controls.For(d.AssetID, d.Zone, d.DeviceType),
		CareAreaFleet: fleet,
	}
	if d.EndOfSupport != nil {
		rd.EndOfSupport = d.EndOfSupport.Time
	}
	if d.EndOfLife != nil {
		rd.EndOfLife = d.EndOfLife.Time
	}
	return rd
}

// DeviceInfo is the remediation queue's view of d.
func DeviceInfo(d *inventory.Device, rd *risk.Device) remediation.DeviceInfo {
	return remediation.DeviceInfo{AssetID: d.AssetID, Vendor: d.Vendor, Model: d.Model, Version: d.Version,
		DeviceType: d.DeviceType, Site: d.Site, Department: d.Department, Exposure: rd.Exposure,
		Controls: rd.Controls, EndOfSupport: rd.EndOfSupport, EndOfLife: rd.EndOfLife}
}

// Assess maps the matcher's findings onto the risk model and scores every
// device that has findings; the result is sorted by score descending, then
// asset id. It also returns the remediation view of the whole inventory
// (for replacement fleets). Findings are joined to devices by asset id.
func Assess(s *risk.Scorer, controls *risk.Controls, devices []*inventory.Device, advs []*advisory.Advisory,
	kevByCVE map[string]*kev.Entry, findings []match.Finding) ([]*Device, []remediation.DeviceInfo) {
	area := AreaCounts(devices)
	advByID := make(map[string]*advisory.Advisory, len(advs))
	for _, a := range advs {
		advByID[a.ID] = a
	}
	infos := make([]remediation.DeviceInfo, len(devices))
	byAsset := make(map[string]*Device, len(devices))
	for i, d := range devices {
		k, _ := AreaOf(d)
		rd := &Device{Device: d, Risk: RiskDevice(d, controls, area[k])}
		infos[i] = DeviceInfo(d, &rd.Risk)
		rd.Info = &infos[i]
		byAsset[d.AssetID] = rd
	}
	for _, f := range findings {
		rd := byAsset[f.AssetID]
		if rd == nil {
			continue
		}
		rd.Matched = append(rd.Matched, f)
		rd.Found = append(rd.Found, RiskFinding(f, advByID[f.AdvisoryID], kevByCVE))
	}
	var out []*Device
	for _, d := range devices {
		rd := byAsset[d.AssetID]
		if rd == nil || len(rd.Found) == 0 || rd.Device != d {
			continue
		}
		score(s, rd)
		out = append(out, rd)
	}
	SortDevices(out)
	return out, infos
}

// SortDevices sorts by score descending, then asset id.
func SortDevices(out []*Device) {
	slices.SortStableFunc(out, func(a, b *Device) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.Device.AssetID, b.Device.AssetID)
	})
}

// score computes rd's device risk from rd.Found and fills Score, Band,
// Factors and Findings.
func score(s *risk.Scorer, rd *Device) {
	dr := s.Device(&rd.Risk, rd.Found)
	rd.Score, rd.Band, rd.Factors = dr.Score, dr.Band, dr.Factors
	rd.Findings = rd.Findings[:0]
	for _, fr := range dr.Findings {
		rf := ScoredFinding{AdvisoryID: fr.AdvisoryID, Score: fr.Score, Band: fr.Band, CVSS: fr.CVSS, Vector: fr.Vector, Factors: fr.Factors}
		for _, m := range rd.Matched {
			if m.AdvisoryID == fr.AdvisoryID {
				rf.Title, rf.CVEs, rf.Status, rf.KEV = m.AdvisoryTitle, m.CVEs, m.Status, m.KEV
				break
			}
		}
		if rf.CVEs == nil {
			rf.CVEs = []string{}
		}
		rd.Findings = append(rd.Findings, rf)
	}
}

// RiskFinding is the adapter from a matcher finding to risk's input: every
// CVSS vector the advisory publishes for the matched product (the
// matcher keeps only the highest), KEV dates from the catalog, EPSS, the
// remediation categories, the match confidence and status.
func RiskFinding(f match.Finding, a *advisory.Advisory, kevByCVE map[string]*kev.Entry) risk.Finding {
	return riskFinding(&f, a, kevByCVE, findingVectors(&f, a))
}

// findingVectors returns the distinct CVSS vectors of a finding: the
// matcher's, then every one the advisory publishes for the product.
func findingVectors(f *match.Finding, a *advisory.Advisory) []string {
	var vs []string
	// a handful of vectors: a linear search, no set
	addVec := func(v string) {
		if v != "" && !slices.Contains(vs, v) {
			if vs == nil {
				vs = make([]string, 0, 4)
			}
			vs = append(vs, v)
		}
	}
	if f.CVSS != nil {
		addVec(f.CVSS.Vector)
	}
	if a != nil && f.ProductID != "" {
		for i := range a.Vulnerabilities {
			for _, s := range a.Vulnerabilities[i].ScoresFor(f.ProductID) {
				addVec(s.Vector)
			}
		}
	}
	return vs
}

// vecKey is what findingVectors depends on.
type vecKey struct {
	adv             *advisory.Advisory
	product, vector string
}

// vectorsOf is findingVectors through a cache (one per worker): every
// device with the same product matched by an advisory shares its vectors.
// The slice is capped, so appending to it copies.
func vectorsOf(cache map[vecKey][]string, f *match.Finding, a *advisory.Advisory) []string {
	k := vecKey{adv: a, product: f.ProductID}
	if f.CVSS != nil {
		k.vector = f.CVSS.Vector
	}
	if vs, ok := cache[k]; ok {
		return vs
	}
	vs := findingVectors(f, a)
	vs = vs[:len(vs):len(vs)]
	if len(cache) < 1<<16 {
		cache[k] = vs
	}
	return vs
}

func riskFinding(f *match.Finding, a *advisory.Advisory, kevByCVE map[string]*kev.Entry, vectors []string) risk.Finding {
	rf := risk.Finding{AdvisoryID: f.AdvisoryID, CVEs: f.CVEs, KEV: f.KEV, EPSS: -1, Confidence: f.Confidence, Status: f.Status, Vectors: vectors}
	if f.CVSS != nil {
		rf.BaseScore = f.CVSS.BaseScore
	}
	if f.EPSS != nil {
		rf.EPSS, rf.EPSSPercentile = f.EPSS.Score, f.EPSS.Percentile
	}
	for _, r := range f.Remediations {
		if !slices.Contains(rf.Remediations, r.Category) {
			rf.Remediations = append(rf.Remediations, r.Category)
		}
	}
	if f.KEVDueDate != nil {
		if t, err := time.Parse(time.DateOnly, *f.KEVDueDate); err == nil {
			rf.KEVDueDate = t
		}
	}
	for _, c := range f.CVEs {
		e := kevByCVE[c]
		if e == nil {
			continue
		}
		rf.KEV = true
		if rf.KEVCVE == "" || e.DateAdded.Before(rf.KEVDateAdded) {
			rf.KEVCVE, rf.KEVDateAdded = c, e.DateAdded
		}
		if !e.DueDate.IsZero() && (rf.KEVDueDate.IsZero() || e.DueDate.Before(rf.KEVDueDate)) {
			rf.KEVDueDate = e.DueDate
		}
		rf.Ransomware = rf.Ransomware || e.Ransomware
	}
	return rf
}

// Queue builds the remediation queue of the assessed devices at now and
// sets every device's Actions (its items, "[]" when none).
func Queue(p *remediation.Policy, now time.Time, out []*Device, infos []remediation.DeviceInfo) (remediation.Queue, error) {
	var inputs []remediation.Input
	for _, rd := range out {
		for i := range rd.Found {
			f := &rd.Found[i]
			fr := rd.Finding(f.AdvisoryID)
			inputs = append(inputs, remediation.Input{Device: rd.Info, Finding: f, Score: fr.Score, Band: fr.Band})
		}
	}
	q, err := remediation.Build(p, now, infos, inputs)
	if err != nil {
		return q, err
	}
	byDev := q.ByDevice()
	for _, rd := range out {
		rd.Actions = byDev[rd.Device.AssetID]
		if rd.Actions == nil {
			rd.Actions = []remediation.Item{}
		}
	}
	return q, nil
}

// Register builds the risk register over the whole inventory (devices
// without findings count as devices, not as affected).
func Register(devices []*inventory.Device, out []*Device) risk.Register {
	scored := make(map[*inventory.Device]*Device, len(out))
	for _, rd := range out {
		scored[rd.Device] = rd
	}
	items := make([]risk.Assessed, 0, len(devices))
	for _, d := range devices {
		a := risk.Assessed{AssetID: d.AssetID, Site: d.Site, Department: d.Department, DeviceType: d.DeviceType, Vendor: d.Vendor, Band: risk.BandInfo}
		if rd := scored[d]; rd != nil {
			a.Score, a.Band, a.Findings = rd.Score, rd.Band, len(rd.Findings)
			for _, f := range rd.Findings {
				a.KEV = a.KEV || f.KEV
			}
		}
		items = append(items, a)
	}
	return risk.BuildRegister(items)
}

// Match compiles the advisories and matches the devices against them: the
// `match` verb's whole job. It returns the findings (sorted by asset id,
// then advisory id), the index and the fleet.
func Match(ctx context.Context, devices []*inventory.Device, advs []*advisory.Advisory, opts match.Options) ([]match.Finding, *match.Index, *match.Fleet, error) {
	ix, err := match.Compile(advs, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	fleet := match.NewFleetSize(opts.Aliases, len(devices))
	for _, d := range devices {
		fleet.Add(d)
	}
	findings, err := ix.Match(ctx, fleet)
	if err != nil {
		return nil, nil, nil, err
	}
	return findings, ix, fleet, nil
}
