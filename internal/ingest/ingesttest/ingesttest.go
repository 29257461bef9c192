// Package ingesttest produces realistic sensor batches for tests and
// benchmarks: a simulated hospital capture (internal/simulate) run through
// the sensor and cut into batches every simulated minute.
package ingesttest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/classify"
	"github.com/medwarden/medwarden/internal/ingest/batch"
	"github.com/medwarden/medwarden/internal/sensor"
	"github.com/medwarden/medwarden/internal/sensor/dissect/list"
	"github.com/medwarden/medwarden/internal/simulate"
)

// Output is what Produce made.
type Output struct {
	Batches []*batch.Batch
	Truth   *simulate.Truth
	// Packets and Bytes are the sensor's whole-run edge totals: what the
	// stored edges must add up to.
	Packets, Bytes uint64
}

// Produce simulates cfg and cuts the sensor's output into a batch per
// interval of capture time (per minute when every is 0).
func Produce(tb testing.TB, cfg simulate.Config, sensorID string, every time.Duration) *Output {
	tb.Helper()
	var buf bytes.Buffer
	truth, err := simulate.Generate(context.Background(), &buf, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := ProduceFrom(bytes.NewReader(buf.Bytes()), "simulated.pcap", sensorID, every)
	if err != nil {
		tb.Fatal(err)
	}
	out.Truth = truth
	return out
}

// ProduceFrom cuts a capture into batches per interval of capture time.
func ProduceFrom(r io.Reader, name, sensorID string, every time.Duration) (*Output, error) {
	if every <= 0 {
		every = time.Minute
	}
	src, err := sensor.OpenCapture(r, name)
	if err != nil {
		return nil, err
	}
	oui, err := classify.DefaultOUI()
	if err != nil {
		return nil, err
	}
	rules, err := classify.DefaultRules()
	if err != nil {
		return nil, err
	}
	s := sensor.New(sensor.Config{EdgeBuckets: true, Dissectors: list.Build(list.Default())})
	p := &batch.Producer{Sensor: s, Classifier: classify.New(oui, rules, classify.Options{}), Builder: batch.NewBuilder(sensorID, 0, 1)}
	out := &Output{}
	var next time.Time
	for {
		fr, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, sensor.ErrNoPacket) {
				continue
			}
			return nil, err
		}
		if next.IsZero() {
			next = fr.Time.Truncate(every).Add(every)
		}
		for !fr.Time.Before(next) {
			if b := p.Cut(next); b != nil {
				out.Batches = append(out.Batches, b)
			}
			next = next.Add(every)
		}
		s.Frame(fr)
	}
	s.Flush()
	if b := p.Cut(next); b != nil {
		out.Batches = append(out.Batches, b)
	}
	for _, e := range s.Result().Edges {
		out.Packets += e.Packets
		out.Bytes += e.Bytes
	}
	return out, nil
}
