package rubric

import (
	"testing"

	"github.com/medwarden/medwarden/internal/importcheck"
)

// TestPureImports keeps the package pure: the standard library and
// internal/cvss only, and no I/O packages.
func TestPureImports(t *testing.T) {
	t.Parallel()
	importcheck.Pure(t, "github.com/medwarden/medwarden/internal/cvss")
}

// BenchmarkEvaluate measures one full evaluation of a complete answer set.
func BenchmarkEvaluate(b *testing.B) {
	r := mustDefault(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Evaluate(workbookTest2, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
