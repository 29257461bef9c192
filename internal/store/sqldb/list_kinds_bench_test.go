package sqldb_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// BenchmarkListKinds runs each device-list shape bench/load.lua sends
// (limit 50; sort asset_id, -updated_at, vendor or model; one filter:
// site, device_type or q) on a 100,000-device SQLite store and reports
// this process's CPU time per list (cpu-ms/op, getrusage) for each.
// MEDWARDEN_LIST_DB names a database file to reuse, e.g. the one
// bench/load.sh imports from "medwarden demo --devices 100000" (sites NBR,
// WMR and ASV: site=SCH is an empty list there); without it the benchmark loads storetest.LoadDemo's fleet.
// The file is migrated on open.
func BenchmarkListKinds(b *testing.B) {
	path := os.Getenv("MEDWARDEN_LIST_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), sqlite.FileName)
	}
	_, statErr := os.Stat(path)
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if statErr != nil {
		storetest.LoadDemo(b, st, storetest.BenchSize())
	}
	ctx := context.Background()
	type kind struct {
		name string
		q    store.DeviceQuery
	}
	var kinds []kind
	for _, sortBy := range []string{"asset_id", "-updated_at", "vendor", "model"} {
		for _, f := range []string{"site=NBR", "site=WMR", "site=SCH", "device_type=infusion-pump", "device_type=patient-monitor",
			"device_type=workstation", "device_type=syringe-pump",
			"q=pump", "q=monitor", "q=ventilator", "q=analyzer", "q=ct", "q=mri"} {
			k, v, _ := strings.Cut(f, "=")
			q := store.DeviceQuery{Sort: sortBy, Limit: 50}
			if k == "q" {
				q.Search = v
			} else {
				q.Filters = map[string]string{k: v}
			}
			kinds = append(kinds, kind{sortBy + "/" + f, q})
		}
	}
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			c0 := processCPU()
			for b.Loop() {
				p, err := st.ListDevices(ctx, k.q)
				if err != nil {
					b.Fatal(err)
				}
				if p == nil {
					b.Fatalf("%s: no page", k.name)
				}
			}
			b.ReportMetric(float64((processCPU()-c0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
