package sbom

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addSeeds(f *testing.F, globs ...string) {
	f.Helper()
	for _, g := range globs {
		files, err := filepath.Glob(g)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			if len(data) > 64<<10 {
				data = data[:64<<10] // truncated seeds are good seeds
			}
			f.Add(data)
		}
	}
}

// FuzzParse feeds every parser (via detection): no panics, bounded work,
// and errors are *InputError naming the input.
func FuzzParse(f *testing.F) {
	addSeeds(f,
		filepath.Join("testdata", "examples", "*"),
		filepath.Join("testdata", "spec-tests", "1.6", "valid-bom-*"),
		filepath.Join("testdata", "spec-tests", "1.7", "valid-component-*"),
		filepath.Join("testdata", "spec-tests", "1.5", "invalid-*.xml"),
	)
	f.Add([]byte(billionLaughs))
	f.Add([]byte(nested(20)))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(bytes.NewReader(data), "fuzz", Options{MaxBytes: 1 << 20, MaxDepth: 16})
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Parse error %T is not *InputError: %v", err, err)
			}
			if ie.Name != "fuzz" {
				t.Fatalf("InputError.Name = %q", ie.Name)
			}
			return
		}
		if doc == nil || doc.Components == nil {
			t.Fatal("nil document or components without error")
		}
	})
}

// FuzzJSONPointerAt: the error-path pointer finder must not panic and
// must return a pointer ("" or starting with "/").
func FuzzJSONPointerAt(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"c"}]}`), int64(12))
	f.Add([]byte(nested(3)), int64(40))
	f.Fuzz(func(t *testing.T, data []byte, off int64) {
		p := jsonPointerAt(data, off)
		if p != "" && !strings.HasPrefix(p, "/") {
			t.Fatalf("jsonPointerAt = %q", p)
		}
		_ = checkJSONDepth(data, 8)
	})
}
