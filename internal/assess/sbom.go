package assess

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/match"
	"github.com/medwarden/medwarden/internal/risk"
)

// SBOM is the component vulnerabilities of one attached SBOM version and
// what it covers: one device (DeviceID), or every device of a vendor,
// model and firmware version (compared as the replacement fleet compares
// them: case and surrounding space ignored).
type SBOM struct {
	ID      int64 // the stored SBOM version id
	Version int
	// DeviceID: an SBOM of one device; else Vendor, Model, FirmwareVersion.
	DeviceID                       int64
	Vendor, Model, FirmwareVersion string
	// Mark changes when the SBOM's vulnerabilities change (a re-match):
	// SBOMs compares it to decide which devices to re-assess.
	Mark  string
	Vulns []ComponentVuln
}

// ComponentVuln is one vulnerability of one component.
type ComponentVuln struct {
	Component, Version, PURL, CPE string
	// ID is the vulnerability id (CVE or OSV id), Aliases its other ids.
	ID      string
	Aliases []string
	// Source (osv, nvd, sbom), Method (purl, cpe, name, statement) and
	// Confidence (high, medium, low) as the SBOM matcher says.
	Source, Method, Confidence string
	// Status (affected, unknown, not_affected, fixed,
	// under_investigation); Suppressed when a VEX says not_affected or
	// fixed, with its Justification and Detail.
	Status                string
	Suppressed            bool
	Justification, Detail string
	NeedsReview           bool
	// CVSS of the vulnerability's NVD/OSV record (0: none), Summary its
	// one-line description.
	CVSS                float64
	Vector, CVSSVersion string
	Summary             string
	// Fixed is the version that fixes the component (from the matched
	// record); NoFix says the record publishes none for Version; neither:
	// not determined.
	Fixed string
	NoFix bool
}

// Evidence is one SBOM component behind a finding (the JSON of
// store.Finding.Evidence).
type Evidence struct {
	SBOMID        int64  `json:"sbom_id"`
	SBOMVersion   int    `json:"sbom_version"`
	Subject       string `json:"subject"` // "device" or "model"
	Component     string `json:"component"`
	Version       string `json:"version,omitempty"`
	PURL          string `json:"purl,omitempty"`
	CPE           string `json:"cpe,omitempty"`
	Vulnerability string `json:"vulnerability"`
	Source        string `json:"source"`
	Method        string `json:"method"`
	Confidence    string `json:"confidence"`
	Status        string `json:"status"`
	Suppressed    bool   `json:"suppressed,omitempty"`
	Justification string `json:"justification,omitempty"`
	Detail        string `json:"detail,omitempty"`
	NeedsReview   bool   `json:"needs_review,omitempty"`
	// Fixed is the version that fixes the component; NoFix: the record
	// publishes no fix for Version (neither: not determined).
	Fixed string `json:"fixed,omitempty"`
	NoFix bool   `json:"no_fix,omitempty"`
}

// Finding sources (Record.Source).
const (
	SourceAdvisory     = "advisory"
	SourceSBOM         = "sbom"
	SourceAdvisorySBOM = "advisory+sbom"
)

// Confidence of SBOM matches on the matcher's 0-1 scale: a low-confidence
// name match lies under match.DefaultReviewThreshold (needs_review), as
// a fuzzy advisory match does.
var sbomConfidence = map[string]float64{"high": 0.95, "medium": 0.75, "low": 0.5}

// sbomPair is one vulnerability of the SBOM(s) covering a device: the
// finding it becomes (shared by every device the SBOM covers; never
// modified), its evidence and CVEs.
type sbomPair struct {
	key        string
	m          *match.Finding
	ev         []Evidence // capped: appending copies
	cves       []string
	suppressed bool // every evidence is suppressed by VEX
}

// covKey is what an SBOM covers.
type covKey struct {
	device int64
	model  replKey
}

// devSBOM is an SBOM pair of one device: its own finding (into == ""),
// or evidence merged into the device's advisory finding into (the
// advisory names one of its CVEs: one finding, not two).
type devSBOM struct {
	p    *sbomPair
	into string
}

