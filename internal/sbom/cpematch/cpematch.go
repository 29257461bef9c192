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
	"slices"

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

// Index holds CVE records keyed by the vendor:product of their vulnerable
// criteria, so a component is evaluated only against CVEs that can name it.
type Index struct {
	byVP map[string][]int // "vendor:product" -> indexes into cves
	any  []int            // CVEs with a wildcard vendor or product
	cves []*nvd.CVE
	byID map[string]*nvd.CVE
}

// CVE returns the record of id (every record given, with or without
// configurations), nil when none.
func (ix *Index) CVE(id string) *nvd.CVE {
	if ix == nil {
		return nil
	}
	return ix.byID[id]
}

// NewIndex indexes cves (records without configurations are kept out).
func NewIndex(cves []*nvd.CVE) *Index {
	ix := &Index{byVP: map[string][]int{}, cves: cves, byID: make(map[string]*nvd.CVE, len(cves))}
	for i, cve := range cves {
		ix.byID[cve.ID] = cve
		seen := map[string]bool{}
		for _, crit := range vulnerableCriteria(cve.Configurations) {
			n, err := cpe.Parse(crit)
			if err != nil {
				continue
			}
			vend, prod := n.Attr(1), n.Attr(2)
			if vend.HasWildcards() || prod.HasWildcards() || vend.Literal() == "" || prod.Literal() == "" {
				if !seen["*"] {
					seen["*"] = true
					ix.any = append(ix.any, i)
				}
				continue
			}
			k := vend.Literal() + ":" + prod.Literal()
			if !seen[k] {
				seen[k] = true
				ix.byVP[k] = append(ix.byVP[k], i)
			}
		}
	}
	return ix
}

// Len is the number of CVE records given.
func (ix *Index) Len() int { return len(ix.cves) }

// Match evaluates, for every component with a CPE, the configurations of
// every CVE that can name it. It is Match(doc, cves) with the index.
func (ix *Index) Match(doc *sbom.Document) []Finding {
	return match(doc, ix)
}

// Match evaluates every CVE's configurations for every component that has
// a CPE (building an Index first; use NewIndex for many SBOMs).
func Match(doc *sbom.Document, cves []*nvd.CVE) []Finding {
	return match(doc, NewIndex(cves))
}

func match(doc *sbom.Document, ix *Index) []Finding {
	if len(ix.cves) == 0 {
		return nil // nothing can match; skips parsing every component's CPEs
	}
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
	for _, k := range comps {
		for _, ci := range ix.candidates(k.cpes) {
			cve := ix.cves[ci]
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

// candidates returns the CVE indexes (ascending, unique) whose vulnerable
// criteria could name one of names.
func (ix *Index) candidates(names []cpe.Name) []int {
	set := map[int]bool{}
	for _, i := range ix.any {
		set[i] = true
	}
	for _, n := range names {
		vend, prod := n.Attr(1), n.Attr(2)
		if vend.HasWildcards() || prod.HasWildcards() || vend.Literal() == "" || prod.Literal() == "" {
			for i := range ix.cves {
				set[i] = true
			}
			break
		}
		for _, i := range ix.byVP[vend.Literal()+":"+prod.Literal()] {
			set[i] = true
		}
	}
	out := make([]int, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	slices.Sort(out)
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
