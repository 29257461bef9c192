// Package quality scores an SBOM against the NTIA minimum elements (2021),
// the elements CISA's 2025 draft "Minimum Elements for an SBOM" adds, and the
// FDA's premarket expectations (support level and end-of-support per
// component). It is pure: it reads a *sbom.Document and returns a Report.
package quality

import (
	"math"

	"github.com/medwarden/medwarden/internal/sbom"
)

// Scope says whether an element is judged once per SBOM or per component.
type Scope string

// Scopes.
const (
	ScopeDocument  Scope = "document"
	ScopeComponent Scope = "component"
)

// Element IDs (stable: reports and procurement scoring key on them).
const (
	Author            = "author"
	Timestamp         = "timestamp"
	Dependencies      = "dependencies"
	ToolName          = "tool"
	GenerationContext = "generation_context"
	Supplier          = "supplier"
	ComponentName     = "name"
	Version           = "version"
	UniqueID          = "unique_id"
	Hash              = "hash"
	License           = "license"
	SupportLevel      = "support_level"
	EndOfSupport      = "end_of_support"
)

// Definition describes one scored element. Weights sum to 100.
type Definition struct {
	ID     string  `json:"id"`
	Title  string  `json:"title"`
	Source string  `json:"source"`
	Scope  Scope   `json:"scope"`
	Weight float64 `json:"weight"`
}

// Definitions is the scoring table, in report order. Documented in
// docs/SBOM.md; change both together.
var Definitions = []Definition{
	{Supplier, "supplier name", "NTIA", ScopeComponent, 10},
	{ComponentName, "component name", "NTIA", ScopeComponent, 5},
	{Version, "component version", "NTIA", ScopeComponent, 10},
	{UniqueID, "other unique identifier (PURL, CPE or SWID)", "NTIA", ScopeComponent, 10},
	{Dependencies, "dependency relationship", "NTIA", ScopeComponent, 10},
	{Author, "author of SBOM data", "NTIA", ScopeDocument, 10},
	{Timestamp, "timestamp", "NTIA", ScopeDocument, 5},
	{Hash, "component hash", "CISA 2025", ScopeComponent, 10},
	{License, "license", "CISA 2025", ScopeComponent, 10},
	{ToolName, "tool name", "CISA 2025", ScopeDocument, 5},
	{GenerationContext, "generation context (lifecycle phase)", "CISA 2025", ScopeDocument, 5},
	{SupportLevel, "level of support", "FDA", ScopeComponent, 5},
	{EndOfSupport, "end-of-support date", "FDA", ScopeComponent, 5},
}

// MaxExamples bounds the examples listed per missing element.
const MaxExamples = 5

// ElementResult is how one element fared.
type ElementResult struct {
	Definition
	// Present and Total count components (component scope) or are 1/1 or
	// 0/1 (document scope).
	Present int     `json:"present"`
	Total   int     `json:"total"`
	Points  float64 `json:"points"`
}

// Missing lists an element that is absent from the SBOM or from some of
// its components.
type Missing struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Source   string   `json:"source"`
	Missing  int      `json:"missing"`
	Total    int      `json:"total"`
	Examples []string `json:"examples,omitempty"`
}

// ComponentResult is the per-component view: which component-scope
// elements it lacks and its own 0–100 score over those elements.
type ComponentResult struct {
	Ref     string   `json:"ref,omitempty"`
	Name    string   `json:"name"`
	Version string   `json:"version,omitempty"`
	Score   int      `json:"score"`
	Missing []string `json:"missing,omitempty"`
}

// Report is the quality of one SBOM.
type Report struct {
	// Score is 0–100: the sum of element points, rounded.
	Score      int               `json:"score"`
	Components int               `json:"components"`
	Elements   []ElementResult   `json:"elements"`
	Missing    []Missing         `json:"missing"`
	PerComp    []ComponentResult `json:"per_component,omitempty"`
}

// Evaluate scores d. The primary (described) component counts as a
// component. An SBOM without components gets no component-scope points.
func Evaluate(d *sbom.Document) Report {
	comps := make([]*sbom.Component, 0, len(d.Components)+1)
	if d.Primary != nil {
		comps = append(comps, d.Primary)
	}
	for i := range d.Components {
		comps = append(comps, &d.Components[i])
	}
	inDeps := make(map[string]bool, len(d.Dependencies)*2)
	for _, dep := range d.Dependencies {
		if dep.Ref != "" {
			inDeps[dep.Ref] = true
		}
		for _, r := range dep.DependsOn {
			inDeps[r] = true
		}
	}
	has := func(id string, c *sbom.Component) bool {
		switch id {
		case Supplier:
			return c.Supplier != ""
		case ComponentName:
			return c.Name != ""
		case Version:
			return c.Version != ""
		case UniqueID:
			return c.PURL != "" || len(c.CPEs) > 0 || c.SWID != ""
		case Dependencies:
			return c.Ref != "" && inDeps[c.Ref]
		case Hash:
			for _, h := range c.Hashes {
				if h.Value != "" {
					return true
				}
			}
			return false
		case License:
			return len(c.Licenses) > 0
		case SupportLevel:
			return c.SupportLevel != ""
		case EndOfSupport:
			return c.EndOfSupport != ""
		}
		return false
	}
	docHas := func(id string) bool {
		switch id {
		case Author:
			return len(d.Authors) > 0
		case Timestamp:
			return !d.Created.IsZero()
		case ToolName:
			return len(d.Tools) > 0
		case GenerationContext:
			return len(d.Lifecycles) > 0
		}
		return false
	}

	r := Report{Components: len(comps), Missing: []Missing{}}
	var compWeight float64
	for _, def := range Definitions {
		if def.Scope == ScopeComponent {
			compWeight += def.Weight
		}
	}
	per := make([]ComponentResult, len(comps))
	perPoints := make([]float64, len(comps))
	for i, c := range comps {
		per[i] = ComponentResult{Ref: c.Ref, Name: c.Name, Version: c.Version}
	}
	var total float64
	for _, def := range Definitions {
		er := ElementResult{Definition: def}
		var examples []string
		if def.Scope == ScopeDocument {
			er.Total = 1
			if docHas(def.ID) {
				er.Present = 1
			}
		} else {
			er.Total = len(comps)
			for i, c := range comps {
				if has(def.ID, c) {
					er.Present++
					perPoints[i] += def.Weight
					continue
				}
				per[i].Missing = append(per[i].Missing, def.ID)
				if len(examples) < MaxExamples {
					examples = append(examples, label(c))
				}
			}
		}
		if er.Total > 0 {
			er.Points = def.Weight * float64(er.Present) / float64(er.Total)
		}
		total += er.Points
		r.Elements = append(r.Elements, er)
		if er.Present < er.Total || er.Total == 0 {
			r.Missing = append(r.Missing, Missing{
				ID: def.ID, Title: def.Title, Source: def.Source,
				Missing: er.Total - er.Present, Total: er.Total, Examples: examples,
			})
		}
	}
	for i := range per {
		per[i].Score = int(math.Round(100 * perPoints[i] / compWeight))
	}
	r.PerComp = per
	r.Score = int(math.Round(total))
	return r
}

func label(c *sbom.Component) string {
	name := c.Name
	if name == "" {
		name = c.Ref
	}
	if name == "" {
		name = "(unnamed)"
	}
	if c.Version != "" {
		return name + "@" + c.Version
	}
	return name
}
