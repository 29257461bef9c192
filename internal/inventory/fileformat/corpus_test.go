package fileformat

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/inventory"
)

// TestExtraCorpus opens every CSV, JSON, NDJSON and text file of the shared
// corpus (MEDWARDEN_TESTDATA_EXTRA) as an inventory. Most are not
// inventories; the point is that whatever a hospital uploads by mistake is
// refused or read cleanly: no panic, no endless loop, every problem an
// InputError or a fatal error that names the file.
func TestExtraCorpus(t *testing.T) {
	root := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if root == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: no shared corpus to read")
	}
	n := 0
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv", ".json", ".ndjson", ".txt", ".tsv":
		default:
			return nil
		}
		if info, err := e.Info(); err != nil || info.Size() > 64<<20 {
			return err
		}
		n++
		name, _ := filepath.Rel(root, path)
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			info, _ := f.Stat()
			dec, format, err := Open(f, name)
			if err != nil {
				if _, ok := inventory.AsInputError(err); !ok && !strings.Contains(err.Error(), name) {
					t.Errorf("Open: error does not name the file: %v", err)
				}
				return
			}
			devices, problems := 0, 0
			for i := int64(0); ; i++ {
				if i > info.Size()+2 {
					t.Fatalf("%s decoder returned more records than the file has bytes", format)
				}
				_, err := dec.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					if ie, ok := inventory.AsInputError(err); ok {
						if ie.File != name {
							t.Errorf("InputError names %q, want %q", ie.File, name)
						}
						problems++
						continue
					}
					if !strings.Contains(err.Error(), name) {
						t.Errorf("fatal error does not name the file: %v", err)
					}
					break
				}
				devices++
			}
			t.Logf("%s: %d devices, %d problems", format, devices, problems)
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("no candidate files under %s", root)
	}
}
