package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/demo"
	"github.com/medwarden/medwarden/internal/inventory"
)

// canonicalEdges are inputs where the fast path must agree with the slow
// one, or leave them to it: escapes, HTML characters, line separators,
// invalid UTF-8, repeated and escaped keys, number forms, white space,
// nesting, and broken JSON.
var canonicalEdges = []string{
	`{"b":1,"a":{"d":[1,2],"c":null}}`,
	" {\n \"a\" : true ,\t\"A\":false} ",
	`{"n":12345678901234567890,"f":1.50,"e":-0.0e+00,"z":0,"m":-7E5}`,
	`{"loc":"Station 3 – Intensivstation","x":"a<b>&c","y":"\u2028\u2029","q":"\"\\\/\b\f\n\r\t\u0001"}`,
	"{\"bad\":\"\xff\xfe ok \xc3\"}",
	`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"\u00e9":1,"é":2}`, `{"\u003c":1,"<":2}`, `{"<k>":1,"b":[{"y":1,"x":2}]}`,
	`[]`, `{}`, `[[],{},[{}]]`, `"just a string"`, `42`, `true`, `null`,
	`{"a":[1,2,3,{"c":{"e":[],"d":{}}}],"b":"x"}`,
	"{\"ctl\":\"tab\there\"}", `{"del":"` + "\x7f" + `"}`,
	`{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `01`, `1.`, `.5`, `1e`, `-`, `+1`, `tru`, `nulll`,
	`{"a":1} {"b":2}`, `"unterminated`, `"bad escape \x"`, `"\ud800"`, `{"a":1}x`, "\"raw\nnewline\"",
	`[` + string(bytes.Repeat([]byte("["), 300)) + string(bytes.Repeat([]byte("]"), 300)) + `]`,
}

// TestCanonicalDepthLimit: around encoding/json's nesting limit the fast
// path accepts and refuses exactly what the decoder does.
func TestCanonicalDepthLimit(t *testing.T) {
	for _, n := range []int{9999, 10000, 10001, 10002} {
		in := strings.Repeat("[", n) + strings.Repeat("]", n)
		checkCanonical(t, []byte(in))
		in = strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)
		checkCanonical(t, []byte(in))
	}
}

// TestCanonicalIndependentOfToolchain pins canonical bytes of strings the
// encoder re-escapes: they are hashed into the audit chain and must be
// the same with every Go version.
func TestCanonicalIndependentOfToolchain(t *testing.T) {
	for in, want := range map[string]string{
		"{\"v\":\"a\xffb\"}":        "{\"v\":\"a\uFFFDb\"}", // decoded to U+FFFD, written as is
		`{"v":"\u003c\u2028\b"}`:    `{"v":"\u003c\u2028\b"}`,
		`{"v":"<\/>","w":"\u00e9"}`: `{"v":"\u003c/\u003e","w":"é"}`,
		`{"b":1,"a":2,"b":3}`:       `{"a":2,"b":3}`,
	} {
		got, err := canonicalJSON([]byte(in))
		if err != nil {
			t.Fatalf("canonicalJSON(%q): %v", in, err)
		}
		if string(got) != want {
			t.Errorf("canonicalJSON(%q) = %s, want %s", in, got, want)
		}
	}
}

// checkCanonical: canonicalJSON (fast path first) gives the slow path's
// bytes, or its error.
func checkCanonical(t *testing.T, in []byte) {
	t.Helper()
	got, err := canonicalJSON(in)
	var want json.RawMessage
	var werr error
	if len(bytes.TrimSpace(in)) == 0 {
		want = json.RawMessage("null")
	} else {
		want, werr = canonicalSlow(in)
	}
	if (err == nil) != (werr == nil) {
		t.Fatalf("canonicalJSON(%q): error %v, slow path error %v", in, err, werr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("canonicalJSON(%q):\n got %q\nwant %q", in, got, want)
	}
}

// TestCanonicalFastMatchesSlow: the fast path against decode-and-marshal
// on the edge cases and on the before/after of 2,000 demo devices as the
// audit recorder marshals them (with provenance and observed values).
func TestCanonicalFastMatchesSlow(t *testing.T) {
	for _, in := range canonicalEdges {
		checkCanonical(t, []byte(in))
	}
	fast := 0
	at := time.Date(2026, 11, 29, 4, 0, 0, 123456789, time.UTC)
	if err := demo.Generate(demo.Config{Seed: 11, Devices: 2000, Now: at}, func(d *inventory.Device) error {
		d.ID, d.Revision, d.CreatedAt, d.UpdatedAt = int64(fast+1), 3, at, at.Add(time.Minute)
		d.Provenance = map[string]inventory.Provenance{"vendor": {Kind: inventory.SourceImported, Source: "cmms <export>.csv", At: at},
			"ip": {Kind: inventory.SourceObserved, Source: "sensor-1", At: at}}
		d.Observed = map[string]inventory.Observation{"ip": {Value: "10.1.2.3", Source: "sensor-1", At: at, Confidence: 0.9}}
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		checkCanonical(t, b)
		if _, ok := appendCanonical(nil, b); ok {
			fast++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fast != 2000 {
		t.Errorf("fast path took %d of 2000 device documents, want all", fast)
	}
}

// FuzzCanonicalJSON: on any input the fast path gives the slow path's
// bytes or its error.
func FuzzCanonicalJSON(f *testing.F) {
	for _, in := range canonicalEdges {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkCanonical(t, in)
	})
}

// BenchmarkCanonicalDevice: a device's JSON made canonical, fast path and
// decode-and-marshal.
func BenchmarkCanonicalDevice(b *testing.B) {
	at := time.Date(2026, 11, 29, 4, 0, 0, 0, time.UTC)
	var doc []byte
	if err := demo.Generate(demo.Config{Seed: 1, Devices: 1, Now: at}, func(d *inventory.Device) error {
		d.ID, d.Revision, d.CreatedAt, d.UpdatedAt = 1, 1, at, at
		d.Provenance = map[string]inventory.Provenance{}
		for _, f := range inventory.Fields {
			if d.Get(f) != "" {
				d.Provenance[f] = inventory.Provenance{Kind: inventory.SourceImported, Source: "fleet.csv", At: at}
			}
		}
		var err error
		doc, err = json.Marshal(d)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := canonicalJSON(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode_marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := canonicalSlow(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
