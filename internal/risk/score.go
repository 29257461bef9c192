package risk

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/cvss"
	"github.com/medwarden/medwarden/internal/inventory"
)

// Scorer scores findings with one model at one point in time. It caches
// environment-adjusted CVSS scores per (vector, device profile), so it is
// not safe for concurrent use: give each goroutine its own Scorer.
type Scorer struct {
	m     Model
	now   time.Time
	cache map[envKey]envResult // monotone (device) results
	raw   map[envKey]envResult // adjustVector results, shared by the monotone search
	// critPts holds m.CriticalityPts by Criticality.Rank (0: unknown),
	// sparing a map lookup per finding.
	critPts [6]float64
	// ex caches explanation texts (see explained).
	ex explained
}

func newScorer(m Model, now time.Time) *Scorer {
	s := &Scorer{m: m, now: now, cache: make(map[envKey]envResult), raw: make(map[envKey]envResult), ex: newExplained()}
	s.critPts[0] = m.CriticalityPts[inventory.CriticalityNone]
	for _, c := range inventory.Criticalities {
		s.critPts[c.Rank()] = m.CriticalityPts[c]
	}
	return s
}

// NewScorer returns a Scorer for model m (validated) at time now.
func NewScorer(m Model, now time.Time) (*Scorer, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return newScorer(m, now), nil
}

// Model returns the scorer's model.
func (s *Scorer) Model() *Model { return &s.m }

// Now returns the scorer's reference time.
func (s *Scorer) Now() time.Time { return s.now }

// Requirement levels for CR/IR/AR.
const (
	reqX uint8 = iota // not defined (= Medium)
	reqL
	reqM
	reqH
)

var reqText = [...]string{"X", "L", "M", "H"}

// profile is the environmental adjustment of a device: security
// requirements and whether the attack vector is lowered to adjacent.
type profile struct {
	cr, ir, ar uint8
	adjacent   bool
}

// deviceProfile returns the environmental requirements derived from a
// device (docs/RISK.md, "Environment-adjusted CVSS"):
//
//	IR (integrity)    H for life-sustaining, life-supporting, therapeutic and
//	                  diagnostic devices; M for non-clinical; not set when unknown
//	AR (availability) H for life-sustaining, life-supporting and therapeutic;
//	                  M for diagnostic and non-clinical; not set when unknown
//	CR (confidentiality) H when the device holds PHI, L when it is known not
//	                  to; not set when unknown
//	MAV               A (adjacent) when the device is isolated and the base AV is N
//
// Metrics the publisher already set are kept.
func deviceProfile(d *Device) profile {
	var p profile
	switch d.Criticality {
	case inventory.LifeSustaining, inventory.LifeSupporting, inventory.Therapeutic:
		p.ir, p.ar = reqH, reqH
	case inventory.Diagnostic:
		p.ir, p.ar = reqH, reqM
	case inventory.NonClinical:
		p.ir, p.ar = reqM, reqM
	}
	switch {
	case d.PHI != nil && *d.PHI:
		p.cr = reqH
	case d.PHI != nil && !*d.PHI:
		p.cr = reqL
	}
	p.adjacent = d.Exposure == ExposureIsolated
	return p
}

type envKey struct {
	vector string
	p      profile
}

type envResult struct {
	score    float64
	base     float64
	vector   string
	maturity string // exploit maturity metric value ("" when not given)
	version  cvss.Version
	ok       bool
}

// adjust returns the environment-adjusted scoring of one vector string.
func (s *Scorer) adjust(vec string, p profile) envResult {
	k := envKey{vec, p}
	if r, ok := s.cache[k]; ok {
		return r
	}
	r := monotoneAdjust(vec, p, s.rawAdjust)
	s.cache[k] = r
	return r
}

func (s *Scorer) rawAdjust(vec string, p profile) envResult {
	k := envKey{vec, p}
	if r, ok := s.raw[k]; ok {
		return r
	}
	r := adjustVector(vec, p)
	s.raw[k] = r
	return r
}

// reqRank orders requirement levels: L < not defined = M < H.
func reqRank(l uint8) int {
	switch l {
	case reqL:
		return 0
	case reqH:
		return 2
	}
	return 1
}

var reqByRank = [3]uint8{reqL, reqX, reqH}

