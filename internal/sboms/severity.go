package sboms

import (
	"strings"

	"github.com/medwarden/medwarden/internal/cvss"
	"github.com/medwarden/medwarden/internal/store"
)

// maxSummary bounds the summary kept with a component vulnerability.
const maxSummary = 240

// addSeverity sets the CVSS (highest base score) and summary of every
// vulnerability from its NVD record (by id, else by a CVE alias) or, when
// NVD has none, its OSV record's severity vectors. The findings' risk
// score uses them; a vulnerability without either keeps CVSS 0.
func addSeverity(vulns []store.SBOMVuln, m Matchers) {
	cache := map[string]store.SBOMVuln{}
	for i := range vulns {
		v := &vulns[i]
		if c, ok := cache[v.ID]; ok {
			v.CVSS, v.CVSSVector, v.CVSSVersion, v.Summary = c.CVSS, c.CVSSVector, c.CVSSVersion, c.Summary
			continue
		}
		ids := append([]string{v.ID}, v.Aliases...)
		for _, id := range ids {
			c := m.NVD.CVE(id)
			if c == nil {
				continue
			}
			for _, s := range c.Scores {
				if s.BaseScore > v.CVSS {
					v.CVSS, v.CVSSVector, v.CVSSVersion = s.BaseScore, s.Vector, s.Version
				}
			}
			if v.Summary == "" {
				v.Summary = firstLine(c.Description)
			}
			if v.CVSS > 0 {
				break
			}
		}
		if m.OSV != nil {
			for _, id := range ids {
				r := m.OSV.Record(id)
				if r == nil {
					continue
				}
				if v.Summary == "" {
					v.Summary = firstLine(r.Summary)
				}
				if v.CVSS > 0 {
					break
				}
				for _, s := range r.Severity {
					res, err := cvss.Score(s.Score)
					if err != nil {
						continue // a severity that is not a vector (OSV allows "Ubuntu" labels)
					}
					if res.BaseScore > v.CVSS {
						v.CVSS, v.CVSSVector, v.CVSSVersion = res.BaseScore, res.Vector, res.Version
					}
				}
				break
			}
		}
		cache[v.ID] = *v
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > maxSummary {
		cut := maxSummary
		for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
