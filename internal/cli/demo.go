package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/medwarden/medwarden/internal/app"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/demo"
	"github.com/medwarden/medwarden/internal/importer"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/csvfile"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/web"
)

func demoVerb() *Verb {
	return &Verb{
		Name:    "demo",
		Summary: "build a realistic synthetic hospital and serve it (or write it as CSV with --out)",
		Usage:   "[--seed N] [--devices N] [--sites N] [--data DIR] [--addr HOST:PORT] [--out FILE]",
		Help: `Generates a deterministic demo hospital system (default: seed 1, 3 sites,
2,500 devices of 30+ types from manufacturers in CISA's medical advisories;
see docs/DEMO.md), loads it into a fresh embedded store and serves it like
'medwarden serve', printing the URL, the admin password and an API token
valid for 24 hours. Unlike serve, the demo speaks plain HTTP (so a
newcomer's browser shows no certificate warning) and therefore only on a
loopback address. Without --data the store lives in a new temporary
directory that is removed on exit.

With --out FILE it only writes the fleet as canonical inventory CSV (for
benchmarks: --devices 1000000 --out fleet.csv) and exits.`,
		Run: runDemo,
	}
}

func runDemo(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	start := time.Now()
	cfg := demo.DefaultConfig()
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: the same seed gives the same hospital")
	fs.IntVar(&cfg.Devices, "devices", cfg.Devices, "number of devices")
	fs.IntVar(&cfg.Sites, "sites", cfg.Sites, "number of sites (0: one per 800 devices)")
	data := fs.String("data", "", "directory for the demo's SQLite store (default: a temporary directory removed on exit); must not hold a store yet")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	out := fs.String("out", "", "write the fleet as CSV to this file and exit ('-' for standard output)")
	lf := addLogFlags(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	if err := cfg.Validate(); err != nil {
		return usageErr("%v", err)
	}
	if *out != "" {
		return writeAtomic(*out, env.Stdout, func(w io.Writer) error {
			cw := csvfile.NewWriter(w)
			if err := demo.Generate(cfg, func(d *inventory.Device) error { return cw.Write(d) }); err != nil {
				return err
			}
			return cw.Flush()
		})
	}
	log, err := lf.logger(env.Stderr)
	if err != nil {
		return err
	}
	dir := *data
	if dir == "" {
		if dir, err = os.MkdirTemp("", "medwarden-demo-*"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if _, err := os.Stat(filepath.Join(dir, "medwarden.db")); err == nil {
		return usageErr("--data %s already holds a store; the demo needs a fresh directory", dir)
	}
	st, err := app.OpenStore(ctx, app.StoreConfig{DataDir: dir})
	if err != nil {
		return err
	}
	defer st.Close()
	var fleet []*inventory.Device
	if err := demo.Generate(cfg, func(d *inventory.Device) error { fleet = append(fleet, d); return nil }); err != nil {
		return err
	}
	res, err := importer.Import(ctx, st, &inventory.SliceDecoder{Devices: fleet}, importer.Options{Source: fmt.Sprintf("demo seed %d", cfg.Seed)})
	if err != nil {
		return fmt.Errorf("load demo fleet: %w", err)
	}
	// A fleet of 100,000 devices or more is committed before its list and
	// search indexes (docs/INVENTORY.md): built now, so that the demo
	// starts as fast as it will run.
	if err := st.BuildIndexes(ctx, nil); err != nil {
		return fmt.Errorf("load demo fleet: %w", err)
	}
	// A few minutes of simulated traffic through the sensor and ingestion:
	// observed values, unregistered devices, conflicts and edges.
	traffic, err := loadDemoTraffic(ctx, st, fleet, cfg.Seed)
	if err != nil {
		return fmt.Errorf("load demo traffic: %w", err)
	}
	fmt.Fprintf(env.Stdout, "Sensor %s: %d minutes of simulated traffic: %d devices with observed values (%d conflicts to review), %d new devices, %d edges\n",
		demoSensorID, demoTrafficMinutes, traffic.Updated, traffic.Conflicts, traffic.Created, traffic.Edges)
	// Real advisories, so the findings service gives the demo real findings.
	if _, err := loadDemoAdvisories(ctx, st); err != nil {
		return fmt.Errorf("load demo advisories: %w", err)
	}
	// The demo's admin keeps its generated password (no forced change) so
	// the printed credentials work for the whole session.
	pw, err := auth.GeneratePassword()
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw, auth.DefaultParams)
	if err != nil {
		return err
	}
	admin := &store.User{Username: web.FirstAdmin, Role: string(auth.Admin), PasswordHash: hash}
	if err := st.CreateUser(ctx, admin); err != nil {
		return fmt.Errorf("create demo admin: %w", err)
	}
	// A read-write API token for the session, so the printed curl works.
	apiToken, err := auth.NewAPIToken()
	if err != nil {
		return err
	}
	if sec, ok := st.(store.SecurityStore); ok {
		now := store.Now()
		tk := &store.APIToken{UserID: admin.ID, Name: "demo", Hash: auth.HashToken(apiToken), CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
		for _, sc := range auth.Admin.Scopes() {
			tk.Scopes = append(tk.Scopes, string(sc))
		}
		if err := sec.CreateToken(ctx, tk); err != nil {
			return fmt.Errorf("create demo api token: %w", err)
		}
	}
	return app.Serve(ctx, app.ServerConfig{Addr: *addr, OnListening: func(a net.Addr) {
		fmt.Fprintf(env.Stdout, "MedWarden demo: %d devices at %d sites loaded in %s\n", res.Created, cfg.SiteCount(), time.Since(start).Round(time.Millisecond))
		fmt.Fprintf(env.Stdout, "Open http://%s/ and sign in as %q with password %s\n", a, web.FirstAdmin, pw)
		fmt.Fprintf(env.Stdout, "API: curl -H 'Authorization: Bearer %s' http://%s/api/v1/devices\nPress Ctrl-C to stop.\n", apiToken, a)
	}}, st, log)
}
