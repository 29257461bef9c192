package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/medwarden/medwarden/internal/importer"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/fileformat"
	"github.com/medwarden/medwarden/internal/store"
)

func importVerb() *Verb {
	return &Verb{
		Name:    "import",
		Summary: "import inventory files (CSV, JSON, FHIR R4 Device/Bundle/NDJSON) into the store",
		Usage:   "[flags] FILE...",
		Help: `Each FILE is recognised by its content: CSV with the canonical header or
CMMS-style column names (docs/INVENTORY_FORMATS.md), MedWarden JSON, a FHIR R4
Device resource or Bundle, or FHIR NDJSON. "-" reads standard input.

Records are merged with existing devices by asset id, then UDI (udi_di +
serial), then vendor + serial, then MAC address. Re-importing a file
changes nothing. The import is all-or-nothing: when any record of any file
is invalid, every problem is listed (file, line, column, reason) and nothing
is written. --skip-invalid imports the good records and lists the rest.

A large import (100,000 new devices or more into a store no larger than
the import) commits the devices first and then builds the list and search
indexes, reporting each on standard error; lists and searches answer
meanwhile, only slower. --no-index-build returns after the commit and leaves
the builds to the next import or serve (docs/INVENTORY.md, "Large imports").

Exit status: 0 imported; 3 rejected (invalid records); 1 a file could not be
read or the store failed.`,
		Run: runImport,
	}
}

func runImport(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	skip := fs.Bool("skip-invalid", false, "import the valid records and report the invalid ones instead of rejecting the file")
	dry := fs.Bool("dry-run", false, "validate and report what would change; write nothing")
	format := fs.String("format", "table", "report format: table or json")
	noBuild := fs.Bool("no-index-build", false, "return once the devices are committed, leaving the index builds a large import defers to the next import or serve")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageErr("no FILE given")
	}
	if *format != "table" && *format != "json" {
		return usageErr("--format must be table or json")
	}
	st, err := sf.openAudited(ctx)
	if err != nil {
		return err
	}
	defer st.Close()

	// With several files, check them all first so that one bad file keeps
	// every file out (all-or-nothing across the command).
	if len(files) > 1 && !*skip && !*dry {
		var bad []*importer.Result
		for _, f := range files {
			res, err := importFile(ctx, st, env, f, importer.Options{DryRun: true})
			if errors.Is(err, importer.ErrRejected) {
				bad = append(bad, res)
				continue
			}
			if err != nil {
				return err
			}
		}
		if len(bad) > 0 {
			printImport(env, *format, bad, false)
			return fmt.Errorf("%w: %d of %d files have invalid records; nothing was written", ErrBadInput, len(bad), len(files))
		}
	}
	var results []*importer.Result
	var rejected error
	for _, f := range files {
		res, err := importFile(ctx, st, env, f, importer.Options{SkipInvalid: *skip, DryRun: *dry})
		if res != nil {
			results = append(results, res)
		}
		if errors.Is(err, importer.ErrRejected) {
			rejected = fmt.Errorf("%w: %v", ErrBadInput, err)
			continue
		}
		if err != nil {
			printImport(env, *format, results, *dry)
			return err
		}
	}
	printImport(env, *format, results, *dry)
	if *dry || *noBuild {
		return rejected
	}
	if err := buildIndexes(ctx, st, env); err != nil {
		return err
	}
	return rejected
}

// buildIndexes builds the indexes a large import left for after its commit
// (store.DeviceStore.BuildIndexes), reporting each on standard error.
func buildIndexes(ctx context.Context, st store.DeviceStore, env *Env) error {
	pending, err := st.PendingIndexes(ctx)
	if err != nil || len(pending) == 0 {
		return err
	}
	fmt.Fprintf(env.Stderr, "devices committed; building %d deferred index step(s) (lists and search answer meanwhile, slower; Ctrl-C stops, the next import or serve resumes)\n", len(pending))
	start := time.Now()
	err = st.BuildIndexes(ctx, func(b store.IndexBuild) {
		fmt.Fprintf(env.Stderr, "  %-24s %6.1f s  (%d left)\n", b.Name, b.Took.Seconds(), b.Left)
	})
	if err != nil {
		return fmt.Errorf("the devices are imported, but building their indexes stopped (the next import or serve resumes it): %w", err)
	}
	fmt.Fprintf(env.Stderr, "indexes built in %.1f s\n", time.Since(start).Seconds())
	return nil
}

func importFile(ctx context.Context, st store.DeviceStore, env *Env, name string, opts importer.Options) (*importer.Result, error) {
	var r io.Reader
	source := filepath.Base(name)
	if name == "-" {
		r, source = env.Stdin, "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
		defer f.Close()
		r = f
	}
	dec, format, err := fileformat.Open(r, source)
	if err != nil {
		if ie, ok := inventory.AsInputError(err); ok {
			res := &importer.Result{File: source, Invalid: 1, Errors: []*inventory.InputError{ie}}
			return res, fmt.Errorf("%w: %v", importer.ErrRejected, err)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	opts.Source = source
	res, err := importer.Import(ctx, st, dec, opts)
	if res != nil {
		res.Format = string(format)
	}
	return res, err
}

// printImport reports each file; dry says the command was a --dry-run, so
// that a file the store failed to take is called failed, not a dry run.
func printImport(env *Env, format string, results []*importer.Result, dry bool) {
	if format == "json" {
		if results == nil {
			results = []*importer.Result{}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(results) //nolint:errcheck // stdout
		return
	}
	for _, r := range results {
		state := "imported"
		switch {
		case !r.Written && r.Invalid > 0:
			state = "REJECTED, nothing written"
		case !r.Written && dry:
			state = "dry run, nothing written"
		case !r.Written:
			state = "FAILED, nothing written"
		}
		fmt.Fprintf(env.Stdout, "%s (%s): %d records: %d created, %d updated, %d unchanged, %d invalid — %s\n",
			r.File, r.Format, r.Records, r.Created, r.Updated, r.Unchanged, r.Invalid, state)
		for _, w := range r.Warnings {
			fmt.Fprintf(env.Stderr, "warning: %s: %s\n", r.File, w)
		}
		for _, e := range r.Errors {
			fmt.Fprintf(env.Stderr, "%s\n", e.Error())
		}
		if r.MoreErrors > 0 {
			fmt.Fprintf(env.Stderr, "%s: %d more problems not listed\n", r.File, r.MoreErrors)
		}
	}
}
