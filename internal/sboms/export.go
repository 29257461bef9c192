package sboms

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/medwarden/medwarden/internal/store"
)

// CycloneDX output: 1.6 JSON with the component vulnerabilities as VEX.
type cdxOut struct {
	BOMFormat       string    `json:"bomFormat"`
	SpecVersion     string    `json:"specVersion"`
	SerialNumber    string    `json:"serialNumber"`
	Version         int       `json:"version"`
	Metadata        cdxMeta   `json:"metadata"`
	Components      []cdxComp `json:"components"`
	Vulnerabilities []cdxVuln `json:"vulnerabilities,omitempty"`
}

type cdxMeta struct {
	Timestamp  string          `json:"timestamp"`
	Tools      cdxTools        `json:"tools"`
	Component  *cdxComp        `json:"component,omitempty"`
	Properties []cdxProperty   `json:"properties,omitempty"`
	Supplier   *cdxOrgEntity   `json:"supplier,omitempty"`
	Lifecycles []cdxLifecycles `json:"lifecycles,omitempty"`
}

type cdxLifecycles struct {
	Phase string `json:"phase"`
}

type cdxTools struct {
	Components []cdxComp `json:"components"`
}

type cdxOrgEntity struct {
	Name string `json:"name"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type cdxComp struct {
	BOMRef   string        `json:"bom-ref,omitempty"`
	Type     string        `json:"type"`
	Supplier *cdxOrgEntity `json:"supplier,omitempty"`
	Group    string        `json:"group,omitempty"`
	Name     string        `json:"name"`
	Version  string        `json:"version,omitempty"`
	Hashes   []cdxHash     `json:"hashes,omitempty"`
	CPE      string        `json:"cpe,omitempty"`
	PURL     string        `json:"purl,omitempty"`
}

type cdxVuln struct {
	BOMRef   string       `json:"bom-ref,omitempty"`
	ID       string       `json:"id"`
	Source   *cdxSource   `json:"source,omitempty"`
	Analysis *cdxAnalysis `json:"analysis,omitempty"`
	Affects  []cdxAffect  `json:"affects"`
	// Properties carry MedWarden's match method and confidence.
	Properties []cdxProperty `json:"properties,omitempty"`
}

type cdxSource struct {
	Name string `json:"name"`
}

type cdxAnalysis struct {
	State         string `json:"state"`
	Justification string `json:"justification,omitempty"`
	Detail        string `json:"detail,omitempty"`
}

type cdxAffect struct {
	Ref string `json:"ref"`
}

var cdxTypes = map[string]bool{"application": true, "framework": true, "library": true, "container": true, "platform": true,
	"operating-system": true, "device": true, "device-driver": true, "firmware": true, "file": true, "machine-learning-model": true,
	"data": true, "cryptographic-asset": true}

var cdxHashAlgs = map[string]string{"MD5": "MD5", "SHA-1": "SHA-1", "SHA1": "SHA-1", "SHA-256": "SHA-256", "SHA256": "SHA-256",
	"SHA-384": "SHA-384", "SHA384": "SHA-384", "SHA-512": "SHA-512", "SHA512": "SHA-512", "SHA3-256": "SHA3-256",
	"SHA3-384": "SHA3-384", "SHA3-512": "SHA3-512", "BLAKE2B-256": "BLAKE2b-256", "BLAKE2B-384": "BLAKE2b-384",
	"BLAKE2B-512": "BLAKE2b-512", "BLAKE3": "BLAKE3"}

// cdxJustification maps CSAF/OpenVEX justifications to CycloneDX's; the
// CycloneDX ones pass through. Unknown ones go to the detail.
var cdxJustification = map[string]string{
	"component_not_present":                             "code_not_present",
	"vulnerable_code_not_present":                       "code_not_present",
	"vulnerable_code_not_in_execute_path":               "code_not_reachable",
	"vulnerable_code_cannot_be_controlled_by_adversary": "protected_by_mitigating_control",
	"inline_mitigations_already_exist":                  "protected_by_mitigating_control",
	"code_not_present":                                  "code_not_present",
	"code_not_reachable":                                "code_not_reachable",
	"requires_configuration":                            "requires_configuration",
	"requires_dependency":                               "requires_dependency",
	"requires_environment":                              "requires_environment",
	"protected_by_compiler":                             "protected_by_compiler",
	"protected_at_runtime":                              "protected_at_runtime",
	"protected_at_perimeter":                            "protected_at_perimeter",
	"protected_by_mitigating_control":                   "protected_by_mitigating_control",
}

var cdxState = map[string]string{"affected": "exploitable", "not_affected": "not_affected", "fixed": "resolved",
	"under_investigation": "in_triage", "unknown": "in_triage"}

var cdxSourceName = map[string]string{"osv": "OSV", "nvd": "NVD", "sbom": "SBOM"}

// ExportCycloneDX writes a stored SBOM version as a CycloneDX 1.6 JSON
// document: the subject (device model and firmware version, or the device)
// as metadata.component, every component, and every component
// vulnerability as a VEX statement (analysis state, justification, detail).
// The output is deterministic for the same stored data and time now.
func ExportCycloneDX(v *store.SBOMVersion, comps []store.SBOMComponent, now time.Time) ([]byte, error) {
	sum := sha256.Sum256([]byte(v.SHA256 + "\x00" + strconv.FormatInt(v.ID, 10) + "\x00" + v.MatchedAt.UTC().Format(time.RFC3339Nano)))
	sum[6] = sum[6]&0x0f | 0x50 // name-based UUID layout
	sum[8] = sum[8]&0x3f | 0x80
	serial := fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	out := cdxOut{BOMFormat: "CycloneDX", SpecVersion: "1.6", SerialNumber: serial, Version: 1}
	out.Metadata.Timestamp = now.UTC().Format(time.RFC3339)
	out.Metadata.Tools.Components = []cdxComp{{Type: "application", Name: "medwarden"}}
	subject := &cdxComp{BOMRef: "medwarden:subject", Type: "firmware", Name: v.Subject.Model, Version: v.Subject.FirmwareVersion}
	if v.Subject.DeviceID != 0 {
		subject.Type = "device"
		if v.Subject.AssetID != "" {
			subject.Name = v.Subject.AssetID
		}
	}
	if subject.Name == "" {
		subject.Name = "sbom " + strconv.FormatInt(v.ID, 10)
	}
	if v.Subject.Vendor != "" {
		subject.Supplier = &cdxOrgEntity{Name: v.Subject.Vendor}
		out.Metadata.Supplier = &cdxOrgEntity{Name: v.Subject.Vendor}
	}
	out.Metadata.Component = subject
	out.Metadata.Properties = []cdxProperty{
		{Name: "medwarden:sbom_id", Value: strconv.FormatInt(v.ID, 10)},
		{Name: "medwarden:sbom_version", Value: strconv.Itoa(v.Version)},
		{Name: "medwarden:source_sha256", Value: v.SHA256},
		{Name: "medwarden:source_format", Value: v.Format + " " + v.SpecVersion},
	}
	refs := make([]string, len(comps))
	used := map[string]bool{"medwarden:subject": true}
	out.Components = make([]cdxComp, 0, len(comps))
	for i := range comps {
		c := &comps[i]
		ref := c.Ref
		if ref == "" || used[ref] {
			ref = "medwarden:" + strconv.Itoa(c.Index)
		}
		used[ref] = true
		refs[i] = ref
		t := c.Type
		if !cdxTypes[t] {
			t = "library"
		}
		oc := cdxComp{BOMRef: ref, Type: t, Group: c.Group, Name: c.Name, Version: c.Version, CPE: c.CPE, PURL: c.PURL}
		if oc.Name == "" {
			oc.Name = "unnamed"
		}
		if c.Supplier != "" {
			oc.Supplier = &cdxOrgEntity{Name: c.Supplier}
		}
		for _, h := range c.Hashes {
			if alg, ok := cdxHashAlgs[normAlg(h.Algorithm)]; ok && validHex(h.Value) {
				oc.Hashes = append(oc.Hashes, cdxHash{Alg: alg, Content: h.Value})
			}
		}
		out.Components = append(out.Components, oc)
	}
	// One vulnerability entry per (id, source), affecting every component.
	type key struct{ id, src, state, just, detail string }
	byKey := map[key]*cdxVuln{}
	var order []key
	for i := range comps {
		for _, vv := range comps[i].Vulns {
			a := &cdxAnalysis{State: cdxState[vv.Status]}
			if a.State == "" {
				a.State = "in_triage"
			}
			detail := vv.Detail
			if vv.Justification != "" {
				if j, ok := cdxJustification[vv.Justification]; ok && a.State == "not_affected" {
					a.Justification = j
				}
				if a.Justification != vv.Justification {
					detail = joinDetail("justification: "+vv.Justification, detail)
				}
			}
			a.Detail = detail
			k := key{vv.ID, vv.Source, a.State, a.Justification, a.Detail}
			x, ok := byKey[k]
			if !ok {
				x = &cdxVuln{ID: vv.ID, Analysis: a, Properties: []cdxProperty{
					{Name: "medwarden:method", Value: vv.Method}, {Name: "medwarden:confidence", Value: vv.Confidence},
					{Name: "medwarden:needs_review", Value: strconv.FormatBool(vv.NeedsReview)}}}
				if n, ok := cdxSourceName[vv.Source]; ok {
					x.Source = &cdxSource{Name: n}
				}
				byKey[k] = x
				order = append(order, k)
			}
			x.Affects = append(x.Affects, cdxAffect{Ref: refs[i]})
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].id < order[j].id })
	for i, k := range order {
		x := byKey[k]
		x.BOMRef = "medwarden:vuln:" + strconv.Itoa(i)
		out.Vulnerabilities = append(out.Vulnerabilities, *x)
	}
	return json.MarshalIndent(out, "", "  ")
}

func joinDetail(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

func normAlg(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func validHex(s string) bool {
	if len(s) < 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}
