package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/csaf"
	"github.com/medwarden/medwarden/internal/assess"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/fileformat"
	"github.com/medwarden/medwarden/internal/match"
)

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func matchVerb() *Verb {
	return &Verb{
		Name:    "match",
		Summary: "match an inventory against CSAF advisories (findings with CVEs, KEV, EPSS)",
		Usage:   "--inventory FILE --advisories PATH... [--kev FILE] [--epss FILE] [--format json|csv|table]",
		Help: `Matches every device of the inventory against the CSAF advisories and prints one
finding per affected (device, advisory) pair: the matched product, method, confidence,
CVEs, highest CVSS, KEV flag and due date, EPSS and remediations. Pairs that cannot be
decided (unreadable version, ambiguous model) are findings with status needs_review.

PATH is a CSAF JSON file or a directory (walked for *.json); more paths may follow.
Feed dates are printed on stderr; a missing KEV or EPSS file is warned about.
Exit status: 0 whether or not there are findings, 2 on usage errors, 3 on bad input.`,
		Run: runMatch,
	}
}

func runMatch(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	in := addMatchInputs(fs)
	format := fs.String("format", "json", "output format: json, csv or table")
	aliasFile := fs.String("vendor-aliases", "", "extra vendor alias table (lines of \"Name = Other spelling = …\")")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := in.check(pos); err != nil {
		return err
	}
	switch {
	case *format != "json" && *format != "csv" && *format != "table":
		return usageErr("--format must be json, csv or table, not %q", *format)
	}
	aliases := match.DefaultAliases()
	if *aliasFile != "" {
		b, err := os.ReadFile(*aliasFile)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadInput, err)
		}
		if aliases, err = match.ParseAliases(strings.NewReader(string(b)), *aliasFile, aliases); err != nil {
			return fmt.Errorf("%w: %v", ErrBadInput, err)
		}
	}
	l, err := in.load(ctx, env, "kev=false means unknown, not \"not exploited\"", "epss=null means unknown")
	if err != nil {
		return err
	}
	devices, advs := l.devices, l.advs
	opts := match.Options{Aliases: aliases}
	if l.kev != nil {
		opts.KEV = l.kev.ByCVE()
	}
	if l.epss != nil {
		opts.EPSS = l.epss.ByCVE()
	}
	var newest time.Time
	for _, a := range advs {
		if a.CurrentRelease.After(newest) {
			newest = a.CurrentRelease
		}
	}
	if newest.IsZero() {
		fmt.Fprintf(env.Stderr, "feed CSAF: %d advisories\n", len(advs))
	} else {
		fmt.Fprintf(env.Stderr, "feed CSAF: %d advisories, newest dated %s\n", len(advs), newest.Format("2006-01-02"))
	}
	findings, ix, fleet, err := assess.Match(ctx, devices, advs, opts)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	review := 0
	for _, f := range findings {
		if f.Status == match.StatusNeedsReview {
			review++
		}
	}
	fmt.Fprintf(env.Stderr, "matched %d devices (%d distinct vendor/model/version) against %d advisories: %d findings (%d need review)\n",
		fleet.Len(), fleet.Combos(), ix.Len(), len(findings), review)
	return writeFindings(env.Stdout, *format, findings)
}