// monotoneAdjust returns the highest adjusted score over every requirement
// setting at or below the device's (each of CR, IR, AR at most its level;
// MAV as the device's). The CVSS v3.0 scope-changed impact formula is not
// monotone near its cap (its −3.25 × (ISC − 0.02)^15 term): raising a
// requirement can lower the score by 0.1. Taking the maximum keeps "a more
// critical device never scores lower" true. The search runs for v3.0 and
// v4.0 vectors (v4.0's macrovector interpolation is not proven monotone);
// ties keep the setting closest to the device's.
func monotoneAdjust(vec string, p profile, adjust func(string, profile) envResult) envResult {
	best := adjust(vec, p)
	if !best.ok || best.version == cvss.V20 || best.version == cvss.V31 {
		// v2.0's environmental equations and v3.1's (with its 0.9731
		// correction of the scope-changed term) rise with every requirement
		return best
	}
	// from the device's own levels down, so that among equal scores the
	// setting closest to the device's is kept
	for c := reqRank(p.cr); c >= 0; c-- {
		for i := reqRank(p.ir); i >= 0; i-- {
			for a := reqRank(p.ar); a >= 0; a-- {
				q := profile{cr: reqByRank[c], ir: reqByRank[i], ar: reqByRank[a], adjacent: p.adjacent}
				if r := adjust(vec, q); r.ok && r.score > best.score {
					best = r
				}
			}
		}
	}
	return best
}

func adjustVector(vec string, p profile) envResult {
	v, err := cvss.Parse(strings.TrimSpace(vec))
	if err != nil {
		return envResult{}
	}
	r := envResult{base: v.BaseScore(), version: v.Version(), ok: true, maturity: v.Metric("E")}
	if r.maturity == "X" || r.maturity == "ND" {
		r.maturity = ""
	}
	var b strings.Builder
	b.WriteString(v.String())
	unset := func(name string) bool {
		x := v.Metric(name)
		return x == "" || x == "X" || x == "ND"
	}
	add := func(name, val string) {
		if unset(name) {
			b.WriteByte('/')
			b.WriteString(name)
			b.WriteByte(':')
			b.WriteString(val)
		}
	}
	for _, x := range []struct {
		name string
		lvl  uint8
	}{{"CR", p.cr}, {"IR", p.ir}, {"AR", p.ar}} {
		if x.lvl != reqX {
			add(x.name, reqText[x.lvl])
		}
	}
	if p.adjacent && v.Version() != cvss.V20 && v.Metric("AV") == "N" {
		add("MAV", "A")
	}
	adj, err := cvss.Parse(b.String())
	if err != nil {
		// cannot happen for valid input; fall back to the published vector
		adj = v
	}
	r.vector = adj.String()
	if v.Version() == cvss.V40 {
		r.score = adj.Score()
	} else {
		r.score = adj.EnvironmentalScore()
		if !adj.HasEnvironmental() {
			r.score = adj.Score()
		}
	}
	return r
}

// severity picks the finding's highest environment-adjusted CVSS.
func (s *Scorer) severity(d *Device, f *Finding, explain bool) (envResult, string) {
	p := deviceProfile(d)
	var best envResult
	for _, v := range f.Vectors {
		r := s.adjust(v, p)
		if r.ok && (!best.ok || r.score > best.score) {
			best = r
		}
	}
	switch {
	case best.ok:
	case f.BaseScore > 0:
		best = envResult{score: min(f.BaseScore, 10), base: f.BaseScore}
	default:
		best = envResult{score: s.m.UnknownCVSS}
	}
	if !explain {
		return best, ""
	}
	k := sevKey{kind: 2}
	switch {
	case best.ok:
		k = sevKey{kind: 0, version: best.version, base: best.base, score: best.score, vector: best.vector}
	case f.BaseScore > 0:
		k = sevKey{kind: 1, base: f.BaseScore}
	}
	if v, ok := s.ex.sev[k]; ok {
		return best, v
	}
	v := s.severityText(best, f)
	if finite(k.base, k.score) {
		remember(s.ex.sev, k, v)
	}
	return best, v
}

