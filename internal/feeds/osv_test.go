package feeds

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/sbom/osv"
	"github.com/medwarden/medwarden/internal/store"
)

func osvZip(t testing.TB, extra map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files, _ := filepath.Glob(filepath.Join("testdata", "osv", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := zw.Create(filepath.Base(f))
		w.Write(b) //nolint:errcheck // bytes.Buffer
	}
	for name, body := range extra {
		w, _ := zw.Create(name)
		w.Write([]byte(body)) //nolint:errcheck // bytes.Buffer
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "all.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func storedOSV(t testing.TB, s store.Store) []string {
	t.Helper()
	var ids []string
	if err := s.ScanOSV(context.Background(), func(id string, _ []byte) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestImportOSV(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	im := newImporter(t, s, Options{})
	// A bad zip is rejected whole: nothing stored, the error names the record.
	_, err := im.Import(ctx, osvZip(t, map[string]string{"BAD-1.json": `{"id":"","affected":[]}`}), KindAuto)
	if err == nil || !strings.Contains(err.Error(), "BAD-1.json") {
		t.Fatalf("import of a zip with an invalid record = %v, want an error naming BAD-1.json", err)
	}
	if ids := storedOSV(t, s); len(ids) != 0 {
		t.Fatalf("after a rejected import %d records are stored", len(ids))
	}
	res, err := im.Import(ctx, osvZip(t, nil), KindAuto)
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != store.FeedOSV || res.Imported != 3 || res.FeedDate.IsZero() {
		t.Errorf("result = %+v", res)
	}
	// One record file is detected as OSV too, and replaces by id.
	if _, err := im.Import(ctx, filepath.Join("testdata", "osv", "GHSA-35jh-r3h4-6jhm.json"), KindAuto); err != nil {
		t.Fatal(err)
	}
	// A directory of records, with the kind forced.
	if _, err := im.Import(ctx, filepath.Join("testdata", "osv"), KindOSV); err != nil {
		t.Fatal(err)
	}
	want := []string{"GHSA-35jh-r3h4-6jhm", "GHSA-462w-v97r-4m45", "GHSA-jfh8-c2jp-5v3q"}
	if d := cmp.Diff(want, storedOSV(t, s)); d != "" {
		t.Errorf("stored (-want +got):\n%s", d)
	}
	fs, err := s.ListFeeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, f := range fs {
		if f.Name == store.FeedOSV && f.Kind == store.FeedOSV && f.Items == 3 {
			found = true
		}
	}
	if !found {
		t.Errorf("feed status lacks osv with 3 items: %+v", fs)
	}
}

func TestBundleCarriesOSV(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := openStore(t)
	if _, err := newImporter(t, src, Options{}).Import(ctx, osvZip(t, nil), KindAuto); err != nil {
		t.Fatal(err)
	}
	priv, pub := bundleKeys(t)
	var buf bytes.Buffer
	if _, err := WriteBundle(ctx, src, &buf, priv, time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	dst := openStore(t)
	res, err := newImporter(t, dst, Options{}).ImportBundle(ctx, bytes.NewReader(buf.Bytes()), "b.tar.gz", []ed25519.PublicKey{pub})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Kind != store.FeedOSV || res[0].Imported != 3 {
		t.Errorf("bundle results = %+v", res)
	}
	if d := cmp.Diff(storedOSV(t, src), storedOSV(t, dst)); d != "" {
		t.Errorf("OSV records after the bundle (-src +dst):\n%s", d)
	}
}

// FuzzOSVRecords feeds arbitrary bytes (zips, JSON, garbage) to the OSV
// input reader and parser: no panic, bounded records, errors not panics.
func FuzzOSVRecords(f *testing.F) {
	z, err := os.ReadFile(osvZip(f, nil))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(z)
	f.Add(z[:len(z)/2])
	rec, _ := os.ReadFile(filepath.Join("testdata", "osv", "GHSA-35jh-r3h4-6jhm.json"))
	f.Add(rec)
	f.Add([]byte("PK\x03\x04garbage"))
	f.Add([]byte(`{"id":"X","modified":"2026-01-01T00:00:00Z","affected":[{"package":{}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var total int64
		ins, err := osvRecords(data, "fuzz", &total, nil)
		if err != nil {
			return
		}
		for _, in := range ins {
			if int64(len(in.raw)) > int64(len(data))+osv.MaxRecordBytes+1 {
				t.Fatalf("record %s larger than its input", in.name)
			}
		}
		parseOSV(ins) //nolint:errcheck // any error is fine; panics are not
	})
}
