package csaf

import (
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
)

// ToAdvisory converts a decoded CSAF document into the normalised model.
// It works on documents with findings too (best effort): unknown product
// or group references are kept as published, branches nested deeper than
// opts.MaxBranchDepth are skipped, and once group expansion has produced
// opts.MaxGroupExpansion product ids, further groups are left unexpanded
// (GroupIDs still lists them). source and sha256 are copied into the result.
func ToAdvisory(d *Document, source, sha256 string, opts Options) *advisory.Advisory {
	opts = opts.withDefaults()
	maxBranchDepth := opts.MaxBranchDepth
	budget := opts.MaxGroupExpansion
	m := &d.Document
	a := &advisory.Advisory{
		ID:       m.Tracking.ID,
		Title:    m.Title,
		Category: m.Category,
		Lang:     m.Lang,
		Publisher: advisory.Publisher{
			Name: m.Publisher.Name, Namespace: m.Publisher.Namespace,
			Category: m.Publisher.Category, ContactDetails: m.Publisher.ContactDetails,
		},
		InitialRelease:  toTime(m.Tracking.InitialReleaseDate),
		CurrentRelease:  toTime(m.Tracking.CurrentReleaseDate),
		Version:         m.Tracking.Version,
		Status:          m.Tracking.Status,
		Aliases:         m.Tracking.Aliases,
		Notes:           notes(m.Notes),
		References:      refs(m.References),
		Source:          source,
		SHA256:          sha256,
		Products:        []advisory.Product{},
		Vulnerabilities: []advisory.Vulnerability{},
	}
	if m.Distribution != nil && m.Distribution.TLP != nil {
		a.TLP, a.TLPURL = m.Distribution.TLP.Label, m.Distribution.TLP.URL
	}
	for _, r := range m.Tracking.RevisionHistory {
		a.Revisions = append(a.Revisions, advisory.Revision{Date: toTime(r.Date), Number: r.Number, LegacyVersion: r.LegacyVersion, Summary: r.Summary})
	}
	for _, ack := range m.Acknowledgments {
		a.Acknowledgments = append(a.Acknowledgments, ackText(ack))
	}

	groups := map[string][]string{}
	if pt := d.ProductTree; pt != nil {
		a.Products = products(pt, maxBranchDepth)
		for _, g := range pt.ProductGroups {
			if _, dup := groups[g.GroupID]; dup {
				continue
			}
			groups[g.GroupID] = g.ProductIDs
			a.Groups = append(a.Groups, advisory.ProductGroup{ID: g.GroupID, Summary: g.Summary, ProductIDs: g.ProductIDs})
		}
	}
	expand := func(ids, gids []string) []string {
		out := make([]string, 0, len(ids))
		seen := map[string]bool{}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
		for _, g := range gids {
			if budget -= len(groups[g]); budget < 0 {
				break
			}
			for _, id := range groups[g] {
				if !seen[id] {
					seen[id] = true
					out = append(out, id)
				}
			}
		}
		return out
	}
	for i := range d.Vulnerabilities {
		a.Vulnerabilities = append(a.Vulnerabilities, vulnerability(&d.Vulnerabilities[i], expand))
	}
	return a
}

