package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/medwarden/medwarden/internal/classify"
	"github.com/medwarden/medwarden/internal/sensor"
	"github.com/medwarden/medwarden/internal/sensor/dissect/list"
)

// runCapture feeds a capture through a new sensor with the default
// dissectors.
func runCapture(t *testing.T, path string) *sensor.Sensor {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	src, err := sensor.OpenCapture(fh, path)
	if err != nil {
		t.Fatalf("OpenCapture(%s): %v", path, err)
	}
	s := sensor.New(sensor.Config{Dissectors: list.Build(list.Default())})
	if err := s.Run(context.Background(), src); err != nil {
		t.Logf("Run(%s): %v", path, err)
	}
	return s
}

// TestFromResultIsBuild checks that the memory-releasing path of a scan
// (Sensor.TakeResult, then FromResult) writes exactly the report of
// Flush + Result + Build, on every capture of the sensor's test data, and
// that TakeResult leaves the sensor empty.
func TestFromResultIsBuild(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*.pcap*")
	if len(files) == 0 {
		t.Fatal("no captures in ../testdata")
	}
	oui, err := classify.DefaultOUI()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := classify.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	c := classify.New(oui, rules, classify.Options{})
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s := runCapture(t, f)
			s.Flush()
			res := s.Result()
			var want bytes.Buffer
			if err := Build(res, c.Classify(Input(res))).WriteJSON(&want); err != nil {
				t.Fatal(err)
			}

			s = runCapture(t, f)
			taken := s.TakeResult()
			if again := s.Result(); len(again.Observations)+len(again.Edges)+len(again.Hosts)+len(again.Findings) != 0 {
				t.Errorf("after TakeResult the sensor still holds %d observations, %d edges, %d hosts, %d findings",
					len(again.Observations), len(again.Edges), len(again.Hosts), len(again.Findings))
			}
			var got bytes.Buffer
			if err := FromResult(taken, c).WriteJSON(&got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("FromResult(TakeResult()) report differs from Build(Result()):\n got %d bytes\nwant %d bytes", got.Len(), want.Len())
			}
			if taken.Observations != nil || taken.Edges != nil || taken.Hosts != nil {
				t.Error("FromResult did not release the result's observations, edges and hosts")
			}

			// What medwarden scan does: the unordered take.
			s = runCapture(t, f)
			got.Reset()
			if err := FromResult(s.TakeResultUnordered(), c).WriteJSON(&got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("FromResult(TakeResultUnordered()) report differs from Build(Result()):\n got %d bytes\nwant %d bytes", got.Len(), want.Len())
			}
		})
	}
}
