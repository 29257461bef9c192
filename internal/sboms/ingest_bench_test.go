package sboms

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

// BenchmarkAttachLarge is the attach of a large CycloneDX JSON SBOM split
// into its two halves: Analyze (parse with schema validation, quality,
// matching) and the store write (SQLite: compressed document, components,
// vulnerabilities, version). The SBOM is the file MEDWARDEN_SBOM_LARGE
// names (bench/sbom_ingest.sh writes one with `sbomgen -large 80000`,
// 76 MB); without it the benchmark is skipped. MB/s are wall, cpu-MB/s per
// process CPU second.
func BenchmarkAttachLarge(b *testing.B) {
	path := os.Getenv("MEDWARDEN_SBOM_LARGE")
	if path == "" {
		b.Skip("MEDWARDEN_SBOM_LARGE is not set: no large SBOM to attach (bench/sbom_ingest.sh makes one)")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	opts := sbom.Options{MaxBytes: int64(len(raw)) + 1}
	var analyze, write, cpuA, cpuW time.Duration
	runs := 0
	comps := 0
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), fmt.Sprintf("%d-%s", i, sqlite.FileName)))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c0, t0 := cpuTime(), time.Now()
		in, _, err := Analyze(raw, path, opts, Matchers{})
		if err != nil {
			b.Fatal(err)
		}
		c1, t1 := cpuTime(), time.Now()
		in.Subject = store.SBOMSubject{Vendor: "Acme", Model: "Infusion Pump", FirmwareVersion: "4.2.1"}
		if _, _, err := st.AttachSBOM(ctx, in); err != nil {
			b.Fatal(err)
		}
		analyze += t1.Sub(t0)
		write += time.Since(t1)
		cpuA += c1 - c0
		cpuW += cpuTime() - c1
		comps = len(in.Components)
		runs++
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	mb := float64(len(raw)) / 1e6
	n := float64(runs)
	b.SetBytes(int64(len(raw)))
	b.ReportMetric(float64(analyze.Milliseconds())/n, "analyze-ms/op")
	b.ReportMetric(float64(write.Milliseconds())/n, "store-ms/op")
	b.ReportMetric(float64(cpuA.Milliseconds())/n, "analyze-cpu-ms/op")
	b.ReportMetric(float64(cpuW.Milliseconds())/n, "store-cpu-ms/op")
	b.ReportMetric(mb*n/(cpuA+cpuW).Seconds(), "cpu-MB/s")
	b.ReportMetric(float64(comps), "components")
}
