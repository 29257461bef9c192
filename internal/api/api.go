// Package api is MedWarden's REST API under /api/v1, with health, readiness
// and Prometheus metrics beside it. Handlers decode, call the store or a
// service, and encode; errors are RFC 9457 problem+json naming the field.
package api

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/medwarden/medwarden/internal/store"
)

// Limits on request bodies.
const (
	MaxJSONBody = 1 << 20 // 1 MiB for a device
	// DefaultMaxImport bounds an uploaded inventory file.
	DefaultMaxImport = 1 << 30
)

// Deps are what the API needs.
type Deps struct {
	Store  store.Store
	Logger *slog.Logger
	// MaxImportBytes bounds uploads to /api/v1/imports (default DefaultMaxImport).
	MaxImportBytes int64
	// Registry receives the metrics; nil makes a private one.
	Registry *prometheus.Registry
	// Security keeps API tokens and the audit log (nil: taken from Store
	// when it implements store.SecurityStore; otherwise every
	// authenticated route answers 401).
	Security store.SecurityStore
	// RateLimit configures the per-client and per-account token buckets.
	RateLimit RateLimit
	// SessionIdle is the console's idle timeout (zero: 30 minutes).
	SessionIdle time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// AuthCacheTTL is how long a verified API token is trusted without
	// reading the store again (0: DefaultAuthCacheTTL; < 0: never cached).
	// Only stores that count security changes (SecurityGenerationer) are
	// cached; see authcache.go.
	AuthCacheTTL time.Duration
	// ReadConcurrency bounds the API reads (GET under /api/) that run at
	// once; the others wait their turn (0: DefaultReadConcurrency()).
	ReadConcurrency int
	// AfterImport, when set, is called after each import that wrote to
	// the store (serve: run the index builds a large import deferred).
	AfterImport func()
}

// DefaultReadConcurrency is one more than the processors Go uses, at
// least 3.
//
// Why bound reads: every device write waits for the one goroutine that
// commits them in groups (store/sqldb/device_writes.go), and under a read
// flood that goroutine got a small share of the CPU among dozens of
// runnable reads: writes waited 35-50 ms on average and made the load
// test's p99 (bench/load.sh). With reads admitted a few at a time (in
// arrival order, as the processors free up) the committer keeps its share:
// on 2 processors the p99 fell from 91-219 ms unbounded to 77-79 ms with 3
// reads at once (86-91 with 4; 69-86 with 2, at 7-10 % fewer requests per
// second) in alternating runs (docs/benchmarks/api.md, session 6). A
// request waiting for its turn counts in its latency metric; one whose
// client goes away while waiting is dropped.
func DefaultReadConcurrency() int { return max(3, runtime.GOMAXPROCS(0)+1) }

// Route is one registered endpoint; the list is what the OpenAPI test checks.
type Route struct {
	Method, Path string
	handler      http.HandlerFunc
}

// Server is the HTTP handler.
type Server struct {
	st        store.Store
	log       *slog.Logger
	maxImport int64
	mux       *http.ServeMux
	routes    []Route
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec

	sec          store.SecurityStore
	now          func() time.Time
	sessionIdle  time.Duration
	clientLimit  *limiter
	accountLimit *limiter
	batches      BatchSink  // nil until EnableSensorBatches
	pki          *sensorPKI // nil until EnableSensors
	workflow     WorkflowService
	authCache    *authCache      // nil: every request reads the token and user
	unavailLog   logEvery        // rate of "store unavailable" warnings
	listJSON     deviceJSONCache // JSON of recently listed devices (devicejson.go)
	readSlots    chan struct{}   // API reads running (Deps.ReadConcurrency)
	afterImport  func()          // Deps.AfterImport
}

