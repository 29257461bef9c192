package rubric

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPureImports keeps the package pure: the standard library and
// internal/cvss only, and no I/O packages.
func TestPureImports(t *testing.T) {
	t.Parallel()
	forbidden := map[string]bool{"os": true, "net": true, "net/http": true, "database/sql": true, "log": true, "os/exec": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if forbidden[p] {
				t.Errorf("%s imports %q: domain packages do no I/O", f, p)
			}
			if strings.Contains(p, ".") && p != "github.com/medwarden/medwarden/internal/cvss" {
				t.Errorf("%s imports %q: only the standard library and internal/cvss are allowed", f, p)
			}
		}
	}
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
