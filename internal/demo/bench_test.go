package demo

import (
	"fmt"
	"testing"

	"github.com/medwarden/medwarden/internal/inventory"
)

// BenchmarkGenerate measures streaming a fleet to a callback that keeps
// nothing; ns/op is per fleet, and the devices/s metric is the throughput.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("devices-%.0e", float64(n)), func(b *testing.B) {
			cfg := Config{Seed: 1, Devices: n, Now: testNow}
			b.ReportAllocs()
			count := 0
			for b.Loop() {
				if err := Generate(cfg, func(*inventory.Device) error { count++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(count)/b.Elapsed().Seconds(), "devices/s")
		})
	}
}
