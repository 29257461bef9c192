package remediation

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/risk"
)

// Action is what to do about a finding.
type Action string

// The actions.
const (
	ActionPatch     Action = "patch"     // install the vendor fix
	ActionConfigure Action = "configure" // apply the vendor's workaround (configuration change)
	ActionMitigate  Action = "mitigate"  // apply the vendor's mitigation or compensating controls
	ActionSegment   Action = "segment"   // restrict the device's network reachability
	ActionReplace   Action = "replace"   // plan the replacement of an unfixable, unsupported device
	ActionAccept    Action = "accept"    // the risk is formally accepted until the acceptance expires
)

// SLA is where an item stands against its due date.
type SLA string

// SLA states.
const (
	SLAOnTrack  SLA = "on_track"
	SLADueSoon  SLA = "due_soon"
	SLAOverdue  SLA = "overdue"
	SLAAccepted SLA = "accepted" // an acceptance is in force; Due is its expiry
	SLANone     SLA = "none"     // no deadline (info band)
)

// DeviceInfo is what the queue needs to know of a device.
type DeviceInfo struct {
	AssetID    string
	Vendor     string
	Model      string
	Version    string
	DeviceType string
	Site       string
	Department string
	// Exposure and Controls decide whether segmentation is still an action.
	Exposure risk.Exposure
	Controls []string
	// EndOfSupport and EndOfLife are zero when unknown.
	EndOfSupport time.Time
	EndOfLife    time.Time
}

// Input is one scored finding.
type Input struct {
	Device  *DeviceInfo
	Finding *risk.Finding
	Score   float64
	Band    risk.Band
}

// Item is one entry of the queue.
type Item struct {
	AssetID    string    `json:"asset_id"`
	AdvisoryID string    `json:"advisory_id,omitempty"`
	CVEs       []string  `json:"cves,omitempty"`
	Action     Action    `json:"action"`
	Score      float64   `json:"score"`
	Band       risk.Band `json:"band"`
	// Due is the due date ("" when there is none) and DueRule says which
	// policy rule set it.
	Due     string `json:"due,omitempty"`
	DueRule string `json:"due_rule"`
	SLA     SLA    `json:"sla"`
	// DaysLeft is the days from now to Due (negative when overdue).
	DaysLeft *int `json:"days_left,omitempty"`
	// Rationale explains the action.
	Rationale string `json:"rationale"`
	// Acceptance is set for accept items and for items reopened by an
	// expired acceptance (Reopened true).
	Acceptance *Acceptance `json:"acceptance,omitempty"`
	Reopened   bool        `json:"reopened,omitempty"`
	// Replacement is set for replace items.
	Replacement *Replacement `json:"replacement,omitempty"`

	due time.Time
}

// Replacement is a "plan replacement" recommendation for one device and
// the fleet of the same model and version.
type Replacement struct {
	Vendor    string `json:"vendor"`
	Model     string `json:"model"`
	Version   string `json:"version,omitempty"`
	Rationale string `json:"rationale"`
	// FleetDevices is how many devices of the inventory share vendor, model
	// and version; CareAreas are their "site / department" values and Sites
	// their sites, sorted.
	FleetDevices int      `json:"fleet_devices"`
	AssetIDs     []string `json:"asset_ids"`
	Sites        []string `json:"sites"`
	CareAreas    []string `json:"care_areas"`
}

// day truncates t to its UTC calendar date.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// cveYear returns the year of a CVE id, 0 when it is not one.
func cveYear(id string) int {
	rest, ok := strings.CutPrefix(strings.ToUpper(id), "CVE-")
	if !ok || len(rest) < 4 {
		return 0
	}
	y, err := strconv.Atoi(rest[:4])
	if err != nil {
		return 0
	}
	return y
}

