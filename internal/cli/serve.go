package cli

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/app"
	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/feeds"
	"github.com/medwarden/medwarden/internal/gcpace"
	"github.com/medwarden/medwarden/internal/pki"
	"github.com/medwarden/medwarden/internal/tlsutil"
	"github.com/medwarden/medwarden/internal/web"
)

func serveVerb() *Verb {
	return &Verb{
		Name:    "serve",
		Summary: "serve the web UI and REST API (/api/v1) on the configured store",
		Usage:   "[--addr HOST:PORT] [--data DIR | --db URL] [--tls-cert FILE --tls-key FILE | --insecure-http] [flags]",
		Help: `Serves the REST API under /api/v1 (OpenAPI document at
/api/v1/openapi.json), /healthz (the process is up), /readyz (the store
answers) and Prometheus metrics at /metrics. Migrations run at start.
SIGINT or SIGTERM shut down gracefully: requests in flight finish first.

The web console is at / (see docs/WEB.md). On the first start, when the
store has no accounts, an "admin" account is created and its one-time
password is printed once; manage accounts with 'medwarden user'.

HTTPS is the default, on every address. With --tls-cert and --tls-key the
operator's certificate is used; otherwise a self-signed ECDSA P-256
certificate is generated on the first start, kept in DATA/tls (key mode
0600) and its SHA-256 fingerprint printed so browsers' warnings can be
checked. TLS 1.2+ only, with HSTS. --insecure-http serves plain HTTP and is
refused on anything but a loopback address (behind a local TLS proxy).

Every /api/v1 route needs an API token ('medwarden token create') or a
console session; see docs/SECURITY.md. Over TLS the server also asks for
client certificates: sensors enrolled with the sensor CA kept in DATA/pki
('medwarden sensors token', 'medwarden sensor enroll') authenticate with
theirs (docs/SENSOR_ENROLMENT.md). With --oidc-issuer the console also
offers single sign-on with the hospital's OpenID Connect provider, roles
mapped from a claim (docs/SSO.md). Every change is written to the
hash-chained audit log ('medwarden audit verify').

Sensors send batches to POST /api/v1/sensor/batches; the bus carries them
to the ingester: in-process by default, NATS JetStream with --bus
nats://HOST:4222 or $MEDWARDEN_BUS (docs/SENSOR.md).

Findings, device risk and the daily risk-register snapshot are kept current
in the background (docs/FINDINGS.md). Pages that depend on feeds show each
feed's date and a loud banner when one is missing or older than
--max-feed-age (default 7d); signed bundles uploaded on the feeds page are
checked against the --trusted-key public keys (docs/FEEDS.md).

Memory: the Go garbage collector lets the heap grow by 200 % of the live
heap or 512 MiB, whichever is less (at least 100 %, Go's default); set
GOGC to choose yourself.`,
		Run: runServe,
	}
}

// serveGCPace: a collection when the heap has grown by 200 % of the live
// heap or by 512 MiB, whichever is less, but at least by 100 % (Go's
// default). Under bench/load.sh (100,000 devices, ~190 MB live) GOGC=200
// gave 4-6 % more requests per second and a lower p99 than the default in
// alternating runs (docs/benchmarks/api.md, session 6).
var serveGCPace = gcpace.Config{Max: 200, Headroom: 512 << 20}

