package jsonfile

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/fileformat/invtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

type result struct {
	Devices []*inventory.Device     `json:"devices"`
	Errors  []*inventory.InputError `json:"errors"`
	Fatal   string                  `json:"fatal,omitempty"`
}

func decodeAll(t testing.TB, r io.Reader, name string) (result, *Decoder) {
	t.Helper()
	d, err := NewDecoder(r, name)
	if err != nil {
		return result{Fatal: err.Error()}, nil
	}
	var res result
	for {
		dev, err := d.Next()
		if err == io.EOF {
			return res, d
		}
		if ie, ok := inventory.AsInputError(err); ok {
			res.Errors = append(res.Errors, ie)
			continue
		}
		if err != nil {
			res.Fatal = err.Error()
			return res, d
		}
		res.Devices = append(res.Devices, dev)
	}
}

func TestDecodeGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res, d := decodeAll(t, bytes.NewReader(b), name)
			var warn []string
			if d != nil {
				warn = d.Warnings()
			}
			out := struct {
				Warnings []string `json:"warnings"`
				result
			}{warn, res}
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)+"\n"); diff != "" {
				t.Errorf("decode %s (-want +got):\n%s", name, diff)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want result
	}{
		{"empty", "", result{Fatal: `empty.json: file is empty: want a JSON array of devices or {"devices": [...]}`}},
		{"scalar", `"x"`, result{Fatal: `t.json: want a JSON array of devices or {"devices": [...]}, found x`}},
		{"object_without_devices", `{"items": []}`, result{Fatal: `t.json column devices: object has no "devices" array`}},
		{"devices_not_array", `{"devices": {}}`, result{Fatal: `t.json column devices: "devices" is not an array`}},
		{"fhir_resource", `{"resourceType": "Device"}`, result{Fatal: `t.json column resourceType: this is a FHIR resource, not a MedWarden device list; read it as FHIR`}},
		{"truncated", `[{"asset_id": "A-1"}, {"asset_id": "A-`, result{
			Devices: []*inventory.Device{{AssetID: "A-1"}},
			Fatal:   "read t.json: JSON ends early (truncated file?): unexpected EOF",
		}},
		{"syntax_error", `[{"asset_id": "A-1"} {"asset_id": "A-2"}]`, result{
			Devices: []*inventory.Device{{AssetID: "A-1"}},
			Fatal:   "read t.json line 1: invalid JSON at byte 21: expected comma after array element",
		}},
		{"trailing_data", `[{"asset_id": "A-1"}] [1]`, result{
			Devices: []*inventory.Device{{AssetID: "A-1"}},
			Fatal:   "read t.json: unexpected data after the device list",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "t.json"
			if tt.in == "" {
				name = "empty.json"
			}
			got, _ := decodeAll(t, strings.NewReader(tt.in), name)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decode (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriterEmpty(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "{\"devices\": []}\n"; got != want {
		t.Errorf("empty writer wrote %q, want %q", got, want)
	}
	got, _ := decodeAll(t, &b, "empty.json")
	if diff := cmp.Diff(result{}, got); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 50 {
		var want []*inventory.Device
		var b bytes.Buffer
		w := NewWriter(&b)
		for range 1 + r.IntN(40) {
			d := invtest.Device(r)
			want = append(want, d)
			if err := w.Write(d); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, d := decodeAll(t, bytes.NewReader(b.Bytes()), "rt.json")
		if diff := cmp.Diff(result{Devices: want}, got); diff != "" {
			t.Fatalf("round %d: write → read (-want +got):\n%s", round, diff)
		}
		if w := d.Warnings(); len(w) != 0 {
			t.Fatalf("round %d: own output gives warnings %q", round, w)
		}
	}
}

func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"macs": "00:01:02:03:04:05", "phi": 1}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		whole, _ := decodeAll(t, bytes.NewReader(data), "fuzz.json")
		split, _ := decodeAll(t, iotest.OneByteReader(bytes.NewReader(data)), "fuzz.json")
		if diff := cmp.Diff(whole, split); diff != "" {
			t.Fatalf("whole vs byte-wise read (-whole +split):\n%s", diff)
		}
		for _, e := range whole.Errors {
			if !strings.HasPrefix(e.Column, "devices[") && !strings.HasPrefix(e.Column, "[") {
				t.Fatalf("row error without element path: %v", e)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	var buf bytes.Buffer
	w := NewWriter(&buf)
	const n = 10000
	for range n {
		if err := w.Write(invtest.Device(r)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.Run(fmt.Sprintf("devices-%d", n), func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			res, _ := decodeAll(b, bytes.NewReader(data), "bench.json")
			if len(res.Devices) != n {
				b.Fatalf("decoded %d devices: %+v", len(res.Devices), res.Errors)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "devices/s")
	})
}

func TestKnownCoversDeviceJSON(t *testing.T) {
	b, err := json.Marshal(&inventory.Device{})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, f := range stringFields {
		if !known([]byte(f)) {
			t.Errorf("field %q not known", f)
		}
	}
	for k := range m {
		if !known([]byte(k)) {
			t.Errorf("Device JSON field %q would be warned about", k)
		}
	}
}

func TestObjectMembers(t *testing.T) {
	raw := []byte(` { "a" : "x,}" , "b\u0022": [1, {"c": "]"}], "n": -1.5e3, "t":true, "z": null } `)
	got, ok := objectMembers(raw, nil)
	if !ok {
		t.Fatal("not an object")
	}
	var flat []string
	for _, m := range got {
		flat = append(flat, string(m.key)+"="+string(m.val))
	}
	want := []string{`a="x,}"`, `b"=[1, {"c": "]"}]`, `n=-1.5e3`, `t=true`, `z=null`}
	if diff := cmp.Diff(want, flat); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`[1]`, `"x"`, `{`, ``} {
		if _, ok := objectMembers([]byte(bad), nil); ok {
			t.Errorf("objectMembers(%q) ok", bad)
		}
	}
}
