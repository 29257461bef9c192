package fhir

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

type decoder interface {
	inventory.Decoder
	Warnings() []string
}

func open(r io.Reader, name string) (decoder, error) {
	if strings.HasSuffix(name, ".ndjson") {
		return NewNDJSONDecoder(r, name), nil
	}
	return NewDecoder(r, name)
}

func decodeAll(t testing.TB, r io.Reader, name string) (result, decoder) {
	t.Helper()
	d, err := open(r, name)
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
	files, err := filepath.Glob("testdata/*json")
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

func TestDecodeShapes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want result
	}{
		{"not_a_resource", `{"devices": []}`, result{Fatal: "t.json column resourceType: not a FHIR resource: resourceType is missing"}},
		{"patient", `{"resourceType": "Patient", "id": "p1"}`, result{Fatal: "t.json column resourceType: FHIR Patient resource holds no devices: want a Device or a Bundle of Devices"}},
		{"empty_bundle", `{"resourceType": "Bundle", "type": "collection"}`, result{}},
		{"entry_before_resource_type", `{"entry": [{"resource": {"resourceType": "Device", "serialNumber": "S1", "manufacturer": "GE"}}], "resourceType": "Bundle"}`,
			result{Devices: []*inventory.Device{{Vendor: "GE", Serial: "S1"}}}},
		{"entry_without_resource", `{"resourceType": "Bundle", "entry": [{"fullUrl": "urn:uuid:1"}, {"resource": {"resourceType": "Device", "serialNumber": "S2"}}]}`,
			result{Devices: []*inventory.Device{{Serial: "S2"}}}},
		{"truncated_bundle", `{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Device", "serialNumber": "S1"}}, {"resource": {"resourceType": "Dev`,
			result{Devices: []*inventory.Device{{Serial: "S1"}}, Fatal: "read t.json: JSON ends early (truncated file?): unexpected EOF"}},
		{"udi_hrf_gives_di_and_serial", `{"resourceType": "Device", "udiCarrier": [{"carrierHRF": "(01)00884838086316(17)301231(21)SN-77"}]}`,
			result{Devices: []*inventory.Device{{UDIDI: "00884838086316", Serial: "SN-77"}}}},
		{"url_with_ipv6", `{"resourceType": "Device", "serialNumber": "S1", "url": "https://[2001:db8::7]:8443/"}`,
			result{Devices: []*inventory.Device{{Serial: "S1", IPs: []string{"2001:db8::7"}}}}},
		{"department_extension_wins_over_owner", `{"resourceType": "Device", "serialNumber": "S1", "owner": {"display": "Org A"},
			"extension": [{"url": "https://medwarden.org/fhir/StructureDefinition/department", "valueString": "ICU"}]}`,
			result{Devices: []*inventory.Device{{Serial: "S1", Department: "ICU"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := decodeAll(t, strings.NewReader(tt.in), "t.json")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decode (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWriterIsStandardFHIR checks the elements a standard FHIR consumer
// reads: Bundle.type, Device.identifier, udiCarrier, manufacturer,
// serialNumber, deviceName, type, version, owner, location.
func TestWriterIsStandardFHIR(t *testing.T) {
	yes := true
	eos := inventory.NewDate(2028, 12, 31)
	d := &inventory.Device{ID: 42, AssetID: "BME-1", Vendor: "Philips", Model: "IntelliVue MX450", Version: "M.00.03",
		Serial: "DE1", UDIDI: "00884838086316", DeviceType: "Patient Monitor", Department: "ICU", Location: "Bed 12",
		MACs: []string{"00:09:fb:00:00:01"}, PHI: &yes, EndOfSupport: &eos, Criticality: inventory.LifeSupporting}
	var b bytes.Buffer
	w := NewWriter(&b)
	if err := w.Write(d); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b.Bytes(), &bundle); err != nil {
		t.Fatalf("writer output is not JSON: %v\n%s", err, b.String())
	}
	got := bundle.Entry[0].Resource
	want := map[string]any{
		"resourceType": "Device",
		"id":           "42",
		"identifier":   []any{map[string]any{"use": "usual", "type": map[string]any{"text": "Asset tag"}, "system": AssetTagSystem, "value": "BME-1"}},
		"udiCarrier":   []any{map[string]any{"deviceIdentifier": "00884838086316", "issuer": "http://hl7.org/fhir/NamingSystem/gs1-di"}},
		"manufacturer": "Philips",
		"serialNumber": "DE1",
		"deviceName":   []any{map[string]any{"name": "IntelliVue MX450", "type": "model-name"}},
		"type":         map[string]any{"text": "Patient Monitor"},
		"version":      []any{map[string]any{"type": map[string]any{"text": "software"}, "value": "M.00.03"}},
		"owner":        map[string]any{"display": "ICU"},
		"location":     map[string]any{"display": "Bed 12"},
		"extension": []any{
			map[string]any{"url": ExtCriticality, "valueCode": "life-supporting"},
			map[string]any{"url": ExtPHI, "valueBoolean": true},
			map[string]any{"url": ExtEndOfSupport, "valueDate": "2028-12-31"},
			map[string]any{"url": ExtMAC, "valueString": "00:09:fb:00:00:01"},
		},
	}
	if bundle.ResourceType != "Bundle" || bundle.Type != "collection" || len(bundle.Entry) != 1 {
		t.Errorf("bundle = %s/%s with %d entries, want Bundle/collection with 1", bundle.ResourceType, bundle.Type, len(bundle.Entry))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Device resource (-want +got):\n%s", diff)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, ndjson := range []bool{false, true} {
		r := rand.New(rand.NewPCG(7, 8))
		name := "rt.json"
		if ndjson {
			name = "rt.ndjson"
		}
		t.Run(name, func(t *testing.T) {
			for round := range 50 {
				var want []*inventory.Device
				var b bytes.Buffer
				w := NewWriter(&b)
				if ndjson {
					w = NewNDJSONWriter(&b)
				}
				for range r.IntN(30) {
					d := invtest.Device(r)
					want = append(want, d)
					if err := w.Write(d); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				got, dec := decodeAll(t, bytes.NewReader(b.Bytes()), name)
				if diff := cmp.Diff(result{Devices: want}, got); diff != "" {
					t.Fatalf("round %d: write → read (-want +got):\n%s\n%s", round, diff, b.String())
				}
				if w := dec.Warnings(); len(w) != 0 {
					t.Fatalf("round %d: own output gives warnings %q", round, w)
				}
			}
		})
	}
}

func fuzzSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/*json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		whole, _ := decodeAll(t, bytes.NewReader(data), "fuzz.json")
		split, _ := decodeAll(t, iotest.OneByteReader(bytes.NewReader(data)), "fuzz.json")
		if diff := cmp.Diff(whole, split); diff != "" {
			t.Fatalf("whole vs byte-wise read (-whole +split):\n%s", diff)
		}
	})
}

func FuzzDecodeNDJSON(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		whole, _ := decodeAll(t, bytes.NewReader(data), "fuzz.ndjson")
		split, _ := decodeAll(t, iotest.OneByteReader(bytes.NewReader(data)), "fuzz.ndjson")
		if diff := cmp.Diff(whole, split); diff != "" {
			t.Fatalf("whole vs byte-wise read (-whole +split):\n%s", diff)
		}
		for _, e := range whole.Errors {
			if e.Line <= 0 {
				t.Fatalf("NDJSON error without line: %v", e)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	const n = 10000
	for _, ndjson := range []bool{false, true} {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		name := "bundle"
		if ndjson {
			w, name = NewNDJSONWriter(&buf), "ndjson"
		}
		for range n {
			if err := w.Write(invtest.Device(r)); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		data := buf.Bytes()
		b.Run(fmt.Sprintf("%s-devices-%d", name, n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				res, _ := decodeAll(b, bytes.NewReader(data), "bench."+name)
				if len(res.Devices) != n {
					b.Fatalf("decoded %d devices: %v %+v", len(res.Devices), res.Fatal, res.Errors)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "devices/s")
		})
	}
}

// TestNDJSONWithLongFirstLine: NDJSON whose first line is longer than what
// a sniffer looks at reaches NewDecoder; it must read every line, not just
// the first resource.
func TestNDJSONWithLongFirstLine(t *testing.T) {
	long := `{"resourceType":"Device","serialNumber":"S1","manufacturer":"` + strings.Repeat("x", 100<<10) + `"}`
	in := long + "\n" + `{"resourceType":"Organization","name":"ICU"}` + "\n" + `{"resourceType":"Device","serialNumber":"S2","extension":[{"url":"https://medwarden.org/fhir/StructureDefinition/criticality","valueCode":"high"}]}` + "\n" + `{"resourceType":"Device","serialNumber":"S3"}` + "\n"
	got, d := decodeAll(t, strings.NewReader(in), "long.json")
	want := result{
		Devices: []*inventory.Device{{Serial: "S1", Vendor: strings.Repeat("x", 100<<10)}, {Serial: "S3"}},
		Errors: []*inventory.InputError{{File: "long.json", Line: 3, Column: "Device.extension[0].valueCode", Value: "high",
			Reason: `unknown criticality "high" (want one of life-sustaining, life-supporting, therapeutic, diagnostic, non-clinical)`}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decode (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"skipped 1 Organization resource(s)"}, d.Warnings()); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
