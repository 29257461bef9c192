package cli

import (
	"context"
	"flag"

	"github.com/medwarden/medwarden/internal/app"
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

The default address is loopback only. Authentication and TLS are not built
in yet: do not expose this port beyond the host (see docs/OPERATIONS.md).`,
		Run: runServe,
	}
}

func runServe(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	lf := addLogFlags(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
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
	return app.Serve(ctx, app.ServerConfig{Addr: *addr}, st, log)
}