func (s *Scorer) severityText(best envResult, f *Finding) string {
	switch {
	case best.ok && best.score == best.base:
		return fmt.Sprintf("CVSS %s %.1f, unchanged by the device context (%s)", best.version, best.base, best.vector)
	case best.ok:
		return fmt.Sprintf("CVSS %s %.1f adjusted for the device to %.1f (%s)", best.version, best.base, best.score, best.vector)
	case f.BaseScore > 0:
		return fmt.Sprintf("published base score %.1f (no usable vector, not adjusted)", f.BaseScore)
	}
	return fmt.Sprintf("no CVSS published: assumed %.1f", s.m.UnknownCVSS)
}

func (s *Scorer) maturityPoints(maturity string, ver cvss.Version) float64 {
	switch {
	case maturity == "H" || (ver == cvss.V40 && maturity == "A"):
		return s.m.MaturityHigh
	case maturity == "F":
		return s.m.MaturityFunc
	case maturity == "P" || maturity == "POC":
		return s.m.MaturityPoC
	}
	return 0
}

func (s *Scorer) epssPoints(p float64) float64 {
	for i, th := range s.m.EPSSThresholds {
		if p >= th {
			return s.m.EPSSPoints[i]
		}
	}
	return 0
}

func (s *Scorer) exploitation(f *Finding, maturity string, ver cvss.Version, explain bool) (float64, string) {
	m := &s.m
	pts := 0.0
	if f.KEV {
		pts = m.KEVPoints
	}
	pts = max(pts, s.maturityPoints(maturity, ver))
	if f.EPSS >= 0 {
		pts = max(pts, s.epssPoints(f.EPSS))
	}
	pts = min(pts, m.ExploitationMax)
	if !explain {
		return pts, ""
	}
	k := explKey{kev: f.KEV, maturity: maturity, epssKnown: f.EPSS >= 0}
	if f.KEV {
		k.kevCVE, k.ransomware = f.KEVCVE, f.Ransomware
		if f.KEVCVE != "" {
			k.kevAdded = f.KEVDateAdded
		}
	}
	if k.epssKnown {
		k.epss, k.pct = f.EPSS, f.EPSSPercentile
	}
	if v, ok := s.ex.expl[k]; ok {
		return pts, v
	}
	v := exploitationText(f, maturity)
	if finite(k.epss, k.pct) {
		remember(s.ex.expl, k, v)
	}
	return pts, v
}

func exploitationText(f *Finding, maturity string) string {
	var parts []string
	if f.KEV {
		t := "in CISA KEV"
		if f.KEVCVE != "" {
			t += " (" + f.KEVCVE
			if !f.KEVDateAdded.IsZero() {
				t += ", added " + f.KEVDateAdded.Format(inventory.DateLayout)
			}
			t += ")"
		}
		if f.Ransomware {
			t += ", used in ransomware campaigns"
		}
		parts = append(parts, t)
	} else {
		parts = append(parts, "not in KEV")
	}
	if maturity != "" {
		parts = append(parts, "exploit maturity E:"+maturity)
	}
	if f.EPSS >= 0 {
		parts = append(parts, fmt.Sprintf("EPSS %.4f (%.2f%% of CVEs score lower)", f.EPSS, f.EPSSPercentile*100))
	} else {
		parts = append(parts, "EPSS unknown")
	}
	return strings.Join(parts, "; ")
}

func (s *Scorer) exposure(d *Device, explain bool) (float64, string) {
	m := &s.m
	e := d.Exposure
	if int(e) >= len(m.ExposurePoints) {
		e = ExposureUnknown
	}
	pts := m.ExposurePoints[e]
	if d.InboundPeers >= 0 {
		for i, th := range m.PeerThresholds {
			if d.InboundPeers >= th {
				pts += m.PeerPoints[i]
				break
			}
		}
	}
	if !explain {
		return pts, ""
	}
	k := expoKey{e: e, peers: max(d.InboundPeers, -1)}
	if v, ok := s.ex.expo[k]; ok {
		return pts, v
	}
	val := "zone " + e.String()
	if e == ExposureUnknown {
		val += " (scored as reachable from IT)"
	}
	if d.InboundPeers >= 0 {
		val += fmt.Sprintf("; %d inbound peers observed", d.InboundPeers)
	}
	return pts, remember(s.ex.expo, k, val)
}

