package app

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/findings"
	"github.com/medwarden/medwarden/internal/indexbuild"
	"github.com/medwarden/medwarden/internal/oidc"
	"github.com/medwarden/medwarden/internal/pki"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/web"
)

// ServerConfig configures the HTTP server.
type ServerConfig struct {
	Addr string
	// OnListening is called with the bound address once the server accepts.
	OnListening func(addr net.Addr)
	// TrustForwardedProto marks session cookies Secure when a reverse proxy
	// sends X-Forwarded-Proto: https.
	TrustForwardedProto bool
	// TLS serves HTTPS with this configuration (tlsutil.ServerConfig). Nil
	// serves plain HTTP, which Serve allows on a loopback address only.
	TLS *tls.Config
	// RateLimit configures the API's token buckets (zero: defaults).
	RateLimit api.RateLimit
	// SensorCA turns on sensor enrolment and client-certificate
	// authentication (TLS must then request client certificates:
	// pki.RequestClientCerts).
	SensorCA *pki.CA
	// OIDC turns on single sign-on in the console (nil: local accounts only).
	OIDC *oidc.Provider
	// Bus carries sensor batches: "" or "memory" (in-process) or
	// nats://host:port (NATS JetStream); see StartIngest.
	Bus string
	// MaxFeedAge is when the console calls a feed stale (≤ 0: feeds.DefaultMaxAge).
	MaxFeedAge time.Duration
	// BundleKeys are the ed25519 public keys the console's feed upload
	// trusts for signed offline bundles.
	BundleKeys []ed25519.PublicKey
	// PprofAddr serves Go's profiler (/debug/pprof/) on this loopback
	// address when set ("" : off).
	PprofAddr string
}

// Server timeouts: slow clients cannot hold connections open (slowloris).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 5 * time.Minute // large inventory uploads
	writeTimeout      = 5 * time.Minute
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 15 * time.Second
)

// Serve runs the API and UI on cfg.Addr until ctx is cancelled, then shuts
// down gracefully: it stops accepting, lets requests in flight finish (up
// to shutdownTimeout) and returns.
func Serve(ctx context.Context, cfg ServerConfig, st store.Store, log *slog.Logger) error {
	if cfg.PprofAddr != "" {
		_, stop, err := startPprof(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	// Every change made through the API or the console is audited.
	rec, err := recorder.Wrap(st, log.With("subsystem", "audit"))
	if err != nil {
		return err
	}
	// Findings, device risk and the daily register snapshot stay current
	// (internal/findings: recompute when stale, then watch for changes).
	fsvc := findings.New(rec, findings.Options{Logger: log.With("subsystem", "findings")})
	fctx, fstop := context.WithCancel(ctx)
	fdone := make(chan struct{})
	go func() { defer close(fdone); fsvc.Run(fctx) }() //nolint:errcheck // Run logs its errors
	defer func() { fstop(); <-fdone }()
	// Index builds a large import left for after its commit, in this
	// process or another (a CLI import interrupted while building), and
	// after every import through the API or the console.
	builds := indexbuild.New(ctx, rec, log.With("subsystem", "indexes"))
	builds.Kick()
	defer builds.Wait()
	handler := api.New(api.Deps{Store: rec, Logger: log, RateLimit: cfg.RateLimit, AfterImport: builds.Kick})
	handler.EnableFindingsService(fsvc)
	if cfg.SensorCA != nil {
		ss, ok := st.(store.SensorStore)
		if !ok {
			return fmt.Errorf("store %s keeps no sensors: sensor enrolment needs a store with SensorStore", st.Dialect())
		}
		handler.EnableSensors(cfg.SensorCA, ss)
	}
	// Devices a sensor batch created or changed: their findings are recomputed.
	notify, stopNotify := Coalesce(func(ctx context.Context, ids []int64) {
		if _, err := fsvc.DevicesChanged(ctx, ids); err != nil {
			log.Warn("findings after sensor ingestion", "devices", len(ids), "err", err)
		}
	})
	defer stopNotify()
	ing, err := StartIngest(ctx, cfg.Bus, st, log, notify)
	if err != nil {
		return err
	}
	defer ing.Stop()
	handler.EnableSensorBatches(ing.Sink)
	ui, err := web.New(ctx, web.Deps{Store: rec, Logger: log.With("subsystem", "web"), TrustForwardedProto: cfg.TrustForwardedProto,
		Findings: fsvc, MaxFeedAge: cfg.MaxFeedAge, BundleKeys: cfg.BundleKeys, AfterImport: builds.Kick})
	if err != nil {
		return err
	}
	defer ui.Close()
	if cfg.OIDC != nil {
		links, ok := st.(store.OIDCStore)
		if !ok {
			return fmt.Errorf("store %s keeps no OIDC identities", st.Dialect())
		}
		ui.EnableOIDC(cfg.OIDC, links)
	}
	handler.Handle("/", handler.WithSessionActor(ui)) // the console; the API keeps /api/v1, /healthz, /readyz, /metrics
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() && cfg.TLS == nil {
		ln.Close()
		return fmt.Errorf("listen on %s: plain HTTP is only allowed on a loopback address; serve TLS (the default) or listen on 127.0.0.1 behind a local reverse proxy", ln.Addr())
	}
	scheme := "http"
	if cfg.TLS != nil {
		scheme = "https"
	}
	srv := &http.Server{
		TLSConfig:         cfg.TLS,
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLS != nil {
			errc <- srv.ServeTLS(ln, "", "") // certificates come from TLSConfig
			return
		}
		errc <- srv.Serve(ln)
	}()
	log.Info("serving", "addr", ln.Addr().String(), "scheme", scheme, "store", st.Dialect())
	if cfg.OnListening != nil {
		cfg.OnListening(ln.Addr())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
