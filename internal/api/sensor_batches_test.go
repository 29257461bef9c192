package api_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/bus/memory"
	"github.com/medwarden/medwarden/internal/ingest"
	"github.com/medwarden/medwarden/internal/store"
)

func TestSensorBatchEndpoint(t *testing.T) {
	e := newAuthServer(t, api.RateLimit{PerClient: -1, PerAccount: -1})
	body, err := os.ReadFile("../ingest/batch/testdata/valid.json")
	if err != nil {
		t.Fatal(err)
	}
	url := e.ts.URL + "/api/v1/sensor/batches"
	sensorTok := newToken(t, e.st, "span-sensors", auth.ClinicalEngineer, "sensor:write")
	readTok := newToken(t, e.st, "reader", auth.Analyst, "devices:read")
	hdr := func(tok string) []string {
		return []string{"Authorization", "Bearer " + tok, "Content-Type", "application/json"}
	}

	// Not enabled: 503, the sensor keeps the batch.
	if r := call(t, "POST", url, string(body), hdr(sensorTok)...); r.code != 503 {
		t.Fatalf("ingestion off: %d %s", r.code, r.raw)
	}
	b := memory.New(memory.Options{})
	defer b.Close()
	svc := ingest.New(e.st, nil)
	c, _ := b.Consumer(context.Background(), ingest.ConsumerName)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go svc.Run(ctx, c)
	e.srv.EnableSensorBatches(ingest.NewSink(b, false, svc))

	if r := call(t, "POST", url, string(body), hdr(readTok)...); r.code != 403 || !strings.Contains(r.raw, "sensor:write") {
		t.Fatalf("token without sensor:write: %d %s", r.code, r.raw)
	}
	r := call(t, "POST", url, string(body), hdr(sensorTok)...)
	var ack struct{ Batch, Status string }
	if r.code != 200 || json.Unmarshal([]byte(r.raw), &ack) != nil || ack.Batch != "icu-span-1/42" || ack.Status != ingest.StatusApplied {
		t.Fatalf("valid batch: %d %s", r.code, r.raw)
	}
	// Acknowledged means stored.
	p, err := e.st.ListEdges(context.Background(), store.EdgeQuery{App: "hl7"})
	if err != nil || len(p.Edges) != 1 || p.Edges[0].Packets != 24 {
		t.Fatalf("stored edges after 200: %+v %v", p, err)
	}
	if r := call(t, "POST", url, string(body), hdr(sensorTok)...); r.code != 200 || !strings.Contains(r.raw, `"duplicate"`) {
		t.Fatalf("same batch again: %d %s", r.code, r.raw)
	}
	bad := strings.Replace(string(body), `"field":"version"`, `"field":"firmware"`, 1)
	if r := call(t, "POST", url, bad, hdr(sensorTok)...); r.code != 400 || !strings.Contains(r.raw, "/devices/0/observed/1/field") {
		t.Fatalf("invalid batch: %d %s", r.code, r.raw)
	}
	mt := newToken(t, e.st, "prom", auth.Viewer, "metrics:read")
	if r := call(t, "GET", e.ts.URL+"/metrics", "", "Authorization", "Bearer "+mt); !strings.Contains(r.raw, `medwarden_sensor_batches_total{result="applied"} 1`) ||
		!strings.Contains(r.raw, `medwarden_sensor_batches_total{result="duplicate"} 1`) {
		t.Errorf("metrics lack the ingestion counters:\n%s", r.raw)
	}
	// Edges are listed for readers.
	q := e.ts.URL + "/api/v1/edges?app=hl7&from=" + time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	if r := call(t, "GET", q, "", "Authorization", "Bearer "+readTok); r.code != 200 || !strings.Contains(r.raw, `"port":2575`) {
		t.Fatalf("GET edges: %d %s", r.code, r.raw)
	}
	if r := call(t, "GET", e.ts.URL+"/api/v1/edges?device=x", "", "Authorization", "Bearer "+readTok); r.code != 400 {
		t.Fatalf("bad device parameter: %d", r.code)
	}
}
