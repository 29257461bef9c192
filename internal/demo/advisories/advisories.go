// Package advisories embeds the CISA ICSMA advisories (CSAF 2.0) that
// `medwarden demo` loads, so the demo hospital has real findings offline.
// See PROVENANCE.md.
package advisories

import (
	"embed"
	"io/fs"
	"path"
	"slices"
)

//go:embed icsma/*.json
var files embed.FS

// File is one embedded advisory document.
type File struct {
	Name string // "icsma/icsma-23-103-01.json"
	Data []byte
}

// Files returns every embedded advisory, sorted by name.
func Files() ([]File, error) {
	names, err := fs.Glob(files, "icsma/*.json")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	out := make([]File, 0, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, File{Name: path.Clean(n), Data: b})
	}
	return out, nil
}
