package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medwarden/medwarden/internal/findings"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqldb"
)

const findingsHelp = `Works with the findings stored in the database: every (device, advisory) pair
the matcher found, with CVEs, CVSS, KEV, EPSS, the clinical risk score and band,
the remediation action with its due date and SLA state, and the workflow
(state, owner, risk acceptance, MITRE rubric vector). "medwarden serve" keeps
them current by itself; these subcommands are for scripts and first loads.

subcommands:
  recompute   recompute every finding and device risk now (full, one transaction)
  list        print stored findings (filters below; riskiest first)
  snapshot    store today's risk register snapshot (for trends)

list flags: --device ID, --asset ASSET, --advisory ID, --cve CVE, --source
advisory|sbom (sbom: findings from SBOM component vulnerabilities, whose ADVISORY
is the vulnerability id, and advisory findings with SBOM evidence), --state STATE
(open, in_progress, mitigated, resolved, accepted, false_positive), --status
needs_review|known_affected|..., --kev, --band critical|high|medium|low|info,
--owner NAME, --due-before YYYY-MM-DD, --min-confidence 0..1, --resolved (also
pairs that no longer match), --sort FIELD|-FIELD (id, score, cvss, epss,
confidence, due, first_seen, last_seen, asset_id, advisory_id; default -score),
--limit N (default 100; 0 prints all), --format json|table. The table's FIX
column: the upgrade an SBOM finding calls for ("upgrade C from V to F"), "vendor
fix", "no fix published", or "-" (nothing published or not determined).

See docs/FINDINGS.md. Exit status: 0 on success, 2 on usage errors, 1 on failure.`

func findingsVerb() *Verb {
	return &Verb{
		Name:    "findings",
		Summary: "stored findings, device risk and risk snapshots: recompute, list, snapshot",
		Usage:   "recompute|list|snapshot [flags]",
		Help:    findingsHelp,
		Run:     runFindings,
	}
}

func runFindings(ctx context.Context, env *Env, vfs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return usageErr("missing subcommand (recompute, list or snapshot)")
	}
	sub := args[0]
	switch sub {
	case "-h", "-help", "--help", "help":
		vfs.SetOutput(env.Stdout)
		vfs.Usage()
		return flag.ErrHelp
	case "recompute", "list", "snapshot":
	default:
		return usageErr("unknown subcommand %q (recompute, list or snapshot)", sub)
	}
	fs := flag.NewFlagSet("medwarden findings "+sub, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: medwarden findings %s [flags]\n\n%s\n\nflags:\n", sub, strings.TrimSpace(findingsHelp))
		fs.PrintDefaults()
	}
	sf := addStoreFlags(fs, env)
	switch sub {
	case "recompute":
		return runFindingsRecompute(ctx, env, fs, sf, args[1:])
	case "snapshot":
		return runFindingsSnapshot(ctx, env, fs, sf, args[1:])
	}
	return runFindingsList(ctx, env, fs, sf, args[1:])
}

func noArgs(fs *flag.FlagSet, args []string) error {
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	return nil
}

