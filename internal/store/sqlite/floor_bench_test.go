package sqlite_test

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/medwarden/medwarden/internal/demo"
	"github.com/medwarden/medwarden/internal/inventory"

	_ "modernc.org/sqlite"
)

// BenchmarkInsertFloor is the floor of any SQLite import on this driver
// and machine: the demo fleet's 17 canonical CSV columns, already decoded,
// inserted by one prepared statement in one transaction into a table with
// no secondary index and no search index, with the store's own pragmas
// (WAL, synchronous FULL, in-memory temp store, 64 MiB cache). No
// validation, identity merge, provenance or index is paid for, so a real
// import can only be slower; issue 2's 50,000 rows/s is compared with it
// in docs/benchmarks/inventory.md. MEDWARDEN_BENCH_LARGE=1 inserts
// 1,000,000 rows per run instead of 100,000.
func BenchmarkInsertFloor(b *testing.B) {
	n := 100_000
	if os.Getenv("MEDWARDEN_BENCH_LARGE") == "1" {
		n = 1_000_000
	}
	rows := floorRows(b, n)
	b.Run(fmt.Sprintf("rows-%d", n), func(b *testing.B) {
		var cpu float64
		for b.Loop() {
			b.StopTimer()
			db := openFloorDB(b)
			b.StartTimer()
			c0 := cpuSeconds()
			insertFloor(b, db, rows)
			cpu += cpuSeconds() - c0
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(n*b.N)/cpu, "rows/cpu-s")
	})
}

// floorRows renders n demo devices as the canonical CSV columns.
func floorRows(b *testing.B, n int) [][]any {
	cfg := demo.DefaultConfig()
	cfg.Devices, cfg.Sites = n, 0
	rows := make([][]any, 0, n)
	boolText := func(p *bool) string {
		if p == nil {
			return ""
		}
		return fmt.Sprint(*p)
	}
	err := demo.Generate(cfg, func(d *inventory.Device) error {
		eos := ""
		if d.EndOfSupport != nil {
			eos = d.EndOfSupport.String()
		}
		rows = append(rows, []any{d.AssetID, d.Vendor, d.Model, d.Version, d.Serial,
			strings.Join(d.MACs, ";"), strings.Join(d.IPs, ";"), d.Hostname, d.Site, d.Location,
			d.Department, d.DeviceType, string(d.Criticality), boolText(d.PatientConnected),
			boolText(d.PHI), d.OS, eos})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(rows) != n {
		b.Fatalf("demo generated %d devices, want %d", len(rows), n)
	}
	return rows
}

var floorColumns = []string{"asset_id", "vendor", "model", "version", "serial", "mac", "ip", "hostname",
	"site", "location", "department", "device_type", "criticality", "patient_connected", "phi", "os", "end_of_support"}

// openFloorDB opens a fresh database with the pragmas of sqlite.Open.
func openFloorDB(b *testing.B) *sql.DB {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(FULL)",
		"temp_store(MEMORY)", "cache_size(-65536)", "mmap_size(268435456)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "floor.db")+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE devices (id INTEGER PRIMARY KEY, " + strings.Join(floorColumns, " TEXT, ") + " TEXT)"); err != nil {
		b.Fatal(err)
	}
	return db
}

func insertFloor(b *testing.B, db *sql.DB, rows [][]any) {
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	st, err := tx.Prepare("INSERT INTO devices (" + strings.Join(floorColumns, ", ") + ") VALUES (?" +
		strings.Repeat(", ?", len(floorColumns)-1) + ")")
	if err != nil {
		b.Fatal(err)
	}
	for i, r := range rows {
		if _, err := st.Exec(r...); err != nil {
			b.Fatalf("row %d: %v", i+1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	var got int
	if err := db.QueryRow("SELECT count(*) FROM devices").Scan(&got); err != nil || got != len(rows) {
		b.Fatalf("floor table holds %d rows (%v), want %d", got, err, len(rows))
	}
}

// cpuSeconds is this process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
