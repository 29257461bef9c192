package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/tagvalue"
)

// parseSPDXJSON validates an SPDX 2.2/2.3 JSON document against the SPDX 2.3
// schema (2.2 documents are a subset) and decodes it with tools-golang.
func parseSPDXJSON(data []byte, opts Options) (*Document, error) {
	if err := checkJSONDepth(data, opts.maxRawDepth()); err != nil {
		return nil, err
	}
	var problems []Problem
	if !opts.SkipSchema {
		if err := schemas.load(); err != nil {
			return nil, err
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, jsonError(data, err)
		}
		problems = capProblems(validateValue(schemas.schemas["spdx-2.3"], inst))
	}
	d, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		return nil, spdxReadError(data, err)
	}
	doc := fromSPDX2(d)
	doc.Problems = append(problems, doc.Problems...)
	var hdr struct {
		SPDXVersion       string   `json:"spdxVersion"`
		DocumentDescribes []string `json:"documentDescribes"`
	}
	_ = json.Unmarshal(data, &hdr)
	if doc.Primary == nil && len(hdr.DocumentDescribes) > 0 {
		setSPDXPrimary(doc, hdr.DocumentDescribes)
	}
	if hdr.SPDXVersion != "" {
		// tools-golang converts 2.2 to 2.3; report what the document says.
		doc.SpecVersion = strings.TrimPrefix(hdr.SPDXVersion, "SPDX-")
	}
	return doc, nil
}

var (
	tvLineRE    = regexp.MustCompile(`(?i)line (\d+)`)
	tvVersionRE = regexp.MustCompile(`(?m)^SPDXVersion:\s*SPDX-(\S+)`)
)

