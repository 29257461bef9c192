package sboms

import (
	"sort"
	"strings"

	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/sbom/namematch"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/versions/cpe"
)

// Diff is what changed from one SBOM version (From) to another (To).
type Diff struct {
	From    int64             `json:"from"`
	To      int64             `json:"to"`
	Added   []ComponentChange `json:"added"`
	Removed []ComponentChange `json:"removed"`
	// Changed are components present in both whose version changed.
	Changed []ComponentChange `json:"changed"`
	// VulnsAdded / VulnsRemoved are open (not suppressed) vulnerabilities
	// per component; a vulnerability that became suppressed is in
	// VulnsRemoved with its new status.
	VulnsAdded   []VulnChange `json:"vulnerabilities_added"`
	VulnsRemoved []VulnChange `json:"vulnerabilities_removed"`
	Unchanged    int          `json:"unchanged"`
}

// ComponentChange is one added, removed or re-versioned component.
type ComponentChange struct {
	Name        string `json:"name"`
	Group       string `json:"group,omitempty"`
	Type        string `json:"type,omitempty"`
	PURL        string `json:"purl,omitempty"`
	Version     string `json:"version,omitempty"`
	FromVersion string `json:"from_version,omitempty"`
}

// VulnChange is one vulnerability of one component that appeared or went.
type VulnChange struct {
	Component string `json:"component"`
	ID        string `json:"id"`
	Source    string `json:"source"`
	Status    string `json:"status"`
	// Detail says why it went: component removed, upgraded, or suppressed
	// by VEX (with the justification).
	Detail string `json:"detail,omitempty"`
}

// identity is what makes "the same component" across versions: its PURL
// without version and qualifiers; else its CPE vendor:product; else the
// CPE product its name is an alias of (so "Express Logic ThreadX" 5.8 and
// "Eclipse ThreadX" 6.4 are one component that changed version); else type
// + group + name (case-folded).
func identity(c *store.SBOMComponent) string {
	if c.PURL != "" {
		p := purlBase(c.PURL)
		if i := strings.LastIndexByte(p, '@'); i > strings.LastIndexByte(p, '/') {
			p = p[:i]
		}
		return "purl:" + strings.ToLower(p)
	}
	if c.CPE != "" {
		if n, err := cpe.ParseAny(c.CPE); err == nil && n.Attr(1).Literal() != "" && n.Attr(2).Literal() != "" {
			return "cpe:" + n.Attr(0).Literal() + ":" + n.Attr(1).Literal() + ":" + n.Attr(2).Literal()
		}
	}
	if m, ok := namematch.Default.Lookup(&sbom.Component{Name: c.Name, Group: c.Group}); ok && m.Confidence == namematch.Medium {
		t := m.Targets[0]
		return "cpe:" + t.Part + ":" + t.Vendor + ":" + t.Product
	}
	return "name:" + strings.ToLower(c.Type+"\x00"+c.Group+"\x00"+c.Name)
}

func label(c *store.SBOMComponent) string {
	n := c.Name
	if c.Group != "" {
		n = c.Group + "/" + n
	}
	if c.Version != "" {
		n += "@" + c.Version
	}
	return n
}

func change(c *store.SBOMComponent) ComponentChange {
	return ComponentChange{Name: c.Name, Group: c.Group, Type: c.Type, PURL: c.PURL, Version: c.Version}
}

