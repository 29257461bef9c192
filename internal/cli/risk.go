package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/match"
	"github.com/medwarden/medwarden/internal/remediation"
	"github.com/medwarden/medwarden/internal/risk"
)

func riskVerb() *Verb {
	return &Verb{
		Name:    "risk",
		Summary: "clinical risk per device (0-100, band, explained) with the remediation queue",
		Usage:   "--inventory FILE --advisories PATH... [--kev FILE] [--epss FILE] [--controls FILE] [--policy FILE] [--now YYYY-MM-DD] [--view devices|queue|register] [--format json|table]",
		Help: `Matches the inventory against the CSAF advisories (as "medwarden match" does), scores
every finding for clinical risk and prints, for each device with at least one finding,
sorted by score (highest first): asset_id, score (0-100), band (critical, high, medium,
low, info), factors (name, value, contribution; the contributions sum to the score),
the scored findings and actions (patch, configure, mitigate, segment, replace, accept)
with due dates and SLA state (on_track, due_soon, overdue, accepted, none).

--view queue prints the whole remediation queue instead (overdue first, then by due
date), --view register the risk register (by site, department, device type, vendor).

--controls is a JSON file of compensating controls and zone exposure (docs/RISK.md);
--policy a JSON due-date policy with risk acceptances (defaults: CISA BOD 22-01 for
KEV, critical 15 days, high 30, medium 90, low 180). --now fixes the reference date
(default: today, UTC). Deadlines count from today: this command keeps no history.
Exit status: 0 whether or not there are findings, 2 on usage errors, 3 on bad input.`,
		Run: runRisk,
	}
}

// riskDevice is one device of the risk output (JSON contract: asset_id,
// score, band, factors, actions).
type riskDevice struct {
	AssetID    string                  `json:"asset_id"`
	Vendor     string                  `json:"vendor,omitempty"`
	Model      string                  `json:"model,omitempty"`
	Version    string                  `json:"version,omitempty"`
	DeviceType string                  `json:"device_type,omitempty"`
	Site       string                  `json:"site,omitempty"`
	Department string                  `json:"department,omitempty"`
	Score      float64                 `json:"score"`
	Band       risk.Band               `json:"band"`
	Factors    []risk.Factor           `json:"factors"`
	Findings   []riskFinding           `json:"findings"`
	Actions    []remediation.Item      `json:"actions"`
	dev        *inventory.Device       `json:"-"`
	rdev       risk.Device             `json:"-"`
	found      []risk.Finding          `json:"-"`
	matched    []match.Finding         `json:"-"`
	info       *remediation.DeviceInfo `json:"-"`
}

type riskFinding struct {
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

func runRisk(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	in := addMatchInputs(fs)
	controlsFile := fs.String("controls", "", "compensating controls and zone exposure (JSON, see docs/RISK.md)")
	policyFile := fs.String("policy", "", "remediation due-date policy and risk acceptances (JSON, see docs/RISK.md)")
	nowFlag := fs.String("now", "", "reference date YYYY-MM-DD (default: today, UTC)")
	format := fs.String("format", "json", "output format: json or table")
	view := fs.String("view", "devices", "what to print: devices (default), queue or register")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := in.check(pos); err != nil {
		return err
	}
	switch {
	case *format != "json" && *format != "table":
		return usageErr("--format must be json or table, not %q", *format)
	case *view != "devices" && *view != "queue" && *view != "register":
		return usageErr("--view must be devices, queue or register, not %q", *view)
	}
	now := time.Now().UTC()
	if *nowFlag != "" {
		t, err := time.Parse(time.DateOnly, *nowFlag)
		if err != nil {
			return usageErr("--now must be YYYY-MM-DD, not %q", *nowFlag)
		}
		now = t
	}

	model := risk.DefaultModel()
	var controls *risk.Controls
	if *controlsFile != "" {
		if controls, err = readFeed(*controlsFile, func(r io.Reader) (*risk.Controls, error) { return risk.ParseControls(r, *controlsFile) }); err != nil {
			return err
		}
		controls.Apply(&model)
	}
	policy := remediation.DefaultPolicy()
	if *policyFile != "" {
		if policy, err = readFeed(*policyFile, func(r io.Reader) (remediation.Policy, error) { return remediation.ParsePolicy(r, *policyFile) }); err != nil {
			return err
		}
	}
	scorer, err := risk.NewScorer(model, now)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadInput, err)
	}

	l, err := in.load(ctx, env, "exploitation is scored from EPSS and CVSS exploit maturity only", "EPSS is unknown for every finding")
	if err != nil {
		return err
	}
	devices, advs := l.devices, l.advs
	opts := match.Options{Aliases: match.DefaultAliases()}
	var kevByCVE map[string]*kev.Entry
	if l.kev != nil {
		kevByCVE = l.kev.ByCVE()
		opts.KEV = kevByCVE
	}
	if l.epss != nil {
		opts.EPSS = l.epss.ByCVE()
	}
	ix, err := match.Compile(advs, opts)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	fleet := match.NewFleet(opts.Aliases)
	for _, d := range devices {
		fleet.Add(d)
	}
	findings, err := ix.Match(ctx, fleet)
	if err != nil {
		return err
	}

	out, infos := assessRisk(scorer, controls, devices, advs, kevByCVE, findings)
	var inputs []remediation.Input
	for _, rd := range out {
		for i := range rd.found {
			f := &rd.found[i]
			fr := findRisk(rd.Findings, f.AdvisoryID)
			inputs = append(inputs, remediation.Input{Device: rd.info, Finding: f, Score: fr.Score, Band: fr.Band})
		}
	}
	q, err := remediation.Build(&policy, now, infos, inputs)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	byDev := q.ByDevice()
	counts := map[risk.Band]int{}
	for _, rd := range out {
		rd.Actions = byDev[rd.AssetID]
		if rd.Actions == nil {
			rd.Actions = []remediation.Item{}
		}
		counts[rd.Band]++
	}
	fmt.Fprintf(env.Stderr, "risk at %s: %d of %d devices have findings (%d critical, %d high, %d medium, %d low, %d info); %d findings, %d queue items\n",
		now.Format(time.DateOnly), len(out), len(devices), counts[risk.BandCritical], counts[risk.BandHigh], counts[risk.BandMedium],
		counts[risk.BandLow], counts[risk.BandInfo], len(findings), len(q.Items))
	switch *view {
	case "queue":
		return writeQueue(env.Stdout, *format, q.Items)
	case "register":
		return writeRegister(env.Stdout, *format, registerOf(devices, out))
	}
	return writeRisk(env.Stdout, *format, out)
}

