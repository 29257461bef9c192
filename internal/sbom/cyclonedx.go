package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// parseCycloneDXJSON validates and decodes a CycloneDX JSON BOM.
func parseCycloneDXJSON(data []byte, opts Options) (*Document, error) {
	concurrent := !opts.SkipSchema && len(data) >= concurrentValidateSize && runtime.GOMAXPROCS(0) >= 2
	if !concurrent {
		if err := checkJSONDepth(data, opts.maxRawDepth()); err != nil {
			return nil, err
		}
	}
	if opts.SkipSchema {
		return decodeCycloneDXJSON(data, nil, opts)
	}
	if !concurrent {
		if err := schemas.load(); err != nil {
			return nil, err
		}
		problems, err := validateCycloneDXJSON(data)
		if err != nil {
			return nil, err
		}
		return decodeCycloneDXJSON(data, problems, opts)
	}
	// Large BOM: check the depth, compile the schemas (once per process)
	// and validate on another core while this one decodes (encoding/json
	// bounds its own nesting). The outcome is the same as in sequence (a
	// depth, schema or validation error wins).
	type result struct {
		problems []Problem
		err      error
	}
	done := make(chan result, 1)
	go func() {
		if err := checkJSONDepth(data, opts.maxRawDepth()); err != nil {
			done <- result{nil, err}
			return
		}
		if err := schemas.load(); err != nil {
			done <- result{nil, err}
			return
		}
		ps, err := validateCycloneDXJSON(data)
		done <- result{ps, err}
	}()
	var bom cdxBOM
	uerr := json.Unmarshal(data, &bom)
	r := <-done
	if r.err != nil {
		return nil, r.err
	}
	return finishCycloneDXJSON(data, &bom, uerr, r.problems, opts)
}

// concurrentValidateSize is the input size from which schema validation
// runs concurrently with decoding.
const concurrentValidateSize = 1 << 20

// validateCycloneDXJSON validates against the schema of the BOM's version:
// the fast path first, the streaming jsonschema path when the input leaves
// it.
func validateCycloneDXJSON(data []byte) ([]Problem, error) {
	if ps, ok := validateCycloneDXFast(data); ok {
		return ps, nil
	}
	return validateCycloneDXStream(data, !json.Valid(data))
}

func unsupportedVersion(sv string) Problem {
	if sv == "1.0" || sv == "1.1" {
		return Problem{Pointer: "/specVersion", Message: fmt.Sprintf("cyclonedx %s has no json form (json starts at 1.2)", sv)}
	}
	return Problem{Pointer: "/specVersion", Message: fmt.Sprintf("unsupported cyclonedx spec version %q (want 1.2 to 1.7)", sv)}
}

// decodeCycloneDXJSON maps JSON into a Document. A member of the wrong type
// is a Problem (the schema says so too), not a failure to read.
func decodeCycloneDXJSON(data []byte, problems []Problem, opts Options) (*Document, error) {
	var bom cdxBOM
	return finishCycloneDXJSON(data, &bom, json.Unmarshal(data, &bom), problems, opts)
}

// finishCycloneDXJSON completes decodeCycloneDXJSON once json.Unmarshal
// has returned err into bom.
func finishCycloneDXJSON(data []byte, bom *cdxBOM, err error, problems []Problem, opts Options) (*Document, error) {
	if err != nil {
		var ute *json.UnmarshalTypeError
		if !errors.As(err, &ute) {
			return nil, jsonError(data, err)
		}
		if len(problems) == 0 {
			problems = append(problems, Problem{Pointer: jsonPointerAt(data, ute.Offset), Message: fmt.Sprintf("%s has the wrong type: got %s, want %s", ute.Field, ute.Value, ute.Type)})
		}
	}
	doc := &Document{SpecVersion: bom.SpecVersion, Problems: problems}
	if opts.SkipSchema {
		if bom.BOMFormat != "CycloneDX" {
			doc.Problems = append(doc.Problems, Problem{Pointer: "/bomFormat", Message: fmt.Sprintf("bomFormat is %q, want \"CycloneDX\"", bom.BOMFormat)})
		}
		if _, ok := specVersions[bom.SpecVersion]; !ok {
			doc.Problems = append(doc.Problems, unsupportedVersion(bom.SpecVersion))
		}
	}
	if err := fromCycloneDX(doc, bom, opts); err != nil {
		return nil, err
	}
	return doc, nil
}

