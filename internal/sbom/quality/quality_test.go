package quality

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/sbom"
)

func TestWeightsSumTo100(t *testing.T) {
	t.Parallel()
	var sum float64
	seen := map[string]bool{}
	for _, d := range Definitions {
		sum += d.Weight
		if seen[d.ID] {
			t.Errorf("duplicate element %q", d.ID)
		}
		seen[d.ID] = true
	}
	if sum != 100 {
		t.Errorf("weights sum to %v, want 100", sum)
	}
}

func parseFile(t *testing.T, name string) *sbom.Document {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	d, err := sbom.Parse(bytes.NewReader(data), name, sbom.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestEvaluateExamples: the expected counts were computed independently
// from the raw JSON (python, see docs/SBOM.md) for the medical SBOM.
func TestEvaluateExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file      string
		wantScore int
		want      []Missing
	}{
		{
			file:      "medical-extended.cdx.json",
			wantScore: 78, // 10+5+10·59/66+10·65/66+10+10+0+10·65/66+5·65/66+5·65/66+10+5
			want: []Missing{
				{ID: Version, Title: "component version", Source: "NTIA", Missing: 7, Total: 66,
					Examples: []string{"REDACTED", "Qualcomm Atheros QCA9563", "UAP-AC-Pro", "ARM Cortex-M4 Microcontroller", "EdgeRouter X"}},
				{ID: UniqueID, Title: "other unique identifier (PURL, CPE or SWID)", Source: "NTIA", Missing: 1, Total: 66, Examples: []string{"REDACTED"}},
				{ID: Hash, Title: "component hash", Source: "CISA 2025", Missing: 66, Total: 66,
					Examples: []string{"REDACTED", "UniFi Network Application@8.3.32", "Qualcomm Atheros QCA9563", "UAP-AC-Pro", "ARM Cortex-M4 Microcontroller"}},
				{ID: License, Title: "license", Source: "CISA 2025", Missing: 1, Total: 66, Examples: []string{"REDACTED"}},
				{ID: ToolName, Title: "tool name", Source: "CISA 2025", Missing: 1, Total: 1},
				{ID: GenerationContext, Title: "generation context (lifecycle phase)", Source: "CISA 2025", Missing: 1, Total: 1},
				{ID: SupportLevel, Title: "level of support", Source: "FDA", Missing: 1, Total: 66, Examples: []string{"REDACTED"}},
				{ID: EndOfSupport, Title: "end-of-support date", Source: "FDA", Missing: 1, Total: 66, Examples: []string{"REDACTED"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			r := Evaluate(parseFile(t, tt.file))
			if r.Score != tt.wantScore {
				t.Errorf("Evaluate(%s).Score = %d, want %d", tt.file, r.Score, tt.wantScore)
			}
			if diff := cmp.Diff(tt.want, r.Missing); diff != "" {
				t.Errorf("Evaluate(%s).Missing (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

func TestEvaluateSynthetic(t *testing.T) {
	t.Parallel()
	full := sbom.Component{
		Ref: "fw", Type: "firmware", Name: "pump-fw", Version: "4.2.1", Supplier: "Acme Medical",
		PURL: "pkg:generic/acme/pump-fw@4.2.1", Hashes: []sbom.Hash{{Algorithm: "SHA-256", Value: "ab"}},
		Licenses: []string{"LicenseRef-Acme"}, SupportLevel: "actively maintained", EndOfSupport: "2031-12-31",
	}
	bare := sbom.Component{Ref: "lib", Name: "zlib"}
	tests := []struct {
		name      string
		doc       sbom.Document
		wantScore int
		wantPer   []ComponentResult
	}{
		{
			name: "complete",
			doc: sbom.Document{
				Authors: []string{"Acme"}, Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
				Tools: []sbom.Tool{{Name: "syft"}}, Lifecycles: []string{"build"},
				Components:   []sbom.Component{full},
				Dependencies: []sbom.Dependency{{Ref: "fw"}},
			},
			wantScore: 100,
			wantPer:   []ComponentResult{{Ref: "fw", Name: "pump-fw", Version: "4.2.1", Score: 100}},
		},
		{
			name:      "empty",
			doc:       sbom.Document{},
			wantScore: 0,
			wantPer:   []ComponentResult{},
		},
		{
			name: "half_bare",
			doc: sbom.Document{
				Components:   []sbom.Component{full, bare},
				Dependencies: []sbom.Dependency{{Ref: "fw", DependsOn: []string{"lib"}}},
			},
			// component elements: 10 deps + 5 name full on both; the other
			// 60 points on half the components = 30; no document elements.
			wantScore: 45,
			wantPer: []ComponentResult{
				{Ref: "fw", Name: "pump-fw", Version: "4.2.1", Score: 100},
				{Ref: "lib", Name: "zlib", Score: 20, Missing: []string{Supplier, Version, UniqueID, Hash, License, SupportLevel, EndOfSupport}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Evaluate(&tt.doc)
			if r.Score != tt.wantScore {
				t.Errorf("Evaluate(%s).Score = %d, want %d", tt.name, r.Score, tt.wantScore)
			}
			if diff := cmp.Diff(tt.wantPer, r.PerComp); diff != "" {
				t.Errorf("Evaluate(%s).PerComp (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func BenchmarkEvaluate(b *testing.B) {
	d := &sbom.Document{Authors: []string{"a"}}
	for i := range 5000 {
		ref := "c" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26))
		d.Components = append(d.Components, sbom.Component{Ref: ref, Name: "n", Version: "1", PURL: "pkg:npm/x@1"})
		d.Dependencies = append(d.Dependencies, sbom.Dependency{Ref: ref})
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(d)
	}
}
