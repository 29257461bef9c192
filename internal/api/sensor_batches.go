package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/medwarden/medwarden/internal/bus"
	"github.com/medwarden/medwarden/internal/ingest"
	"github.com/medwarden/medwarden/internal/ingest/batch"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// BatchSink takes sensor batches (ingest.Sink).
type BatchSink interface {
	Submit(ctx context.Context, b *batch.Batch, data []byte) (string, error)
}

// EnableSensorBatches turns on POST /api/v1/sensor/batches; without it
// the route answers 503. A sink that counts (ingest.Sink) also exports
// medwarden_sensor_batches_total{result="applied|duplicate|rejected|failed"}
// on /metrics.
func (s *Server) EnableSensorBatches(sink BatchSink) {
	s.batches = sink
	c, ok := sink.(interface{ Counters() ingest.Counters })
	if !ok {
		return
	}
	for _, m := range []struct {
		result string
		get    func(ingest.Counters) int64
	}{
		{"applied", func(c ingest.Counters) int64 { return c.Applied }},
		{"duplicate", func(c ingest.Counters) int64 { return c.Duplicates }},
		{"rejected", func(c ingest.Counters) int64 { return c.Rejected }},
		{"failed", func(c ingest.Counters) int64 { return c.Failed }},
	} {
		get := m.get
		s.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "medwarden_sensor_batches_total",
			Help:        "Sensor batches taken from the bus, by result (failed ones are retried).",
			ConstLabels: prometheus.Labels{"result": m.result},
		}, func() float64 { return float64(get(c.Counters())) }))
	}
}

// postSensorBatch accepts one sensor batch (batch.Format JSON). The caller
// is a principal allowed sensor:write: an enrolled sensor's client
// certificate (which may only send batches under its own sensor id) or an
// API token with sensor:write.
func (s *Server) postSensorBatch(w http.ResponseWriter, r *http.Request) {
	if s.batches == nil {
		writeProblem(w, r, Problem{Type: typeInternal, Title: "sensor ingestion is off", Status: http.StatusServiceUnavailable,
			Detail: "this server does not accept sensor batches"})
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, batch.MaxBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeProblem(w, r, Problem{Type: typeTooLarge, Title: "batch too large", Status: http.StatusRequestEntityTooLarge,
				Detail: fmt.Sprintf("a sensor batch is at most %d bytes", batch.MaxBytes)})
			return
		}
		badRequest(w, r, "read body: "+err.Error())
		return
	}
	b, err := batch.Decode(bytes.NewReader(data), "request body")
	if err != nil {
		badRequest(w, r, err.Error(), &inventory.InputError{File: "request body", Reason: err.Error()})
		return
	}
	if p, ok := PrincipalFrom(r.Context()); ok && p.Sensor != nil && p.Sensor.ID != b.SensorID {
		forbidden(w, r, fmt.Sprintf("sensor %s may not send batches as sensor %q", p.Sensor.ID, b.SensorID))
		return
	}
	status, err := s.batches.Submit(r.Context(), b, data)
	switch {
	case err == nil:
	case errors.Is(err, bus.ErrFull), errors.Is(err, ingest.ErrNotApplied), errors.Is(err, bus.ErrClosed):
		w.Header().Set("Retry-After", "5")
		writeProblem(w, r, Problem{Type: typeInternal, Title: "busy", Status: http.StatusServiceUnavailable,
			Detail: "the batch was not accepted; send it again later: " + err.Error()})
		return
	default:
		s.log.Error("sensor batch", "batch", b.ID(), "err", err)
		w.Header().Set("Retry-After", "5")
		writeProblem(w, r, Problem{Type: typeInternal, Title: "batch not accepted", Status: http.StatusServiceUnavailable,
			Detail: "the server could not queue the batch; send it again later"})
		return
	}
	code := http.StatusOK
	if status == ingest.StatusQueued {
		code = http.StatusAccepted
	}
	writeJSON(w, code, map[string]any{"batch": b.ID(), "status": status, "devices": len(b.Devices), "edges": len(b.Edges)})
}

// listEdges serves GET /api/v1/edges?device=ID&app=NAME&from=T&to=T&limit=N&cursor=C.
func (s *Server) listEdges(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	var q store.EdgeQuery
	for k := range qv {
		switch k {
		case "device", "app", "from", "to", "limit", "cursor":
		default:
			badParam(w, r, k, "one of device, app, from, to, limit, cursor (unknown parameter)")
			return
		}
	}
	if v := qv.Get("device"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			badParam(w, r, "device", "a device id")
			return
		}
		q.Device = id
	}
	q.App = qv.Get("app")
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := qv.Get(t.name); v != "" {
			ts, err := time.Parse(time.RFC3339, v)
			if err != nil {
				badParam(w, r, t.name, "an RFC 3339 time (2026-01-05T08:00:00Z)")
				return
			}
			*t.dst = ts
		}
	}
	if v := qv.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			badParam(w, r, "limit", "a number from 1 to 1000")
			return
		}
		q.Limit = n
	}
	q.Cursor = qv.Get("cursor")
	page, err := s.st.ListEdges(r.Context(), q)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	if page.Next != "" {
		nq := r.URL.Query()
		nq.Set("cursor", page.Next)
		w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, nq.Encode()))
	}
	writeJSON(w, http.StatusOK, page)
}
