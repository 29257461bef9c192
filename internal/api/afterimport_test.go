package api_test

import (
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

// Deps.AfterImport (serve: start the deferred index builds) runs after an
// import that wrote, and not after a rejected import or a dry run.
func TestAfterImportRunsOnlyAfterWrites(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rec, err := recorder.Wrap(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	ts := httptest.NewServer(api.New(api.Deps{Store: rec, AfterImport: func() { calls.Add(1) }}))
	t.Cleanup(ts.Close)
	bearer.Store(ts.URL, newToken(t, rec, "admin", "admin", "*"))

	if r := do(t, "POST", ts.URL+"/api/v1/imports?name=cmms.csv&dry_run=true", csvRows(10)); r.code != 200 || calls.Load() != 0 {
		t.Fatalf("dry run: %d %s, %d calls", r.code, r.raw, calls.Load())
	}
	bad := csvRows(3) + "BIO-X,Baxter,Sigma Spectrum,8,SNX,,,,North,,ICU,infusion pump,very-important,yes,no,,2027-01-31\n"
	if r := do(t, "POST", ts.URL+"/api/v1/imports?name=bad.csv", bad); r.code != 422 || calls.Load() != 0 {
		t.Fatalf("rejected import: %d %s, %d calls", r.code, r.raw, calls.Load())
	}
	if r := do(t, "POST", ts.URL+"/api/v1/imports?name=cmms.csv", csvRows(10)); r.code != 200 || calls.Load() != 1 {
		t.Fatalf("import: %d %s, %d calls", r.code, r.raw, calls.Load())
	}
}
