package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
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
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/medwarden/medwarden/internal/advisory/csaf"
	"github.com/medwarden/medwarden/internal/feeds"
	"github.com/medwarden/medwarden/internal/feeds/bundle"
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
		feedsImportSub(),
		feedsStatusSub(),
		feedsKeygenSub(),
		feedsBundleSub(),
	}
}

func feedsVerb() *Verb {
	return &Verb{
		Name:    "feeds",
		Summary: "work with advisory feeds (CSAF, KEV, EPSS, NVD): validate, import, status, bundles",
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
	b.WriteString("\nRun 'medwarden feeds SUBCOMMAND -h' for a subcommand's flags. See docs/ADVISORIES.md and docs/FEEDS.md.")
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

const feedsImportHelp = `
Imports advisory feeds into the store, each input in its own transaction:
what a feed import writes lands completely or not at all.

INPUT may be:
  - a CSAF 2.0 file, or a directory of them (every *.json under it);
  - a CSAF provider tree: provider-metadata.json (local mirror directory or
    https://…/.well-known/csaf/provider-metadata.json), its distributions are
    followed (ROLIE feeds, or directories through changes.csv / index.txt);
  - a CSAF aggregator.json (every listed provider is imported);
  - a CISA KEV JSON file, an EPSS CSV (optionally .gz), an NVD CVE API 2.0
    JSON file (page, item or bare record) or a directory of them with --nvd;
  - a signed offline bundle (made by 'feeds bundle'), with --trusted-key.
The kind is detected from the content; --kev, --epss and --nvd force it.

Each advisory's published .sha256/.sha512 files are checked, and its .asc
OpenPGP signature with the provider's fingerprint-pinned keys and the keys
of --openpgp-key. A wrong hash, a bad signature or an invalid document
rejects that advisory (the others are imported) and the exit status is 3.
Only what changed is fetched again: entries of changes.csv/ROLIE older than
the last clean sync are skipped, and documents whose SHA-256 is stored are
not parsed again.

URLs are fetched only from hosts named with --allow-host; redirects to
another host, credentials in URLs and oversized answers are refused. The
address a name resolves to is checked too: private, loopback, link-local
and other internal destinations (the hospital network, cloud metadata)
are refused unless inside an --allow-net CIDR or named as an IP literal
with --allow-host (an internal mirror: --allow-net 10.20.0.0/16).

Exit status: 0 all imported; 3 some advisories rejected or an input invalid
(nothing of that input was written); 1 other failures; 2 usage mistakes.

examples:
  medwarden feeds import --kev known_exploited_vulnerabilities.json --epss epss_scores-current.csv.gz
  medwarden feeds import ./csaf-mirror/
  medwarden feeds import --allow-host www.cisa.gov https://www.cisa.gov/.well-known/csaf/provider-metadata.json
  medwarden feeds import --trusted-key feeds.pub feeds-2026-11-28.bundle`

func feedsImportSub() *feedsSub {
	return &feedsSub{
		Name:    "import",
		Summary: "import CSAF, provider trees, KEV, EPSS, NVD or a signed bundle into the store",
		Usage:   "[--data DIR|--db URL] [--allow-host HOST]... [--openpgp-key FILE]... [--trusted-key PUB]... [--kev FILE] [--epss FILE] [--nvd FILE|DIR] [INPUT...]",
		Help:    feedsImportHelp,
		Run:     runFeedsImport,
	}
}

func runFeedsImport(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	var hosts, pgpKeys, trusted, kevs, epsss, nvds multiFlag
	fs.Var(&hosts, "allow-host", "host name URLs may be fetched from (repeatable)")
	var nets multiFlag
	fs.Var(&nets, "allow-net", "internal address range (CIDR) fetches may reach, e.g. a local mirror's 10.20.0.0/16 (repeatable; internal addresses are refused otherwise)")
	fs.Var(&pgpKeys, "openpgp-key", "armored OpenPGP public key file trusted for advisory signatures (repeatable)")
	fs.Var(&trusted, "trusted-key", "ed25519 public key (PEM) trusted for bundles (repeatable)")
	fs.Var(&kevs, "kev", "CISA KEV JSON file or URL")
	fs.Var(&epsss, "epss", "EPSS CSV file (.csv or .csv.gz) or URL")
	fs.Var(&nvds, "nvd", "NVD CVE API 2.0 JSON file, URL or directory")
	requireSig := fs.Bool("require-signature", false, "reject advisories without a verifiable OpenPGP signature")
	maxDoc := fs.Int64("max-size", feeds.DefaultMaxDocument, "largest advisory or index accepted, in bytes")
	format := fs.String("format", "table", "output format: table or json")
	inputs, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return usageErr("--format must be table or json, not %q", *format)
	}
	if len(inputs)+len(kevs)+len(epsss)+len(nvds) == 0 {
		return usageErr("nothing to import: give INPUT or --kev/--epss/--nvd")
	}
	if *maxDoc <= 0 {
		return usageErr("--max-size must be positive")
	}
	opts := feeds.Options{AllowHosts: hosts, RequireSignature: *requireSig, MaxDocument: *maxDoc}
	if opts.AllowNets, err = feeds.ParseNets(nets); err != nil {
		return usageErr("%v", err)
	}
	for _, k := range pgpKeys {
		el, err := readOpenPGPKeys(k)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadInput, err)
		}
		opts.Keys = append(opts.Keys, el...)
	}
	pubs, err := readTrustedKeys(trusted)
	if err != nil {
		return err
	}
	st, err := sf.openAudited(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	im, err := feeds.NewImporter(st, opts)
	if err != nil {
		return err
	}
	type job struct{ loc, kind string }
	var jobs []job
	for _, l := range kevs {
		jobs = append(jobs, job{l, feeds.KindKEV})
	}
	for _, l := range epsss {
		jobs = append(jobs, job{l, feeds.KindEPSS})
	}
	for _, l := range nvds {
		jobs = append(jobs, job{l, feeds.KindNVD})
	}
	for _, l := range inputs {
		jobs = append(jobs, job{l, feeds.KindAuto})
	}
	var results []*feeds.Result
	var failed []error
	for _, j := range jobs {
		if isBundleFile(j.loc) {
			if len(pubs) == 0 {
				return usageErr("%s is a signed bundle: give the publisher's public key with --trusted-key", j.loc)
			}
			rs, err := importBundleFile(ctx, im, j.loc, pubs)
			results = append(results, rs...)
			if err != nil {
				failed = append(failed, err)
				fmt.Fprintf(env.Stderr, "medwarden feeds import: %v\n", err)
			}
			continue
		}
		res, err := im.Import(ctx, j.loc, j.kind)
		if res != nil {
			results = append(results, res)
		}
		if err != nil {
			failed = append(failed, err)
			fmt.Fprintf(env.Stderr, "medwarden feeds import: %v\n", err)
			if res != nil {
				for _, r := range res.Rejected {
					fmt.Fprintf(env.Stderr, "  rejected %s: %s\n", r.Location, r.Reason)
				}
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if results == nil {
		results = []*feeds.Result{}
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	} else {
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FEED\tKIND\tDATE\tIMPORTED\tUNCHANGED\tREJECTED")
		for _, r := range results {
			date := "undated"
			if !r.FeedDate.IsZero() {
				date = r.FeedDate.UTC().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", r.Feed, r.Kind, date, r.Imported, r.Unchanged, len(r.Rejected))
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		for _, r := range results {
			for _, w := range r.Warnings {
				fmt.Fprintf(env.Stderr, "warning: %s\n", w)
			}
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: %d of %d input(s) failed or had rejected advisories", ErrBadInput, len(failed), len(jobs))
	}
	return nil
}

// isBundleFile tells a local bundle (gzip holding a tar) from other inputs.
func isBundleFile(loc string) bool {
	if strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://") {
		return false
	}
	if strings.HasSuffix(loc, ".bundle") {
		return true
	}
	f, err := os.Open(loc)
	if err != nil {
		return false
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return false
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(zr, head)
	return n >= 262 && string(head[257:262]) == "ustar"
}

func importBundleFile(ctx context.Context, im *feeds.Importer, path string, pubs []ed25519.PublicKey) ([]*feeds.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rs, err := im.ImportBundle(ctx, f, path, pubs)
	if err != nil {
		return nil, err
	}
	return rs, nil
}

func readOpenPGPKeys(path string) (openpgp.EntityList, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
	if err != nil {
		if el, err2 := openpgp.ReadKeyRing(bytes.NewReader(b)); err2 == nil {
			return el, nil
		}
		return nil, fmt.Errorf("openpgp key %s: %w", path, err)
	}
	return el, nil
}

const feedsStatusHelp = `
Lists every feed in the store with its own date (KEV release, EPSS score
date, CSAF provider or newest advisory date, NVD newest change), its age,
item count and last error, and warns loudly about any feed that is missing
(no CSAF, KEV or EPSS data at all), failed, or older than --max-feed-age.
A missing or stale feed means "results incomplete", never "0 findings".

Warnings go to standard error. With --strict the exit status is 3 when
there is any warning, so a cron job or CI step can fail on stale feeds.

examples:
  medwarden feeds status
  medwarden feeds status --max-feed-age 2d --strict --format json`

func feedsStatusSub() *feedsSub {
	return &feedsSub{
		Name:    "status",
		Summary: "show each feed's date and age; warn when one is missing or stale",
		Usage:   "[--data DIR|--db URL] [--max-feed-age 7d] [--format table|json] [--strict]",
		Help:    feedsStatusHelp,
		Run:     runFeedsStatus,
	}
}

func runFeedsStatus(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	maxAge := fs.String("max-feed-age", "7d", "age after which a feed is stale (7d, 36h…)")
	format := fs.String("format", "table", "output format: table or json")
	strict := fs.Bool("strict", false, "exit with status 3 when a feed is missing, failed or stale")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	if *format != "table" && *format != "json" {
		return usageErr("--format must be table or json, not %q", *format)
	}
	age, err := feeds.ParseAge(*maxAge)
	if err != nil {
		return usageErr("--max-feed-age: %v", err)
	}
	st, err := sf.openAudited(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.ListFeeds(ctx)
	if err != nil {
		return err
	}
	rep := feeds.Status(list, feeds.StatusOptions{MaxAge: age})
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	} else {
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FEED\tKIND\tSTATE\tFEED DATE\tAGE\tITEMS\tIMPORTED\tLAST ERROR")
		for _, f := range rep.Feeds {
			date, imp := "-", "-"
			if !f.FeedDate.IsZero() {
				date = f.FeedDate.UTC().Format("2006-01-02 15:04")
			}
			if !f.ImportedAt.IsZero() {
				imp = f.ImportedAt.UTC().Format("2006-01-02 15:04")
			}
			age := f.AgeS
			if age == "" {
				age = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", f.Name, f.Kind, strings.ToUpper(f.State), date, age, f.Items, imp, oneLine(f.LastError))
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(env.Stderr, "WARNING: %s\n", w)
	}
	if *strict && !rep.OK() {
		return fmt.Errorf("%w: %d feed warning(s) (--strict)", ErrBadInput, len(rep.Warnings))
	}
	return nil
}

func feedsKeygenSub() *feedsSub {
	return &feedsSub{
		Name:    "keygen",
		Summary: "make an ed25519 key pair for signing offline bundles",
		Usage:   "--out DIR [--name feeds]",
		Help: `
Writes DIR/NAME.key (PKCS #8 PEM private key, mode 0600) and DIR/NAME.pub
(PEM public key) and prints the public key's SHA-256 fingerprint. Existing
files are never overwritten. Keep the private key on the machine that
builds bundles; copy NAME.pub to every site that imports them.`,
		Run: runFeedsKeygen,
	}
}

func runFeedsKeygen(_ context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	out := fs.String("out", "", "directory to write the key pair into")
	name := fs.String("name", "feeds", "base name of the key files")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	if *out == "" {
		return usageErr("--out DIR is required")
	}
	if *name == "" || strings.ContainsAny(*name, `/\`) {
		return usageErr("--name must be a plain file name")
	}
	priv, pub, err := bundle.GenerateKey()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	privPath, pubPath := filepath.Join(*out, *name+".key"), filepath.Join(*out, *name+".pub")
	if err := writeNew(privPath, priv, 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, pub, 0o644); err != nil {
		os.Remove(privPath)
		return err
	}
	pk, err := bundle.ParsePublicKey(pub, pubPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "private key: %s (keep secret)\npublic key:  %s\nfingerprint: sha256:%s\n", privPath, pubPath, bundle.Fingerprint(pk))
	return nil
}

// writeNew writes a new file durably (exclusive create, fsync).
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func feedsBundleSub() *feedsSub {
	return &feedsSub{
		Name:    "bundle",
		Summary: "pack every feed in the store into one signed, dated offline bundle",
		Usage:   "[--data DIR|--db URL] --key PRIV --out FILE",
		Help: `
Writes a tar+gzip archive holding manifest.json (creation time, each feed's
name, kind, source, own date, item count and files, and every file's
SHA-256), manifest.sig (ed25519 signature over manifest.json) and the feed
files (CSAF advisories as normalised JSON lines, KEV in CISA's JSON format,
EPSS in FIRST's CSV format, NVD records as an API 2.0 page).

Import it elsewhere with 'medwarden feeds import --trusted-key NAME.pub FILE':
the signature and every hash are checked before anything is loaded, and
the feed dates of the bundle are kept (an old bundle shows as stale).
The bundle is written to FILE.tmp and renamed into place when complete.`,
		Run: runFeedsBundle,
	}
}

func runFeedsBundle(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	keyPath := fs.String("key", "", "ed25519 private key (PEM, from 'feeds keygen')")
	out := fs.String("out", "", "bundle file to write")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	if *keyPath == "" || *out == "" {
		return usageErr("--key and --out are required")
	}
	kb, err := os.ReadFile(*keyPath)
	if err != nil {
		return err
	}
	priv, err := bundle.ParsePrivateKey(kb, *keyPath)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	st, err := sf.openAudited(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	tmp := *out + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	m, err := feeds.WriteBundle(ctx, st, f, priv, time.Now())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, *out)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("bundle %s: %w", *out, err)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "bundle %s created %s\n", *out, m.Created.Format(time.RFC3339))
	fmt.Fprintln(tw, "FEED\tKIND\tFEED DATE\tITEMS")
	for _, f := range m.Feeds {
		date := "undated"
		if !f.FeedDate.IsZero() {
			date = f.FeedDate.UTC().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", f.Name, f.Kind, date, f.Items)
	}
	return tw.Flush()
}

// readTrustedKeys reads the ed25519 public keys (PEM) trusted for signed
// offline bundles (--trusted-key of feeds import and serve).
func readTrustedKeys(files []string) ([]ed25519.PublicKey, error) {
	var pubs []ed25519.PublicKey
	for _, k := range files {
		b, err := os.ReadFile(k)
		if err != nil {
			return nil, err
		}
		pub, err := bundle.ParsePublicKey(b, k)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
		}
		pubs = append(pubs, pub)
	}
	return pubs, nil
}