func readFeed[T any](name string, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(name)
	if err != nil {
		return zero, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		return zero, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	return v, nil
}

func readInventory(name string) ([]*inventory.Device, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	defer f.Close()
	dec, _, err := fileformat.Open(f, name)
	if err != nil {
		return nil, fmt.Errorf("%w: inventory %s: %v", ErrBadInput, name, err)
	}
	var out []*inventory.Device
	var bad []string
	for {
		d, err := dec.Next()
		if err == io.EOF {
			break
		}
		var ie *inventory.InputError
		if errors.As(err, &ie) {
			bad = append(bad, ie.Error())
			if len(bad) > 20 {
				break
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: inventory %s: %v", ErrBadInput, name, err)
		}
		out = append(out, d)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w: inventory %s has invalid rows:\n  %s", ErrBadInput, name, strings.Join(bad, "\n  "))
	}
	return out, nil
}

func readAdvisories(ctx context.Context, env *Env, paths []string) ([]*advisory.Advisory, error) {
	v, err := csaf.NewValidator(csaf.Options{})
	if err != nil {
		return nil, err
	}
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%w: advisories: %v", ErrBadInput, err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".json") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%w: advisories: %v", ErrBadInput, err)
		}
	}
	slices.Sort(files)
	if len(files) == 0 {
		// no advisories must never look like "no findings"
		return nil, fmt.Errorf("%w: no CSAF advisory (*.json) found in %s", ErrBadInput, strings.Join(paths, ", "))
	}
	var out []*advisory.Advisory
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
		}
		a, rep, err := v.ParseAdvisory(f, name)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
		}
		if a == nil {
			msg := "not a CSAF document"
			if rep != nil && len(rep.Errors) > 0 {
				msg = rep.Errors[0].Error()
			}
			return nil, fmt.Errorf("%w: advisory %s cannot be read: %s", ErrBadInput, name, msg)
		}
		if strings.TrimSpace(a.ID) == "" {
			return nil, fmt.Errorf("%w: advisory %s has no /document/tracking/id", ErrBadInput, name)
		}
		if rep != nil && !rep.Valid {
			tests := map[string]bool{}
			var ids []string
			for _, e := range rep.Errors {
				if !tests[e.Test] {
					tests[e.Test] = true
					ids = append(ids, e.Test)
				}
			}
			fmt.Fprintf(env.Stderr, "warning: %s fails CSAF validation (tests %s); matched anyway\n", name, strings.Join(ids, ", "))
		}
		out = append(out, a)
	}
	return out, nil
}

func writeFindings(w io.Writer, format string, fs []match.Finding) error {
	switch format {
	case "json":
		if fs == nil {
			fs = []match.Finding{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(fs)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"asset_id", "advisory_id", "status", "product_id", "product_name", "method", "confidence",
			"cves", "cvss", "cvss_vector", "kev", "kev_due_date", "epss", "epss_percentile", "remediations", "reasons"})
		for _, f := range fs {
			cvss, vec := "", ""
			if f.CVSS != nil {
				cvss, vec = strconv.FormatFloat(f.CVSS.BaseScore, 'f', 1, 64), f.CVSS.Vector
			}
			due := ""
			if f.KEVDueDate != nil {
				due = *f.KEVDueDate
			}
			ep, pct := "", ""
			if f.EPSS != nil {
				ep, pct = strconv.FormatFloat(f.EPSS.Score, 'f', -1, 64), strconv.FormatFloat(f.EPSS.Percentile, 'f', -1, 64)
			}
			var rems []string
			for _, r := range f.Remediations {
				rems = append(rems, r.Category)
			}
			_ = cw.Write([]string{f.AssetID, f.AdvisoryID, f.Status, f.ProductID, f.ProductName, f.Method,
				strconv.FormatFloat(f.Confidence, 'f', 2, 64), strings.Join(f.CVEs, " "), cvss, vec,
				strconv.FormatBool(f.KEV), due, ep, pct, strings.Join(rems, " "), strings.Join(f.Reasons, "; ")})
		}
		cw.Flush()
		return cw.Error()
	default:
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ASSET\tADVISORY\tSTATUS\tPRODUCT\tMETHOD\tCONF\tCVSS\tKEV\tCVES")
		for _, f := range fs {
			cvss := "-"
			if f.CVSS != nil {
				cvss = strconv.FormatFloat(f.CVSS.BaseScore, 'f', 1, 64)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%t\t%s\n", f.AssetID, f.AdvisoryID, f.Status, f.ProductName,
				f.Method, f.Confidence, cvss, f.KEV, strings.Join(f.CVEs, " "))
		}
		if len(fs) == 0 {
			fmt.Fprintln(tw, "(no findings)")
		}
		return tw.Flush()
	}
}
