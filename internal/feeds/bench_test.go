package feeds

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkImportCSAF imports the CSAF test advisories (validation,
// normalisation, one transaction) into an empty store.
func BenchmarkImportCSAF(b *testing.B) {
	dir := filepath.Join("testdata", "csaf")
	if root := os.Getenv("MEDWARDEN_TESTDATA_EXTRA"); root != "" {
		dir = filepath.Join(root, "csaf_cisa", "icsma")
	}
	var size int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, _ error) error { //nolint:errcheck // size only
		if fi != nil && !fi.IsDir() {
			size += fi.Size()
		}
		return nil
	})
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		s := openStore(b)
		im := newImporter(b, s, Options{})
		b.StartTimer()
		if _, err := im.Import(context.Background(), dir, KindAuto); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSyncUnchanged re-imports a directory whose documents are all stored.
func BenchmarkSyncUnchanged(b *testing.B) {
	s := openStore(b)
	im := newImporter(b, s, Options{})
	dir := filepath.Join("testdata", "csaf")
	if _, err := im.Import(context.Background(), dir, KindAuto); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := im.Import(context.Background(), dir, KindAuto); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImportEPSS replaces the EPSS table with a full-size file
// (sub-benchmarks by row count; FIRST's daily file has ~300k rows).
func BenchmarkImportEPSS(b *testing.B) {
	for _, n := range []int{10000, 300000} {
		b.Run(fmt.Sprintf("rows-%d", n), func(b *testing.B) {
			var buf bytes.Buffer
			fmt.Fprintf(&buf, "#model_version:v2025.03.14,score_date:%s\ncve,epss,percentile\n", time.Date(2025, 8, 25, 0, 0, 0, 0, time.UTC).Format(time.RFC3339))
			for i := range n {
				fmt.Fprintf(&buf, "CVE-%d-%05d,0.%05d,0.%05d\n", 2000+i/90000, i%90000, i%99991, i%99989)
			}
			p := filepath.Join(b.TempDir(), "epss.csv")
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				b.Fatal(err)
			}
			s := openStore(b)
			im := newImporter(b, s, Options{})
			b.SetBytes(int64(buf.Len()))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := im.Import(context.Background(), p, KindEPSS); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
