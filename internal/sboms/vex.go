package sboms

import (
	"slices"
	"strings"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/sbom/namematch"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/versions/cpe"
)

// VEX is one statement from outside the SBOM (a CSAF VEX document) about
// one vulnerability and one product.
type VEX struct {
	// Source names the document (the CSAF tracking id).
	Source string
	// ID is the vulnerability (CVE id).
	ID string
	// The product the statement is about: by PURL (compared without
	// qualifiers), CPE (matched as CPE names) or name and version.
	PURLs   []string
	CPE     string
	Name    string
	Version string
	// Status in CycloneDX words: not_affected, affected, fixed,
	// under_investigation.
	Status        string
	Justification string
	Detail        string
}

// VEXFromAdvisory turns the product statuses of a CSAF advisory into VEX
// statements; only documents with category csaf_vex are used. A product
// defined by a relationship ("component X is part of product Y") is
// identified by its component X. known_not_affected takes its
// justification from the vulnerability's flags and its detail from its
// impact threats.
func VEXFromAdvisory(a *advisory.Advisory) []VEX {
	if a == nil || a.Category != "csaf_vex" {
		return nil
	}
	status := map[string]string{
		advisory.StatusKnownNotAffected:   "not_affected",
		advisory.StatusKnownAffected:      "affected",
		advisory.StatusFixed:              "fixed",
		advisory.StatusFirstFixed:         "fixed",
		advisory.StatusUnderInvestigation: "under_investigation",
	}
	var out []VEX
	for _, v := range a.Vulnerabilities {
		if v.CVE == "" {
			continue
		}
		for cat, ids := range v.Statuses {
			st, ok := status[cat]
			if !ok {
				continue
			}
			for _, pid := range ids {
				p := a.Product(pid)
				for depth := 0; p != nil && p.Relationship != nil && depth < 8; depth++ {
					p = a.Product(p.Relationship.ProductRef)
				}
				if p == nil {
					continue
				}
				x := VEX{Source: a.ID, ID: v.CVE, PURLs: p.PURLs, CPE: p.CPE, Name: p.ProductName, Version: p.Version, Status: st}
				if x.Name == "" {
					x.Name = p.Name
				}
				if st == "not_affected" {
					x.Justification, x.Detail = flagsAndThreats(&v, pid)
				}
				out = append(out, x)
			}
		}
	}
	return out
}

func flagsAndThreats(v *advisory.Vulnerability, pid string) (string, string) {
	var just string
	for _, f := range v.Flags {
		if slices.Contains(f.ProductIDs, pid) {
			just = f.Label
			break
		}
	}
	var details []string
	for _, t := range v.Threats {
		if t.Category == "impact" && slices.Contains(t.ProductIDs, pid) {
			details = append(details, t.Details)
		}
	}
	return just, strings.Join(details, " ")
}

func purlBase(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	return p
}

// names reports whether x is about component c.
func (x *VEX) names(c *store.SBOMComponent) bool {
	if c.PURL != "" {
		for _, p := range x.PURLs {
			if purlBase(p) == purlBase(c.PURL) {
				return true
			}
		}
	}
	if x.CPE != "" && c.CPE != "" {
		src, err1 := cpe.ParseAny(x.CPE)
		dst, err2 := cpe.ParseAny(c.CPE)
		if err1 == nil && err2 == nil && cpe.Match(src, dst) {
			return true
		}
	}
	if x.Name != "" && len(x.PURLs) == 0 && x.CPE == "" {
		if namematch.Normalize(x.Name) == namematch.Normalize(c.Name) && (x.Version == "" || x.Version == c.Version) {
			return true
		}
	}
	return false
}

// applyExternalVEX applies statements to the findings they name. The SBOM's
// own not_affected/fixed statements are kept; otherwise the external one
// wins and says where it came from.
func applyExternalVEX(vulns []store.SBOMVuln, comps []store.SBOMComponent, vex []VEX) {
	if len(vex) == 0 {
		return
	}
	for i := range vulns {
		v := &vulns[i]
		if v.Source == "sbom" && v.Suppressed {
			continue
		}
		for k := range vex {
			x := &vex[k]
			if x.ID != v.ID && !slices.Contains(v.Aliases, x.ID) {
				continue
			}
			if !x.names(&comps[v.Index]) {
				continue
			}
			v.Status = x.Status
			v.Suppressed = x.Status == "not_affected" || x.Status == "fixed"
			v.Justification = x.Justification
			v.Detail = "CSAF VEX " + x.Source
			if x.Detail != "" {
				v.Detail += ": " + x.Detail
			}
			if v.Suppressed {
				v.NeedsReview = false
			}
			break
		}
	}
}