func (s *Scorer) clinical(d *Device, explain bool) (float64, string) {
	m := &s.m
	pts := s.critPts[d.Criticality.Rank()]
	pc := d.PatientConnected != nil && *d.PatientConnected
	phi := d.PHI != nil && *d.PHI
	if pc {
		pts += m.PatientConnected
	}
	if phi {
		pts += m.PHI
	}
	if d.CareAreaFleet > 0 {
		for i, th := range m.FleetThresholds {
			if d.CareAreaFleet >= th {
				pts += m.FleetPoints[i]
				break
			}
		}
	}
	if !explain {
		return pts, ""
	}
	k := clinKey{crit: d.Criticality, pc: pc, phi: phi, fleet: max(d.CareAreaFleet, 0)}
	if v, ok := s.ex.clin[k]; ok {
		return pts, v
	}
	crit := string(d.Criticality)
	if crit == "" {
		crit = "criticality unknown"
	}
	parts := []string{crit}
	if pc {
		parts = append(parts, "patient-connected")
	}
	if phi {
		parts = append(parts, "holds PHI")
	}
	if d.CareAreaFleet > 0 {
		parts = append(parts, fmt.Sprintf("care area has %d of this type", d.CareAreaFleet))
	}
	return pts, remember(s.ex.clin, k, strings.Join(parts, ", "))
}

// NoFix reports whether the remediation categories say no fix is possible:
// none_available or no_fix_planned given, and no vendor_fix.
func NoFix(remediations []string) bool {
	if slices.Contains(remediations, advisory.RemediationVendorFix) {
		return false
	}
	return slices.Contains(remediations, advisory.RemediationNoneAvailable) || slices.Contains(remediations, advisory.RemediationNoFixPlanned)
}

// PastSupport reports whether the device is past its end of support or end
// of life at now.
func PastSupport(d *Device, now time.Time) bool {
	return (!d.EndOfSupport.IsZero() && !now.Before(d.EndOfSupport)) || (!d.EndOfLife.IsZero() && !now.Before(d.EndOfLife))
}

func (s *Scorer) support(d *Device, f *Finding, explain bool) (float64, string) {
	m := &s.m
	pts := 0.0
	noFix := NoFix(f.Remediations)
	past := PastSupport(d, s.now)
	if noFix {
		pts += m.NoFixPoints
	}
	if past {
		pts += m.EndOfSupportPts
	}
	if !explain {
		return pts, ""
	}
	k := supKey{past: past}
	switch {
	case noFix:
		k.kind = 0
	case slices.Contains(f.Remediations, advisory.RemediationVendorFix):
		k.kind = 1
	case len(f.Remediations) > 0:
		k.kind = 2
	default:
		k.kind = 3
	}
	if past {
		k.end = d.EndOfSupport
		if k.end.IsZero() || (!d.EndOfLife.IsZero() && d.EndOfLife.Before(k.end)) {
			k.end = d.EndOfLife
		}
	} else if !d.EndOfSupport.IsZero() {
		k.end, k.endKnow = d.EndOfSupport, true
	}
	if v, ok := s.ex.sup[k]; ok {
		return pts, v
	}
	var parts []string
	switch {
	case noFix:
		parts = append(parts, "no fix available or planned")
	case slices.Contains(f.Remediations, advisory.RemediationVendorFix):
		parts = append(parts, "vendor fix available")
	case len(f.Remediations) > 0:
		parts = append(parts, "mitigation only")
	default:
		parts = append(parts, "no remediation published")
	}
	if past {
		end := d.EndOfSupport
		if end.IsZero() || (!d.EndOfLife.IsZero() && d.EndOfLife.Before(end)) {
			end = d.EndOfLife
		}
		parts = append(parts, "out of vendor support since "+end.Format(inventory.DateLayout))
	} else if !d.EndOfSupport.IsZero() {
		parts = append(parts, "supported until "+d.EndOfSupport.Format(inventory.DateLayout))
	}
	return pts, remember(s.ex.sup, k, strings.Join(parts, "; "))
}

func (s *Scorer) controls(d *Device, explain bool) (float64, string) {
	w := 0.0
	for _, c := range d.Controls {
		w += s.m.ControlWeights[c]
	}
	if !explain {
		return w, ""
	}
	if len(d.Controls) == 0 {
		return 0, "none"
	}
	var known, unknown []string
	for _, c := range d.Controls {
		if _, ok := s.m.ControlWeights[c]; ok {
			known = append(known, c)
		} else {
			unknown = append(unknown, c)
		}
	}
	val := strings.Join(known, ", ")
	if len(unknown) > 0 {
		if val != "" {
			val += "; "
		}
		val += "unweighted: " + strings.Join(unknown, ", ")
	}
	return w, val
}

