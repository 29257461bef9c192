package cvss

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPureImports keeps the package pure: standard library only, and no
// I/O packages.
func TestPureImports(t *testing.T) {
	t.Parallel()
	checkImports(t, ".", nil)
}

func checkImports(t *testing.T, dir string, allowed []string) {
	t.Helper()
	forbidden := []string{"os", "net", "net/http", "database/sql", "log", "os/exec", "io/ioutil"}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
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
			for _, bad := range forbidden {
				if p == bad {
					t.Errorf("%s imports %q: domain packages do no I/O", f, p)
				}
			}
			if strings.Contains(p, ".") {
				ok := false
				for _, a := range allowed {
					ok = ok || p == a
				}
				if !ok {
					t.Errorf("%s imports %q: only the standard library is allowed", f, p)
				}
			}
		}
	}
}