// buildPairs groups one SBOM's vulnerabilities by id into findings.
func (e *Engine) buildPairs(s *SBOM) []*sbomPair {
	subject := "model"
	if s.DeviceID != 0 {
		subject = "device"
	}
	byID := map[string]*sbomPair{}
	var out []*sbomPair
	idx := map[*sbomPair][]int{} // the pair's vulnerabilities
	for i := range s.Vulns {
		v := &s.Vulns[i]
		if v.ID == "" {
			continue
		}
		p := byID[v.ID]
		if p == nil {
			p = &sbomPair{key: v.ID, suppressed: true}
			byID[v.ID] = p
			out = append(out, p)
		}
		p.ev = append(p.ev, Evidence{SBOMID: s.ID, SBOMVersion: s.Version, Subject: subject, Component: v.Component, Version: v.Version,
			PURL: v.PURL, CPE: v.CPE, Vulnerability: v.ID, Source: v.Source, Method: v.Method, Confidence: v.Confidence, Status: v.Status,
			Suppressed: v.Suppressed, Justification: v.Justification, Detail: v.Detail, NeedsReview: v.NeedsReview,
			Fixed: v.Fixed, NoFix: v.NoFix})
		p.suppressed = p.suppressed && v.Suppressed
		idx[p] = append(idx[p], i)
		for _, c := range append([]string{v.ID}, v.Aliases...) {
			if strings.HasPrefix(c, "CVE-") && !slices.Contains(p.cves, c) {
				p.cves = append(p.cves, c)
			}
		}
	}
	for _, p := range out {
		slices.Sort(p.cves)
		p.ev = slices.Clip(p.ev)
		p.m = e.sbomFinding(p, s, idx[p])
	}
	slices.SortFunc(out, func(a, b *sbomPair) int { return strings.Compare(a.key, b.key) })
	return out
}

// sbomFinding is the matcher-shaped finding of an SBOM pair: the
// strongest open evidence sets method, confidence and status; CVSS is
// the highest of the vulnerability records; EPSS the highest of its CVEs.
func (e *Engine) sbomFinding(p *sbomPair, s *SBOM, idx []int) *match.Finding {
	var best *ComponentVuln
	var summary string
	var top *ComponentVuln
	for _, i := range idx {
		v := &s.Vulns[i]
		if summary == "" {
			summary = v.Summary
		}
		if top == nil || v.CVSS > top.CVSS {
			top = v
		}
		if v.Suppressed && !p.suppressed {
			continue
		}
		if best == nil || sbomConfidence[v.Confidence] > sbomConfidence[best.Confidence] ||
			(sbomConfidence[v.Confidence] == sbomConfidence[best.Confidence] && best.NeedsReview && !v.NeedsReview) {
			best = v
		}
	}
	name := strings.TrimSpace(best.Component + " " + best.Version)
	f := &match.Finding{AdvisoryID: p.key, CVEs: p.cves, ProductName: name, ProductID: cmp.Or(best.PURL, best.CPE),
		Method: "sbom-" + best.Method, Confidence: cmp.Or(sbomConfidence[best.Confidence], sbomConfidence["low"]),
		Status: "known_affected", BranchPath: []string{}}
	if best.NeedsReview || f.Confidence < match.DefaultReviewThreshold {
		f.Status = match.StatusNeedsReview
	}
	f.AdvisoryTitle = p.key + " in " + name
	if summary != "" {
		f.AdvisoryTitle += ": " + summary
	}
	if top != nil && top.CVSS > 0 {
		f.CVSS = &match.CVSS{BaseScore: top.CVSS, Vector: top.Vector, Version: top.CVSSVersion, CVE: firstCVE(p.cves)}
	}
	for _, ev := range p.ev {
		r := fmt.Sprintf("SBOM %d (v%d, %s): %s", ev.SBOMID, ev.SBOMVersion, ev.Subject, strings.TrimSpace(ev.Component+" "+ev.Version))
		if ev.PURL != "" {
			r += " " + ev.PURL
		} else if ev.CPE != "" {
			r += " " + ev.CPE
		}
		r += fmt.Sprintf(" matched by %s against %s (%s confidence), %s", ev.Method, ev.Source, ev.Confidence, ev.Status)
		if ev.Justification != "" {
			r += " (" + ev.Justification + ")"
		}
		f.Reasons = append(f.Reasons, r)
	}
	for _, c := range p.cves {
		if x, ok := e.opts.EPSS[c]; ok && (f.EPSS == nil || x.EPSS > f.EPSS.Score) {
			f.EPSS = &match.EPSS{CVE: c, Score: x.EPSS, Percentile: x.Percentile}
		}
	}
	f.Remediations = sbomRemediations(p.ev, p.suppressed)
	return f
}