// DueDate returns the due date of a finding in band b, detected at
// detected (zero: now), and the rule that set it. With several applicable
// rules (KEV and band) the earliest date wins. The zero time means no
// deadline.
func (p *Policy) DueDate(f *risk.Finding, b risk.Band, now time.Time) (time.Time, string) {
	start := f.Detected
	if start.IsZero() {
		start = now
	}
	start = day(start)
	var due time.Time
	var rule string
	if n := p.Days.For(b); n > 0 {
		due = start.AddDate(0, 0, n)
		// one allocation (this runs for every finding of the fleet): the
		// text of fmt "%s band: %d days from detection (%s)"
		var buf [64]byte
		r := append(buf[:0], b...)
		r = append(r, " band: "...)
		r = strconv.AppendInt(r, int64(n), 10)
		r = append(r, " days from detection ("...)
		r = start.AppendFormat(r, time.DateOnly)
		rule = string(append(r, ')'))
	}
	if f.KEV {
		var kd time.Time
		var kr string
		switch {
		case p.KEV.UseCatalogDueDate && !f.KEVDueDate.IsZero():
			kd, kr = day(f.KEVDueDate), "CISA KEV due date (BOD 22-01)"
		default:
			from, what := day(f.KEVDateAdded), "added to KEV"
			if f.KEVDateAdded.IsZero() {
				from, what = start, "detection (KEV date added unknown)"
			}
			id := f.KEVCVE
			if id == "" && len(f.CVEs) > 0 {
				id = f.CVEs[0]
			}
			if y := cveYear(id); y != 0 && p.KEV.CutoffYear != 0 && y < p.KEV.CutoffYear {
				kd = from.AddDate(0, p.KEV.OlderMonths, 0)
				kr = fmt.Sprintf("BOD 22-01: %d months from %s for a CVE before %d", p.KEV.OlderMonths, what, p.KEV.CutoffYear)
			} else {
				kd = from.AddDate(0, 0, p.KEV.RecentDays)
				kr = fmt.Sprintf("BOD 22-01: %d days from %s", p.KEV.RecentDays, what)
			}
		}
		if due.IsZero() || kd.Before(due) {
			due, rule = kd, kr
		}
	}
	if due.IsZero() {
		return due, fmt.Sprintf("%s band: no deadline", b)
	}
	return due, rule
}

// sla returns the state of a due date at now.
func (p *Policy) sla(due, now time.Time) (SLA, *int) {
	if due.IsZero() {
		return SLANone, nil
	}
	left := int(day(due).Sub(day(now)).Hours() / 24)
	switch {
	case left < 0:
		return SLAOverdue, &left
	case left <= p.DueSoonDays:
		return SLADueSoon, &left
	}
	return SLAOnTrack, &left
}

// acceptanceIndex maps asset ids to their acceptances.
type acceptanceIndex map[string][]*Acceptance

func (p *Policy) acceptanceIndex() acceptanceIndex {
	ix := make(acceptanceIndex, len(p.Acceptances))
	for i := range p.Acceptances {
		a := &p.Acceptances[i]
		ix[a.AssetID] = append(ix[a.AssetID], a)
	}
	return ix
}

// find returns the acceptance covering a finding: one in force at now if
// any (the one expiring last), else the most recently expired one.
func (ix acceptanceIndex) find(asset, adv string, now time.Time) (a *Acceptance, active bool) {
	today := day(now)
	for _, c := range ix[asset] {
		if (c.AdvisoryID != adv && c.AdvisoryID != "*") || today.Before(day(c.Accepted.Time)) {
			continue
		}
		if today.Before(day(c.Expires.Time)) {
			if !active || c.Expires.After(a.Expires.Time) {
				a, active = c, true
			}
			continue
		}
		if !active && (a == nil || c.Expires.After(a.Expires.Time)) {
			a = c
		}
	}
	return a, active
}

// segmented reports whether the device is already isolated or segmented.
func segmented(d *DeviceInfo) bool {
	return d.Exposure == risk.ExposureIsolated || slices.Contains(d.Controls, risk.ControlSegmented) ||
		slices.Contains(d.Controls, risk.ControlPhysicalIsolation)
}

