// Package sensortest runs captures through the sensor for tests of the core
// and of dissectors.
package sensortest

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/sensor"
	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Run feeds the capture at path through a sensor running ds and returns the
// flushed result. A capture that ends early is not an error here.
func Run(tb testing.TB, path string, ds ...dissect.Dissector) *sensor.Result {
	tb.Helper()
	fh, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	src, err := sensor.OpenCapture(fh, path)
	if err != nil {
		tb.Fatalf("OpenCapture(%s): %v", path, err)
	}
	s := sensor.New(sensor.Config{Dissectors: ds})
	if err := s.Run(context.Background(), src); err != nil {
		tb.Logf("Run(%s): %v", path, err)
	}
	s.Flush()
	return s.Result()
}

// Values returns the distinct values of field in r, sorted.
func Values(r *sensor.Result, field string) []string {
	seen := map[string]bool{}
	for _, o := range r.Observations {
		if o.Field == field {
			seen[o.Value] = true
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Fields maps every field to its sorted distinct values.
func Fields(r *sensor.Result) map[string][]string {
	m := map[string][]string{}
	for _, o := range r.Observations {
		m[o.Field] = nil
	}
	for f := range m {
		m[f] = Values(r, f)
	}
	return m
}

// SeedFiles lists the regular files (not *.md) in dir,
// for fuzz seeding.
func SeedFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, f := range m {
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() && filepath.Ext(f) != ".md" {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// Payloads collects the application payloads the sensor hands to
// dissectors of layer, from the capture at path, for seeding fuzz tests.
func Payloads(tb testing.TB, path string, layer dissect.Layer) [][]byte {
	tb.Helper()
	rec := &recorder{layer: layer}
	Run(tb, path, rec)
	return rec.payloads
}

type recorder struct {
	layer    dissect.Layer
	payloads [][]byte
}

func (r *recorder) Name() string         { return "recorder" }
func (r *recorder) Layer() dissect.Layer { return r.layer }
func (r *recorder) Ports() []uint16      { return nil }
func (r *recorder) Detect(*dissect.Flow, dissect.Direction, []byte) bool {
	return true
}
func (r *recorder) DissectPacket(_ *dissect.Flow, _ dissect.Direction, p []byte, _ time.Time, _ dissect.Emitter) error {
	if len(r.payloads) < 64 {
		r.payloads = append(r.payloads, append([]byte(nil), p...))
	}
	return nil
}
func (r *recorder) NewStream(*dissect.Flow) dissect.Stream { return &recStream{r: r} }

type recStream struct {
	r   *recorder
	buf [2][]byte
}

func (s *recStream) Feed(dir dissect.Direction, data []byte, _ time.Time, _ dissect.Emitter) error {
	if len(s.buf[dir&1]) < 64<<10 {
		s.buf[dir&1] = append(s.buf[dir&1], data...)
	}
	return nil
}
func (s *recStream) Gap(dissect.Direction) {}
func (s *recStream) End(dissect.Emitter) {
	for _, b := range s.buf {
		if len(b) > 0 && len(s.r.payloads) < 64 {
			s.r.payloads = append(s.r.payloads, b)
		}
	}
}
