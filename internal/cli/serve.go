package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/medwarden/medwarden/internal/app"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/web"
)

func serveVerb() *Verb {
	return &Verb{
		Name:    "serve",
		Summary: "serve the web UI and REST API (/api/v1) on the configured store",
		Usage:   "[--addr HOST:PORT] [--data DIR | --db URL] [flags]",
		Help: `Serves the REST API under /api/v1 (OpenAPI document at
/api/v1/openapi.json), /healthz (the process is up), /readyz (the store
answers) and Prometheus metrics at /metrics. Migrations run at start.
SIGINT or SIGTERM shut down gracefully: requests in flight finish first.

The web console is at / (see docs/WEB.md). On the first start, when the
store has no accounts, an "admin" account is created and its one-time
password is printed once; manage accounts with 'medwarden user'.

The default address is loopback only. The REST API is not authenticated
yet and TLS is not built in: do not expose this port beyond the host (see
docs/OPERATIONS.md).`,
		Run: runServe,
	}
}

func runServe(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	lf := addLogFlags(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	trustProto := fs.Bool("trust-forwarded-proto", false, "behind a TLS reverse proxy you control: mark session cookies Secure when it sends X-Forwarded-Proto: https")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	log, err := lf.logger(env.Stderr)
	if err != nil {
		return err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("store open", "store", sf.config().Describe())
	pw, err := web.EnsureAdmin(ctx, st, auth.Params{})
	if err != nil {
		return err
	}
	if pw != "" {
		fmt.Fprintf(env.Stdout, "First start: created user %q with one-time password %s\n(shown once; it must be changed at the first sign-in; 'medwarden user passwd %s' sets a new one)\n", web.FirstAdmin, pw, web.FirstAdmin)
	}
	return app.Serve(ctx, app.ServerConfig{Addr: *addr, TrustForwardedProto: *trustProto}, st, log)
}
