package assess

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/epss"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/match"
	"github.com/medwarden/medwarden/internal/remediation"
	"github.com/medwarden/medwarden/internal/risk"
)

// Config is what an Engine assesses with besides devices and advisories.
type Config struct {
	// Aliases is the vendor alias table (nil: match.DefaultAliases()).
	Aliases *match.Aliases
	// KEV and EPSS enrich findings; nil when the feed was never imported.
	KEV  *kev.Catalog
	EPSS *epss.File
	// Controls are compensating controls and zone exposure (nil: none).
	Controls *risk.Controls
	// Model is the risk model (nil: risk.DefaultModel() with Controls applied).
	Model *risk.Model
	// Policy is the due-date policy (nil: remediation.DefaultPolicy()).
	Policy *remediation.Policy
	// Now is the reference time of scores and deadlines (zero: time.Now()).
	Now time.Time
	// Workers bounds parallel scoring (0: GOMAXPROCS).
	Workers int
	// InboundPeers is, per device id, how many distinct hosts the sensor saw
	// connecting to it (risk.Device.InboundPeers); a device absent from the
	// map (or a nil map: no sensor data) has an unknown count.
	InboundPeers map[int64]int
}

// Pair names one (device, advisory) finding.
type Pair struct {
	DeviceID   int64
	AdvisoryID string
}

// Override is what people decided about a pair (the stored workflow)
// that changes its assessment.
type Override struct {
	// Detected is when the pair was first seen: remediation deadlines
	// count from it (zero: from Now).
	Detected time.Time
	// Vector is a device-specific CVSS vector (MITRE rubric) that replaces
	// the advisory's published vectors in the risk score.
	Vector string
	// Exclude leaves the pair out of the device's risk and the queue
	// (false positive, resolved by a person); it is still scored.
	Exclude bool
	// Acceptance is a risk acceptance of the pair (AssetID and AdvisoryID
	// are filled in by the engine).
	Acceptance *remediation.Acceptance
}

// Record is one assessed pair.
type Record struct {
	Pair
	Device *inventory.Device
	// Match is the matcher's finding (AssetID is the device's asset id).
	Match match.Finding
	// Input is the risk model's input, Risk the scored finding.
	Input risk.Finding
	Risk  risk.FindingRisk
	// Excluded: left out of the device risk and the queue (Override.Exclude).
	Excluded bool
	// Items are the pair's remediation queue items (none when excluded).
	Items []remediation.Item
	// Source is SourceAdvisory, SourceSBOM (AdvisoryID is then the
	// vulnerability id) or SourceAdvisorySBOM (an advisory pair whose CVE
	// an SBOM component of the device also has); Evidence the SBOM
	// components behind it. Suppressed: an SBOM pair every component of
	// which a VEX statement puts out of scope (not_affected, fixed); it is
	// excluded like Excluded and stored resolved.
	Source     string
	Evidence   []Evidence
	Suppressed bool
}

// DeviceResult is the risk of one device after an assessment.
type DeviceResult struct {
	DeviceID int64
	// Device is nil when the device was deleted.
	Device *inventory.Device
	// Score, Band and Factors are over the active (not excluded) pairs;
	// Findings counts them and KEV says one is in KEV. A device without
	// active pairs scores 0, band info, Findings 0.
	Score    float64
	Band     risk.Band
	Factors  []risk.Factor
	Findings int
	KEV      bool
	// Items are the device-level queue items (replace).
	Items []remediation.Item
}

// Result is what an assessment changed.
type Result struct {
	// All is true for a full assessment.
	All bool
	// DeviceScope: every pair of these devices is in Records (Devices
	// calls: the changed devices and their care-area peers).
	DeviceScope []int64
	// AdvisoryScope: every pair of these advisories is in Records
	// (Advisories calls).
	AdvisoryScope []string
	// Records are the pairs of the scope, by device id then advisory id.
	Records []Record
	// Devices are the devices whose risk was recomputed, by id.
	Devices []DeviceResult
	// MatchTime and ScoreTime split the work (scoring includes the queue).
	MatchTime, ScoreTime time.Duration
}