// points is a finding's factor points before rounding.
type points struct {
	sev       envResult
	scale     float64
	contrib   [7]float64 // in factor order
	total     float64
	conf      float64
	vals      [7]string
	explained bool
}

var factorOrder = [7]string{FactorSeverity, FactorExploitation, FactorExposure, FactorClinical, FactorSupport, FactorControls, FactorConfidence}

func (s *Scorer) compute(d *Device, f *Finding, explain bool) points {
	m := &s.m
	var p points
	p.explained = explain
	sev, sevVal := s.severity(d, f, explain)
	p.sev = sev
	p.scale = m.ScaleFloor + (1-m.ScaleFloor)*sev.score/10
	expl, explVal := s.exploitation(f, sev.maturity, sev.version, explain)
	expo, expoVal := s.exposure(d, explain)
	clin, clinVal := s.clinical(d, explain)
	sup, supVal := s.support(d, f, explain)
	ctl, ctlVal := s.controls(d, explain)
	ctl = min(ctl, m.ControlCap*(expl+expo))
	p.contrib = [7]float64{m.SeverityWeight * sev.score, expl * p.scale, expo * p.scale, clin * p.scale, sup * p.scale, -ctl * p.scale}
	p.vals = [7]string{sevVal, explVal, expoVal, clinVal, supVal, ctlVal}
	total := 0.0
	for _, c := range p.contrib[:6] {
		total += c
	}
	conf := f.Confidence
	if conf <= 0 || conf > 1 || math.IsNaN(conf) {
		conf = 1
	}
	p.conf = conf
	pen := total * m.ConfidencePenalty * (1 - conf)
	p.contrib[6] = -pen
	if explain {
		k := confKey{conf, f.Status}
		if v, ok := s.ex.conf[k]; ok {
			p.vals[6] = v
		} else {
			v = "match confidence " + strconv.FormatFloat(conf, 'f', 2, 64)
			if f.Status != "" {
				v += " (" + f.Status + ")"
			}
			p.vals[6] = remember(s.ex.conf, k, v)
		}
	}
	p.total = min(max(total-pen, 0), 100)
	return p
}

// Finding scores one finding on device d, with its explanation.
func (s *Scorer) Finding(d *Device, f *Finding) FindingRisk {
	p := s.compute(d, f, true)
	fs := make([]Factor, 7)
	for i := range fs {
		fs[i] = Factor{factorOrder[i], p.vals[i], p.contrib[i]}
	}
	score := settle(fs, p.total)
	return FindingRisk{AdvisoryID: f.AdvisoryID, Score: score, Band: s.m.BandOf(score), Factors: fs, CVSS: p.sev.score, Vector: p.sev.vector}
}

// FindingScore returns the score of one finding without building the
// explanation (the fleet recompute path; same number as Finding).
func (s *Scorer) FindingScore(d *Device, f *Finding) float64 {
	c := s.deviceContext(d)
	return s.fastScore(d, &c, f)
}

// deviceCtx holds the device-level parts of a score, computed once per
// device on the fleet path.
type deviceCtx struct {
	prof       profile
	expo, clin float64
	ctl        float64
	past       bool
}

func (s *Scorer) deviceContext(d *Device) deviceCtx {
	c := deviceCtx{prof: deviceProfile(d), past: PastSupport(d, s.now)}
	c.expo, _ = s.exposure(d, false)
	c.clin, _ = s.clinical(d, false)
	c.ctl, _ = s.controls(d, false)
	return c
}

