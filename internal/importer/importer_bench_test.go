package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/demo"
	"github.com/medwarden/medwarden/internal/importer"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/csvfile"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

// fleetCSV renders n demo devices as canonical CSV.
func fleetCSV(b testing.TB, n int) []byte {
	var buf bytes.Buffer
	w := csvfile.NewWriter(&buf)
	cfg := demo.DefaultConfig()
	cfg.Devices, cfg.Sites = n, 0
	if err := demo.Generate(cfg, func(d *inventory.Device) error { return w.Write(d) }); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// benchSizes: 1e6 only with MEDWARDEN_BENCH_LARGE=1 (minutes, GBs of disk).
func benchSizes() []int {
	if os.Getenv("MEDWARDEN_BENCH_LARGE") == "1" {
		return []int{100_000, 1_000_000}
	}
	return []int{10_000, 100_000}
}

func sizeName(n int) string {
	s := strconv.Itoa(n)
	return fmt.Sprintf("devices-%de%d", n/pow10(len(s)-1), len(s)-1)
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// BenchmarkImportCSV measures a full import (decode, validate, merge, one
// transaction) into an empty store; rows/s is the figure the issue names,
// up to the commit. The index builds a large import defers are timed
// apart (build-s/op, and indexed-rows/s counting both).
func BenchmarkImportCSV(b *testing.B) {
	for _, n := range benchSizes() {
		data := fleetCSV(b, n)
		b.Run("sqlite/"+sizeName(n), func(b *testing.B) {
			benchImport(b, data, n, func(b *testing.B) store.Store {
				st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), sqlite.FileName))
				if err != nil {
					b.Fatal(err)
				}
				return st
			})
		})
		if os.Getenv("MEDWARDEN_TEST_POSTGRES") != "" {
			b.Run("postgres/"+sizeName(n), func(b *testing.B) {
				benchImport(b, data, n, openPostgres)
			})
		}
	}
}

// BenchmarkReimportCSV measures importing the same file again into the
// store it was loaded into (every record matches a device and changes
// nothing): the nightly CMMS sync of an unchanged fleet.
func BenchmarkReimportCSV(b *testing.B) {
	for _, n := range benchSizes() {
		data := fleetCSV(b, n)
		b.Run("sqlite/"+sizeName(n), func(b *testing.B) {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), sqlite.FileName))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			benchReimport(b, data, n, st)
		})
		if os.Getenv("MEDWARDEN_TEST_POSTGRES") != "" {
			b.Run("postgres/"+sizeName(n), func(b *testing.B) {
				st := openPostgres(b)
				defer st.Close()
				benchReimport(b, data, n, st)
			})
		}
	}
}

func benchReimport(b *testing.B, data []byte, n int, st store.Store) {
	load := func() *importer.Result {
		dec, err := csvfile.NewDecoder(bytes.NewReader(data), "fleet.csv")
		if err != nil {
			b.Fatal(err)
		}
		res, err := importer.Import(context.Background(), st, dec, importer.Options{Source: "fleet.csv"})
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	b.StopTimer()
	if res := load(); res.Created != n {
		b.Fatalf("first import created %d devices, want %d", res.Created, n)
	}
	b.StartTimer()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var rows int
	var cpu float64
	for b.Loop() {
		c0 := processCPU()
		res := load()
		cpu += processCPU() - c0
		if res.Unchanged != n {
			b.Fatalf("re-import: %d unchanged, %d updated, %d created; want %d unchanged", res.Unchanged, res.Updated, res.Created, n)
		}
		rows += res.Unchanged
	}
	reportRates(b, rows, cpu)
}

// reportRates reports rows per second of wall time and of this process's
// CPU time (PostgreSQL's server CPU is not in it), and the CPU seconds.
func reportRates(b *testing.B, rows int, cpu float64) {
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	if cpu > 0 {
		b.ReportMetric(float64(rows)/cpu, "rows/cpu-s")
		b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
	}
}

func benchImport(b *testing.B, data []byte, n int, open func(*testing.B) store.Store) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var rows int
	var cpu float64
	var build time.Duration
	for b.Loop() {
		b.StopTimer()
		st := open(b)
		dec, err := csvfile.NewDecoder(bytes.NewReader(data), "fleet.csv")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c0 := processCPU()
		res, err := importer.Import(context.Background(), st, dec, importer.Options{Source: "fleet.csv"})
		if err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - c0
		b.StopTimer()
		rows += res.Created
		// A large import commits before its list and search indexes
		// exist (deferred builds): timed apart, so that rows/s is the
		// commit and indexed-rows/s the time until every index is back.
		t0 := time.Now()
		if err := st.BuildIndexes(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
		build += time.Since(t0)
		st.Close()
		b.StartTimer()
	}
	reportRates(b, rows, cpu)
	b.ReportMetric(build.Seconds()/float64(b.N), "build-s/op")
	b.ReportMetric(float64(rows)/(b.Elapsed()+build).Seconds(), "indexed-rows/s")
}
