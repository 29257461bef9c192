package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/bus"
	"github.com/medwarden/medwarden/internal/bus/memory"
	busnats "github.com/medwarden/medwarden/internal/bus/nats"
	"github.com/medwarden/medwarden/internal/ingest"
	"github.com/medwarden/medwarden/internal/ingest/ingesttest"
	"github.com/medwarden/medwarden/internal/simulate"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// BenchmarkIngest applies the batches of a simulated 200-device ward
// (20 minutes, one batch a minute) per iteration, in steady state: each
// iteration is a new sensor id, so every batch is applied (not a
// duplicate) and its edges add up onto the stored ones. Stores: SQLite,
// and PostgreSQL when MEDWARDEN_TEST_POSTGRES is set; buses: none (Apply
// directly), in-process, and NATS JetStream when MEDWARDEN_TEST_NATS is set.
func BenchmarkIngest(b *testing.B) {
	out := ingesttest.Produce(b, simulate.Config{Devices: 200, Minutes: 20, Seed: 21}, "bench", time.Minute)
	edges := 0
	for _, bt := range out.Batches {
		edges += len(bt.Edges)
	}
	stores := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), sqlite.FileName))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"postgres", func(b *testing.B) store.Store {
			dsn := os.Getenv("MEDWARDEN_TEST_POSTGRES")
			if dsn == "" {
				b.Skip("MEDWARDEN_TEST_POSTGRES is not set")
			}
			s, err := postgres.Open(context.Background(), storetest.PostgresSchemaDSN(b, dsn))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	}
	buses := []struct {
		name string
		open func(b *testing.B) bus.Bus
	}{
		{"direct", nil},
		{"memory", func(*testing.B) bus.Bus { return memory.New(memory.Options{}) }},
		{"nats", func(b *testing.B) bus.Bus {
			url := os.Getenv("MEDWARDEN_TEST_NATS")
			if url == "" {
				b.Skip("MEDWARDEN_TEST_NATS is not set")
			}
			name := fmt.Sprintf("MWBENCH_%d", time.Now().UnixNano())
			nb, err := busnats.Open(context.Background(), busnats.Options{URL: url, Stream: name, Subject: "mwbench." + name})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { nb.DeleteStream(context.Background()) })
			return nb
		}},
	}
	for _, sc := range stores {
		for _, bc := range buses {
			b.Run(fmt.Sprintf("store=%s/bus=%s", sc.name, bc.name), func(b *testing.B) {
				st := sc.open(b)
				defer st.Close()
				svc := ingest.New(st, nil)
				var bs bus.Bus
				var cons bus.Consumer
				if bc.open != nil {
					bs = bc.open(b)
					defer bs.Close()
					var err error
					if cons, err = bs.Consumer(context.Background(), ingest.ConsumerName); err != nil {
						b.Fatal(err)
					}
				}
				ctx := context.Background()
				iter := 0
				b.ResetTimer()
				for b.Loop() {
					iter++
					for _, bt := range out.Batches {
						c := *bt
						c.SensorID = fmt.Sprintf("bench-%d", iter)
						if bs == nil {
							if _, err := svc.Apply(ctx, &c); err != nil {
								b.Fatal(err)
							}
							continue
						}
						data, _ := c.Encode()
						if _, err := bs.Publish(ctx, bus.Message{ID: c.ID(), Data: data}); err != nil {
							b.Fatal(err)
						}
					}
					for range len(out.Batches) {
						if bs == nil {
							break
						}
						d, err := cons.Next(ctx)
						if err != nil {
							b.Fatal(err)
						}
						svc.Handle(ctx, d)
					}
				}
				n := float64(b.N)
				b.ReportMetric(n*float64(len(out.Batches))/b.Elapsed().Seconds(), "batches/s")
				b.ReportMetric(n*float64(edges)/b.Elapsed().Seconds(), "edges/s")
				if c := svc.Counters(); c.Applied != int64(b.N*len(out.Batches)) || c.Failed != 0 {
					b.Fatalf("counters %+v after %d iterations", c, b.N)
				}
				entries := 0
				if err := st.(store.SecurityStore).ScanAudit(ctx, 0, func(*audit.Entry) error { entries++; return nil }); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(entries)/n, "audit-entries/op")
			})
		}
	}
}