func vulnerability(v *Vulnerability, expand func(ids, gids []string) []string) advisory.Vulnerability {
	out := advisory.Vulnerability{
		CVE:           v.CVE,
		Title:         v.Title,
		Notes:         notes(v.Notes),
		References:    refs(v.References),
		DiscoveryDate: toTime(v.DiscoveryDate),
		ReleaseDate:   toTime(v.ReleaseDate),
	}
	for _, id := range v.IDs {
		out.IDs = append(out.IDs, advisory.VulnID{SystemName: id.SystemName, Text: id.Text})
	}
	if v.CWE != nil {
		out.CWE = &advisory.CWE{ID: v.CWE.ID, Name: v.CWE.Name}
	}
	for _, cat := range []string{"summary", "description"} {
		if out.Summary != "" {
			break
		}
		for _, n := range v.Notes {
			if n.Category == cat {
				out.Summary = n.Text
				break
			}
		}
	}
	if ps := v.ProductStatus; ps != nil {
		out.Statuses = map[string][]string{}
		out.ProductStatus = map[string][]string{}
		for _, l := range ps.lists() {
			if len(l.ids) == 0 {
				continue
			}
			out.Statuses[l.name] = l.ids
			for _, id := range l.ids {
				if !contains(out.ProductStatus[id], l.name) {
					out.ProductStatus[id] = append(out.ProductStatus[id], l.name)
				}
			}
		}
		for id := range out.ProductStatus {
			sort.Strings(out.ProductStatus[id])
		}
	}
	for _, s := range v.Scores {
		for _, x := range []struct {
			src string
			obj map[string]any
		}{{"cvss_v2", s.CVSSv2}, {"cvss_v3", s.CVSSv3}} {
			if x.obj == nil {
				continue
			}
			base, _ := number(x.obj["baseScore"])
			out.Scores = append(out.Scores, advisory.Score{
				Version: str(x.obj, "version"), Vector: str(x.obj, "vectorString"), BaseScore: base,
				BaseSeverity: str(x.obj, "baseSeverity"), ProductIDs: s.Products, Source: x.src,
			})
		}
	}
	// CSAF 2.0 has no CVSS 4.0 object; publishers such as CISA put the
	// v4 vector in a FIRST calculator URL. Keep it, for the affected products.
	if v4 := cvss4FromRefs(v.References); len(v4) > 0 {
		var affected []string
		if v.ProductStatus != nil {
			affected = uniq(append(append(append([]string(nil), v.ProductStatus.KnownAffected...), v.ProductStatus.FirstAffected...), v.ProductStatus.LastAffected...))
		}
		for _, vec := range v4 {
			out.Scores = append(out.Scores, advisory.Score{Version: "4.0", Vector: vec, ProductIDs: affected, Source: "reference"})
		}
	}
	for _, r := range v.Remediations {
		rem := advisory.Remediation{
			Category: r.Category, Details: r.Details, URL: r.URL, Date: toTime(r.Date),
			Entitlements: r.Entitlements, ProductIDs: expand(r.ProductIDs, r.GroupIDs), GroupIDs: r.GroupIDs,
		}
		if r.RestartRequired != nil {
			rem.Restart = r.RestartRequired.Category
		}
		out.Remediations = append(out.Remediations, rem)
	}
	for _, t := range v.Threats {
		out.Threats = append(out.Threats, advisory.Threat{
			Category: t.Category, Details: t.Details, Date: toTime(t.Date),
			ProductIDs: expand(t.ProductIDs, t.GroupIDs), GroupIDs: t.GroupIDs,
		})
	}
	for _, f := range v.Flags {
		out.Flags = append(out.Flags, advisory.Flag{
			Label: f.Label, Date: toTime(f.Date),
			ProductIDs: expand(f.ProductIDs, f.GroupIDs), GroupIDs: f.GroupIDs,
		})
	}
	return out
}

// cvss4FromRefs extracts CVSS 4.0 vectors from calculator URLs such as
// https://www.first.org/cvss/calculator/4.0#CVSS:4.0/AV:N/...
func cvss4FromRefs(rs []Reference) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rs {
		i := strings.Index(r.URL, "#CVSS:4.0/")
		if i < 0 {
			continue
		}
		vec := r.URL[i+1:]
		if u, err := url.PathUnescape(vec); err == nil {
			vec = u
		}
		if !seen[vec] {
			seen[vec] = true
			out = append(out, vec)
		}
	}
	return out
}

