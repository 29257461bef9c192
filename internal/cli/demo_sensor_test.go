package cli

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/app"
	"github.com/medwarden/medwarden/internal/demo"
	"github.com/medwarden/medwarden/internal/importer"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

func demoTrafficOnce(t *testing.T) (*demoTrafficResult, store.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := app.OpenStore(ctx, app.StoreConfig{DataDir: filepath.Join(t.TempDir(), "d")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := demo.DefaultConfig()
	var fleet []*inventory.Device
	if err := demo.Generate(cfg, func(d *inventory.Device) error { fleet = append(fleet, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := importer.Import(ctx, st, &inventory.SliceDecoder{Devices: fleet}, importer.Options{Source: "demo"}); err != nil {
		t.Fatal(err)
	}
	res, err := loadDemoTraffic(ctx, st, fleet, cfg.Seed)
	if err != nil {
		t.Fatal(err)
	}
	return res, st
}

func TestDemoTrafficShowsObservedDevicesConflictsAndEdges(t *testing.T) {
	ctx := context.Background()
	res, st := demoTrafficOnce(t)
	if res.Batches < demoTrafficMinutes || res.Updated < 40 || res.Created < 4 || res.Conflicts < 3 || res.Edges < 100 {
		t.Fatalf("demo traffic: %+v; want observed register devices, new devices, conflicts and edges", res)
	}
	// Every conflict is a firmware version the sensor saw differ from the
	// register (the analysers updated behind the register's back), and the
	// register's value is kept.
	conflicts := 0
	err := st.ScanObserved(ctx, func(d *inventory.Device) error {
		for _, c := range d.Conflicts() {
			conflicts++
			if c.Field != "version" || d.Provenance["version"].Kind != inventory.SourceImported || c.Observed.Source != demoSensorID {
				t.Errorf("device %s: conflict %+v (provenance %+v)", d.AssetID, c, d.Provenance["version"])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if conflicts != res.Conflicts {
		t.Errorf("%d conflicts stored, %d reported", conflicts, res.Conflicts)
	}
	// The unregistered devices are there, without asset tags.
	p, err := st.ListDevices(ctx, store.DeviceQuery{Filters: map[string]string{"mac": "3c:52:82:7e:10:01"}})
	if err != nil || len(p.Devices) != 1 || p.Devices[0].AssetID != "" || p.Devices[0].Observed["hostname"].Value != "byod-laptop-17" {
		t.Fatalf("unregistered laptop: %+v, %v", p, err)
	}
	// Deterministic for a seed.
	again, _ := demoTrafficOnce(t)
	if *again != *res {
		t.Errorf("second run %+v, first %+v", again, res)
	}
}

// BenchmarkDemoTraffic is what the simulated sensor adds to the demo's
// start: simulate, sense, batch and ingest into the loaded demo store.
// cpu-ms/op is the process's user+system CPU time per run (the machine is
// shared, so wall time alone misleads).
func BenchmarkDemoTraffic(b *testing.B) {
	ctx := context.Background()
	cfg := demo.DefaultConfig()
	var fleet []*inventory.Device
	if err := demo.Generate(cfg, func(d *inventory.Device) error { fleet = append(fleet, d); return nil }); err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		st, err := app.OpenStore(ctx, app.StoreConfig{DataDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := importer.Import(ctx, st, &inventory.SliceDecoder{Devices: fleet}, importer.Options{Source: "demo"}); err != nil {
			b.Fatal(err)
		}
		c0 := cpuTime()
		b.StartTimer()
		if _, err := loadDemoTraffic(ctx, st, fleet, cfg.Seed); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += cpuTime() - c0
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