// Compare returns what changed from a to b. Components are paired by
// identity; among components sharing one, equal versions pair first, then
// the rest pair in version order as changed.
func Compare(fromID int64, a []store.SBOMComponent, toID int64, b []store.SBOMComponent) *Diff {
	d := &Diff{From: fromID, To: toID, Added: []ComponentChange{}, Removed: []ComponentChange{}, Changed: []ComponentChange{},
		VulnsAdded: []VulnChange{}, VulnsRemoved: []VulnChange{}}
	group := func(cs []store.SBOMComponent) (map[string][]*store.SBOMComponent, []string) {
		m := map[string][]*store.SBOMComponent{}
		var keys []string
		for i := range cs {
			k := identity(&cs[i])
			if _, ok := m[k]; !ok {
				keys = append(keys, k)
			}
			m[k] = append(m[k], &cs[i])
		}
		return m, keys
	}
	ga, ka := group(a)
	gb, kb := group(b)
	type pair struct{ from, to *store.SBOMComponent }
	var pairs []pair
	for _, k := range kb {
		bs := gb[k]
		as := ga[k]
		usedA := make([]bool, len(as))
		var restB []*store.SBOMComponent
		for _, cb := range bs {
			found := false
			for i, ca := range as {
				if !usedA[i] && ca.Version == cb.Version {
					usedA[i], found = true, true
					pairs = append(pairs, pair{ca, cb})
					d.Unchanged++
					break
				}
			}
			if !found {
				restB = append(restB, cb)
			}
		}
		var restA []*store.SBOMComponent
		for i, ca := range as {
			if !usedA[i] {
				restA = append(restA, ca)
			}
		}
		sort.SliceStable(restA, func(i, j int) bool { return restA[i].Version < restA[j].Version })
		sort.SliceStable(restB, func(i, j int) bool { return restB[i].Version < restB[j].Version })
		for i, cb := range restB {
			if i < len(restA) {
				ch := change(cb)
				ch.FromVersion = restA[i].Version
				d.Changed = append(d.Changed, ch)
				pairs = append(pairs, pair{restA[i], cb})
				continue
			}
			d.Added = append(d.Added, change(cb))
			pairs = append(pairs, pair{nil, cb})
		}
		for i := len(restB); i < len(restA); i++ {
			d.Removed = append(d.Removed, change(restA[i]))
			pairs = append(pairs, pair{restA[i], nil})
		}
	}
	for _, k := range ka {
		if _, ok := gb[k]; !ok {
			for _, ca := range ga[k] {
				d.Removed = append(d.Removed, change(ca))
				pairs = append(pairs, pair{ca, nil})
			}
		}
	}
	for _, p := range pairs {
		open := func(c *store.SBOMComponent) map[string]store.SBOMVuln {
			m := map[string]store.SBOMVuln{}
			if c != nil {
				for _, v := range c.Vulns {
					if !v.Suppressed {
						m[v.ID] = v
					}
				}
			}
			return m
		}
		oa, ob := open(p.from), open(p.to)
		for id, v := range ob {
			if _, ok := oa[id]; !ok {
				d.VulnsAdded = append(d.VulnsAdded, VulnChange{Component: label(p.to), ID: id, Source: v.Source, Status: v.Status})
			}
		}
		for id, v := range oa {
			if _, ok := ob[id]; ok {
				continue
			}
			vc := VulnChange{Component: label(p.from), ID: id, Source: v.Source, Status: "gone"}
			switch {
			case p.to == nil:
				vc.Detail = "component removed"
			default:
				vc.Detail = "not found in " + label(p.to)
				for _, w := range p.to.Vulns {
					if w.ID == id {
						vc.Status = w.Status
						vc.Detail = "suppressed: " + w.Status
						if w.Justification != "" {
							vc.Detail += " (" + w.Justification + ")"
						}
					}
				}
			}
			d.VulnsRemoved = append(d.VulnsRemoved, vc)
		}
	}
	sortChanges := func(cs []ComponentChange) {
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].Name != cs[j].Name {
				return cs[i].Name < cs[j].Name
			}
			return cs[i].Version < cs[j].Version
		})
	}
	sortChanges(d.Added)
	sortChanges(d.Removed)
	sortChanges(d.Changed)
	sortVulns := func(vs []VulnChange) {
		sort.Slice(vs, func(i, j int) bool {
			if vs[i].Component != vs[j].Component {
				return vs[i].Component < vs[j].Component
			}
			return vs[i].ID < vs[j].ID
		})
	}
	sortVulns(d.VulnsAdded)
	sortVulns(d.VulnsRemoved)
	return d
}
