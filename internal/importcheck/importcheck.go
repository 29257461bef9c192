// Package importcheck is a test helper that keeps domain packages pure:
// their non-test files import no I/O package and, outside the standard
// library, only the packages a test allows.
package importcheck

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// IO are the standard-library packages a domain package must not import.
var IO = []string{"os", "os/exec", "net", "net/http", "database/sql", "log", "io/ioutil", "syscall"}

// Pure checks every non-test .go file in the current directory: none
// imports a package of IO, and every import outside the standard library
// is one of allowed.
func Pure(t testing.TB, allowed ...string) {
	t.Helper()
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
			if slices.Contains(IO, p) {
				t.Errorf("%s imports %q: domain packages do no I/O", f, p)
			}
			if strings.Contains(p, ".") && !slices.Contains(allowed, p) {
				t.Errorf("%s imports %q: only the standard library and the domain packages %v", f, p, allowed)
			}
		}
	}
}