type summary struct {
	score    float64
	band     risk.Band
	findings int
	kev      bool
}

type replKey struct{ vendor, model, version string }

func normText(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

func replKeyOf(d *inventory.Device) replKey {
	return replKey{normText(d.Vendor), normText(d.Model), normText(d.Version)}
}

// Engine holds the compiled advisory index, the fleet and every current
// match, so that a change re-assesses only the pairs it affects. It is not
// safe for concurrent use.
type Engine struct {
	cfg      Config
	model    risk.Model
	policy   remediation.Policy
	opts     match.Options
	kevByCVE map[string]*kev.Entry
	ix       *match.Index
	fleet    *match.Fleet
	advs     map[string]*advisory.Advisory
	devs     map[int64]*inventory.Device
	area     map[AreaKey]*int // care area → devices in it
	// live: every device with its care area's count (nil: no device
	// type), so that scoring a device takes one map lookup, not two
	live  map[int64]liveDevice
	repl  map[replKey][]int64
	pairs map[int64]map[string]*match.Finding // device → advisory → match
	byAdv map[string]map[int64]struct{}       // advisory → devices matched
	over  map[Pair]Override
	sums  map[int64]summary
	// SBOM coverage (sbom.go): the pairs of every device SBOM and every
	// model+firmware SBOM, and the marks SBOMs compares
	sbomCov  map[covKey][]*sbomPair
	sbomMark map[covKey]string
}

// key is the fleet key of a device: its store id (asset ids may be empty
// or change).
func key(id int64) string { return "#" + strconv.FormatInt(id, 10) }

func idOf(k string) (int64, bool) {
	if !strings.HasPrefix(k, "#") {
		return 0, false
	}
	id, err := strconv.ParseInt(k[1:], 10, 64)
	return id, err == nil
}

// NewEngine compiles the advisories and the fleet. Every device needs a
// unique non-zero ID (the store id). No matching happens until All.
func NewEngine(cfg Config, devices []*inventory.Device, advs []*advisory.Advisory) (*Engine, error) {
	e := &Engine{cfg: cfg, advs: make(map[string]*advisory.Advisory, len(advs)), devs: make(map[int64]*inventory.Device, len(devices)),
		area: map[AreaKey]*int{}, live: make(map[int64]liveDevice, len(devices)), repl: map[replKey][]int64{}, pairs: map[int64]map[string]*match.Finding{},
		byAdv: map[string]map[int64]struct{}{}, over: map[Pair]Override{}, sums: map[int64]summary{}}
	if e.cfg.Now.IsZero() {
		e.cfg.Now = time.Now().UTC()
	}
	if cfg.Model != nil {
		e.model = *cfg.Model
	} else {
		e.model = risk.DefaultModel()
		if cfg.Controls != nil {
			cfg.Controls.Apply(&e.model)
		}
	}
	if err := e.model.Validate(); err != nil {
		return nil, fmt.Errorf("risk model: %w", err)
	}
	if cfg.Policy != nil {
		e.policy = *cfg.Policy
	} else {
		e.policy = remediation.DefaultPolicy()
	}
	if err := e.policy.Validate(); err != nil {
		return nil, fmt.Errorf("remediation policy: %w", err)
	}
	e.opts = match.Options{Aliases: cfg.Aliases, Workers: cfg.Workers}
	if e.opts.Aliases == nil {
		e.opts.Aliases = match.DefaultAliases()
	}
	if cfg.KEV != nil {
		e.kevByCVE = cfg.KEV.ByCVE()
		e.opts.KEV = e.kevByCVE
	}
	if cfg.EPSS != nil {
		e.opts.EPSS = cfg.EPSS.ByCVE()
	}
	ix, err := match.Compile(advs, e.opts)
	if err != nil {
		return nil, err
	}
	e.ix = ix
	for _, a := range advs {
		e.advs[a.ID] = a
	}
	e.fleet = match.NewFleetSize(e.opts.Aliases, len(devices))
	for _, d := range devices {
		if d.ID == 0 {
			return nil, fmt.Errorf("device %q has no id", d.AssetID)
		}
		if _, dup := e.devs[d.ID]; dup {
			return nil, fmt.Errorf("device id %d given twice", d.ID)
		}
		e.addDevice(d)
	}
	return e, nil
}

func (e *Engine) addDevice(d *inventory.Device) {
	e.devs[d.ID] = d
	c := *d
	c.AssetID = key(d.ID)
	e.fleet.Add(&c)
	rk := replKeyOf(d)
	if k, ok := AreaOf(d); ok {
		n := e.area[k]
		if n == nil {
			n = new(int)
			e.area[k] = n
		}
		*n++
		e.live[d.ID] = liveDevice{d, n, c.AssetID, rk}
	} else {
		e.live[d.ID] = liveDevice{d, nil, c.AssetID, rk}
	}
	e.repl[rk] = append(e.repl[rk], d.ID)
}

func (e *Engine) removeDevice(id int64) {
	d := e.devs[id]
	if d == nil {
		return
	}
	delete(e.devs, id)
	e.fleet.Remove(key(id))
	if k, ok := AreaOf(d); ok {
		if n := e.area[k]; n != nil {
			if *n--; *n <= 0 {
				delete(e.area, k)
			}
		}
	}
	delete(e.live, id)
	rk := replKeyOf(d)
	if i := slices.Index(e.repl[rk], id); i >= 0 {
		e.repl[rk] = slices.Delete(e.repl[rk], i, i+1)
	}
	e.setPairs(id, nil)
}

// setPairs replaces a device's current matches.
func (e *Engine) setPairs(id int64, ms map[string]*match.Finding) {
	for adv := range e.pairs[id] {
		if s := e.byAdv[adv]; s != nil {
			delete(s, id)
		}
	}
	if len(ms) == 0 {
		delete(e.pairs, id)
		return
	}
	e.pairs[id] = ms
	for adv := range ms {
		s := e.byAdv[adv]
		if s == nil {
			s = map[int64]struct{}{}
			e.byAdv[adv] = s
		}
		s[id] = struct{}{}
	}
}

// Len returns the number of devices and advisories the engine holds.
func (e *Engine) Len() (devices, advisories int) { return len(e.devs), len(e.advs) }

// Now is the engine's reference time.
func (e *Engine) Now() time.Time { return e.cfg.Now }

// SetNow moves the reference time (a new day: deadlines and SLA states
// change; call All to rescore).
func (e *Engine) SetNow(t time.Time) { e.cfg.Now = t }

// SetOverrides replaces every override.
func (e *Engine) SetOverrides(o map[Pair]Override) {
	e.over = make(map[Pair]Override, len(o))
	for k, v := range o {
		e.over[k] = v
	}
}

// SetOverride sets (or with a zero Override clears) one pair's override.
func (e *Engine) SetOverride(p Pair, o Override) {
	if o == (Override{}) {
		delete(e.over, p)
		return
	}
	e.over[p] = o
}

// Device returns the device the engine holds for id (nil when none).
func (e *Engine) Device(id int64) *inventory.Device { return e.devs[id] }

// byKey groups matcher findings per device id.
func byKey(fs []match.Finding) map[int64]map[string]*match.Finding {
	out := map[int64]map[string]*match.Finding{}
	for i := range fs {
		f := &fs[i]
		id, ok := idOf(f.AssetID)
		if !ok {
			continue
		}
		m := out[id]
		if m == nil {
			m = map[string]*match.Finding{}
			out[id] = m
		}
		m[f.AdvisoryID] = f
	}
	return out
}

// All matches the whole fleet against every advisory and assesses every
// pair.
func (e *Engine) All(ctx context.Context) (*Result, error) {
	t0 := time.Now()
	fs, err := e.ix.Match(ctx, e.fleet)
	if err != nil {
		return nil, err
	}
	e.pairs = map[int64]map[string]*match.Finding{}
	e.byAdv = map[string]map[int64]struct{}{}
	for id, ms := range byKey(fs) {
		e.setPairs(id, ms)
	}
	mt := time.Since(t0)
	res, err := e.Rescore(ctx)
	if err != nil {
		return nil, err
	}
	res.MatchTime = mt
	return res, nil
}

// Rescore recomputes the risk, remediation and device risk of every
// current pair without matching again: the path when only the clock (a
// new day), the overrides or nothing but scoring inputs changed. It is
// the "risk for every device recomputed" figure of docs/benchmarks/findings.md.
func (e *Engine) Rescore(ctx context.Context) (*Result, error) {
	t1 := time.Now()
	e.sums = make(map[int64]summary, len(e.pairs))
	res := &Result{All: true}
	// one pass over the matches (no lookup per device), by device id
	type devPairs struct {
		id int64
		ms map[string]*match.Finding
	}
	all := make([]devPairs, 0, len(e.pairs))
	for id, ms := range e.pairs {
		all = append(all, devPairs{id, ms})
	}
	// devices with SBOM pairs only
	for _, id := range e.sbomDevices() {
		if _, ok := e.pairs[id]; !ok {
			all = append(all, devPairs{id, nil})
		}
	}
	if e.hasSBOMs() {
		slices.SortFunc(all, func(a, b devPairs) int { return cmp.Compare(a.id, b.id) })
		all = slices.CompactFunc(all, func(a, b devPairs) bool { return a.id == b.id })
	}
	slices.SortFunc(all, func(a, b devPairs) int { return cmp.Compare(a.id, b.id) })
	ids := make([]int64, len(all))
	pms := make([]map[string]*match.Finding, len(all))
	for i, p := range all {
		ids[i], pms[i] = p.id, p.ms
	}
	if err := e.score(ctx, res, ids, pms, nil); err != nil {
		return nil, err
	}
	res.ScoreTime = time.Since(t1)
	return res, nil
}

// Devices re-assesses devices that were created or changed (upserts,
// each with its store id) or deleted (by id). Their pairs are re-matched
// against every advisory. When a change moves a device into or out of a
// care area (site + department + device type; also creation and
// deletion), the care-area fleet size of every other device of those
// areas changes, and so does the clinical-impact factor of their
// findings: those peers (the ones with findings) are rescored, not
// re-matched, and are part of the result's DeviceScope.
func (e *Engine) Devices(ctx context.Context, upserts []*inventory.Device, deleted []int64) (*Result, error) {
	t0 := time.Now()
	changedAreas := map[AreaKey]bool{}
	scope := map[int64]bool{}
	markArea := func(d *inventory.Device) {
		if k, ok := AreaOf(d); ok {
			changedAreas[k] = true
		}
	}
	for _, id := range deleted {
		if d := e.devs[id]; d != nil {
			markArea(d)
		}
		e.removeDevice(id)
		delete(e.sums, id)
		scope[id] = true
	}
	small := match.NewFleetSize(e.opts.Aliases, len(upserts))
	for _, d := range upserts {
		if d == nil || d.ID == 0 {
			return nil, errors.New("assess devices: a device has no id")
		}
		if old := e.devs[d.ID]; old != nil {
			k1, ok1 := AreaOf(old)
			k2, ok2 := AreaOf(d)
			if ok1 != ok2 || k1 != k2 {
				markArea(old)
				markArea(d)
			}
			e.removeDevice(d.ID)
		} else {
			markArea(d)
		}
		e.addDevice(d)
		c := *d
		c.AssetID = key(d.ID)
		small.Add(&c)
		scope[d.ID] = true
	}
	fs, err := e.ix.Match(ctx, small)
	if err != nil {
		return nil, err
	}
	got := byKey(fs)
	for _, d := range upserts {
		e.setPairs(d.ID, got[d.ID])
	}
	if len(changedAreas) > 0 {
		for id := range e.pairs {
			if k, ok := AreaOf(e.devs[id]); ok && changedAreas[k] {
				scope[id] = true
			}
		}
		for id := range e.sums { // devices with SBOM findings only
			if k, ok := AreaOf(e.devs[id]); ok && changedAreas[k] {
				scope[id] = true
			}
		}
	}
	res := &Result{MatchTime: time.Since(t0)}
	t1 := time.Now()
	ids := make([]int64, 0, len(scope))
	for id := range scope {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	res.DeviceScope = ids
	if err := e.score(ctx, res, ids, nil, nil); err != nil {
		return nil, err
	}
	res.ScoreTime = time.Since(t1)
	return res, nil
}

// Advisories re-assesses new or revised advisories (a revision replaces
// the advisory with the same id): their pairs are re-matched against the
// fleet, touching only the devices of the advisories' vendors, UDIs and
// CPEs. Every device that had or has a pair with them is rescored (its
// device risk depends on all its pairs); Records hold only the pairs of
// these advisories (AdvisoryScope) — unless an SBOM of one of those
// devices has a vulnerability the advisories name (before or after the
// revision): the advisory may take that SBOM pair in or give it back, so
// every pair of those devices is in Records (DeviceScope, AdvisoryScope
// nil).
func (e *Engine) Advisories(ctx context.Context, advs []*advisory.Advisory) (*Result, error) {
	t0 := time.Now()
	affected := map[int64]bool{}
	inScope := map[string]bool{}
	advCVEs := map[string]bool{} // of the advisories, before and after
	res := &Result{}
	for _, a := range advs {
		if a == nil || a.ID == "" {
			return nil, match.ErrNoAdvisory
		}
		if inScope[a.ID] {
			continue
		}
		inScope[a.ID] = true
		res.AdvisoryScope = append(res.AdvisoryScope, a.ID)
		for _, x := range []*advisory.Advisory{e.advs[a.ID], a} {
			if x != nil {
				for i := range x.Vulnerabilities {
					advCVEs[x.Vulnerabilities[i].CVE] = true
				}
			}
		}
		e.advs[a.ID] = a
		fs, err := e.ix.MatchAdvisory(ctx, a, e.fleet)
		if err != nil {
			return nil, fmt.Errorf("advisory %s: %w", a.ID, err)
		}
		for id := range e.byAdv[a.ID] {
			affected[id] = true
			delete(e.pairs[id], a.ID)
			if len(e.pairs[id]) == 0 {
				delete(e.pairs, id)
			}
		}
		delete(e.byAdv, a.ID)
		for id, ms := range byKey(fs) {
			affected[id] = true
			cur := e.pairs[id]
			if cur == nil {
				cur = map[string]*match.Finding{}
				e.pairs[id] = cur
			}
			cur[a.ID] = ms[a.ID]
			s := e.byAdv[a.ID]
			if s == nil {
				s = map[int64]struct{}{}
				e.byAdv[a.ID] = s
			}
			s[id] = struct{}{}
		}
	}
	slices.Sort(res.AdvisoryScope)
	res.MatchTime = time.Since(t0)
	t1 := time.Now()
	ids := make([]int64, 0, len(affected))
	for id := range affected {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if e.sbomOverlap(ids, advCVEs) {
		// an advisory naming a CVE that an SBOM component of the device
		// also has takes that SBOM pair in (or gives it back): every pair
		// of the affected devices is written
		res.DeviceScope, res.AdvisoryScope, inScope = ids, nil, nil
	}
	if err := e.score(ctx, res, ids, nil, inScope); err != nil {
		return nil, err
	}
	res.ScoreTime = time.Since(t1)
	return res, nil
}

// scored is one device's assessment with its queue items.
type scored struct {
	id      int64
	d       *inventory.Device
	recs    []Record
	dr      DeviceResult
	deleted bool
	// replace: dr.Items holds a replace item whose fleet part is filled
	// in once per same-model group after the workers.
	replace bool
}

// assessDevice scores every pair of one device with scorer s and builds
// their queue items. recs, when not nil, has room for exactly the
// device's pairs (the records are written in place: the full rescore
// writes them straight into the result).
func (e *Engine) assessDevice(s *risk.Scorer, w *worker, id int64, ms map[string]*match.Finding, sb []devSBOM, sbKnown bool, recs []Record) scored {
	ld, ok := e.live[id]
	if !ok {
		return scored{id: id, deleted: true, dr: DeviceResult{DeviceID: id, Band: risk.BandInfo, Factors: []risk.Factor{}}}
	}
	d := ld.d
	fleet := 0 // the care-area count kept by addDevice: no key built here
	if ld.area != nil {
		fleet = *ld.area
	}
	rd := RiskDevice(d, e.cfg.Controls, fleet)
	rd.AssetID = ld.key
	if n, ok := e.cfg.InboundPeers[id]; ok {
		rd.InboundPeers = n
	}
	info := DeviceInfo(d, &rd)
	info.AssetID = rd.AssetID
	out := scored{id: id, d: d}
	if ms == nil {
		ms = e.pairs[id]
	}
	if !sbKnown {
		sb = e.sbomOf(id, ld, ms)
	}
	advIDs := w.advIDs[:0]
	for a := range ms {
		advIDs = append(advIDs, a)
	}
	slices.Sort(advIDs)
	w.advIDs = advIDs
	if recs == nil {
		recs = make([]Record, 0, len(ms))
	}
	recs = recs[:0]
	found := w.found[:0] // risk.Scorer.Device keeps no reference to it
	for _, a := range advIDs {
		m := ms[a]
		adv := e.advs[a]
		in := riskFinding(m, adv, e.kevByCVE, vectorsOf(w.vecs, m, adv))
		ov := e.over[Pair{id, a}]
		in.Detected = ov.Detected
		if ov.Vector != "" {
			in.Vectors, in.BaseScore = []string{ov.Vector}, 0
		}
		recs = append(recs, Record{Pair: Pair{id, a}, Device: d, Match: *m, Input: in, Excluded: ov.Exclude, Source: SourceAdvisory})
		recs[len(recs)-1].Match.AssetID = d.AssetID
		if !ov.Exclude {
			found = append(found, in)
		}
	}
	if len(sb) > 0 {
		recs, found = e.sbomRecords(w, id, d, sb, recs, found)
	}
	out.recs = recs
	w.found = found
	dr := s.Device(&rd, found)
	var noFix []remediation.Input
	for i := range recs {
		r := &recs[i]
		if r.Excluded {
			r.Risk = s.Finding(&rd, &r.Input)
			continue
		}
		for _, fr := range dr.Findings { // a handful per device
			if fr.AdvisoryID == r.AdvisoryID {
				r.Risk = fr
				break
			}
		}
		out.dr.KEV = out.dr.KEV || r.Input.KEV
		in := remediation.Input{Device: &info, Finding: &r.Input, Score: r.Risk.Score, Band: r.Risk.Band}
		// built in the worker's buffer, then copied at their exact size
		w.items = e.policy.FindingItems(w.items[:0], w.acc, in, e.cfg.Now)
		r.Items = slices.Clone(w.items)
		for j := range r.Items {
			it := &r.Items[j]
			it.AssetID = d.AssetID
			if it.Acceptance != nil {
				a := *it.Acceptance
				a.AssetID = it.AssetID
				it.Acceptance = &a
			}
		}
		// as in remediation.Build, a finding under an acceptance in force
		// does not call for a replacement
		accepted := len(r.Items) == 1 && r.Items[0].Action == remediation.ActionAccept
		if !accepted && risk.NoFix(r.Input.Remediations) {
			noFix = append(noFix, in)
		}
	}
	if len(noFix) > 0 && remediation.PastSupport(&info, e.cfg.Now) {
		it := e.policy.ReplaceItem(&info, noFix, nil, e.cfg.Now)
		it.AssetID = d.AssetID
		out.dr.Items = []remediation.Item{it}
		out.replace = true
	}
	out.dr.DeviceID, out.dr.Device = id, d
	out.dr.Score, out.dr.Band, out.dr.Factors, out.dr.Findings = dr.Score, dr.Band, dr.Factors, len(found)
	return out
}

// liveDevice is a device the engine holds and its care area's count.
type liveDevice struct {
	d    *inventory.Device
	area *int
	key  string  // key(d.ID), built once
	rk   replKey // vendor, model, version (the SBOM and replacement fleet key)
}

// worker is one scoring goroutine's reusable state.
type worker struct {
	acc    *remediation.Acceptances
	advIDs []string
	found  []risk.Finding
	items  []remediation.Item
	vecs   map[vecKey][]string // vectorsOf's cache
}

// score assesses devices ids (sorted; in parallel) with their queue items
// and fills res. pms, when not nil, are the devices' matches (saves a
// lookup per device). onlyAdv limits Records to those advisories (nil: all
// pairs).
//
// The queue items of a pair are computed where the pair is scored
// (remediation.FindingItems, the same function remediation.Build uses):
// the engine hands each record its items, so it never builds, sorts and
// regroups the whole fleet's queue. Without onlyAdv the records are
// written straight into res.Records at offsets known from the pair counts.
func (e *Engine) score(ctx context.Context, res *Result, ids []int64, pms []map[string]*match.Finding, onlyAdv map[string]bool) error {
	workers := e.cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(ids)/256+1))

	// the acceptances: the policy's and the overrides'
	pol := e.policy
	pol.Acceptances = slices.Clone(e.policy.Acceptances)
	for p, o := range e.over {
		if o.Acceptance != nil {
			a := *o.Acceptance
			a.AssetID, a.AdvisoryID = key(p.DeviceID), p.AdvisoryID
			pol.Acceptances = append(pol.Acceptances, a)
		}
	}
	if err := pol.Validate(); err != nil {
		return fmt.Errorf("remediation queue: %w", err)
	}
	acc := pol.IndexAcceptances()

	var offs []int
	var sbs [][]devSBOM // the SBOM pairs of every device (offsets count them)
	if e.hasSBOMs() {
		sbs = make([][]devSBOM, len(ids))
	}
	if onlyAdv == nil {
		offs = make([]int, len(ids)+1)
		for i, id := range ids {
			var ms map[string]*match.Finding
			if pms != nil {
				ms = pms[i]
			} else {
				ms = e.pairs[id]
			}
			n := len(ms)
			if sbs != nil {
				if ld, ok := e.live[id]; ok {
					sbs[i] = e.sbomOf(id, ld, ms)
					n += ownSBOMPairs(sbs[i])
				}
			}
			offs[i+1] = offs[i] + n
		}
		res.Records = make([]Record, offs[len(ids)])
	}
	out := make([]scored, len(ids))
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := risk.NewScorer(e.model, e.cfg.Now)
			if err != nil {
				errs[w] = err
				return
			}
			wk := &worker{acc: acc, vecs: map[vecKey][]string{}}
			for {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				mu.Lock()
				lo := next
				next = min(next+1024, len(ids))
				hi := next
				mu.Unlock()
				if lo >= hi {
					return
				}
				for i := lo; i < hi; i++ {
					var dst []Record
					if offs != nil {
						dst = res.Records[offs[i]:offs[i+1]:offs[i+1]]
					}
					var ms map[string]*match.Finding
					if pms != nil {
						ms = pms[i]
					}
					var sb []devSBOM
					if sbs != nil && offs != nil {
						sb = sbs[i]
					}
					out[i] = e.assessDevice(s, wk, ids[i], ms, sb, offs != nil, dst)
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}

	if offs != nil {
		for i := range out {
			if len(out[i].recs) != offs[i+1]-offs[i] {
				return fmt.Errorf("assess device %d: %d records for %d pairs", ids[i], len(out[i].recs), offs[i+1]-offs[i])
			}
		}
	}
	// replace items: the same-model fleet is summarised once per group
	fleets := map[replKey]*remediation.Replacement{}
	res.Devices = make([]DeviceResult, 0, len(out))
	if onlyAdv != nil {
		res.Records = nil
	}
	for i := range out {
		sc := &out[i]
		if sc.replace {
			g := replKeyOf(sc.d)
			f := fleets[g]
			if f == nil {
				f = e.fleetOf(g)
				fleets[g] = f
			}
			it := &sc.dr.Items[0]
			r := *it.Replacement
			r.FleetDevices, r.AssetIDs, r.Sites, r.CareAreas = f.FleetDevices, f.AssetIDs, f.Sites, f.CareAreas
			if i := strings.Index(r.Rationale, fleetPhrase); i >= 0 {
				r.Rationale = r.Rationale[:i] + fmt.Sprintf("%s%d device(s) in %s", fleetPhrase, f.FleetDevices, strings.Join(f.CareAreas, "; "))
			}
			it.Replacement = &r
		}
		if !sc.deleted {
			if sc.dr.Findings == 0 {
				delete(e.sums, sc.id)
			} else {
				e.sums[sc.id] = summary{score: sc.dr.Score, band: sc.dr.Band, findings: sc.dr.Findings, kev: sc.dr.KEV}
			}
		}
		res.Devices = append(res.Devices, sc.dr)
		if onlyAdv != nil {
			for j := range sc.recs {
				if onlyAdv[sc.recs[j].AdvisoryID] {
					res.Records = append(res.Records, sc.recs[j])
				}
			}
		}
	}
	// ids are sorted and each device's records are in advisory order, so
	// Devices and Records are sorted already
	return nil
}

// Register builds the risk register over every device the engine holds,
// from the last assessment of each (devices never assessed count as
// without findings).
func (e *Engine) Register() risk.Register {
	items := make([]risk.Assessed, 0, len(e.devs))
	for id, d := range e.devs {
		a := risk.Assessed{AssetID: d.AssetID, Site: d.Site, Department: d.Department, DeviceType: d.DeviceType, Vendor: d.Vendor, Band: risk.BandInfo}
		if s, ok := e.sums[id]; ok {
			a.Score, a.Band, a.Findings, a.KEV = s.score, s.band, s.findings, s.kev
		}
		items = append(items, a)
	}
	return risk.BuildRegister(items)
}

// DeviceIDs returns the ids of every device the engine holds (unordered).
func (e *Engine) DeviceIDs() []int64 {
	out := make([]int64, 0, len(e.devs))
	for id := range e.devs {
		out = append(out, id)
	}
	return out
}

// Override returns the override of a pair (zero when none).
func (e *Engine) Override(p Pair) Override { return e.over[p] }

// MaxFleetAssetIDs bounds the asset ids a replacement recommendation lists
// (FleetDevices keeps the full count).
const MaxFleetAssetIDs = 100

// fleetPhrase starts the fleet part of remediation's replacement rationale.
const fleetPhrase = "Same model and version: "

// fleetOf summarises the devices sharing vendor, model and version: their
// count, the first MaxFleetAssetIDs asset ids, their sites and care areas
// (as remediation's replacement does, once per group).
func (e *Engine) fleetOf(g replKey) *remediation.Replacement {
	ids := e.repl[g]
	r := &remediation.Replacement{FleetDevices: len(ids)}
	sites, areas := map[string]bool{}, map[string]bool{}
	assets := make([]string, 0, len(ids))
	for _, id := range ids {
		d := e.devs[id]
		assets = append(assets, d.AssetID)
		site := cmp.Or(strings.TrimSpace(d.Site), risk.UnknownKey)
		sites[site] = true
		areas[site+" / "+cmp.Or(strings.TrimSpace(d.Department), risk.UnknownKey)] = true
	}
	slices.Sort(assets)
	r.AssetIDs = assets[:min(len(assets), MaxFleetAssetIDs)]
	r.Sites = slices.Sorted(maps.Keys(sites))
	r.CareAreas = slices.Sorted(maps.Keys(areas))
	return r
}
