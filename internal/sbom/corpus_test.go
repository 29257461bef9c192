package sbom

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outOfScope are serialisations we do not read (yet); the corpus test
// checks that Parse refuses them cleanly instead of ingesting them.
var outOfScope = []string{".rdf.xml", ".spdx.xml", ".spdx.yaml", ".spdx.yml"}

// TestCorpus ingests every SBOM in the shared corpus: each must be read
// without an InputError. Schema problems are allowed (some published
// examples are not schema-valid) and logged.
func TestCorpus(t *testing.T) {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: skipping the shared SBOM corpus")
	}
	root := filepath.Join(dir, "sbom")
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "schema" || d.Name() == "spec-tests" {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if strings.HasSuffix(name, ".md") || !(strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".xml") || strings.HasSuffix(name, ".spdx")) {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		n++
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Parse(bytes.NewReader(data), rel, Options{})
			for _, suf := range outOfScope {
				if strings.HasSuffix(name, suf) {
					if err == nil {
						t.Errorf("Parse(%s) read an out-of-scope format as %s", rel, doc.Format)
					}
					return
				}
			}
			if err != nil {
				t.Fatalf("Parse(%s): %v", rel, err)
			}
			if len(doc.Components) == 0 && doc.Primary == nil && len(doc.VEX) == 0 {
				t.Logf("%s: no components", rel)
			}
			if !doc.Valid() {
				t.Logf("%s (%s %s): %d problems, first: %v", rel, doc.Format, doc.SpecVersion, len(doc.Problems), doc.Problems[0])
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no SBOMs found")
	}
}
