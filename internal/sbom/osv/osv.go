// Package osv reads OSV vulnerability records (https://ossf.github.io/osv-schema/)
// and matches SBOM components to them by Package URL, offline. Versions are
// compared with the scheme of the component's ecosystem (internal/versions),
// never as strings. VEX statements in the SBOM apply: not_affected keeps
// the finding but marks it suppressed with the justification.
//
// The package is pure: callers read files and hand in readers.
package osv

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/versions"
	"github.com/medwarden/medwarden/internal/versions/purl"
)

// MaxRecordBytes bounds one OSV record.
const MaxRecordBytes = 16 << 20

// ErrInvalid wraps every record parse error.
var ErrInvalid = errors.New("invalid osv record")

// Record is the part of an OSV record used for matching.
type Record struct {
	ID        string     `json:"id"`
	Modified  string     `json:"modified"`
	Withdrawn string     `json:"withdrawn,omitempty"`
	Aliases   []string   `json:"aliases,omitempty"`
	Summary   string     `json:"summary,omitempty"`
	Affected  []Affected `json:"affected"`
	// Severity are the record's severity scores (type CVSS_V2, CVSS_V3,
	// CVSS_V4: score is the vector).
	Severity []Severity `json:"severity,omitempty"`
}

// Severity is one OSV severity entry.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected is one affected package of a record.
type Affected struct {
	Package  Package  `json:"package"`
	Ranges   []Range  `json:"ranges,omitempty"`
	Versions []string `json:"versions,omitempty"`
}

// Package names the package in its ecosystem.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// Range is an OSV range: events in version order.
type Range struct {
	Type   string  `json:"type"`
	Events []Event `json:"events"`
}

// Event is one range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Parse reads one OSV record (JSON object).
func Parse(r io.Reader, name string) (*Record, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxRecordBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read osv %s: %w", name, err)
	}
	if len(data) > MaxRecordBytes {
		return nil, fmt.Errorf("osv %s: larger than %d bytes: %w", name, MaxRecordBytes, ErrInvalid)
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("osv %s: %v: %w", name, err, ErrInvalid)
	}
	if rec.ID == "" {
		return nil, fmt.Errorf("osv %s: \"/id\" is missing: %w", name, ErrInvalid)
	}
	if rec.Modified == "" { // required by the OSV schema; an NVD or CSAF file has none
		return nil, fmt.Errorf("osv %s: \"/modified\" is missing (not an OSV record?): %w", name, ErrInvalid)
	}
	for i, a := range rec.Affected {
		if a.Package.Ecosystem == "" && a.Package.PURL == "" {
			return nil, fmt.Errorf("osv %s: \"/affected/%d/package\" has no ecosystem or purl: %w", name, i, ErrInvalid)
		}
	}
	return &rec, nil
}

// ecosystemByPURLType maps purl types to OSV ecosystems.
var ecosystemByPURLType = map[string]string{
	"npm": "npm", "pypi": "PyPI", "maven": "Maven", "golang": "Go", "cargo": "crates.io",
	"gem": "RubyGems", "nuget": "NuGet", "composer": "Packagist", "hex": "Hex", "pub": "Pub",
	"deb": "Debian", "apk": "Alpine", "conan": "ConanCenter", "swift": "SwiftURL",
	"cran": "CRAN", "hackage": "Hackage", "rpm": "Red Hat",
}

// distroEcosystem maps purl type/namespace of distribution packages to OSV
// ecosystems. The release ("Debian:12") is not compared yet.
var distroEcosystem = map[string]string{
	"deb/debian": "Debian", "deb/ubuntu": "Ubuntu", "apk/alpine": "Alpine",
	"rpm/redhat": "Red Hat", "rpm/almalinux": "AlmaLinux", "rpm/rocky-linux": "Rocky Linux",
}

// key is the lookup key for a package: ecosystem (without a ":release"
// suffix) and the package name as OSV spells it.
type key struct{ eco, name string }

func normName(eco, name string) string {
	switch eco {
	case "PyPI":
		// PEP 503 normalisation.
		name = strings.ToLower(name)
		return strings.NewReplacer("_", "-", ".", "-").Replace(name)
	case "npm", "Go", "crates.io", "Packagist", "Hex", "Pub", "NuGet", "RubyGems":
		return strings.ToLower(name)
	}
	return name
}

