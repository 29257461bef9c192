// Package cli implements the medwarden command line: one file per verb, a
// single entry point Run that tests call directly, and one place where errors
// become exit codes.
package cli

import (
	"context"

	"errors"
	"flag"
	"fmt"
	"github.com/medwarden/medwarden/internal/audit"
	"io"
	"sort"
	"strings"
)

// Exit codes. Every verb returns an error; exitCode maps it here, once.
const (
	ExitOK       = 0
	ExitFailure  = 1 // the work failed (I/O, store, internal)
	ExitUsage    = 2 // bad flags or arguments
	ExitBadInput = 3 // the input files were read but are invalid
)

// Sentinel errors that select an exit code.
var (
	// ErrUsage marks a command-line mistake; the verb's usage is printed.
	ErrUsage = errors.New("usage")
	// ErrBadInput marks input that was read but rejected (invalid rows, documents).
	ErrBadInput = errors.New("bad input")
)

// Env is what a verb may touch: its streams and the context. Verbs never use
// os.Stdout or os.Exit directly, so tests can run them in-process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
}

// Verb is one CLI command. Run parses its own flags from args (without the
// verb name) using fs, which is pre-built with the verb's name and help.
type Verb struct {
	Name    string
	Summary string // one line for `medwarden help`
	Usage   string // argument synopsis after the verb name, e.g. "[flags] FILE..."
	// Help is the long description printed by `medwarden VERB -h`.
	Help string
	Run  func(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error
}

// Run is the whole CLI: it dispatches args[1] to a verb and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv ...func(string) string) int {
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: osGetenv}
	if len(getenv) > 0 && getenv[0] != nil {
		env.Getenv = getenv[0]
	}
	if len(args) < 2 {
		printHelp(stderr)
		return ExitUsage
	}
	name := args[1]
	switch name {
	case "help", "-h", "--help", "-help":
		if len(args) > 2 {
			if v, ok := lookup(args[2]); ok {
				fs := newFlagSet(v, stdout)
				fs.Usage()
				return ExitOK
			}
			fmt.Fprintf(stderr, "medwarden: unknown command %q\n", args[2])
			return ExitUsage
		}
		printHelp(stdout)
		return ExitOK
	}
	if _, ok := audit.ActorFrom(ctx); !ok {
		ctx = audit.WithActor(ctx, cliActor(env))
	}
	v, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "medwarden: unknown command %q (run 'medwarden help')\n", name)
		return ExitUsage
	}
	fs := newFlagSet(v, stderr)
	err := v.Run(ctx, env, fs, args[2:])
	return exitCode(err, v, fs, stderr)
}

func exitCode(err error, v *Verb, fs *flag.FlagSet, stderr io.Writer) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, ErrUsage):
		fmt.Fprintf(stderr, "medwarden %s: %v\n", v.Name, err)
		fmt.Fprintf(stderr, "usage: medwarden %s %s (see 'medwarden %s -h')\n", v.Name, v.Usage, v.Name)
		return ExitUsage
	case errors.Is(err, ErrBadInput):
		fmt.Fprintf(stderr, "medwarden %s: %v\n", v.Name, err)
		return ExitBadInput
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "medwarden %s: interrupted\n", v.Name)
		return ExitFailure
	default:
		fmt.Fprintf(stderr, "medwarden %s: %v\n", v.Name, err)
		return ExitFailure
	}
}

// usageErr wraps a message as a usage error.
func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, a...))
}

func newFlagSet(v *Verb, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("medwarden "+v.Name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: medwarden %s %s\n\n%s\n", v.Name, v.Usage, v.Summary)
		if v.Help != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(v.Help))
		}
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(w, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args into fs; -h prints help and returns flag.ErrHelp.
// Flags may follow positional arguments (medwarden import a.csv --data d).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", ErrUsage, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func lookup(name string) (*Verb, bool) {
	for _, v := range verbs() {
		if v.Name == name {
			return v, true
		}
	}
	return nil, false
}

func printHelp(w io.Writer) {
	fmt.Fprintf(w, "MedWarden — medical-device security platform\n\nusage: medwarden COMMAND [flags] [args]\n\ncommands:\n")
	vs := verbs()
	sort.Slice(vs, func(i, j int) bool { return vs[i].Name < vs[j].Name })
	for _, v := range vs {
		fmt.Fprintf(w, "  %-10s %s\n", v.Name, v.Summary)
	}
	fmt.Fprintf(w, "\nRun 'medwarden COMMAND -h' for a command's flags. Documentation: docs/ in the repository.\n")
}