// actions returns the actions for a finding, most effective first, with
// their rationale.
func actions(d *DeviceInfo, f *risk.Finding) []struct {
	a Action
	r string
} {
	type ar = struct {
		a Action
		r string
	}
	var out []ar
	has := func(c string) bool { return slices.Contains(f.Remediations, c) }
	if has(advisory.RemediationVendorFix) {
		out = append(out, ar{ActionPatch, "the vendor publishes a fix for this product"})
	}
	if has(advisory.RemediationWorkaround) {
		out = append(out, ar{ActionConfigure, "the vendor publishes a workaround (configuration change)"})
	}
	if has(advisory.RemediationMitigation) {
		out = append(out, ar{ActionMitigate, "the vendor publishes mitigations"})
	}
	if !has(advisory.RemediationVendorFix) && !segmented(d) {
		r := "no vendor fix: restrict the device to the flows it needs"
		if risk.NoFix(f.Remediations) {
			r = "the vendor has no fix and plans none: restrict the device to the flows it needs"
		} else if len(f.Remediations) == 0 {
			r = "no remediation published: restrict the device to the flows it needs and ask the vendor"
		}
		out = append(out, ar{ActionSegment, r})
	}
	if len(out) == 0 {
		out = append(out, ar{ActionMitigate, "no vendor fix and the device is already segmented: review compensating controls and ask the vendor"})
	}
	return out
}

// Queue is the remediation queue.
type Queue struct {
	Items []Item `json:"items"`
}

// Acceptances indexes a policy's acceptances by asset id for
// FindingItems (built once per queue).
type Acceptances struct{ ix acceptanceIndex }

// IndexAcceptances indexes p's acceptances.
func (p *Policy) IndexAcceptances() *Acceptances { return &Acceptances{ix: p.acceptanceIndex()} }

// FindingItems appends to dst the queue items of one scored finding, in
// the order the queue lists them (Build sorts every item; the items of
// one finding share due date, score and band, so they are in action
// order): an acceptance in force gives one accept item; otherwise one
// item per action, reopened when an acceptance has expired. Build and the
// findings engine share it, so their items are the same.
func (p *Policy) FindingItems(dst []Item, acc *Acceptances, in Input, now time.Time) []Item {
	var ix acceptanceIndex
	if acc != nil {
		ix = acc.ix
	}
	n := len(dst)
	dst = p.findingItems(dst, ix, in, now)
	mine := dst[n:]
	// a handful of items: insertion sort by action, as the queue's ties end
	for i := 1; i < len(mine); i++ {
		for j := i; j > 0 && mine[j].Action < mine[j-1].Action; j-- {
			mine[j], mine[j-1] = mine[j-1], mine[j]
		}
	}
	return dst
}

func (p *Policy) findingItems(dst []Item, accIx acceptanceIndex, in Input, now time.Time) []Item {
	d, f := in.Device, in.Finding
	due, rule := p.DueDate(f, in.Band, now)
	base := Item{AssetID: d.AssetID, AdvisoryID: f.AdvisoryID, CVEs: f.CVEs, Score: in.Score, Band: in.Band}
	var acc *Acceptance
	var active bool
	if len(accIx) > 0 {
		acc, active = accIx.find(d.AssetID, f.AdvisoryID, now)
	}
	if active {
		it := base
		it.Action = ActionAccept
		it.due = day(acc.Expires.Time)
		it.Due = it.due.Format(time.DateOnly)
		it.DueRule = "risk acceptance expires"
		it.SLA = SLAAccepted
		_, left := p.sla(it.due, now)
		it.DaysLeft = left
		it.Rationale = fmt.Sprintf("accepted by %s on %s: %s", acc.Approver, acc.Accepted.Format(time.DateOnly), acc.Justification)
		it.Acceptance = acc
		return append(dst, it)
	}
	if acc != nil {
		// the deadline was suspended while the acceptance was in force:
		// it runs again from the expiry
		if exp := day(acc.Expires.Time); f.Detected.Before(exp) {
			g := *f
			g.Detected = exp
			due, rule = p.DueDate(&g, in.Band, now)
		}
	}
	sla, left := p.sla(due, now)
	var dueText string
	if !due.IsZero() {
		dueText = due.Format(time.DateOnly)
	}
	for _, x := range actions(d, f) {
		it := base
		it.Action = x.a
		it.Rationale = x.r
		it.due = due
		it.Due = dueText
		it.DueRule = rule
		it.SLA = sla
		if left != nil {
			l := *left
			it.DaysLeft = &l
		}
		if acc != nil {
			it.Acceptance, it.Reopened = acc, true
			it.Rationale += fmt.Sprintf(" (risk acceptance by %s expired on %s: reopened)", acc.Approver, acc.Expires.Format(time.DateOnly))
		}
		dst = append(dst, it)
	}
	return dst
}