// parseSPDXTagValue decodes an SPDX 2.x tag-value document and validates
// its JSON form against the SPDX 2.3 schema.
func parseSPDXTagValue(data []byte, opts Options) (*Document, error) {
	d, err := tagvalue.Read(bytes.NewReader(data))
	if err != nil {
		ie := &InputError{Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
		if m := tvLineRE.FindStringSubmatch(err.Error()); m != nil {
			ie.Line, _ = strconv.Atoi(m[1])
		}
		return nil, ie
	}
	doc := fromSPDX2(d)
	if m := tvVersionRE.FindSubmatch(data); m != nil {
		// tools-golang converts 2.2 to 2.3; report what the document says.
		doc.SpecVersion = string(m[1])
	}
	if !opts.SkipSchema {
		var buf bytes.Buffer
		if err := spdxjson.Write(d, &buf); err != nil {
			doc.Problems = append(doc.Problems, Problem{Message: fmt.Sprintf("cannot express as spdx json: %v", err)})
		} else {
			if err := schemas.load(); err != nil {
				return nil, err
			}
			inst, err := jsonschema.UnmarshalJSON(&buf)
			if err != nil {
				return nil, err
			}
			// tools-golang writes a package's files inside the package; the
			// schema wants them at the top level, where they are too.
			if m, ok := inst.(map[string]any); ok {
				if pkgs, ok := m["packages"].([]any); ok {
					for _, p := range pkgs {
						if pm, ok := p.(map[string]any); ok {
							delete(pm, "files")
						}
					}
				}
			}
			ps := capProblems(validateValue(schemas.schemas["spdx-2.3"], inst))
			for i := range ps {
				ps[i].Message += " (in the json form of this tag-value document)"
			}
			doc.Problems = append(doc.Problems, ps...)
		}
	}
	return doc, nil
}

func spdxReadError(data []byte, err error) error {
	ie, ok := jsonError(data, err).(*InputError)
	if ok && ie.Pointer == "" && ie.Line == 0 {
		ie.Err = fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	if ok {
		return ie
	}
	return &InputError{Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
}

func spdxValue(s string) string {
	switch strings.TrimSpace(s) {
	case "", "NOASSERTION", "NONE":
		return ""
	}
	return strings.TrimSpace(s)
}

// spdxPurpose maps SPDX primaryPackagePurpose to CycloneDX component types.
func spdxPurpose(p string) string {
	p = strings.ToLower(strings.ReplaceAll(p, "_", "-"))
	switch p {
	case "operatingsystem":
		return "operating-system"
	}
	return p
}

// spdxDependencyTypes are the SPDX 2 relationship types that express a
// dependency; reversed ones read B→A.
var spdxDependencyTypes = map[string]bool{
	"DEPENDS_ON": false, "CONTAINS": false, "STATIC_LINK": false, "DYNAMIC_LINK": false,
	"HAS_PREREQUISITE": false,
	"DEPENDENCY_OF":    true, "BUILD_DEPENDENCY_OF": true, "DEV_DEPENDENCY_OF": true,
	"OPTIONAL_DEPENDENCY_OF": true, "PROVIDED_DEPENDENCY_OF": true, "TEST_DEPENDENCY_OF": true,
	"RUNTIME_DEPENDENCY_OF": true, "CONTAINED_BY": true, "PREREQUISITE_FOR": true,
}

func fromSPDX2(d *spdx.Document) *Document {
	doc := &Document{
		SpecVersion: strings.TrimPrefix(d.SPDXVersion, "SPDX-"),
		Serial:      d.DocumentNamespace,
		Name:        d.DocumentName,
		Components:  []Component{},
	}
	if ci := d.CreationInfo; ci != nil {
		if t, err := time.Parse(time.RFC3339, ci.Created); err == nil {
			doc.Created = t.UTC()
		}
		for _, c := range ci.Creators {
			switch c.CreatorType {
			case "Tool":
				name, ver := c.Creator, ""
				if i := strings.LastIndexByte(name, '-'); i > 0 && i < len(name)-1 && isVersionish(name[i+1:]) {
					name, ver = name[:i], name[i+1:]
				}
				doc.Tools = append(doc.Tools, Tool{Name: name, Version: ver})
			default:
				doc.Authors = append(doc.Authors, stripEmail(c.Creator))
			}
		}
	}
	docID := "SPDXRef-" + string(d.SPDXIdentifier)
	deps := map[string][]string{}
	var order []string
	addDep := func(a, b string) {
		if _, ok := deps[a]; !ok {
			order = append(order, a)
		}
		deps[a] = append(deps[a], b)
	}
	var described []string
	for _, r := range d.Relationships {
		if r == nil {
			continue
		}
		a, b := elementRef(r.RefA), elementRef(r.RefB)
		rel := strings.ToUpper(strings.TrimSpace(r.Relationship))
		switch {
		case rel == "DESCRIBES" && a == docID:
			described = append(described, b)
		case rel == "DESCRIBED_BY" && b == docID:
			described = append(described, a)
		}
		if rev, ok := spdxDependencyTypes[rel]; ok && a != "" && b != "" && a != docID {
			if rev {
				a, b = b, a
			}
			addDep(a, b)
		}
	}
	for _, a := range order {
		doc.Dependencies = append(doc.Dependencies, Dependency{Ref: a, DependsOn: deps[a]})
	}
	for i, p := range d.Packages {
		if p == nil {
			doc.Problems = append(doc.Problems, Problem{Pointer: pointer("packages", strconv.Itoa(i)), Message: "package is null"})
			continue
		}
		c := Component{
			Ref:     "SPDXRef-" + string(p.PackageSPDXIdentifier),
			Type:    spdxPurpose(p.PrimaryPackagePurpose),
			Name:    p.PackageName,
			Version: spdxValue(p.PackageVersion),
		}
		if p.PackageSupplier != nil {
			c.Supplier = stripEmail(spdxValue(p.PackageSupplier.Supplier))
		}
		if c.Supplier == "" && p.PackageOriginator != nil {
			c.Supplier = stripEmail(spdxValue(p.PackageOriginator.Originator))
		}
		for _, h := range p.PackageChecksums {
			c.Hashes = append(c.Hashes, Hash{Algorithm: string(h.Algorithm), Value: h.Value})
		}
		for _, r := range p.PackageExternalReferences {
			if r == nil {
				continue
			}
			switch strings.ToLower(r.RefType) {
			case "purl":
				if c.PURL == "" {
					c.PURL = r.Locator
				}
			case "cpe23type", "cpe22type", "cpe23", "cpe22":
				c.CPEs = append(c.CPEs, r.Locator)
			case "swid":
				c.SWID = r.Locator
			}
		}
		if l := spdxValue(p.PackageLicenseDeclared); l != "" {
			c.Licenses = []string{l}
		} else if l := spdxValue(p.PackageLicenseConcluded); l != "" {
			c.Licenses = []string{l}
		}
		if p.ValidUntilDate != "" {
			c.EndOfSupport = p.ValidUntilDate
		}
		for _, a := range p.Annotations {
			if k, v, ok := strings.Cut(a.AnnotationComment, "="); ok {
				applySupportProperty(&c, strings.TrimSpace(k), strings.TrimSpace(v))
			} else if k, v, ok := strings.Cut(a.AnnotationComment, ":"); ok {
				applySupportProperty(&c, strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		doc.Components = append(doc.Components, c)
	}
	setSPDXPrimary(doc, described)
	return doc
}

// setSPDXPrimary makes the first described element that is a package the
// primary component and removes it from Components.
func setSPDXPrimary(doc *Document, described []string) {
	for _, ref := range described {
		for i := range doc.Components {
			if doc.Components[i].Ref == ref {
				p := doc.Components[i]
				doc.Primary = &p
				doc.Components = append(doc.Components[:i], doc.Components[i+1:]...)
				return
			}
		}
	}
}

func elementRef(id common.DocElementID) string {
	if id.SpecialID != "" {
		return id.SpecialID
	}
	s := "SPDXRef-" + string(id.ElementRefID)
	if id.DocumentRefID != "" {
		s = "DocumentRef-" + string(id.DocumentRefID) + ":" + s
	}
	return s
}

func isVersionish(s string) bool {
	s = strings.TrimPrefix(s, "v")
	return s != "" && s[0] >= '0' && s[0] <= '9'
}

// stripEmail turns "Jane Doe (jane@example.com)" into "Jane Doe".
func stripEmail(s string) string {
	if i := strings.Index(s, " ("); i > 0 && strings.HasSuffix(s, ")") {
		return strings.TrimSpace(s[:i])
	}
	return strings.TrimSpace(s)
}

// --- SPDX 3.0 JSON-LD ---

// spdx3Element holds the members of any @graph element that we read.
type spdx3Element struct {
	Type  string `json:"type"`
	AType string `json:"@type"`
	ID    string `json:"spdxId"`
	AtID  string `json:"@id"`
	Name  string `json:"name"`

	CreationInfo json.RawMessage `json:"creationInfo"`
	SpecVersion  string          `json:"specVersion"`
	Created      string          `json:"created"`
	CreatedBy    []string        `json:"createdBy"`
	CreatedUsing []string        `json:"createdUsing"`

	RootElement []string `json:"rootElement"`
	SbomType    []string `json:"software_sbomType"`

	PackageVersion     string            `json:"software_packageVersion"`
	PackageURL         string            `json:"software_packageUrl"`
	PrimaryPurpose     string            `json:"software_primaryPurpose"`
	SuppliedBy         string            `json:"suppliedBy"`
	OriginatedBy       []string          `json:"originatedBy"`
	SupportLevel       []string          `json:"supportLevel"`
	ValidUntilTime     string            `json:"validUntilTime"`
	VerifiedUsing      []spdx3Hash       `json:"verifiedUsing"`
	ExternalIdentifier []spdx3ExternalID `json:"externalIdentifier"`

	RelationshipType string          `json:"relationshipType"`
	From             string          `json:"from"`
	To               json.RawMessage `json:"to"`

	LicenseExpression string `json:"simplelicensing_licenseExpression"`

	Justification   string `json:"security_justificationType"`
	ImpactStatement string `json:"security_impactStatement"`
	StatusNotes     string `json:"security_statusNotes"`
}

type spdx3Hash struct {
	Type      string `json:"type"`
	Algorithm string `json:"algorithm"`
	HashValue string `json:"hashValue"`
}

type spdx3ExternalID struct {
	Type       string `json:"externalIdentifierType"`
	Identifier string `json:"identifier"`
}

type spdx3Doc struct {
	Context json.RawMessage `json:"@context"`
	Graph   []spdx3Element  `json:"@graph"`
}

func (e *spdx3Element) typ() string {
	if e.Type != "" {
		return e.Type
	}
	return e.AType
}

func (e *spdx3Element) id() string {
	if e.ID != "" {
		return e.ID
	}
	return e.AtID
}

func (e *spdx3Element) to() []string {
	var many []string
	if json.Unmarshal(e.To, &many) == nil {
		return many
	}
	var one string
	if json.Unmarshal(e.To, &one) == nil && one != "" {
		return []string{one}
	}
	return nil
}

// spdx3Packages maps SPDX 3 package element types to a default component type.
var spdx3Packages = map[string]string{
	"software_Package":       "library",
	"ai_AIPackage":           "machine-learning-model",
	"dataset_DatasetPackage": "data",
}

// spdx3VEX maps SPDX 3 VEX relationship types to status words.
var spdx3VEX = map[string]string{
	"security_VexAffectedVulnAssessmentRelationship":           "affected",
	"security_VexNotAffectedVulnAssessmentRelationship":        "not_affected",
	"security_VexFixedVulnAssessmentRelationship":              "fixed",
	"security_VexUnderInvestigationVulnAssessmentRelationship": "under_investigation",
}

// parseSPDX3 reads SPDX 3.0 JSON-LD in its compact serialisation (the one
// the SPDX context defines). No JSON schema is embedded for 3.0; the checks
// are structural: @context names SPDX 3, every element has a type and an
// id, creationInfo resolves, relationships name their ends.
func parseSPDX3(data []byte, opts Options) (*Document, error) {
	if err := checkJSONDepth(data, opts.maxRawDepth()); err != nil {
		return nil, err
	}
	var raw spdx3Doc
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, jsonError(data, err)
	}
	doc := &Document{Components: []Component{}}
	if !bytes.Contains(raw.Context, []byte("spdx.org/rdf/3.")) {
		doc.Problems = append(doc.Problems, Problem{Pointer: "/@context", Message: "@context is not an spdx 3 context"})
	}
	if len(raw.Graph) == 0 {
		doc.Problems = append(doc.Problems, Problem{Pointer: "/@graph", Message: "@graph is missing or empty"})
	}
	byID := make(map[string]*spdx3Element, len(raw.Graph))
	for i := range raw.Graph {
		e := &raw.Graph[i]
		if e.typ() == "" {
			doc.Problems = append(doc.Problems, Problem{Pointer: pointer("@graph", strconv.Itoa(i)), Message: "element has no type"})
			continue
		}
		if id := e.id(); id != "" {
			byID[id] = e
		} else if e.typ() != "CreationInfo" {
			doc.Problems = append(doc.Problems, Problem{Pointer: pointer("@graph", strconv.Itoa(i)), Message: fmt.Sprintf("%s has no spdxId", e.typ())})
		}
	}
	name := func(id string) string {
		if e := byID[id]; e != nil && e.Name != "" {
			return e.Name
		}
		return ""
	}
	// Document-level facts come from the SpdxDocument's creation info.
	var root []string
	var ci *spdx3Element
	for i := range raw.Graph {
		e := &raw.Graph[i]
		switch e.typ() {
		case "SpdxDocument":
			doc.Serial = e.id()
			doc.Name = e.Name
			if len(root) == 0 {
				root = e.RootElement
			}
			ci = resolveCreationInfo(e, byID)
		case "software_Sbom":
			doc.Lifecycles = append(doc.Lifecycles, e.SbomType...)
			if len(e.RootElement) > 0 {
				root = e.RootElement
			}
		}
	}
	if ci == nil {
		for i := range raw.Graph {
			if raw.Graph[i].typ() == "CreationInfo" {
				ci = &raw.Graph[i]
				break
			}
		}
	}
	if ci == nil {
		doc.Problems = append(doc.Problems, Problem{Pointer: "/@graph", Message: "no CreationInfo (specVersion, created) found"})
	} else {
		doc.SpecVersion = ci.SpecVersion
		if t, err := time.Parse(time.RFC3339, ci.Created); err == nil {
			doc.Created = t.UTC()
		}
		for _, a := range ci.CreatedBy {
			if n := name(a); n != "" {
				doc.Authors = append(doc.Authors, n)
			}
		}
		for _, t := range ci.CreatedUsing {
			if n := name(t); n != "" {
				doc.Tools = append(doc.Tools, Tool{Name: n})
			}
		}
	}
	// root may name an Sbom element; follow it to the described artefact.
	primary := ""
	for _, r := range root {
		if e := byID[r]; e != nil && e.typ() == "software_Sbom" && len(e.RootElement) > 0 {
			r = e.RootElement[0]
		}
		if e := byID[r]; e != nil && (spdx3Packages[e.typ()] != "" || e.typ() == "software_File") {
			primary = r
			break
		}
	}
	licenses := map[string][]string{}
	deps := map[string][]string{}
	var depOrder []string
	for i := range raw.Graph {
		e := &raw.Graph[i]
		t := e.typ()
		if status, ok := spdx3VEX[t]; ok {
			st := VEXStatement{ID: e.From, Affects: e.to(), Status: status, Justification: e.Justification, Detail: e.ImpactStatement}
			if v := byID[e.From]; v != nil {
				for _, x := range v.ExternalIdentifier {
					if x.Identifier != "" {
						st.ID, st.Source = x.Identifier, x.Type
						break
					}
				}
			}
			if st.Detail == "" {
				st.Detail = e.StatusNotes
			}
			doc.VEX = append(doc.VEX, st)
			continue
		}
		if t != "Relationship" && t != "LifecycleScopedRelationship" {
			continue
		}
		if e.From == "" {
			doc.Problems = append(doc.Problems, Problem{Pointer: pointer("@graph", strconv.Itoa(i), "from"), Message: "relationship has no from"})
			continue
		}
		switch e.RelationshipType {
		case "hasDeclaredLicense", "hasConcludedLicense":
			for _, to := range e.to() {
				if l := byID[to]; l != nil && l.LicenseExpression != "" {
					licenses[e.From] = append(licenses[e.From], l.LicenseExpression)
				} else if strings.Contains(to, "spdx.org/licenses/") {
					licenses[e.From] = append(licenses[e.From], to[strings.LastIndexByte(to, '/')+1:])
				}
			}
		case "dependsOn", "contains", "hasStaticLink", "hasDynamicLink", "hasPrerequisite":
			if _, ok := deps[e.From]; !ok {
				depOrder = append(depOrder, e.From)
			}
			deps[e.From] = append(deps[e.From], e.to()...)
		}
	}
	for _, a := range depOrder {
		doc.Dependencies = append(doc.Dependencies, Dependency{Ref: a, DependsOn: deps[a]})
	}
	hasPackages := false
	for i := range raw.Graph {
		if spdx3Packages[raw.Graph[i].typ()] != "" {
			hasPackages = true
			break
		}
	}
	for i := range raw.Graph {
		e := &raw.Graph[i]
		defType := spdx3Packages[e.typ()]
		if defType == "" && !(e.typ() == "software_File" && !hasPackages) {
			// Files are components only in SBOMs that list no packages
			// (a binary SBOM describing one file); otherwise they are
			// the packages' contents.
			continue
		}
		if defType == "" {
			defType = "file"
		}
		typ := spdxPurpose(e.PrimaryPurpose)
		if typ == "" {
			typ = defType
		}
		c := Component{
			Ref: e.id(), Type: typ, Name: e.Name,
			Version: e.PackageVersion, PURL: e.PackageURL, Supplier: name(e.SuppliedBy),
			EndOfSupport: e.ValidUntilTime, SupportLevel: strings.Join(e.SupportLevel, ","),
		}
		if c.Supplier == "" && len(e.OriginatedBy) > 0 {
			c.Supplier = name(e.OriginatedBy[0])
		}
		for _, h := range e.VerifiedUsing {
			if h.Type == "Hash" || h.Type == "" {
				c.Hashes = append(c.Hashes, Hash{Algorithm: h.Algorithm, Value: h.HashValue})
			}
		}
		for _, x := range e.ExternalIdentifier {
			switch x.Type {
			case "cpe23", "cpe22":
				c.CPEs = append(c.CPEs, x.Identifier)
			case "packageUrl":
				if c.PURL == "" {
					c.PURL = x.Identifier
				}
			case "swid":
				c.SWID = x.Identifier
			}
		}
		for _, l := range licenses[c.Ref] {
			if v := spdxValue(l); v != "" && v != "NoAssertion" && v != "NoneLicense" && !slices.Contains(c.Licenses, v) {
				c.Licenses = append(c.Licenses, v)
			}
		}
		if c.Ref == primary && doc.Primary == nil {
			pc := c
			doc.Primary = &pc
			continue
		}
		doc.Components = append(doc.Components, c)
	}
	return doc, nil
}

func resolveCreationInfo(e *spdx3Element, byID map[string]*spdx3Element) *spdx3Element {
	raw := bytes.TrimSpace(e.CreationInfo)
	if len(raw) == 0 {
		return nil
	}
	if raw[0] == '"' {
		var ref string
		if json.Unmarshal(raw, &ref) == nil {
			return byID[ref]
		}
		return nil
	}
	var inline spdx3Element
	if json.Unmarshal(raw, &inline) == nil {
		return &inline
	}
	return nil
}
