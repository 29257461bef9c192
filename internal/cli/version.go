package cli

import (
	"context"
	"flag"
	"fmt"
	"runtime"

	"github.com/medwarden/medwarden/internal/buildinfo"
)

func versionVerb() *Verb {
	return &Verb{
		Name:    "version",
		Summary: "print the version, commit and store schema version",
		Usage:   "",
		Run: func(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
			if _, err := parseFlags(fs, args); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "medwarden %s\ncommit: %s\nschema: %d\ngo: %s\n",
				buildinfo.Version, buildinfo.CommitOrVCS(), schemaVersion(), runtime.Version())
			return nil
		},
	}
}