func runFindingsRecompute(ctx context.Context, env *Env, fs *flag.FlagSet, sf *storeFlags, args []string) error {
	if err := noArgs(fs, args); err != nil {
		return err
	}
	st, err := sf.openAudited(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := findings.New(st, findings.Options{})
	sum, err := svc.RecomputeAll(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "findings: %d matching (%d new, %d still matching, %d reopened, %d resolved); %d devices at risk\n",
		sum.Findings, sum.New, sum.Updated, sum.Reopened, sum.Resolved, sum.Devices)
	fmt.Fprintf(env.Stderr, "load %s, assess %s (match %s), store %s\n", sum.Load.Round(time.Millisecond),
		sum.Assess.Round(time.Millisecond), sum.Match.Round(time.Millisecond), sum.Store.Round(time.Millisecond))
	return nil
}

func runFindingsSnapshot(ctx context.Context, env *Env, fs *flag.FlagSet, sf *storeFlags, args []string) error {
	dayFlag := fs.String("day", "", "day of the snapshot YYYY-MM-DD (default: today, UTC)")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if *dayFlag != "" {
		if _, err := time.Parse(time.DateOnly, *dayFlag); err != nil {
			return usageErr("--day must be YYYY-MM-DD, not %q", *dayFlag)
		}
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := findings.New(st, findings.Options{})
	if err := svc.Snapshot(ctx, *dayFlag); err != nil {
		return err
	}
	reg, err := svc.Register(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "risk snapshot %s: %d devices, %d affected (%d critical, %d high), %d with KEV findings\n",
		cmp.Or(*dayFlag, time.Now().UTC().Format(time.DateOnly)), reg.Total.Devices, reg.Total.Affected,
		reg.Total.Bands.Critical, reg.Total.Bands.High, reg.Total.KEVDevices)
	return nil
}

func runFindingsList(ctx context.Context, env *Env, fs *flag.FlagSet, sf *storeFlags, args []string) error {
	var q store.FindingQuery
	fs.Int64Var(&q.DeviceID, "device", 0, "device id")
	fs.StringVar(&q.AssetID, "asset", "", "asset id (exact)")
	fs.StringVar(&q.AdvisoryID, "advisory", "", "advisory tracking id (exact)")
	fs.StringVar(&q.CVE, "cve", "", "findings naming this CVE")
	fs.StringVar(&q.State, "state", "", "workflow state: "+strings.Join(store.WorkflowStates, ", "))
	fs.StringVar(&q.Source, "source", "", "advisory (CSAF advisory findings) or sbom (findings with SBOM component evidence)")
	fs.StringVar(&q.MatchStatus, "status", "", "match status: known_affected, first_affected, last_affected or needs_review")
	kev := fs.Bool("kev", false, "only findings with a CVE in CISA KEV")
	fs.StringVar(&q.Band, "band", "", "risk band: critical, high, medium, low or info")
	fs.StringVar(&q.Owner, "owner", "", "workflow owner (case-insensitive)")
	fs.StringVar(&q.DueBefore, "due-before", "", "effective due date before YYYY-MM-DD")
	fs.Float64Var(&q.MinConfidence, "min-confidence", 0, "match confidence at least this (0..1)")
	fs.BoolVar(&q.IncludeResolved, "resolved", false, "also list pairs that no longer match")
	fs.StringVar(&q.Sort, "sort", "-score", "sort field, - for descending: "+strings.Join(store.FindingSortFields, ", "))
	limit := fs.Int("limit", 100, "print at most this many findings (0: all)")
	format := fs.String("format", "table", "output format: table or json")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return usageErr("--format must be table or json, not %q", *format)
	}
	if *limit < 0 {
		return usageErr("--limit must be 0 or more")
	}
	if *kev {
		q.KEV = kev
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var out []*store.Finding
	q.Limit = 1000
	if *limit > 0 {
		q.Limit = min(*limit, 1000)
	}
	for {
		p, err := st.ListFindings(ctx, q)
		if err != nil {
			var qe *sqldb.QueryError
			if errors.As(err, &qe) {
				return usageErr("%v", err)
			}
			return err
		}
		out = append(out, p.Findings...)
		if p.Next == "" || *limit > 0 && len(out) >= *limit {
			break
		}
		q.Cursor = p.Next
	}
	if *limit > 0 && len(out) > *limit {
		out = out[:*limit]
	}
	if *format == "json" {
		if out == nil {
			out = []*store.Finding{}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tASSET\tADVISORY\tSCORE\tBAND\tCVSS\tKEV\tSTATUS\tSTATE\tACTION\tDUE\tSLA\tOWNER\tFIX")
	for _, f := range out {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.1f\t%s\t%s\t%t\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.AssetID, f.AdvisoryID, f.Score, f.Band,
			cvssText(f.CVSS), f.KEV, f.MatchStatus, f.Workflow.State, cmp.Or(f.Action, "-"), cmp.Or(f.EffectiveDue(), "-"),
			cmp.Or(f.SLA, "-"), cmp.Or(f.Workflow.Owner, "-"), fixText(f))
	}
	if len(out) == 0 {
		fmt.Fprintln(tw, "(no findings; run 'medwarden findings recompute' after importing devices and advisories)")
	}
	return tw.Flush()
}

// fixText is the FIX column: the upgrades an SBOM finding names
// ("upgrade lodash from 4.17.15 to 4.17.21 (osv GHSA-…)", joined by "; "),
// else "vendor fix" when the advisory publishes one, "no fix published"
// when the remediations say none is available or planned, "-" otherwise.
func fixText(f *store.Finding) string {
	var rs []struct{ Category, Details string }
	if json.Unmarshal(f.Remediations, &rs) != nil {
		return "-"
	}
	var ups []string
	vendor, none := false, false
	for _, r := range rs {
		switch r.Category {
		case "vendor_fix":
			vendor = true
			if f.Source == store.SourceSBOM {
				ups = append(ups, r.Details)
			}
		case "none_available", "no_fix_planned":
			none = true
		}
	}
	switch {
	case len(ups) > 0:
		return strings.Join(ups, "; ")
	case vendor:
		return "vendor fix"
	case none:
		return "no fix published"
	}
	return "-"
}

func cvssText(v float64) string {
	if v == 0 {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}