// sbomRemediations are the remediations of an SBOM pair, one per open
// component (every component when all are suppressed): vendor_fix
// "upgrade C from V to F (source id)" when the matched record names the
// fixed version, none_available "no fix published ..." when it names
// none (OSV only); nothing when it was not determined (the SBOM's own
// statements, NVD records without versionEndExcluding). They flow as an advisory's remediations do: the queue's patch action,
// the risk model's no-fix points.
func sbomRemediations(ev []Evidence, allSuppressed bool) []match.Remediation {
	out := []match.Remediation{}
	for i := range ev {
		x := &ev[i]
		if x.Suppressed && !allSuppressed {
			continue
		}
		var r match.Remediation
		switch {
		case x.Fixed != "":
			r = match.Remediation{Category: advisory.RemediationVendorFix,
				Details: fmt.Sprintf("upgrade %s from %s to %s (%s %s)", x.Component, cmp.Or(x.Version, "its version"), x.Fixed, x.Source, x.Vulnerability)}
		case x.NoFix:
			r = match.Remediation{Category: advisory.RemediationNoneAvailable,
				Details: fmt.Sprintf("no fix published for %s %s (%s %s)", x.Component, x.Version, x.Source, x.Vulnerability)}
		default:
			continue
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func firstCVE(cves []string) string {
	if len(cves) > 0 {
		return cves[0]
	}
	return ""
}

// LoadSBOMs sets the SBOMs covering devices without assessing anything
// (before All).
func (e *Engine) LoadSBOMs(sboms []SBOM) {
	e.sbomCov = map[covKey][]*sbomPair{}
	e.sbomMark = map[covKey]string{}
	for i := range sboms {
		s := &sboms[i]
		k := e.covKeyOf(s)
		if ps := mergePairs(e.sbomCov[k], e.buildPairs(s)); len(ps) > 0 {
			e.sbomCov[k] = ps
		}
		// an SBOM without vulnerabilities covers nothing, but its mark
		// counts: a new version that drops every vulnerability is a change
		e.sbomMark[k] += fmt.Sprintf("%d:%s;", s.ID, s.Mark)
	}
}

func (e *Engine) covKeyOf(s *SBOM) covKey {
	if s.DeviceID != 0 {
		return covKey{device: s.DeviceID}
	}
	return covKey{model: replKey{normText(s.Vendor), normText(s.Model), normText(s.FirmwareVersion)}}
}

// SBOMs replaces the SBOMs covering devices and re-assesses the devices
// whose coverage changed (an SBOM attached, a new version, a re-match):
// every pair of those devices is in the result (DeviceScope).
func (e *Engine) SBOMs(ctx context.Context, sboms []SBOM) (*Result, error) {
	t0 := time.Now()
	oldMark := e.sbomMark
	e.LoadSBOMs(sboms)
	scope := map[int64]bool{}
	mark := func(k covKey) {
		if k.device != 0 {
			scope[k.device] = true
			return
		}
		for _, id := range e.repl[k.model] {
			scope[id] = true
		}
	}
	for k, m := range e.sbomMark {
		if oldMark[k] != m {
			mark(k)
		}
	}
	for k := range oldMark {
		if _, ok := e.sbomMark[k]; !ok {
			mark(k)
		}
	}
	ids := make([]int64, 0, len(scope))
	for id := range scope {
		if e.devs[id] != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	res := &Result{DeviceScope: ids, MatchTime: time.Since(t0)}
	t1 := time.Now()
	if err := e.score(ctx, res, ids, nil, nil); err != nil {
		return nil, err
	}
	res.ScoreTime = time.Since(t1)
	return res, nil
}

// sbomOverlap reports whether an SBOM pair of one of the devices names
// one of cves (an advisory with those CVEs may take it in or give it
// back).
func (e *Engine) sbomOverlap(ids []int64, cves map[string]bool) bool {
	if !e.hasSBOMs() {
		return false
	}
	for _, id := range ids {
		ld, ok := e.live[id]
		if !ok {
			continue
		}
		for _, ps := range [][]*sbomPair{e.sbomCov[covKey{model: ld.rk}], e.sbomCov[covKey{device: id}]} {
			for _, p := range ps {
				if cves[p.key] {
					return true
				}
				for _, c := range p.cves {
					if cves[c] {
						return true
					}
				}
			}
		}
	}
	return false
}

// hasSBOMs reports whether any SBOM covers any device.
func (e *Engine) hasSBOMs() bool { return len(e.sbomCov) > 0 }

// mergePairs merges two key-sorted pair lists; a key in both becomes one
// pair with the evidence of both.
func mergePairs(a, b []*sbomPair) []*sbomPair {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]*sbomPair, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j >= len(b) || (i < len(a) && a[i].key < b[j].key):
			out = append(out, a[i])
			i++
		case i >= len(a) || b[j].key < a[i].key:
			out = append(out, b[j])
			j++
		default:
			out = append(out, joinPair(a[i], b[j]))
			i++
			j++
		}
	}
	return out
}

// joinPair is one pair from two SBOMs' pairs of the same vulnerability:
// the finding of the open (or stronger) one, the evidence and CVEs of both.
func joinPair(x, y *sbomPair) *sbomPair {
	p := &sbomPair{key: x.key, m: x.m, suppressed: x.suppressed && y.suppressed}
	if x.suppressed && !y.suppressed || (x.suppressed == y.suppressed && y.m.Confidence > x.m.Confidence) {
		p.m = y.m
	}
	p.ev = slices.Clip(append(slices.Clone(x.ev), y.ev...))
	p.cves = slices.Clone(x.cves)
	for _, c := range y.cves {
		if !slices.Contains(p.cves, c) {
			p.cves = append(p.cves, c)
		}
	}
	slices.Sort(p.cves)
	rem := sbomRemediations(p.ev, p.suppressed)
	if len(p.cves) != len(p.m.CVEs) || !slices.Equal(rem, p.m.Remediations) {
		m := *p.m
		m.CVEs, m.Remediations = p.cves, rem
		p.m = &m
	}
	return p
}

// sbomOf returns the SBOM pairs of device id (whose advisory matches are
// ms): its own SBOM's and its model's, each either its own finding or
// merged into the advisory finding that names one of its CVEs.
func (e *Engine) sbomOf(id int64, ld liveDevice, ms map[string]*match.Finding) []devSBOM {
	if len(e.sbomCov) == 0 {
		return nil
	}
	model := e.sbomCov[covKey{model: ld.rk}]
	own := e.sbomCov[covKey{device: id}]
	pairs := model
	if len(own) > 0 {
		pairs = mergePairs(own, model)
	}
	if len(pairs) == 0 {
		return nil
	}
	out := make([]devSBOM, len(pairs))
	for i, p := range pairs {
		out[i].p = p
		if len(ms) == 0 {
			continue
		}
		if _, clash := ms[p.key]; clash {
			out[i].into = p.key
			continue
		}
		out[i].into = advisoryNaming(ms, p.cves)
	}
	return out
}

// advisoryNaming is the (first by id) advisory match naming one of cves.
func advisoryNaming(ms map[string]*match.Finding, cves []string) string {
	best := ""
	for id, m := range ms {
		for _, c := range cves {
			if slices.Contains(m.CVEs, c) {
				if best == "" || id < best {
					best = id
				}
				break
			}
		}
	}
	return best
}

// ownSBOMPairs counts the pairs of sb that are findings of their own.
func ownSBOMPairs(sb []devSBOM) int {
	n := 0
	for _, x := range sb {
		if x.into == "" {
			n++
		}
	}
	return n
}

// sbomDevices are the devices some SBOM covers.
func (e *Engine) sbomDevices() []int64 {
	var out []int64
	for k := range e.sbomCov {
		if k.device != 0 {
			if e.devs[k.device] != nil {
				out = append(out, k.device)
			}
			continue
		}
		out = append(out, e.repl[k.model]...)
	}
	return out
}

// sbomRecords adds the SBOM pairs of device id to its records: evidence
// merged into the advisory record that names the CVE, or a record of its
// own (excluded from the device risk and the queue when suppressed by VEX
// or by a person's override). Records stay sorted by advisory id.
func (e *Engine) sbomRecords(w *worker, id int64, d *inventory.Device, sb []devSBOM, recs []Record, found []risk.Finding) ([]Record, []risk.Finding) {
	nAdv := len(recs)
	for _, x := range sb {
		if x.into != "" {
			for j := range recs[:nAdv] {
				r := &recs[j]
				if r.AdvisoryID == x.into {
					r.Source = SourceAdvisorySBOM
					r.Evidence = append(r.Evidence, x.p.ev...)
					break
				}
			}
			continue
		}
		m := x.p.m
		in := riskFinding(m, nil, e.kevByCVE, vectorsOf(w.vecs, m, nil))
		ov := e.over[Pair{id, x.p.key}]
		in.Detected = ov.Detected
		if ov.Vector != "" {
			in.Vectors, in.BaseScore = []string{ov.Vector}, 0
		}
		excl := ov.Exclude || x.p.suppressed
		recs = append(recs, Record{Pair: Pair{id, x.p.key}, Device: d, Match: *m, Input: in, Excluded: excl,
			Source: SourceSBOM, Evidence: x.p.ev, Suppressed: x.p.suppressed})
		recs[len(recs)-1].Match.AssetID = d.AssetID
		if !excl {
			found = append(found, in)
		}
	}
	if len(recs) > nAdv {
		slices.SortFunc(recs, func(a, b Record) int { return strings.Compare(a.AdvisoryID, b.AdvisoryID) })
	}
	return recs, found
}
