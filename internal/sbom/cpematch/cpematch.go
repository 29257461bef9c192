// Package cpematch matches the CPE names of SBOM components — typically
// device firmware, operating systems, RTOSes and hardware, which have no
// Package URL — against the CPE configurations of NVD CVE records, offline.
//
// The SBOM is one device: hardware and OS CPEs listed in it satisfy NVD's
// "running on/with" (AND) nodes for the other components. A finding is
// attributed to a component only when a vulnerable criterion that matched
// names that component's own CPE. VEX statements in the SBOM apply.
package cpematch

import (
	"github.com/medwarden/medwarden/internal/advisory/nvd"
	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/versions/cpe"
)

// Finding is one component matched by one CVE.
type Finding struct {
	Component string `json:"component"`
	Ref       string `json:"ref,omitempty"`
	CPE       string `json:"cpe"`
	ID        string `json:"id"`
	// Status is affected, unknown (the configuration depends on something
	// the SBOM's CPEs do not say, typically a version), or the VEX status
	// the SBOM gives.
	Status        string   `json:"status"`
	Suppressed    bool     `json:"suppressed,omitempty"`
	Justification string   `json:"justification,omitempty"`
	Detail        string   `json:"detail,omitempty"`
	Matched       []string `json:"matched,omitempty"`
}

type comp struct {
	c    *sbom.Component
	cpes []cpe.Name
}

// Match evaluates every CVE's configurations for every component that has
// a CPE.
func Match(doc *sbom.Document, cves []*nvd.CVE) []Finding {
	var comps []comp
	var platform []cpe.Name // hardware and OS CPEs of the whole SBOM
	add := func(c *sbom.Component) {
		var names []cpe.Name
		for _, s := range c.CPEs {
			n, err := cpe.ParseAny(s)
			if err != nil {
				continue
			}
			names = append(names, n)
			if p := n.Attr(0).Literal(); p == "h" || p == "o" {
				platform = append(platform, n)
			}
		}
		if len(names) > 0 {
			comps = append(comps, comp{c, names})
		}
	}
	if doc.Primary != nil {
		add(doc.Primary)
	}
	for i := range doc.Components {
		add(&doc.Components[i])
	}
	var out []Finding
	for _, cve := range cves {
		if len(cve.Configurations) == 0 {
			continue
		}
		for _, k := range comps {
			device := append(append([]cpe.Name{}, k.cpes...), platform...)
			res := cpe.EvaluateAll(cve.Configurations, device)
			if res.Affected == cpe.False {
				continue
			}
			matched := res.Matched
			if res.Affected == cpe.Unknown && len(matched) == 0 {
				matched = vulnerableCriteria(cve.Configurations)
			}
			own, ownCPE := ownMatches(matched, k.cpes)
			if len(own) == 0 {
				continue // matched through another component's CPE
			}
			f := Finding{Component: label(k.c), Ref: k.c.Ref, CPE: ownCPE, ID: cve.ID, Status: "affected", Matched: own}
			if res.Affected == cpe.Unknown {
				f.Status = "unknown"
				f.Detail = "the NVD configuration depends on something the SBOM's CPEs do not say (typically the version)"
			}
			if s, ok := doc.VEXFor(cve.ID, nil, k.c); ok {
				f.Status, f.Justification, f.Detail = s.Status, s.Justification, s.Detail
				f.Suppressed = s.Status == "not_affected" || s.Status == "fixed"
			}
			out = append(out, f)
		}
	}
	return out
}

// ownMatches keeps the matched criteria that name one of the component's
// CPEs (as a CPE name match, ignoring the version ranges already applied).
func ownMatches(matched []string, own []cpe.Name) ([]string, string) {
	var out []string
	first := ""
	for _, m := range matched {
		crit, err := cpe.Parse(m)
		if err != nil {
			continue
		}
		for _, n := range own {
			if cpe.Match(crit, n) {
				out = append(out, m)
				if first == "" {
					first = n.String()
				}
				break
			}
		}
	}
	return out, first
}

// vulnerableCriteria lists the vulnerable criteria of cfgs (used to
// attribute an "unknown" result, which names no matched criteria).
func vulnerableCriteria(cfgs []cpe.Configuration) []string {
	var out []string
	for _, c := range cfgs {
		for _, n := range c.Nodes {
			for _, m := range n.CPEMatch {
				if m.Vulnerable {
					out = append(out, m.Criteria)
				}
			}
		}
	}
	return out
}

func label(c *sbom.Component) string {
	if c.Version != "" {
		return c.Name + "@" + c.Version
	}
	return c.Name
}
