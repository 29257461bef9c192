package csaf

import (
	"fmt"
	"strings"
)

// parseVector splits a CVSS vector "K:V/K:V" (after an optional
// "CVSS:x.y/" prefix) into a map, refusing empty parts and repeated
// metrics. Test 6.1.10 uses it to see which metrics the vector sets.
func parseVector(vec string) (map[string]string, error) {
	if strings.HasPrefix(vec, "CVSS:") {
		i := strings.IndexByte(vec, '/')
		if i < 0 {
			return nil, fmt.Errorf("no metrics after %q", vec)
		}
		vec = vec[i+1:]
	}
	m := map[string]string{}
	for _, part := range strings.Split(vec, "/") {
		k, v, ok := strings.Cut(part, ":")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("malformed metric %q", part)
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("metric %s given twice", k)
		}
		m[k] = v
	}
	return m, nil
}
