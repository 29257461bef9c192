package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"

	"github.com/medwarden/medwarden/internal/advisory/csaf"
)

// feedsSub is one `medwarden feeds` subcommand. Subcommands are listed
// explicitly in feedsSubcommands; each parses its own flags.
type feedsSub struct {
	Name    string
	Summary string
	Usage   string
	Help    string
	Run     func(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error
}

// feedsSubcommands is the explicit list of `medwarden feeds` subcommands.
// Add one by writing its func and one line here.
func feedsSubcommands() []*feedsSub {
	return []*feedsSub{
		feedsValidateSub(),
	}
}

func feedsVerb() *Verb {
	return &Verb{
		Name:    "feeds",
		Summary: "work with advisory feeds (CSAF, KEV, EPSS)",
		Usage:   "SUBCOMMAND [flags] [args]",
		Help:    feedsHelp(),
		Run:     runFeeds,
	}
}

func feedsHelp() string {
	var b strings.Builder
	b.WriteString("subcommands:\n")
	for _, s := range feedsSubcommands() {
		fmt.Fprintf(&b, "  %-10s %s\n", s.Name, s.Summary)
	}
	b.WriteString("\nRun 'medwarden feeds SUBCOMMAND -h' for a subcommand's flags. See docs/ADVISORIES.md.")
	return b.String()
}

func feedsNames() string {
	var names []string
	for _, s := range feedsSubcommands() {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

func runFeeds(ctx context.Context, env *Env, vfs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return usageErr("missing subcommand (available: %s)", feedsNames())
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		vfs.SetOutput(env.Stdout)
		vfs.Usage()
		return flag.ErrHelp
	}
	for _, s := range feedsSubcommands() {
		if s.Name != name {
			continue
		}
		sfs := flag.NewFlagSet("medwarden feeds "+s.Name, flag.ContinueOnError)
		sfs.SetOutput(env.Stderr)
		sfs.Usage = func() {
			w := sfs.Output()
			fmt.Fprintf(w, "usage: medwarden feeds %s %s\n\n%s\n", s.Name, s.Usage, s.Summary)
			if s.Help != "" {
				fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(s.Help))
			}
			fmt.Fprintf(w, "\nflags:\n")
			sfs.PrintDefaults()
		}
		return s.Run(ctx, env, sfs, args[1:])
	}
	return usageErr("unknown subcommand %q (available: %s)", name, feedsNames())
}

const feedsValidateHelp = `
Validates CSAF 2.0 advisories offline: JSON syntax and size/nesting limits,
the official CSAF 2.0 JSON schema (embedded, with the FIRST CVSS schemas),
and every mandatory test of CSAF 2.0 section 6.1 (6.1.1 … 6.1.33).

FILE may be a file, "-" for standard input, or a directory (every *.json
file under it is validated, in name order).

For each file it prints the file name, whether it is valid, and each error
with the test id ("6.1.2", "schema", "json", "input"), the JSON pointer of
the offending value and a message. --format json prints an array of
{"file", "valid", "errors": [{"test", "path", "message"}]} objects.

--optional also runs the optional tests of section 6.2 (all but 6.2.13,
key sorting) and lists their failures as warnings ("warnings" in JSON);
warnings never make a document invalid.

Exit status: 0 when every file was read, valid or not; 1 when a file could
not be read (it is reported with test "read"); 2 for usage mistakes.

examples:
  medwarden feeds validate icsma-24-151-01.json
  medwarden feeds validate --format json advisories/ > report.json`

func feedsValidateSub() *feedsSub {
	return &feedsSub{
		Name:    "validate",
		Summary: "validate CSAF 2.0 advisories (schema and mandatory tests)",
		Usage:   "[--format json|table] [--optional] [--max-size BYTES] FILE...",
		Help:    feedsValidateHelp,
		Run:     runFeedsValidate,
	}
}

// validateResult is one file's line in the output (the CLI contract).
type validateResult struct {
	File   string       `json:"file"`
	Valid  bool         `json:"valid"`
	Errors []csaf.Error `json:"errors"`
	// Warnings are optional-test (6.2.x) failures, only with --optional.
	Warnings []csaf.Error `json:"warnings,omitempty"`
}

// testRead is the test id of files that could not be read.
const testRead = "read"

func runFeedsValidate(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	format := fs.String("format", "table", "output format: table or json")
	maxSize := fs.Int64("max-size", csaf.DefaultMaxSize, "largest document accepted, in bytes")
	optional := fs.Bool("optional", false, "also run the optional tests (6.2.x) and list their failures as warnings")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return usageErr("--format must be table or json, not %q", *format)
	}
	if len(files) == 0 {
		return usageErr("no FILE given")
	}
	if *maxSize <= 0 {
		return usageErr("--max-size must be positive")
	}
	v, err := csaf.NewValidator(csaf.Options{MaxSize: *maxSize, Optional: *optional})
	if err != nil {
		return fmt.Errorf("build validator: %w", err)
	}
	// Expand directories, then validate in parallel; output keeps argument order.
	type job struct {
		name string
		err  error // set when the directory walk failed here
	}
	var jobs []job
	for _, arg := range files {
		for _, name := range expandArg(arg, func(p string, err error) { jobs = append(jobs, job{name: p, err: err}) }) {
			jobs = append(jobs, job{name: name})
		}
	}
	results := make([]validateResult, len(jobs))
	readErr := make([]error, len(jobs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(jobs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(jobs) || ctx.Err() != nil {
					return
				}
				jb := jobs[i]
				var rep *csaf.Report
				err := jb.err
				if err == nil {
					rep, err = validateOne(v, env, jb.name)
				}
				if err != nil {
					readErr[i] = err
					results[i] = validateResult{File: jb.name, Errors: []csaf.Error{{Test: testRead, Message: err.Error()}}}
					continue
				}
				results[i] = validateResult{File: jb.name, Valid: rep.Valid, Errors: rep.Errors, Warnings: rep.Warnings}
				if rep.Truncated {
					results[i].Errors = append(rep.Errors, csaf.Error{Test: csaf.TestInput, Message: fmt.Sprintf("more than %d errors; the rest are not listed", csaf.DefaultMaxErrors)})
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	unreadable := 0
	for _, err := range readErr {
		if err != nil {
			unreadable++
			fmt.Fprintf(env.Stderr, "medwarden feeds validate: %v\n", err)
		}
	}
	if results == nil {
		results = []validateResult{}
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	} else if err := printValidateTable(env.Stdout, results); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if unreadable > 0 {
		return fmt.Errorf("%d file(s) could not be read", unreadable)
	}
	return nil
}

// expandArg turns a directory into its *.json files; other args pass through.
func expandArg(arg string, fail func(string, error)) []string {
	if arg == "-" {
		return []string{arg}
	}
	st, err := os.Stat(arg)
	if err != nil || !st.IsDir() {
		return []string{arg} // open reports the error
	}
	var out []string
	err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fail(p, err)
			return nil
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".json") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		fail(arg, err)
	}
	sort.Strings(out)
	return out
}

func validateOne(v *csaf.Validator, env *Env, name string) (*csaf.Report, error) {
	var r io.Reader
	if name == "-" {
		r = env.Stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	return v.Parse(r, name)
}

func printValidateTable(w io.Writer, results []validateResult) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tVALID\tTEST\tPATH\tMESSAGE")
	valid, invalid, unread, warnings := 0, 0, 0, 0
	for _, r := range results {
		v := "no"
		switch {
		case r.Valid:
			v = "yes"
			valid++
		case len(r.Errors) == 1 && r.Errors[0].Test == testRead:
			v = "unreadable"
			unread++
		default:
			invalid++
		}
		rows := append(append([]csaf.Error(nil), r.Errors...), r.Warnings...)
		warnings += len(r.Warnings)
		if len(rows) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t\t\t\n", r.File, v)
			continue
		}
		for i, e := range rows {
			file, vv := r.File, v
			if i > 0 {
				file, vv = "", ""
			}
			path := e.Path
			if path == "" {
				path = "/"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", file, vv, e.Test, path, oneLine(e.Message))
		}
	}
	fmt.Fprintf(tw, "\n%d file(s): %d valid, %d invalid, %d unreadable", len(results), valid, invalid, unread)
	if warnings > 0 {
		fmt.Fprintf(tw, "; %d optional-test warning(s)", warnings)
	}
	fmt.Fprintln(tw)
	return tw.Flush()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
