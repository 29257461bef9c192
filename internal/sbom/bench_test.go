package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
)

// largeCycloneDX builds a realistic CycloneDX 1.6 JSON SBOM of n components
// (device firmware with nested OS/library components, hashes, licences,
// PURLs, CPEs, properties, and a dependency graph).
func largeCycloneDX(n int) []byte { return largeCycloneDXOrdered(n, false) }

// largeCycloneDXOrdered is largeCycloneDX with specVersion before the
// components when specFirst, and keys sorted (specVersion after components)
// otherwise.
func largeCycloneDXOrdered(n int, specFirst bool) []byte {
	type m = map[string]any
	comps := make([]any, 0, n)
	deps := make([]any, 0, n+1)
	rootDeps := make([]any, 0, n)
	for i := range n {
		ref := fmt.Sprintf("pkg:npm/%%40acme/lib-%d@1.%d.%d", i, i%17, i%5)
		comps = append(comps, m{
			"type": "library", "bom-ref": ref, "group": "@acme", "name": fmt.Sprintf("lib-%d", i),
			"version":  fmt.Sprintf("1.%d.%d", i%17, i%5),
			"supplier": m{"name": "Acme Medical Systems", "url": []any{"https://acme.example"}},
			"purl":     ref, "cpe": fmt.Sprintf("cpe:2.3:a:acme:lib-%d:1.%d.%d:*:*:*:*:*:*:*", i, i%17, i%5),
			"hashes": []any{
				m{"alg": "SHA-256", "content": fmt.Sprintf("%064x", i*7919)},
				m{"alg": "SHA-1", "content": fmt.Sprintf("%040x", i*104729)},
			},
			"licenses":    []any{m{"license": m{"id": "Apache-2.0"}}},
			"description": "Realistic description text of a third-party component used in the infusion pump firmware build.",
			"properties": []any{
				m{"name": "fda:support-level", "value": "actively maintained"},
				m{"name": "fda:end-of-support", "value": "2031-12-31"},
			},
			"externalReferences": []any{m{"type": "vcs", "url": fmt.Sprintf("https://git.acme.example/lib-%d", i)}},
		})
		d := []any{}
		if i+1 < n {
			d = append(d, fmt.Sprintf("pkg:npm/%%40acme/lib-%d@1.%d.%d", i+1, (i+1)%17, (i+1)%5))
		}
		deps = append(deps, m{"ref": ref, "dependsOn": d})
		rootDeps = append(rootDeps, ref)
	}
	deps = append(deps, m{"ref": "device-fw", "dependsOn": rootDeps})
	meta := m{
		"timestamp":  "2026-11-28T10:00:00Z",
		"lifecycles": []any{m{"phase": "build"}},
		"tools":      m{"components": []any{m{"type": "application", "name": "cdxgen", "version": "11.0.0"}}},
		"authors":    []any{m{"name": "Acme Product Security"}},
		"component":  m{"type": "firmware", "bom-ref": "device-fw", "name": "infusion-pump-fw", "version": "4.2.1"},
	}
	var bom any = m{
		"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
		"serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
		"metadata":     meta, "components": comps, "dependencies": deps,
	}
	if specFirst {
		// Member order as most generators write it.
		bom = struct {
			BOMFormat    string `json:"bomFormat"`
			SpecVersion  string `json:"specVersion"`
			Serial       string `json:"serialNumber"`
			Version      int    `json:"version"`
			Metadata     m      `json:"metadata"`
			Components   []any  `json:"components"`
			Dependencies []any  `json:"dependencies"`
		}{"CycloneDX", "1.6", "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", 1, meta, comps, deps}
	}
	out, err := json.Marshal(bom)
	if err != nil {
		panic(err)
	}
	return out
}

