package sbom

import (
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoForbiddenImports keeps the domain packages pure: no I/O packages
// and no imports of the store, api, web or app layers.
func TestNoForbiddenImports(t *testing.T) {
	t.Parallel()
	forbidden := []string{"os", "net", "net/http", "database/sql", "os/exec", "log",
		"github.com/medwarden/medwarden/internal/store", "github.com/medwarden/medwarden/internal/api",
		"github.com/medwarden/medwarden/internal/web", "github.com/medwarden/medwarden/internal/app"}
	for _, dir := range []string{".", "quality", "osv", "cpematch"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(gotoken.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range forbidden {
					if p == bad || strings.HasPrefix(p, bad+"/") {
						t.Errorf("%s imports %q", f, p)
					}
				}
			}
		}
	}
}