// ReplaceItem is the device-level "replace" item of device d, past its
// support, from its findings without a fix (noFix, in queue input order):
// the most urgent of them sets the planning deadline. fleet is the
// devices of the same vendor, model and version (nil: d alone).
func (p *Policy) ReplaceItem(d *DeviceInfo, noFix []Input, fleet []*DeviceInfo, now time.Time) Item {
	var due time.Time
	var rule string
	var top Input
	for _, in := range noFix {
		dd, r := p.DueDate(in.Finding, in.Band, now)
		if top.Finding == nil || in.Score > top.Score {
			top = in
		}
		if !dd.IsZero() && (due.IsZero() || dd.Before(due)) {
			due, rule = dd, r
		}
	}
	if due.IsZero() {
		rule = "no deadline (all unfixable findings are info band)"
	}
	r := replacement(d, noFix, fleet)
	it := Item{AssetID: d.AssetID, Action: ActionReplace, Score: top.Score, Band: top.Band, DueRule: "plan by: " + rule,
		Rationale: r.Rationale, Replacement: r, due: due}
	if !due.IsZero() {
		it.Due = due.Format(time.DateOnly)
	}
	it.SLA, it.DaysLeft = p.sla(due, now)
	return it
}

// PastSupport reports whether the device is past its end of support or
// life at now (a replace item is due when it also has a finding without
// a fix).
func PastSupport(d *DeviceInfo, now time.Time) bool { return pastSupport(d, now) }

// Build returns the queue for scored findings at now. fleet is the whole
// inventory (for the fleet affected by a replacement); inputs are the
// scored findings. Items are sorted: overdue items first (most urgent band
// first, then longest overdue), then by due date, score descending, asset
// id, advisory id and action. A finding whose acceptance has expired is
// reopened with its deadline counted from the expiry date.
func Build(p *Policy, now time.Time, fleet []DeviceInfo, inputs []Input) (Queue, error) {
	if err := p.Validate(); err != nil {
		return Queue{}, err
	}
	q := Queue{Items: make([]Item, 0, len(inputs)*2)}
	type replKey struct{ vendor, model, version string }
	type devAgg struct {
		d        *DeviceInfo
		noFix    []Input
		topScore float64
	}
	accIx := p.acceptanceIndex()
	perDevice := map[string]*devAgg{}
	var devOrder []string
	for _, in := range inputs {
		d, f := in.Device, in.Finding
		n := len(q.Items)
		q.Items = p.findingItems(q.Items, accIx, in, now)
		if q.Items[n].Action == ActionAccept {
			continue // an acceptance in force: no replacement for it
		}
		if risk.NoFix(f.Remediations) && pastSupport(d, now) {
			a := perDevice[d.AssetID]
			if a == nil {
				a = &devAgg{d: d}
				perDevice[d.AssetID] = a
				devOrder = append(devOrder, d.AssetID)
			}
			a.noFix = append(a.noFix, in)
			a.topScore = max(a.topScore, in.Score)
		}
	}
	fleetOf := map[replKey][]*DeviceInfo{}
	for i := range fleet {
		d := &fleet[i]
		k := replKey{norm(d.Vendor), norm(d.Model), norm(d.Version)}
		fleetOf[k] = append(fleetOf[k], d)
	}
	for _, id := range devOrder {
		a := perDevice[id]
		d := a.d
		it := p.ReplaceItem(d, a.noFix, fleetOf[replKey{norm(d.Vendor), norm(d.Model), norm(d.Version)}], now)
		q.Items = append(q.Items, it)
	}
	// sort pointers: items are large; the order is total (ties end on
	// asset, advisory and action), so an unstable sort is deterministic
	ptrs := make([]*Item, len(q.Items))
	for i := range q.Items {
		ptrs[i] = &q.Items[i]
	}
	slices.SortFunc(ptrs, func(a, b *Item) int {
		ao, bo := a.SLA == SLAOverdue, b.SLA == SLAOverdue
		if ao != bo {
			if ao {
				return -1
			}
			return 1
		}
		if ao {
			// overdue: most urgent band first, then longest overdue
			if c := cmp.Compare(b.Band.Rank(), a.Band.Rank()); c != 0 {
				return c
			}
		}
		if a.due.IsZero() != b.due.IsZero() {
			if a.due.IsZero() {
				return 1
			}
			return -1
		}
		if c := a.due.Compare(b.due); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(a.AssetID, b.AssetID), strings.Compare(a.AdvisoryID, b.AdvisoryID), strings.Compare(string(a.Action), string(b.Action)))
	})
	sorted := make([]Item, len(ptrs))
	for i, p := range ptrs {
		sorted[i] = *p
	}
	q.Items = sorted
	return q, nil
}

