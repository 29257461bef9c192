package assess

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPureImports keeps the package pure: no I/O packages, and of this
// module only the domain packages below it (never store, api, web, app, cli).
func TestPureImports(t *testing.T) {
	t.Parallel()
	forbidden := []string{"os", "os/exec", "net", "net/http", "database/sql", "log", "io/ioutil", "syscall"}
	allowed := []string{
		"github.com/medwarden/medwarden/internal/advisory",
		"github.com/medwarden/medwarden/internal/cvss",
		"github.com/medwarden/medwarden/internal/inventory",
		"github.com/medwarden/medwarden/internal/risk",
		"github.com/medwarden/medwarden/internal/match",
		"github.com/medwarden/medwarden/internal/remediation",
		"github.com/medwarden/medwarden/internal/advisory/kev",
		"github.com/medwarden/medwarden/internal/advisory/epss",
	}
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
					t.Errorf("%s imports %q: only the standard library and the domain packages %v", f, p, allowed)
				}
			}
		}
	}
}