// registerOf builds the risk register over the whole inventory (devices
// without findings count as devices, not as affected).
func registerOf(devices []*inventory.Device, out []*riskDevice) risk.Register {
	scored := make(map[*inventory.Device]*riskDevice, len(out))
	for _, rd := range out {
		scored[rd.dev] = rd
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

func writeQueue(w io.Writer, format string, items []remediation.Item) error {
	if format == "json" {
		if items == nil {
			items = []remediation.Item{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DUE\tSLA\tACTION\tASSET\tADVISORY\tBAND\tSCORE\tRULE")
	for _, it := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%s\n", cmp.Or(it.Due, "-"), it.SLA, it.Action, it.AssetID,
			cmp.Or(it.AdvisoryID, "-"), it.Band, it.Score, it.DueRule)
	}
	if len(items) == 0 {
		fmt.Fprintln(tw, "(queue is empty)")
	}
	return tw.Flush()
}

func writeRegister(w io.Writer, format string, r risk.Register) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BY\tKEY\tDEVICES\tAFFECTED\tCRIT\tHIGH\tMED\tLOW\tINFO\tMAX\tMEAN\tKEV")
	row := func(by string, g risk.Group) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%d\n", by, g.Key, g.Devices, g.Affected,
			g.Bands.Critical, g.Bands.High, g.Bands.Medium, g.Bands.Low, g.Bands.Info, g.MaxScore, g.MeanScore, g.KEVDevices)
	}
	row("total", r.Total)
	for _, x := range []struct {
		by string
		gs []risk.Group
	}{{"site", r.BySite}, {"department", r.ByDepartment}, {"device_type", r.ByDeviceType}, {"vendor", r.ByVendor}} {
		for _, g := range x.gs {
			row(x.by, g)
		}
	}
	return tw.Flush()
}

func findRisk(frs []riskFinding, advisoryID string) riskFinding {
	for _, f := range frs {
		if f.AdvisoryID == advisoryID {
			return f
		}
	}
	return riskFinding{}
}