// fastScore is compute without explanation, with the device parts
// precomputed; it performs the same floating-point operations in the same
// order, so it returns exactly the score of Finding.
func (s *Scorer) fastScore(d *Device, c *deviceCtx, f *Finding) float64 {
	m := &s.m
	var sev envResult
	for _, v := range f.Vectors {
		r := s.adjust(v, c.prof)
		if r.ok && (!sev.ok || r.score > sev.score) {
			sev = r
		}
	}
	switch {
	case sev.ok:
	case f.BaseScore > 0:
		sev = envResult{score: min(f.BaseScore, 10), base: f.BaseScore}
	default:
		sev = envResult{score: m.UnknownCVSS}
	}
	scale := m.ScaleFloor + (1-m.ScaleFloor)*sev.score/10
	expl, _ := s.exploitation(f, sev.maturity, sev.version, false)
	sup := 0.0
	if NoFix(f.Remediations) {
		sup += m.NoFixPoints
	}
	if c.past {
		sup += m.EndOfSupportPts
	}
	ctl := min(c.ctl, m.ControlCap*(expl+c.expo))
	contrib := [6]float64{m.SeverityWeight * sev.score, expl * scale, c.expo * scale, c.clin * scale, sup * scale, -ctl * scale}
	total := 0.0
	for _, x := range contrib {
		total += x
	}
	conf := f.Confidence
	if conf <= 0 || conf > 1 || math.IsNaN(conf) {
		conf = 1
	}
	pen := total * m.ConfidencePenalty * (1 - conf)
	total = min(max(total-pen, 0), 100)
	return float64(tenths(total)) / 10
}

// Device scores all findings of a device and aggregates them: the device
// score is the highest finding score plus, for each further finding,
// OtherFindingsWeight × (its score / 100) of the headroom left below 100:
//
//	D = s₁ + (100 − s₁) × (1 − Π_{i≥2} (1 − w × sᵢ/100))
//
// where s₁ is the highest finding score. The device's factors are those of
// its top finding plus an "other_findings" factor worth D − s₁. A device
// without findings scores 0, band info.
func (s *Scorer) Device(d *Device, fs []Finding) DeviceRisk {
	dr := DeviceRisk{AssetID: d.AssetID, Findings: make([]FindingRisk, len(fs))}
	for i := range fs {
		dr.Findings[i] = s.Finding(d, &fs[i])
	}
	slices.SortStableFunc(dr.Findings, func(a, b FindingRisk) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.AdvisoryID, b.AdvisoryID)
	})
	if len(fs) == 0 {
		dr.Band = BandInfo
		dr.Factors = []Factor{}
		return dr
	}
	top := dr.Findings[0].Score
	total := s.combine(top, dr.Findings[1:], func(f FindingRisk) float64 { return f.Score })
	dr.Factors = make([]Factor, 0, len(dr.Findings[0].Factors)+1)
	dr.Factors = append(dr.Factors, dr.Findings[0].Factors...)
	other := "none"
	if n := len(dr.Findings) - 1; n > 0 {
		other = fmt.Sprintf("%d more finding(s), next highest %.1f", n, dr.Findings[1].Score)
	}
	dr.Factors = append(dr.Factors, Factor{FactorOtherFindings, other, float64(tenths(total)-tenths(top)) / 10})
	dr.Score = float64(tenths(total)) / 10
	dr.Band = s.m.BandOf(dr.Score)
	return dr
}

// combine applies the device aggregation to the top score and the others.
func combine[T any](w, top float64, others []T, score func(T) float64) float64 {
	rest := 1.0
	for _, o := range others {
		rest *= 1 - w*score(o)/100
	}
	return top + (100-top)*(1-rest)
}

func (s *Scorer) combine(top float64, others []FindingRisk, score func(FindingRisk) float64) float64 {
	return combine(s.m.OtherFindingsWeight, top, others, score)
}

// DeviceScore returns the device score without explanations: the fleet
// recompute path, equal to Device(d, fs).Score.
func (s *Scorer) DeviceScore(d *Device, fs []Finding) (float64, Band) {
	if len(fs) == 0 {
		return 0, BandInfo
	}
	var buf [16]float64
	scores := buf[:0]
	c := s.deviceContext(d)
	for i := range fs {
		scores = append(scores, s.fastScore(d, &c, &fs[i]))
	}
	// same order as Device: descending, so the products round identically
	slices.SortFunc(scores, func(a, b float64) int { return cmp.Compare(b, a) })
	top := scores[0]
	rest := 1.0
	for _, sc := range scores[1:] {
		rest *= 1 - s.m.OtherFindingsWeight*sc/100
	}
	total := top + (100-top)*(1-rest)
	score := float64(tenths(total)) / 10
	return score, s.m.BandOf(score)
}

// Sum returns the sum of the factor contributions (exact in tenths).
func Sum(fs []Factor) float64 {
	var t int64
	for _, f := range fs {
		t += tenths(f.Contribution)
	}
	return float64(t) / 10
}
