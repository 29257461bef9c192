package api

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/demo"
	"github.com/medwarden/medwarden/internal/inventory"
)

// stdDeviceJSON is what encoding/json writes for v (writeJSON's encoder:
// HTML escaping on, no indentation).
func stdDeviceJSON(t testing.TB, v any) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

func checkSame(t *testing.T, name string, v deviceView) {
	t.Helper()
	want, err := stdDeviceJSON(t, v)
	got, ok := appendDevice(nil, v)
	if err != nil || !ok {
		if (err == nil) != ok {
			t.Errorf("%s: encoding/json error %v, fast encoder ok=%v", name, err, ok)
		}
		return
	}
	got = append(got, '\n')
	if !bytes.Equal(got, want) {
		t.Errorf("%s: fast encoder differs\n got: %s\nwant: %s", name, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

// edgeDevices are devices with every field set, none set, and strings and
// numbers encoding/json treats specially.
func edgeDevices() []*inventory.Device {
	at := time.Date(2026, 11, 28, 19, 4, 5, 123456789, time.UTC)
	cet := time.FixedZone("CET", 3600)
	odd := "a<b>&c\"d\\e\n\r\t\b\f\x00\x1f\x7f é \u2028 \u2029 \xff\xfe 𝄞 </script>"
	return []*inventory.Device{
		{},
		{AssetID: odd},
		{ID: 42, AssetID: "PUMP-0001", Vendor: "Baxter", Model: "Sigma Spectrum", DeviceType: "infusion-pump", Version: "8.01.01",
			Serial: "SN<1>", UDIDI: "00812345678901", MACs: []string{"00:1a:2b:3c:4d:5e", "00:1a:2b:3c:4d:5f"}, IPs: []string{"10.1.2.3"},
			Hostname: "pump-1.icu", Site: "NBR", Location: "B2/F3/ICU", Department: "ICU", Criticality: inventory.Criticality("life-supporting"),
			PatientConnected: ptr(true), PHI: ptr(false), Zone: "vlan-20", OS: "VxWorks 6.9",
			EndOfSupport: &inventory.Date{Time: time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)}, EndOfLife: &inventory.Date{Time: time.Date(1999, 1, 2, 0, 0, 0, 0, time.UTC)},
			FirstSeen: ptr(at.Add(-time.Hour)), LastSeen: ptr(at.In(cet)),
			Provenance: map[string]inventory.Provenance{
				"vendor":   {Kind: inventory.SourceImported, Source: "cmms.csv", At: at},
				"ip":       {Kind: inventory.SourceObserved, Source: "sensor-1", At: at.Add(time.Nanosecond)},
				"asset_id": {Kind: inventory.SourceEdited, Source: "api:127.0.0.1:5555", At: at.Truncate(time.Second)},
				odd:        {Kind: inventory.SourceEdited, Source: odd, At: at.In(cet)},
			},
			Observed: map[string]inventory.Observation{
				"ip":      {Value: "10.1.2.4", Source: "sensor-1", At: at, Confidence: 0.9},
				"version": {Value: "8.02", Source: "sensor-1", At: at, Confidence: 1e-7},
				"os":      {Value: "VxWorks", Source: "s", At: at, Confidence: 1e21},
				"serial":  {Value: odd, Source: "s", At: at},
				"model":   {Value: "x", Source: "s", At: at, Confidence: 123456789.125},
			},
			Revision: 7, CreatedAt: at, UpdatedAt: at.Add(time.Minute)},
		{AssetID: "EMPTY-SLICES", MACs: []string{}, IPs: []string{}, Provenance: map[string]inventory.Provenance{}, Observed: map[string]inventory.Observation{}},
		{AssetID: "ZERO-TIMES", FirstSeen: &time.Time{}, CreatedAt: time.Time{}},
	}
}

// TestDeviceJSONMatchesEncodingJSON: the fast encoder writes exactly what
// encoding/json writes, for edge cases and a 3,000-device demo fleet, and
// the list and single-device writers answer byte for byte as writeJSON.
func TestDeviceJSONMatchesEncodingJSON(t *testing.T) {
	var views []deviceView
	for i, d := range edgeDevices() {
		v := view(d)
		checkSame(t, "edge "+string(rune('a'+i)), v)
		views = append(views, v)
	}
	n := 0
	if err := demo.Generate(demo.Config{Seed: 7, Devices: 3000, Now: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}, func(d *inventory.Device) error {
		n++
		d.ID, d.Revision = int64(n), int64(n%5)
		d.CreatedAt = time.Date(2026, 1, 1, 0, 0, 0, n, time.UTC)
		d.UpdatedAt = d.CreatedAt.Add(time.Duration(n) * time.Millisecond)
		v := view(d)
		checkSame(t, "demo "+d.AssetID, v)
		if n%60 == 0 {
			views = append(views, v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, next := range []string{"", "eyJrIjoiUFVNUC0wMDUwIn0<&>"} {
		rec := httptest.NewRecorder()
		writeDeviceList(rec, views, next, nil)
		resp := map[string]any{"devices": views}
		if next != "" {
			resp["next"] = next
		}
		want, _ := stdDeviceJSON(t, resp)
		if !bytes.Equal(rec.Body.Bytes(), want) {
			t.Errorf("list (next %q) differs from writeJSON:\n got: %.300s\nwant: %.300s", next, rec.Body.Bytes(), want)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
	}
	rec := httptest.NewRecorder()
	writeDeviceList(rec, []deviceView{}, "", nil)
	if got := rec.Body.String(); got != "{\"devices\":[]}\n" {
		t.Errorf("empty list: %q", got)
	}
}

// TestDeviceListJSONCache: a list written through the JSON cache is byte
// for byte the list written without it, when the cache is empty, when it
// holds every device, and after devices were written (a new revision and
// updated_at) or replaced by another device with the same id.
func TestDeviceListJSONCache(t *testing.T) {
	var views []deviceView
	n := 0
	if err := demo.Generate(demo.Config{Seed: 3, Devices: 120, Now: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}, func(d *inventory.Device) error {
		n++
		d.ID, d.Revision = int64(n), 1
		d.CreatedAt = time.Date(2026, 1, 1, 0, 0, 0, n, time.UTC)
		d.UpdatedAt = d.CreatedAt
		views = append(views, view(d))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cache := &deviceJSONCache{}
	check := func(step string) {
		t.Helper()
		want := httptest.NewRecorder()
		writeDeviceList(want, views, "c", nil)
		for round := 0; round < 2; round++ {
			got := httptest.NewRecorder()
			writeDeviceList(got, views, "c", cache)
			if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
				t.Fatalf("%s, round %d: cached list differs:\n got: %.300s\nwant: %.300s", step, round, got.Body.Bytes(), want.Body.Bytes())
			}
		}
	}
	check("empty cache")
	// an update: new values, next revision, later updated_at
	d := *views[7].Device
	d.Vendor, d.Revision, d.UpdatedAt = "Philips <edited>", d.Revision+1, d.UpdatedAt.Add(time.Second)
	views[7] = view(&d)
	check("after an update")
	if !bytes.Contains(cache.get(&d), []byte("Philips \\u003cedited\\u003e")) {
		t.Fatalf("cache holds %s for the updated device", cache.get(&d))
	}
	// another device under a deleted device's id: revision 1 again
	e := *views[9].Device
	e.ID = views[8].ID
	e.UpdatedAt = e.UpdatedAt.Add(time.Hour)
	views[8] = view(&e)
	check("after an id was given again")
	// more devices than one generation holds: old ones leave, and the
	// list is still right
	for i := range 2*jsonCacheGen + 10 {
		cache.put(&inventory.Device{ID: int64(1000 + i), Revision: 1}, []byte(`{}`))
	}
	check("after eviction")
}

// TestDeviceJSONFallsBack: values encoding/json refuses are not written by
// the fast encoder; the writer falls back to encoding/json.
func TestDeviceJSONFallsBack(t *testing.T) {
	for name, d := range map[string]*inventory.Device{
		"year 10000":      {AssetID: "A", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"NaN confidence":  {AssetID: "A", Observed: map[string]inventory.Observation{"ip": {Confidence: math.NaN()}}},
		"year -1 in prov": {AssetID: "A", Provenance: map[string]inventory.Provenance{"vendor": {At: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}}},
	} {
		if _, ok := appendDevice(nil, view(d)); ok {
			t.Errorf("%s: fast encoder accepted what encoding/json refuses", name)
		}
		if _, err := stdDeviceJSON(t, view(d)); err == nil {
			t.Errorf("%s: encoding/json accepted it (test case wrong)", name)
		}
	}
}

// FuzzDeviceJSON compares the fast encoder with encoding/json on fuzzed
// strings, times, offsets and confidences.
func FuzzDeviceJSON(f *testing.F) {
	f.Add("PUMP-1", "Baxter <&>", "ip", int64(1764356645123456789), 3600, 0.9, int64(42))
	f.Add("\xff\u2028\x00\"\\", "", "", int64(0), 0, 1e-7, int64(0))
	f.Add("x", "y", "\n", int64(-62135596800000000), -86399, 1e21, int64(-1))
	f.Add("", "", "vendor", int64(253402300799999999), 86399, math.Inf(1), int64(1))
	f.Fuzz(func(t *testing.T, asset, text, field string, nanos int64, offset int, conf float64, id int64) {
		at := time.Unix(0, nanos).In(time.FixedZone("Z", offset))
		d := &inventory.Device{ID: id, AssetID: asset, Vendor: text, Model: field, MACs: []string{text}, IPs: []string{asset, field},
			Hostname: text, LastSeen: &at, Revision: id / 2, CreatedAt: at, UpdatedAt: at.UTC(),
			Provenance: map[string]inventory.Provenance{field: {Kind: inventory.SourceEdited, Source: text, At: at}, asset: {At: at}},
			Observed:   map[string]inventory.Observation{field: {Value: text, Source: asset, At: at, Confidence: conf}},
		}
		checkSame(t, "fuzz", view(d))
	})
}

// BenchmarkDeviceListJSON encodes a 50-device page of the demo fleet with
// encoding/json (as before) and with the fast encoder.
func BenchmarkDeviceListJSON(b *testing.B) {
	var views []deviceView
	n := 0
	if err := demo.Generate(demo.Config{Seed: 1, Devices: 50, Now: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)}, func(d *inventory.Device) error {
		n++
		d.ID, d.Revision = int64(n), 1
		d.CreatedAt, d.UpdatedAt = time.Date(2026, 11, 28, 19, 0, 0, n, time.UTC), time.Date(2026, 11, 28, 19, 1, 0, n, time.UTC)
		d.Provenance = map[string]inventory.Provenance{} // as a CSV import records it
		for _, f := range inventory.Fields {
			if d.Get(f) != "" {
				d.Provenance[f] = inventory.Provenance{Kind: inventory.SourceImported, Source: "fleet.csv", At: d.CreatedAt}
			}
		}
		views = append(views, view(d))
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			writeJSON(discard{}, 200, map[string]any{"devices": views, "next": "abc"})
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			writeDeviceList(discard{}, views, "abc", nil)
		}
	})
}

// discard is a ResponseWriter that drops the body.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
