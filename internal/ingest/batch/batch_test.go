package batch

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

func valid(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/valid.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecodeValid(t *testing.T) {
	b, err := Decode(bytes.NewReader(valid(t)), "valid.json")
	if err != nil {
		t.Fatal(err)
	}
	if b.ID() != "icu-span-1/42" || len(b.Devices) != 1 || len(b.Edges) != 1 || b.Observations() != 2 {
		t.Fatalf("decoded %+v", b)
	}
	again, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(bytes.NewReader(again), "re-encoded"); err != nil {
		t.Fatalf("re-encoded batch: %v", err)
	}
}

func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		name, old, new, wantPath string
	}{
		{"wrong_format", `"medwarden-sensor-batch"`, `"csv"`, "/format"},
		{"future_version", `"version":1`, `"version":2`, "/version"},
		{"bad_sensor_id", `"icu-span-1"`, `"icu span/1"`, "/sensor_id"},
		{"zero_seq", `"seq":42`, `"seq":0`, "/seq"},
		{"reversed_interval", `"end":"2026-01-05T08:01:00Z"`, `"end":"2026-01-05T07:00:00Z"`, "/end"},
		{"tiny_edge_interval", `"edge_interval_s":3600`, `"edge_interval_s":5`, "/edge_interval_s"},
		{"mac_not_normalised", `"mac":"00:09:fb:12:34:56"`, `"mac":"00-09-FB-12-34-56"`, "/devices/0/mac"},
		{"bad_ip", `"ips":["10.20.1.15"]`, `"ips":["10.20.1.015"]`, "/devices/0/ips/0"},
		{"unknown_field", `"field":"version"`, `"field":"firmware"`, "/devices/0/observed/1/field"},
		{"confidence_over_one", `"confidence":0.9`, `"confidence":1.5`, "/devices/0/observed/1/confidence"},
		{"control_chars", `"value":"M.00.03"`, `"value":"M.00\u0000"`, "/devices/0/observed/1/value"},
		{"bucket_not_aligned", `"bucket":"2026-01-05T08:00:00Z"`, `"bucket":"2026-01-05T08:10:00Z"`, "/edges/0/bucket"},
		{"first_seen_outside_bucket", `"first_seen":"2026-01-05T08:00:31Z"`, `"first_seen":"2026-01-05T09:00:31Z"`, "/edges/0/"},
		{"bad_proto", `"proto":"tcp"`, `"proto":"sctp"`, "/edges/0/proto"},
		{"bad_port", `"port":2575`, `"port":70000`, "/edges/0/port"},
		{"unknown_member", `"seq":42`, `"seq":42,"extra":1`, "unknown field"},
		{"trailing_data", `]}` + "\n", `]}{}`, "after the batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := string(valid(t))
			if !strings.Contains(src, tt.old) {
				t.Fatalf("test data lacks %q", tt.old)
			}
			_, err := Decode(strings.NewReader(strings.Replace(src, tt.old, tt.new, 1)), "batch.json")
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantPath) || !strings.Contains(err.Error(), "batch.json") {
				t.Fatalf("Decode = %v; want ErrInvalid naming batch.json and %s", err, tt.wantPath)
			}
		})
	}
}

func TestDecodeTooLarge(t *testing.T) {
	big := bytes.Repeat([]byte(" "), MaxBytes+10)
	if _, err := Decode(bytes.NewReader(big), "big"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Decode of %d bytes: %v", len(big), err)
	}
}

// FuzzDecode: arbitrary input never panics, and whatever decodes
// re-encodes to a batch that decodes again.
func FuzzDecode(f *testing.F) {
	data, err := os.ReadFile("testdata/valid.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"format":"medwarden-sensor-batch","version":1}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := Decode(bytes.NewReader(in), "fuzz")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not wrapping ErrInvalid: %v", err)
			}
			return
		}
		out, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(bytes.NewReader(out), "re-encoded"); err != nil {
			t.Fatalf("re-encoded batch rejected: %v", err)
		}
	})
}