func BenchmarkParseCycloneDXJSON(b *testing.B) {
	for _, n := range []int{500, 20000} {
		for _, mode := range []struct {
			name      string
			opts      Options
			specFirst bool
		}{
			{"decode", Options{SkipSchema: true}, true},
			{"validate+decode", Options{}, true},
			{"validate+decode-spec-last", Options{}, false},
		} {
			data := largeCycloneDXOrdered(n, mode.specFirst)
			b.Run(fmt.Sprintf("components-%d/%s", n, mode.name), func(b *testing.B) {
				if _, err := ParseBytes(data, "bench", mode.opts); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					doc, err := ParseBytes(data, "bench", mode.opts)
					if err != nil || len(doc.Components) != n {
						b.Fatalf("ParseBytes: %v", err)
					}
				}
				reportCPU(b, cpu0, len(data))
			})
		}
	}
}

// largeCycloneDXXML is largeCycloneDX(n) re-encoded as XML by cyclonedx-go.
func largeCycloneDXXML(n int) []byte {
	var bom cdx.BOM
	if err := json.Unmarshal(largeCycloneDX(n), &bom); err != nil {
		panic(err)
	}
	bom.XMLNS = "http://cyclonedx.org/schema/bom/1.6"
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatXML).Encode(&bom); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func BenchmarkParseCycloneDXXML(b *testing.B) {
	const n = 5000
	data := largeCycloneDXXML(n)
	for _, mode := range []struct {
		name string
		opts Options
	}{{"decode", Options{SkipSchema: true}}, {"validate+decode", Options{}}} {
		b.Run(fmt.Sprintf("components-%d/%s", n, mode.name), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				doc, err := ParseBytes(data, "bench", mode.opts)
				if err != nil || len(doc.Components) != n {
					b.Fatalf("ParseBytes: %v", err)
				}
			}
		})
	}
}

// cpuTime is the process's user+system CPU time. The benchmark machine is
// shared (load far above its 2 cores), so wall-clock MB/s understates the
// parser; CPU time per op says what one core does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, cpu0 time.Duration, size int) {
	cpu := cpuTime() - cpu0
	if cpu <= 0 || b.N == 0 {
		return
	}
	perOp := cpu.Seconds() / float64(b.N)
	b.ReportMetric(perOp*1e9, "cpu-ns/op")
	b.ReportMetric(float64(size)/1e6/perOp, "cpu-MB/s")
}

func BenchmarkSchemaLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var s schemaSet
		if err := s.load(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLargeSBOMRoundTrip(t *testing.T) {
	t.Parallel()
	data := largeCycloneDX(300)
	doc, err := Parse(bytes.NewReader(data), "large", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !doc.Valid() {
		t.Fatalf("generated SBOM invalid: %v", doc.Problems[:min(3, len(doc.Problems))])
	}
	if len(doc.Components) != 300 || len(doc.Dependencies) != 301 {
		t.Fatalf("components %d, deps %d", len(doc.Components), len(doc.Dependencies))
	}
	x, err := Parse(bytes.NewReader(largeCycloneDXXML(300)), "large.xml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !x.Valid() {
		t.Fatalf("generated XML SBOM invalid: %v", x.Problems[:min(3, len(x.Problems))])
	}
	if diff := cmp.Diff(doc.Components, x.Components); diff != "" {
		t.Errorf("json vs xml components (-json +xml):\n%s", diff)
	}
}

// BenchmarkValidateCycloneDXJSON measures schema validation alone: the
// fast path (fastschema.go) against the jsonschema streaming path it
// replaces for items it proves valid.
func BenchmarkValidateCycloneDXJSON(b *testing.B) {
	if err := schemas.load(); err != nil {
		b.Fatal(err)
	}
	data := largeCycloneDXOrdered(20000, true)
	for _, mode := range []struct {
		name string
		run  func([]byte) ([]Problem, error)
	}{
		{"fast", func(d []byte) ([]Problem, error) {
			ps, ok := validateCycloneDXFast(d)
			if !ok {
				return nil, fmt.Errorf("left the fast path")
			}
			return ps, nil
		}},
		{"jsonschema", func(d []byte) ([]Problem, error) { return validateCycloneDXStream(d, false) }},
	} {
		b.Run("components-20000/"+mode.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				ps, err := mode.run(data)
				if err != nil || len(ps) != 0 {
					b.Fatalf("validate: %v %v", err, ps)
				}
			}
			reportCPU(b, cpu0, len(data))
		})
	}
}
