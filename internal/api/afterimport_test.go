package api_test

import (
	"sync/atomic"
	"testing"

	"github.com/medwarden/medwarden/internal/api"
)

// Deps.AfterImport (serve: start the deferred index builds) runs after an
// import that wrote, and not after a rejected import or a dry run.
func TestAfterImportRunsOnlyAfterWrites(t *testing.T) {
	var calls atomic.Int32
	_, ts := newServerDeps(t, api.Deps{AfterImport: func() { calls.Add(1) }})

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
