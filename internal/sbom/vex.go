package sbom

import (
	"slices"
	"strings"
)

// VEXFor returns the document's own VEX statement about vulnerability id
// (or one of its aliases) for component c, if any. A statement applies when
// it names c by bom-ref/SPDXID, by PURL, by a CycloneDX BOM-Link
// (urn:cdx:serial/version#bom-ref), or names no component at all. Only
// statements with a status are returned.
func (d *Document) VEXFor(id string, aliases []string, c *Component) (VEXStatement, bool) {
	for _, s := range d.VEX {
		if s.Status == "" || s.ID != id && !slices.Contains(aliases, s.ID) {
			continue
		}
		if len(s.Affects) == 0 {
			return s, true
		}
		for _, a := range s.Affects {
			if strings.HasPrefix(a, "urn:cdx:") {
				if _, ref, ok := strings.Cut(a, "#"); ok {
					a = ref
				}
			}
			if a != "" && (a == c.Ref || a == c.PURL) {
				return s, true
			}
		}
	}
	return VEXStatement{}, false
}