func norm(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

func pastSupport(d *DeviceInfo, now time.Time) bool {
	return risk.PastSupport(&risk.Device{EndOfSupport: d.EndOfSupport, EndOfLife: d.EndOfLife}, now)
}

func replacement(d *DeviceInfo, noFix []Input, fleet []*DeviceInfo) *Replacement {
	r := &Replacement{Vendor: d.Vendor, Model: d.Model, Version: d.Version, FleetDevices: len(fleet)}
	sites, areas := map[string]bool{}, map[string]bool{}
	for _, f := range fleet {
		r.AssetIDs = append(r.AssetIDs, f.AssetID)
		site := cmp.Or(strings.TrimSpace(f.Site), risk.UnknownKey)
		sites[site] = true
		areas[site+" / "+cmp.Or(strings.TrimSpace(f.Department), risk.UnknownKey)] = true
	}
	if len(fleet) == 0 { // the device is not in the inventory given: count it alone
		r.FleetDevices = 1
		r.AssetIDs = []string{d.AssetID}
		site := cmp.Or(strings.TrimSpace(d.Site), risk.UnknownKey)
		sites[site] = true
		areas[site+" / "+cmp.Or(strings.TrimSpace(d.Department), risk.UnknownKey)] = true
	}
	slices.Sort(r.AssetIDs)
	r.Sites = sortedSet(sites)
	r.CareAreas = sortedSet(areas)
	var advs []string
	for _, in := range noFix {
		advs = append(advs, in.Finding.AdvisoryID)
	}
	slices.Sort(advs)
	advs = slices.Compact(advs)
	end := d.EndOfSupport
	what := "end of support"
	if end.IsZero() || (!d.EndOfLife.IsZero() && d.EndOfLife.Before(end)) {
		end, what = d.EndOfLife, "end of life"
	}
	model := strings.TrimSpace(d.Vendor + " " + d.Model)
	if d.Version != "" {
		model += " " + d.Version
	}
	r.Rationale = fmt.Sprintf("%s is past its %s (%s) and the vendor has no fix for %s; compensating controls only reduce the risk, replacement removes it. Same model and version: %d device(s) in %s",
		model, what, end.Format(time.DateOnly), strings.Join(advs, ", "), r.FleetDevices, strings.Join(r.CareAreas, "; "))
	return r
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ByDevice groups the items by asset id, each list in queue order.
func (q *Queue) ByDevice() map[string][]Item {
	out := map[string][]Item{}
	for _, it := range q.Items {
		out[it.AssetID] = append(out[it.AssetID], it)
	}
	return out
}
