//go:build !linux

package sensor

import "os"

// openMapped maps captures on Linux only (see source_mmap_linux.go).
func openMapped(*os.File, string) (Source, error) { return nil, nil }

type mapping struct {
	data []byte
	next int
}

func (m *mapping) consumed(int) {}
func (m *mapping) release()     {}
