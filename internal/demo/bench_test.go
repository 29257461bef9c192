package demo

import (
	"fmt"
	"math"
	"testing"

	"github.com/medwarden/medwarden/internal/inventory"
)

// BenchmarkGenerate measures streaming a fleet to a callback that keeps
// nothing; ns/op is per fleet, and the devices/s metric is the throughput.
func BenchmarkGenerate(b *testing.B) {
	for exp := 3; exp <= 6; exp++ {
		n := int(math.Pow10(exp))
		b.Run(fmt.Sprintf("devices-1e%d", exp), func(b *testing.B) {
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