func runServe(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	sf := addStoreFlags(fs, env)
	lf := addLogFlags(fs)
	addr := fs.String("addr", "127.0.0.1:8443", "address to listen on")
	certFile := fs.String("tls-cert", "", "PEM certificate chain to serve (with --tls-key); default: a self-signed certificate kept in DATA/tls")
	keyFile := fs.String("tls-key", "", "PEM private key of --tls-cert")
	perClient := fs.Float64("rate-limit-client", api.DefaultPerClient, "API requests per second per client address (burst: twice that); -1 turns the limit off")
	perAccount := fs.Float64("rate-limit-account", api.DefaultPerAccount, "API requests per second per user or token (burst: twice that); -1 turns the limit off")
	insecure := fs.Bool("insecure-http", false, "serve plain HTTP instead of HTTPS (loopback addresses only, behind a local TLS reverse proxy)")
	busURL := fs.String("bus", env.Getenv("MEDWARDEN_BUS"), "bus for sensor batches: memory (in-process, default) or nats://HOST:4222 (NATS JetStream; $MEDWARDEN_BUS); see docs/SENSOR.md")
	trustProto := fs.Bool("trust-forwarded-proto", false, "behind a TLS reverse proxy you control: mark session cookies Secure when it sends X-Forwarded-Proto: https")
	of := addOIDCFlags(fs, env)
	maxFeedAge := fs.String("max-feed-age", "7d", "age after which the console calls a feed stale and says so on every feed-dependent page (7d, 36h…)")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060 (off by default; refused on other addresses)")
	var trusted multiFlag
	fs.Var(&trusted, "trusted-key", "ed25519 public key (PEM) trusted for signed feed bundles uploaded in the console (repeatable)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	feedAge, err := feeds.ParseAge(*maxFeedAge)
	if err != nil {
		return usageErr("--max-feed-age: %v", err)
	}
	bundleKeys, err := readTrustedKeys(trusted)
	if err != nil {
		return err
	}
	sso, err := of.provider(ctx)
	if err != nil {
		return err
	}
	if *perClient == 0 || *perAccount == 0 {
		return usageErr("a rate limit of 0 would refuse every request; use -1 to turn it off")
	}
	if (*certFile == "") != (*keyFile == "") {
		return usageErr("--tls-cert and --tls-key go together")
	}
	if *insecure && *certFile != "" {
		return usageErr("--insecure-http and --tls-cert contradict each other")
	}
	if *insecure && !loopbackAddr(*addr) {
		return usageErr("--insecure-http is only allowed on a loopback address (127.0.0.1, ::1, localhost), not %q", *addr)
	}
	log, err := lf.logger(env.Stderr)
	if err != nil {
		return err
	}
	if gcpace.Start(serveGCPace) {
		log.Debug("garbage collector paced by the live heap", "max_percent", serveGCPace.Max, "headroom_bytes", serveGCPace.Headroom)
	}
	var tlsCfg *tls.Config
	var sensorCA *pki.CA
	if !*insecure {
		var l *tlsutil.Loaded
		if *certFile != "" {
			l, err = tlsutil.Load(*certFile, *keyFile)
		} else {
			l, err = tlsutil.LoadOrCreate(filepath.Join(sf.dataDir, "tls"), tlsutil.Hosts(*addr), time.Now())
		}
		if err != nil {
			return err
		}
		tlsCfg = tlsutil.ServerConfig(l.Cert)
		what := "operator-supplied"
		if *certFile == "" {
			what = "self-signed"
			if l.Created {
				what = "new self-signed"
			}
		}
		fmt.Fprintf(env.Stdout, "TLS: %s certificate %s (valid until %s)\nSHA-256 fingerprint: %s\n", what, l.CertPath, l.NotAfter.Format("2006-01-02"), l.Fingerprint)
		if sensorCA, err = loadSensorCA(env, sf); err != nil {
			return err
		}
		tlsCfg = pki.RequestClientCerts(tlsCfg, sensorCA)
	}
	if dbPath, ok := sqlitePath(sf); ok {
		// 'medwarden restore' refuses to replace a store while this runs.
		if err := os.MkdirAll(filepath.Dir(dbPath), 0o700); err != nil {
			return err
		}
		release, err := lockStore(dbPath)
		if err != nil {
			return err
		}
		defer release()
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("store open", "store", sf.config().Describe())
	rec, err := recorder.Wrap(st, log)
	if err != nil {
		return err
	}
	pw, err := web.EnsureAdmin(audit.WithActor(ctx, audit.Actor{Name: "medwarden serve", Kind: audit.KindSystem, Source: "cli"}), rec, auth.Params{})
	if err != nil {
		return err
	}
	if pw != "" {
		fmt.Fprintf(env.Stdout, "First start: created user %q with one-time password %s\n(shown once; it must be changed at the first sign-in; 'medwarden user passwd %s' sets a new one)\n", web.FirstAdmin, pw, web.FirstAdmin)
	}
	return app.Serve(ctx, app.ServerConfig{Addr: *addr, TrustForwardedProto: *trustProto, TLS: tlsCfg,
		RateLimit: api.RateLimit{PerClient: *perClient, PerAccount: *perAccount, Burst: int(2 * max(*perClient, *perAccount, 1))},
		SensorCA:  sensorCA, Bus: *busURL, OIDC: sso, MaxFeedAge: feedAge, BundleKeys: bundleKeys, PprofAddr: *pprofAddr}, st, log)
}

// loopbackAddr reports whether a listen address is on loopback only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