// purlKey returns the OSV key, version and vers scheme of a component PURL.
func purlKey(s string) (key, string, string, bool) {
	p, err := purl.Parse(s)
	if err != nil {
		return key{}, "", "", false
	}
	eco, ok := ecosystemByPURLType[p.Type]
	if !ok {
		return key{}, "", "", false
	}
	scheme, ok := purl.VersScheme(p.Type)
	if !ok {
		return key{}, "", "", false
	}
	name := p.Name
	switch p.Type {
	case "maven":
		name = p.Namespace + ":" + p.Name
	case "npm", "golang", "composer", "swift":
		if p.Namespace != "" {
			name = p.Namespace + "/" + p.Name
		}
	case "deb", "apk", "rpm":
		// Distribution packages: the namespace names the distribution, and
		// OSV has one ecosystem per distribution. Unknown ones are skipped
		// rather than matched against another distribution's advisories.
		d, ok := distroEcosystem[p.Type+"/"+strings.ToLower(p.Namespace)]
		if !ok {
			return key{}, "", "", false
		}
		eco = d
	}
	return key{eco, normName(eco, name)}, p.Version, scheme, true
}

// Index is a set of OSV records keyed by package, ready for matching.
type Index struct {
	byKey map[key][]entry
	byID  map[string]*Record
	n     int
}

// Record returns the (not withdrawn) record with id, nil when none.
func (ix *Index) Record(id string) *Record { return ix.byID[id] }

type entry struct {
	rec *Record
	aff *Affected
	// scheme and ranges are the affected ranges compiled once at index time;
	// ok is false when an event version does not parse in the scheme.
	scheme string
	ranges [][]event
}

// event is a parsed range event.
type event struct {
	kind string // introduced, fixed, last_affected
	v    versions.Version
	zero bool // introduced "0"
}

// schemeByEcosystem maps OSV ecosystems to vers schemes.
var schemeByEcosystem = func() map[string]string {
	m := map[string]string{}
	for typ, eco := range ecosystemByPURLType {
		if s, ok := purl.VersScheme(typ); ok {
			m[eco] = s
		}
	}
	for tn, eco := range distroEcosystem {
		typ, _, _ := strings.Cut(tn, "/")
		if s, ok := purl.VersScheme(typ); ok {
			m[eco] = s
		}
	}
	return m
}()

// compile parses and sorts the ECOSYSTEM/SEMVER ranges of a in scheme.
// Ranges with unparseable versions are dropped (never guessed).
func compile(a *Affected, scheme string) [][]event {
	var out [][]event
	for _, r := range a.Ranges {
		if r.Type != "ECOSYSTEM" && r.Type != "SEMVER" {
			continue // GIT ranges need commit data SBOMs do not have
		}
		evs := make([]event, 0, len(r.Events))
		ok := true
		for _, e := range r.Events {
			var kind, s string
			switch {
			case e.Introduced != "":
				kind, s = "introduced", e.Introduced
			case e.Fixed != "":
				kind, s = "fixed", e.Fixed
			case e.LastAffected != "":
				kind, s = "last_affected", e.LastAffected
			default:
				continue // limit: only for GIT
			}
			if kind == "introduced" && s == "0" {
				evs = append(evs, event{kind: kind, zero: true})
				continue
			}
			if r.Type == "SEMVER" {
				s = strings.TrimPrefix(s, "v")
			}
			pv, err := versions.Parse(scheme, s)
			if err != nil {
				ok = false
				break
			}
			evs = append(evs, event{kind: kind, v: pv})
		}
		if !ok {
			continue
		}
		slices.SortStableFunc(evs, func(x, y event) int {
			switch {
			case x.zero && y.zero:
				return 0
			case x.zero:
				return -1
			case y.zero:
				return 1
			}
			return x.v.Compare(y.v)
		})
		out = append(out, evs)
	}
	return out
}

// NewIndex indexes records; withdrawn records are dropped.
func NewIndex(records []*Record) *Index {
	ix := &Index{byKey: map[key][]entry{}, byID: make(map[string]*Record, len(records))}
	for _, r := range records {
		if r.Withdrawn != "" {
			continue
		}
		ix.n++
		ix.byID[r.ID] = r
		for i := range r.Affected {
			a := &r.Affected[i]
			eco, _, _ := strings.Cut(a.Package.Ecosystem, ":")
			name := a.Package.Name
			if eco == "" && a.Package.PURL != "" {
				if k, _, _, ok := purlKey(a.Package.PURL); ok {
					eco, name = k.eco, k.name
				}
			}
			k := key{eco, normName(eco, name)}
			sch := schemeByEcosystem[eco]
			if sch == "" {
				continue
			}
			ix.byKey[k] = append(ix.byKey[k], entry{rec: r, aff: a, scheme: sch, ranges: compile(a, sch)})
		}
	}
	return ix
}

// Len is the number of (non-withdrawn) records indexed.
func (ix *Index) Len() int { return ix.n }