// assessRisk maps the matcher's findings onto the risk model and scores
// every device that has findings; the result is sorted by score
// descending, then asset id. It also returns the remediation view of the
// whole inventory (for replacement fleets).
func assessRisk(s *risk.Scorer, controls *risk.Controls, devices []*inventory.Device, advs []*advisory.Advisory,
	kevByCVE map[string]*kev.Entry, findings []match.Finding) ([]*riskDevice, []remediation.DeviceInfo) {
	// care-area fleet: devices of the same type per site and department
	type areaKey struct{ site, dept, typ string }
	area := map[areaKey]int{}
	keyOf := func(d *inventory.Device) areaKey {
		n := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
		return areaKey{n(d.Site), n(d.Department), n(d.DeviceType)}
	}
	for _, d := range devices {
		if strings.TrimSpace(d.DeviceType) != "" {
			area[keyOf(d)]++
		}
	}
	advByID := make(map[string]*advisory.Advisory, len(advs))
	for _, a := range advs {
		advByID[a.ID] = a
	}
	infos := make([]remediation.DeviceInfo, len(devices))
	byAsset := make(map[string]*riskDevice, len(devices))
	for i, d := range devices {
		rd := &riskDevice{AssetID: d.AssetID, Vendor: d.Vendor, Model: d.Model, Version: d.Version, DeviceType: d.DeviceType,
			Site: d.Site, Department: d.Department, dev: d}
		rd.rdev = risk.Device{
			AssetID: d.AssetID, Criticality: d.Criticality, PatientConnected: d.PatientConnected, PHI: d.PHI,
			Exposure: controls.Exposure(d.Zone), InboundPeers: -1, Controls: controls.For(d.AssetID, d.Zone, d.DeviceType),
			CareAreaFleet: area[keyOf(d)],
		}
		if d.EndOfSupport != nil {
			rd.rdev.EndOfSupport = d.EndOfSupport.Time
		}
		if d.EndOfLife != nil {
			rd.rdev.EndOfLife = d.EndOfLife.Time
		}
		infos[i] = remediation.DeviceInfo{AssetID: d.AssetID, Vendor: d.Vendor, Model: d.Model, Version: d.Version,
			DeviceType: d.DeviceType, Site: d.Site, Department: d.Department, Exposure: rd.rdev.Exposure,
			Controls: rd.rdev.Controls, EndOfSupport: rd.rdev.EndOfSupport, EndOfLife: rd.rdev.EndOfLife}
		rd.info = &infos[i]
		byAsset[d.AssetID] = rd
	}
	for _, f := range findings {
		rd := byAsset[f.AssetID]
		if rd == nil {
			continue
		}
		rd.matched = append(rd.matched, f)
		rd.found = append(rd.found, toRiskFinding(f, advByID[f.AdvisoryID], kevByCVE))
	}
	var out []*riskDevice
	for _, d := range devices {
		rd := byAsset[d.AssetID]
		if rd == nil || len(rd.found) == 0 || rd.dev != d {
			continue
		}
		dr := s.Device(&rd.rdev, rd.found)
		rd.Score, rd.Band, rd.Factors = dr.Score, dr.Band, dr.Factors
		for _, fr := range dr.Findings {
			rf := riskFinding{AdvisoryID: fr.AdvisoryID, Score: fr.Score, Band: fr.Band, CVSS: fr.CVSS, Vector: fr.Vector, Factors: fr.Factors}
			for _, m := range rd.matched {
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
		out = append(out, rd)
	}
	slices.SortStableFunc(out, func(a, b *riskDevice) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.AssetID, b.AssetID)
	})
	return out, infos
}

// toRiskFinding is the adapter from a matcher finding to risk's input: every
// CVSS vector the advisory publishes for the matched product (the
// matcher keeps only the highest), KEV dates from the catalog, EPSS, the
// remediation categories, the match confidence and status.
func toRiskFinding(f match.Finding, a *advisory.Advisory, kevByCVE map[string]*kev.Entry) risk.Finding {
	rf := risk.Finding{AdvisoryID: f.AdvisoryID, CVEs: f.CVEs, KEV: f.KEV, EPSS: -1, Confidence: f.Confidence, Status: f.Status}
	seen := map[string]bool{}
	addVec := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			rf.Vectors = append(rf.Vectors, v)
		}
	}
	if f.CVSS != nil {
		addVec(f.CVSS.Vector)
		rf.BaseScore = f.CVSS.BaseScore
	}
	if a != nil && f.ProductID != "" {
		for i := range a.Vulnerabilities {
			for _, s := range a.Vulnerabilities[i].ScoresFor(f.ProductID) {
				addVec(s.Vector)
			}
		}
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

func writeRisk(w io.Writer, format string, out []*riskDevice) error {
	if format == "json" {
		if out == nil {
			out = []*riskDevice{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ASSET\tSCORE\tBAND\tFINDINGS\tTOP FACTORS\tNEXT ACTION\tDUE\tSLA")
	for _, rd := range out {
		next, due, sla := "-", "-", "-"
		if len(rd.Actions) > 0 {
			a := rd.Actions[0]
			next, due, sla = string(a.Action), cmp.Or(a.Due, "-"), string(a.SLA)
			if a.AdvisoryID != "" {
				next += " " + a.AdvisoryID
			}
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%d\t%s\t%s\t%s\t%s\n", rd.AssetID, rd.Score, rd.Band, len(rd.Findings), topFactors(rd.Factors), next, due, sla)
	}
	if len(out) == 0 {
		fmt.Fprintln(tw, "(no device has findings)")
	}
	return tw.Flush()
}

// topFactors names the three largest positive contributions.
func topFactors(fs []risk.Factor) string {
	s := slices.Clone(fs)
	slices.SortStableFunc(s, func(a, b risk.Factor) int { return cmp.Compare(b.Contribution, a.Contribution) })
	var parts []string
	for _, f := range s {
		if f.Contribution <= 0 || len(parts) == 3 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %+.1f", f.Name, f.Contribution))
	}
	return strings.Join(parts, ", ")
}