// products flattens the product tree: branch leaves (with their path),
// full_product_names, then relationships, in document order.
func products(pt *ProductTree, maxDepth int) []advisory.Product {
	var out []advisory.Product
	seen := map[string]bool{}
	addP := func(p advisory.Product) {
		if p.ID == "" || seen[p.ID] {
			return // duplicates are reported by 6.1.2; the first definition wins
		}
		seen[p.ID] = true
		out = append(out, p)
	}
	var walk func(bs []Branch, path, cats []string, depth int)
	walk = func(bs []Branch, path, cats []string, depth int) {
		if depth > maxDepth {
			return
		}
		for i := range bs {
			b := &bs[i]
			p := append(append([]string(nil), path...), b.Name)
			c := append(append([]string(nil), cats...), b.Category)
			if b.Product != nil {
				prod := fromFPN(b.Product)
				prod.BranchPath, prod.BranchCategories = p, c
				for k, cat := range c {
					setBranchField(&prod, cat, p[k])
				}
				addP(prod)
			}
			walk(b.Branches, p, c, depth+1)
		}
	}
	walk(pt.Branches, nil, nil, 1)
	for i := range pt.FullProductNames {
		addP(fromFPN(&pt.FullProductNames[i]))
	}
	for _, r := range pt.Relationships {
		p := fromFPN(&r.FullProductName)
		p.Relationship = &advisory.Relationship{Category: r.Category, ProductRef: r.ProductReference, RelatesTo: r.RelatesToProductReference}
		addP(p)
	}
	if out == nil {
		out = []advisory.Product{}
	}
	return out
}

func setBranchField(p *advisory.Product, cat, name string) {
	switch cat {
	case "vendor":
		p.Vendor = name
	case "product_family":
		if p.ProductFamily == "" {
			p.ProductFamily = name
		} else {
			p.ProductFamily += " / " + name
		}
	case "product_name":
		p.ProductName = name
	case "product_version":
		p.Version = name
	case "product_version_range":
		p.VersionRange = name
	case "architecture":
		p.Architecture = name
	case "patch_level":
		p.PatchLevel = name
	case "service_pack":
		p.ServicePack = name
	}
}

func fromFPN(f *FullProductName) advisory.Product {
	p := advisory.Product{ID: f.ProductID, Name: f.Name}
	h := f.ProductIdentificationHelper
	if h == nil {
		return p
	}
	p.CPE = h.CPE
	if h.PURL != "" {
		p.PURLs = []string{h.PURL}
	}
	p.SerialNumbers, p.ModelNumbers, p.SKUs, p.SBOMURLs = h.SerialNumbers, h.ModelNumbers, h.SKUs, h.SBOMURLs
	for _, hs := range h.Hashes {
		fh := advisory.FileHash{Filename: hs.Filename, Hashes: map[string]string{}}
		for _, x := range hs.FileHashes {
			fh.Hashes[x.Algorithm] = x.Value
		}
		p.Hashes = append(p.Hashes, fh)
	}
	for _, g := range h.XGenericURIs {
		p.GenericURIs = append(p.GenericURIs, advisory.GenericURI{Namespace: g.Namespace, URI: g.URI})
	}
	return p
}

func notes(ns []Note) []advisory.Note {
	var out []advisory.Note
	for _, n := range ns {
		out = append(out, advisory.Note{Category: n.Category, Title: n.Title, Audience: n.Audience, Text: n.Text})
	}
	return out
}

func refs(rs []Reference) []advisory.Reference {
	var out []advisory.Reference
	for _, r := range rs {
		cat := r.Category
		if cat == "" {
			cat = "external" // the schema's default
		}
		out = append(out, advisory.Reference{Category: cat, Summary: r.Summary, URL: r.URL})
	}
	return out
}

func ackText(a Acknowledgment) string {
	var parts []string
	if len(a.Names) > 0 {
		parts = append(parts, strings.Join(a.Names, ", "))
	}
	if a.Organization != "" {
		parts = append(parts, a.Organization)
	}
	s := strings.Join(parts, " of ")
	if a.Summary != "" {
		if s != "" {
			s += ": "
		}
		s += a.Summary
	}
	return s
}

func toTime(s string) time.Time {
	t, ok := parseTime(s)
	if !ok {
		return time.Time{}
	}
	return t.UTC()
}

// ParseAdvisory parses, validates and converts one document. The advisory
// is nil only when the input could not be decoded at all (the report says
// why); it is set, best effort, when the document has findings.
func (v *Validator) ParseAdvisory(r io.Reader, name string) (*advisory.Advisory, *Report, error) {
	rep, err := v.Parse(r, name)
	if err != nil {
		return nil, nil, err
	}
	if rep.Document == nil {
		return nil, rep, nil
	}
	return ToAdvisory(rep.Document, name, rep.SHA256, v.opts), rep, nil
}
