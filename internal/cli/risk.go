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

	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/assess"
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
	AssetID    string             `json:"asset_id"`
	Vendor     string             `json:"vendor,omitempty"`
	Model      string             `json:"model,omitempty"`
	Version    string             `json:"version,omitempty"`
	DeviceType string             `json:"device_type,omitempty"`
	Site       string             `json:"site,omitempty"`
	Department string             `json:"department,omitempty"`
	Score      float64            `json:"score"`
	Band       risk.Band          `json:"band"`
	Factors    []risk.Factor      `json:"factors"`
	Findings   []riskFinding      `json:"findings"`
	Actions    []remediation.Item `json:"actions"`
}

type riskFinding = assess.ScoredFinding

// toRiskFinding is the matcher → risk adapter (internal/assess).
var toRiskFinding = assess.RiskFinding

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
	findings, _, _, err := assess.Match(ctx, devices, advs, opts)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	assessed, infos := assess.Assess(scorer, controls, devices, advs, kevByCVE, findings)
	q, err := assess.Queue(&policy, now, assessed, infos)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	counts := map[risk.Band]int{}
	out := make([]*riskDevice, 0, len(assessed))
	for _, a := range assessed {
		d := a.Device
		out = append(out, &riskDevice{AssetID: d.AssetID, Vendor: d.Vendor, Model: d.Model, Version: d.Version,
			DeviceType: d.DeviceType, Site: d.Site, Department: d.Department, Score: a.Score, Band: a.Band,
			Factors: a.Factors, Findings: a.Findings, Actions: a.Actions})
		counts[a.Band]++
	}
	fmt.Fprintf(env.Stderr, "risk at %s: %d of %d devices have findings (%d critical, %d high, %d medium, %d low, %d info); %d findings, %d queue items\n",
		now.Format(time.DateOnly), len(out), len(devices), counts[risk.BandCritical], counts[risk.BandHigh], counts[risk.BandMedium],
		counts[risk.BandLow], counts[risk.BandInfo], len(findings), len(q.Items))
	switch *view {
	case "queue":
		return writeQueue(env.Stdout, *format, q.Items)
	case "register":
		return writeRegister(env.Stdout, *format, assess.Register(devices, assessed))
	}
	return writeRisk(env.Stdout, *format, out)
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