// Finding is one component affected by one record.
type Finding struct {
	Component string   `json:"component"` // name@version
	Ref       string   `json:"ref,omitempty"`
	PURL      string   `json:"purl"`
	ID        string   `json:"id"`
	Aliases   []string `json:"aliases,omitempty"`
	Summary   string   `json:"summary,omitempty"`
	// Status is affected, or the VEX status the SBOM gives (not_affected,
	// fixed, under_investigation).
	Status        string `json:"status"`
	Suppressed    bool   `json:"suppressed,omitempty"`
	Justification string `json:"justification,omitempty"`
	Detail        string `json:"detail,omitempty"`
	// Fixed is the version that fixes the component: the smallest "fixed"
	// event above the installed version in the record's ranges that
	// affect it (FixedVersion). NoFix is set when those ranges have none
	// (open-ended or closed by last_affected): the record publishes no
	// fix for this version.
	Fixed string `json:"fixed,omitempty"`
	NoFix bool   `json:"no_fix,omitempty"`
}

// Match returns the findings for doc's components (and its primary
// component) that have a PURL with a version. Components whose PURL type
// has no OSV ecosystem or version scheme are skipped (see Skipped).
func (ix *Index) Match(doc *sbom.Document) []Finding {
	var out []Finding
	comps := doc.Components
	if doc.Primary != nil {
		comps = append([]sbom.Component{*doc.Primary}, comps...)
	}
	for i := range comps {
		c := &comps[i]
		if c.PURL == "" {
			continue
		}
		k, ver, scheme, ok := purlKey(c.PURL)
		if !ok || ver == "" {
			continue
		}
		v, err := versions.Parse(scheme, ver)
		if err != nil {
			continue
		}
		seen := map[string]bool{}
		for _, e := range ix.byKey[k] {
			if seen[e.rec.ID] || e.scheme != scheme || !affects(&e, v, ver) {
				continue
			}
			seen[e.rec.ID] = true
			f := Finding{
				Component: label(c), Ref: c.Ref, PURL: c.PURL, ID: e.rec.ID, Aliases: e.rec.Aliases,
				Summary: e.rec.Summary, Status: "affected",
			}
			if fx, ok := fixedVersion(&e, v); ok {
				f.Fixed = fx.String()
			} else {
				f.NoFix = true
			}
			applyVEX(&f, c, e.rec, doc)
			out = append(out, f)
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

// affects implements the OSV evaluation: an explicit versions list, then
// the compiled ECOSYSTEM/SEMVER ranges (events sorted by version, "0"
// first).
func affects(e *entry, v versions.Version, raw string) bool {
	if slices.Contains(e.aff.Versions, raw) {
		return true
	}
	for _, evs := range e.ranges {
		if rangeAffects(evs, v) {
			return true
		}
	}
	return false
}

// rangeAffects evaluates one compiled range (events sorted by version).
func rangeAffects(evs []event, v versions.Version) bool {
	affected := false
	for _, ev := range evs {
		switch ev.kind {
		case "introduced":
			if ev.zero || v.Compare(ev.v) >= 0 {
				affected = true
			}
		case "fixed":
			if v.Compare(ev.v) >= 0 {
				affected = false
			}
		case "last_affected":
			if v.Compare(ev.v) > 0 {
				affected = false
			}
		}
	}
	return affected
}

// fixedVersion is the smallest "fixed" event above v among the ranges of e
// that affect v (every range when v is affected through the explicit
// versions list alone), compared in e's scheme; ok is false when there is
// none. In each range the first fixed event above v closes the interval v
// lies in; across ranges the smallest wins.
func fixedVersion(e *entry, v versions.Version) (fx versions.Version, ok bool) {
	consider := func(evs []event) {
		for _, ev := range evs {
			if ev.kind == "fixed" && v.Compare(ev.v) < 0 {
				if !ok || ev.v.Compare(fx) < 0 {
					fx, ok = ev.v, true
				}
				return // events are sorted: the first fixed above v is the range's
			}
		}
	}
	hit := false
	for _, evs := range e.ranges {
		if rangeAffects(evs, v) {
			hit = true
			consider(evs)
		}
	}
	if !hit {
		for _, evs := range e.ranges {
			consider(evs)
		}
	}
	return fx, ok
}

// applyVEX applies the SBOM's own statement about this vulnerability and
// component, if any.
func applyVEX(f *Finding, c *sbom.Component, rec *Record, doc *sbom.Document) {
	s, ok := doc.VEXFor(rec.ID, rec.Aliases, c)
	if !ok {
		return
	}
	f.Status = s.Status
	f.Justification = s.Justification
	f.Detail = s.Detail
	f.Suppressed = s.Status == "not_affected" || s.Status == "fixed"
}