// New builds the API.
func New(d Deps) *Server {
	s := &Server{st: d.Store, log: d.Logger, maxImport: d.MaxImportBytes, mux: http.NewServeMux(), reg: d.Registry, afterImport: d.AfterImport}
	if d.ReadConcurrency <= 0 {
		d.ReadConcurrency = DefaultReadConcurrency()
	}
	s.readSlots = make(chan struct{}, d.ReadConcurrency)
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxImport <= 0 {
		s.maxImport = DefaultMaxImport
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	s.sec, s.now, s.sessionIdle = d.Security, d.Now, d.SessionIdle
	if s.sec == nil {
		s.sec, _ = d.Store.(store.SecurityStore)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.sessionIdle <= 0 {
		s.sessionIdle = 30 * time.Minute
	}
	// Tokens are cached only when the account and token changes both go
	// through one store that counts them (serve's audit recorder).
	var gen SecurityGenerationer
	if g1, ok := s.sec.(SecurityGenerationer); ok {
		if g2, ok := s.st.(SecurityGenerationer); ok && any(g1) == any(g2) {
			gen = g1
		}
	}
	s.authCache = newAuthCache(d.AuthCacheTTL, gen)
	rl := d.RateLimit.withDefaults()
	s.clientLimit = newLimiter(rl.PerClient, rl.Burst, s.now)
	s.accountLimit = newLimiter(rl.PerAccount, rl.Burst, s.now)
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "medwarden_http_requests_total", Help: "HTTP requests by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "medwarden_http_request_duration_seconds", Help: "HTTP request latency by route pattern and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .075, .1, .25, .5, 1, 2.5, 10},
	}, []string{"route", "method"})
	s.reg.MustRegister(s.requests, s.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "medwarden_devices", Help: "Devices in the inventory."}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := s.st.CountDevices(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))

	s.handle("GET", "/healthz", s.healthz)
	s.handle("GET", "/readyz", s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	s.routes = append(s.routes, Route{Method: "GET", Path: "/metrics"})
	s.handle("GET", "/api/v1/openapi.json", s.openapi)
	s.handle("GET", "/api/v1/devices", s.listDevices)
	s.handle("POST", "/api/v1/devices", s.createDevice)
	s.handle("GET", "/api/v1/devices/{id}", s.getDevice)
	s.handle("PUT", "/api/v1/devices/{id}", s.updateDevice)
	s.handle("DELETE", "/api/v1/devices/{id}", s.deleteDevice)
	s.handle("POST", "/api/v1/imports", s.importFile)
	s.handle("GET", "/api/v1/advisories", s.listAdvisories)
	s.handle("GET", "/api/v1/advisories/{id}", s.getAdvisory)
	s.handle("GET", "/api/v1/feeds", s.listFeeds)
	s.handle("GET", "/api/v1/audit", s.listAudit)
	s.handle("GET", "/api/v1/auth/whoami", s.whoami)
	// sensor ingestion (sensor_batches.go)
	s.handle("POST", "/api/v1/sensor/batches", s.postSensorBatch)
	s.handle("GET", "/api/v1/edges", s.listEdges)
	// risk & findings (cvss.go, rubric.go, findings.go, risk.go, remediations.go)
	s.handle("GET", "/api/v1/cvss", s.getCVSS)
	s.handle("POST", "/api/v1/cvss", s.postCVSS)
	s.handle("GET", "/api/v1/rubric", s.getRubric)
	s.handle("POST", "/api/v1/rubric", s.postRubric)
	s.handle("GET", "/api/v1/findings", s.listFindings)
	s.handle("GET", "/api/v1/findings/{id}", s.getFinding)
	s.handle("PATCH", "/api/v1/findings/{id}", s.patchFinding)
	s.handle("GET", "/api/v1/risk/devices", s.listDeviceRisk)
	s.handle("GET", "/api/v1/risk/devices/{id}", s.getDeviceRisk)
	s.handle("GET", "/api/v1/risk/register", s.getRegister)
	s.handle("GET", "/api/v1/risk/trend", s.getTrend)
	s.handle("GET", "/api/v1/remediations", s.listRemediations)
	// SBOMs (sboms.go)
	s.handle("GET", "/api/v1/sboms", s.listSBOMs)
	s.handle("POST", "/api/v1/sboms", s.attachSBOM)
	s.handle("GET", "/api/v1/sboms/{id}", s.getSBOM)
	s.handle("GET", "/api/v1/sboms/{id}/diff", s.diffSBOM)
	s.handle("GET", "/api/v1/sboms/{id}/export", s.exportSBOM)
	s.handle("GET", "/api/v1/components", s.listComponents)
	s.handle("GET", "/api/v1/devices/{id}/sboms", s.deviceSBOMs)
	s.handle("POST", "/api/v1/sensors/enroll", s.enrolSensor)
	s.handle("POST", "/api/v1/sensors/renew", s.renewSensor)
	// API tokens (tokens.go). Keep last: the route×role test revokes token 1 (an admin's) here.
	s.handle("GET", "/api/v1/tokens", s.listTokens)
	s.handle("POST", "/api/v1/tokens", s.createToken)
	s.handle("DELETE", "/api/v1/tokens/{id}", s.revokeToken)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, Problem{Type: typeNotFound, Title: "not found", Status: http.StatusNotFound, Detail: "no such API route: " + r.Method + " " + r.URL.Path})
	})
	return s
}

// Routes lists the registered endpoints.
func (s *Server) Routes() []Route { return s.routes }

// Handle lets other packages (the web UI) mount beside the API.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

func (s *Server) handle(method, path string, h http.HandlerFunc) {
	s.routes = append(s.routes, Route{Method: method, Path: path, handler: h})
	route := path
	latency := s.latency.WithLabelValues(route, method)
	gated := method == http.MethodGet && strings.HasPrefix(path, "/api/") // see DefaultReadConcurrency
	s.mux.Handle(method+" "+path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		if gated {
			select {
			case <-r.Context().Done(): // the client left before it was its turn
				s.abandoned(sw, r, r.Context().Err())
				s.requests.WithLabelValues(route, method, strconv.Itoa(sw.code)).Inc()
				return
			default:
			}
			select {
			case s.readSlots <- struct{}{}:
				defer func() { <-s.readSlots }()
			case <-r.Context().Done():
				s.abandoned(sw, r, r.Context().Err())
				s.requests.WithLabelValues(route, method, strconv.Itoa(sw.code)).Inc()
				return
			}
		}
		h(sw, r)
		s.requests.WithLabelValues(route, method, strconv.Itoa(sw.code)).Inc()
		latency.Observe(time.Since(start).Seconds())
	}))
}

// ServeHTTP adds the headers every response carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if needsAuth(r.URL.Path) {
		if r = s.guard(w, r); r == nil {
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int) { w.code = c; w.ResponseWriter.WriteHeader(c) }

// Flush passes through for server-sent events.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.st.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "store": "unreachable"})
		return
	}
	v, _ := s.st.SchemaVersion(ctx)
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "store": s.st.Dialect(), "schema": v})
}

//go:embed openapi.json
var openapiDoc []byte

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openapiDoc) //nolint:errcheck // client went away
}
