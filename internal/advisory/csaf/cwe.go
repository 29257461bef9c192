package csaf

import (
	_ "embed"
	"strings"
	"sync"
)

// cweTSV is a partial CWE catalogue (id, name) used by test 6.1.11. It is
// not the full MITRE list (which is not available offline here): ids that
// are not in it are not checked. An id may have several accepted names
// because MITRE renamed some weaknesses over time.
//
//go:embed cwe_names.tsv
var cweTSV string

var loadCWENames = sync.OnceValue(func() map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(cweTSV, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		id, name, ok := strings.Cut(line, "\t")
		if ok {
			m[id] = append(m[id], name)
		}
	}
	return m
})

// cweName returns the accepted names of a CWE id and whether it is in the catalogue.
func cweName(id string) ([]string, bool) {
	n, ok := loadCWENames()[id]
	return n, ok
}