// parseCycloneDXXML checks an XML BOM (well-formedness, no DTD, depth,
// namespace, structural rules of the XSD that decoding would hide), decodes
// it with cyclonedx-go, and validates its JSON form against the JSON schema
// of the same version (the XSD and JSON schema of a version state the same
// model). Pointers in problems then refer to the JSON form.
func parseCycloneDXXML(data []byte, opts Options) (*Document, error) {
	pre, err := prescanXML(data, opts.maxRawDepth())
	if err != nil {
		return nil, err
	}
	var bom cdx.BOM
	if err := xmlDecode(data, &bom); err != nil {
		return nil, err
	}
	problems := pre.problems
	sv, ok := specVersions[pre.version]
	switch {
	case ok:
	case pre.version == "1.0" || pre.version == "1.1":
		// Old but real: read it through the 1.2 JSON form, without a schema.
		sv = cdx.SpecVersion1_2
	default:
		problems = append(problems, Problem{Line: pre.rootLine, Message: fmt.Sprintf("unknown cyclonedx xml namespace %q", pre.namespace)})
		sv = cdx.SpecVersion1_7
	}
	bom.BOMFormat = "CycloneDX"
	bom.SpecVersion = sv
	bom.JSONSchema = ""
	if bom.Version == 0 {
		bom.Version = 1 // the XSD's default for an absent version attribute
	}
	// Plain marshalling (not EncodeVersion, which silently drops values the
	// version does not support) keeps invalid enum values visible.
	js, err := json.Marshal(&bom)
	if err != nil {
		return nil, &InputError{Line: pre.rootLine, Err: fmt.Errorf("%w: cannot express as cyclonedx json: %w", ErrSyntax, err)}
	}
	if !opts.SkipSchema && ok {
		if err := schemas.load(); err != nil {
			return nil, err
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
		if err != nil {
			return nil, err
		}
		// XML text is whitespace-collapsed by the XSD types (token,
		// normalizedString); trim so patterns see what the XSD sees.
		inst = trimStrings(inst)
		fixXMLForm(inst, pre.version)
		for _, p := range capProblems(validateValue(schemas.schemas[pre.version], inst)) {
			if xmlOnlyDifference(p) {
				continue
			}
			p.Message += " (in the json form of this xml)"
			problems = append(problems, p)
		}
	}
	doc, err := decodeCycloneDXJSON(js, problems, Options{MaxDepth: opts.MaxDepth, SkipSchema: false})
	if err != nil {
		return nil, err
	}
	doc.SpecVersion = pre.version
	return doc, nil
}

var specVersions = map[string]cdx.SpecVersion{
	"1.2": cdx.SpecVersion1_2, "1.3": cdx.SpecVersion1_3, "1.4": cdx.SpecVersion1_4,
	"1.5": cdx.SpecVersion1_5, "1.6": cdx.SpecVersion1_6, "1.7": cdx.SpecVersion1_7,
}

// Lean CycloneDX JSON structs: only what the Document needs, so decoding is
// fast and tolerant of members cyclonedx-go models differently.
type cdxBOM struct {
	BOMFormat       string          `json:"bomFormat"`
	SpecVersion     string          `json:"specVersion"`
	SerialNumber    string          `json:"serialNumber"`
	Metadata        *cdxMetadata    `json:"metadata"`
	Components      []cdxComponent  `json:"components"`
	Services        []cdxService    `json:"services"`
	Dependencies    []cdxDependency `json:"dependencies"`
	Vulnerabilities []cdxVuln       `json:"vulnerabilities"`
}

type cdxMetadata struct {
	Timestamp    string          `json:"timestamp"`
	Lifecycles   []cdxLifecycle  `json:"lifecycles"`
	Tools        json.RawMessage `json:"tools"`
	Authors      []cdxContact    `json:"authors"`
	Component    *cdxComponent   `json:"component"`
	Manufacture  *cdxEntity      `json:"manufacture"`
	Manufacturer *cdxEntity      `json:"manufacturer"`
	Supplier     *cdxEntity      `json:"supplier"`
}

type cdxLifecycle struct {
	Phase string `json:"phase"`
	Name  string `json:"name"`
}

type cdxContact struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

type cdxEntity struct {
	Name string `json:"name"`
}

type cdxTool struct {
	Vendor   string     `json:"vendor"`
	Name     string     `json:"name"`
	Version  string     `json:"version"`
	Group    string     `json:"group"`
	Supplier *cdxEntity `json:"supplier"`
	Provider *cdxEntity `json:"provider"`
}

type cdxComponent struct {
	BOMRef       string         `json:"bom-ref"`
	Type         string         `json:"type"`
	Supplier     *cdxEntity     `json:"supplier"`
	Manufacturer *cdxEntity     `json:"manufacturer"`
	Author       string         `json:"author"`
	Authors      []cdxContact   `json:"authors"`
	Publisher    string         `json:"publisher"`
	Group        string         `json:"group"`
	Name         string         `json:"name"`
	Version      string         `json:"version"`
	Hashes       []cdxHash      `json:"hashes"`
	Licenses     []cdxLicense   `json:"licenses"`
	CPE          string         `json:"cpe"`
	PURL         string         `json:"purl"`
	SWID         *cdxSWID       `json:"swid"`
	Properties   []cdxProperty  `json:"properties"`
	Components   []cdxComponent `json:"components"`
}

type cdxHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type cdxLicense struct {
	License *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"license"`
	Expression string `json:"expression"`
}

type cdxSWID struct {
	TagID string `json:"tagId"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxService struct {
	BOMRef string `json:"bom-ref"`
}

type cdxDependency struct {
	Ref       *string  `json:"ref"`
	DependsOn []string `json:"dependsOn"`
}

type cdxVuln struct {
	ID       string     `json:"id"`
	Source   *cdxEntity `json:"source"`
	Analysis *struct {
		State         string `json:"state"`
		Justification string `json:"justification"`
		Detail        string `json:"detail"`
	} `json:"analysis"`
	Affects []struct {
		Ref string `json:"ref"`
	} `json:"affects"`
}

// fromCycloneDX maps a decoded BOM into doc and runs the structural checks
// the schema cannot express (bom-ref uniqueness, empty dependency refs).
func fromCycloneDX(doc *Document, bom *cdxBOM, opts Options) error {
	doc.Serial = bom.SerialNumber
	if md := bom.Metadata; md != nil {
		if md.Timestamp != "" {
			if t, err := time.Parse(time.RFC3339, md.Timestamp); err == nil {
				doc.Created = t.UTC()
			}
		}
		for _, a := range md.Authors {
			if s := contactName(a); s != "" {
				doc.Authors = append(doc.Authors, s)
			}
		}
		if len(doc.Authors) == 0 {
			for _, e := range []*cdxEntity{md.Manufacturer, md.Manufacture, md.Supplier} {
				if e != nil && e.Name != "" {
					doc.Authors = append(doc.Authors, e.Name)
					break
				}
			}
		}
		doc.Tools = cdxTools(md.Tools)
		for _, l := range md.Lifecycles {
			switch {
			case l.Phase != "":
				doc.Lifecycles = append(doc.Lifecycles, l.Phase)
			case l.Name != "":
				doc.Lifecycles = append(doc.Lifecycles, l.Name)
			}
		}
		if md.Component != nil {
			p := cdxToComponent(md.Component, "")
			doc.Primary = &p
			doc.Name = p.Name
		}
	}
	refs := map[string]string{} // bom-ref -> pointer of first use
	if doc.Primary != nil && doc.Primary.Ref != "" {
		refs[doc.Primary.Ref] = "/metadata/component/bom-ref"
	}
	doc.Components = make([]Component, 0, len(bom.Components))
	if err := walkCDX(doc, bom.Components, "", "/components", 1, opts.maxDepth(), refs); err != nil {
		return err
	}
	for i, s := range bom.Services {
		addRef(doc, refs, s.BOMRef, pointer("services", strconv.Itoa(i), "bom-ref"))
	}
	if len(bom.Dependencies) > 0 {
		doc.Dependencies = make([]Dependency, 0, len(bom.Dependencies))
	}
	for i, d := range bom.Dependencies {
		dep := Dependency{DependsOn: d.DependsOn}
		if d.Ref == nil || *d.Ref == "" {
			doc.Problems = append(doc.Problems, Problem{Pointer: pointer("dependencies", strconv.Itoa(i), "ref"), Message: "dependency ref is missing or empty"})
		} else {
			dep.Ref = *d.Ref
		}
		doc.Dependencies = append(doc.Dependencies, dep)
	}
	for _, v := range bom.Vulnerabilities {
		st := VEXStatement{ID: v.ID}
		if v.Source != nil {
			st.Source = v.Source.Name
		}
		for _, a := range v.Affects {
			st.Affects = append(st.Affects, a.Ref)
		}
		if a := v.Analysis; a != nil {
			st.Status = cdxStatus(a.State)
			st.Justification = a.Justification
			st.Detail = a.Detail
		}
		doc.VEX = append(doc.VEX, st)
	}
	return nil
}

// cdxTools reads metadata.tools in both shapes: the legacy array of tools
// (1.2–1.4) and the object of components and services (1.5+).
func cdxTools(raw json.RawMessage) []Tool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	var list []cdxTool
	if raw[0] == '[' {
		if json.Unmarshal(raw, &list) != nil {
			return nil
		}
	} else {
		var obj struct {
			Components []cdxTool `json:"components"`
			Services   []cdxTool `json:"services"`
		}
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		list = append(obj.Components, obj.Services...)
	}
	out := make([]Tool, 0, len(list))
	for _, t := range list {
		v := t.Vendor
		switch {
		case v != "":
		case t.Supplier != nil && t.Supplier.Name != "":
			v = t.Supplier.Name
		case t.Provider != nil && t.Provider.Name != "":
			v = t.Provider.Name
		default:
			v = t.Group
		}
		out = append(out, Tool{Vendor: v, Name: t.Name, Version: t.Version})
	}
	return out
}

// cdxStatus maps CycloneDX analysis states to VEX status words.
func cdxStatus(state string) string {
	switch state {
	case "exploitable":
		return "affected"
	case "resolved", "resolved_with_pedigree":
		return "fixed"
	case "in_triage":
		return "under_investigation"
	case "false_positive", "not_affected":
		return "not_affected"
	}
	return state
}

func addRef(doc *Document, refs map[string]string, ref, ptr string) {
	if ref == "" {
		return
	}
	if first, dup := refs[ref]; dup {
		doc.Problems = append(doc.Problems, Problem{Pointer: ptr, Message: fmt.Sprintf("bom-ref %q is not unique (first used at %s)", ref, first)})
		return
	}
	refs[ref] = ptr
}

func walkCDX(doc *Document, cs []cdxComponent, parent, ptr string, depth, max int, refs map[string]string) error {
	if depth > max {
		return &InputError{Pointer: ptr, Err: fmt.Errorf("%w: components nested more than %d deep", ErrTooDeep, max)}
	}
	for i := range cs {
		c := &cs[i]
		p := ptr + "/" + strconv.Itoa(i)
		addRef(doc, refs, c.BOMRef, p+"/bom-ref")
		doc.Components = append(doc.Components, cdxToComponent(c, parent))
		if len(c.Components) > 0 {
			if err := walkCDX(doc, c.Components, c.BOMRef, p+"/components", depth+1, max, refs); err != nil {
				return err
			}
		}
	}
	return nil
}

func contactName(c cdxContact) string {
	if c.Name != "" {
		return c.Name
	}
	return c.Email
}

func cdxToComponent(c *cdxComponent, parent string) Component {
	out := Component{
		Ref: c.BOMRef, Type: c.Type, Name: c.Name, Group: c.Group, Version: c.Version,
		PURL: c.PURL, Parent: parent,
	}
	switch {
	case c.Supplier != nil && c.Supplier.Name != "":
		out.Supplier = c.Supplier.Name
	case c.Manufacturer != nil && c.Manufacturer.Name != "":
		out.Supplier = c.Manufacturer.Name
	case c.Publisher != "":
		out.Supplier = c.Publisher
	case c.Author != "":
		out.Supplier = c.Author
	case len(c.Authors) > 0:
		out.Supplier = contactName(c.Authors[0])
	}
	if c.CPE != "" {
		out.CPEs = []string{c.CPE}
	}
	if c.SWID != nil {
		out.SWID = c.SWID.TagID
	}
	if len(c.Hashes) > 0 {
		out.Hashes = make([]Hash, 0, len(c.Hashes))
		for _, h := range c.Hashes {
			out.Hashes = append(out.Hashes, Hash{Algorithm: h.Alg, Value: h.Content})
		}
	}
	for _, l := range c.Licenses {
		switch {
		case l.Expression != "":
			out.Licenses = append(out.Licenses, l.Expression)
		case l.License != nil && l.License.ID != "":
			out.Licenses = append(out.Licenses, l.License.ID)
		case l.License != nil && l.License.Name != "":
			out.Licenses = append(out.Licenses, l.License.Name)
		}
	}
	for _, p := range c.Properties {
		applySupportProperty(&out, p.Name, p.Value)
	}
	return out
}

// applySupportProperty reads the FDA support fields from a name/value pair.
// Producers use many spellings ("Level of Support", "fda:support-level",
// "End-of-Support", "eos-date"); names are compared by their last
// ':'-separated segment with case and punctuation removed.
func applySupportProperty(c *Component, name, value string) {
	if value == "" {
		return
	}
	switch supportKey(name) {
	case "supportlevel", "levelofsupport", "support", "supportstatus", "maintenancestatus", "supportstate":
		if c.SupportLevel == "" {
			c.SupportLevel = value
		}
	case "endofsupport", "endofsupportdate", "eos", "eosdate", "supportenddate", "endoflife", "eol", "eoldate", "endoflifedate", "supportend":
		if c.EndOfSupport == "" {
			c.EndOfSupport = value
		}
	}
}

func supportKey(name string) string {
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func trimStrings(v any) any {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case map[string]any:
		for k, x := range t {
			t[k] = trimStrings(x)
		}
	case []any:
		for i, x := range t {
			t[i] = trimStrings(x)
		}
	}
	return v
}

// xmlOnlyDifference reports JSON-schema problems that come from the XML and
// JSON forms differing or from cyclonedx-go v0.12.0 not carrying an XML
// construct over, not from the document:
//   - XML signatures are XML-DSig (the JSON form wants JSF) and are dropped,
//     so a signatory then seems to lack its signature;
//   - bom-reference lists of attestations (claims, counterClaims,
//     mitigationStrategies, evidence, counterEvidence) are XML text that
//     cyclonedx-go reads as a ref attribute, so they come out empty.
func xmlOnlyDifference(p Problem) bool {
	if strings.Contains(p.Message, "'signature'") ||
		strings.Contains(p.Pointer, "/signatories/") && strings.Contains(p.Message, "'externalReference'") {
		return true
	}
	if strings.HasPrefix(p.Pointer, "/declarations/") && strings.HasPrefix(p.Message, "minLength: got 0") {
		return true
	}
	return false
}

// fixXMLForm undoes cyclonedx-go's version-independent JSON shapes where the
// version's JSON schema differs: 1.5 evidence.identity is one object.
func fixXMLForm(v any, version string) {
	if version != "1.5" {
		return
	}
	root, _ := v.(map[string]any)
	cs, _ := root["components"].([]any)
	var walk func(cs []any)
	walk = func(cs []any) {
		for _, c := range cs {
			m, _ := c.(map[string]any)
			if ev, ok := m["evidence"].(map[string]any); ok {
				if ids, ok := ev["identity"].([]any); ok && len(ids) == 1 {
					ev["identity"] = ids[0]
				}
			}
			if sub, ok := m["components"].([]any); ok {
				walk(sub)
			}
		}
	}
	walk(cs)
}
