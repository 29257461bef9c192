// Package advisory is the normalised security-advisory model that every feed
// parser (CSAF, KEV, EPSS, OSV…) maps to and that the matcher consumes.
//
// The model is pure data: no I/O, no parsing. It keeps what the publisher
// wrote (vector strings, version text, product names) verbatim, and adds
// the resolution work a consumer should not have to redo: product groups are
// expanded to product ids, relationships are turned into products of their
// own, and every status, remediation, threat and score is also indexed per
// product id.
//
// Product ids are only meaningful inside one advisory: two advisories may
// both use "CSAFPID-0001" for different products.
package advisory

import "time"

// Advisory is one normalised security advisory (for CSAF: one document).
type Advisory struct {
	// ID is the publisher's tracking id (CSAF /document/tracking/id), e.g. "ICSMA-24-151-01".
	ID    string `json:"id"`
	Title string `json:"title"`
	// Category is the document category (CSAF: csaf_security_advisory, csaf_vex, csaf_base…).
	Category  string    `json:"category"`
	Lang      string    `json:"lang,omitempty"`
	Publisher Publisher `json:"publisher"`
	// InitialRelease and CurrentRelease are the tracking dates (UTC).
	InitialRelease time.Time `json:"initial_release"`
	CurrentRelease time.Time `json:"current_release"`
	// Version is the document version as published ("1", "2.0.1").
	Version string `json:"version"`
	// Status is draft, interim or final.
	Status    string     `json:"status"`
	Revisions []Revision `json:"revisions,omitempty"`
	// TLP is the Traffic Light Protocol label (CLEAR, WHITE, GREEN, AMBER, RED); empty when not given.
	TLP    string `json:"tlp,omitempty"`
	TLPURL string `json:"tlp_url,omitempty"`
	// Aliases are other tracking ids of the same document (CSAF /document/tracking/aliases).
	Aliases         []string    `json:"aliases,omitempty"`
	Notes           []Note      `json:"notes,omitempty"`
	References      []Reference `json:"references,omitempty"`
	Acknowledgments []string    `json:"acknowledgments,omitempty"`

	// Products holds every product defined by the advisory: full product names
	// from the branches and the flat list, and products built by relationships.
	// Order: the order of definition in the document.
	Products        []Product       `json:"products"`
	Groups          []ProductGroup  `json:"groups,omitempty"`
	Vulnerabilities []Vulnerability `json:"vulnerabilities"`

	// Source is where the advisory was read from (file name or URL) and
	// SHA256 the lowercase hex SHA-256 of the exact bytes read.
	Source string `json:"source,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// Publisher is who issued the advisory.
type Publisher struct {
	Name string `json:"name"`
	// Namespace is the publisher's URL (CSAF /document/publisher/namespace).
	Namespace string `json:"namespace"`
	// Category is coordinator, discoverer, other, translator, user or vendor.
	Category       string `json:"category"`
	ContactDetails string `json:"contact_details,omitempty"`
}

// Revision is one entry of the revision history.
type Revision struct {
	Date   time.Time `json:"date"`
	Number string    `json:"number"`
	// LegacyVersion is the version label used before CSAF, when given.
	LegacyVersion string `json:"legacy_version,omitempty"`
	Summary       string `json:"summary"`
}

// Note is a free-text note (summary, description, details, general, legal_disclaimer, faq, other).
type Note struct {
	Category string `json:"category"`
	Title    string `json:"title,omitempty"`
	Audience string `json:"audience,omitempty"`
	Text     string `json:"text"`
}

// Reference is a link to further information.
type Reference struct {
	// Category is "external" or "self".
	Category string `json:"category,omitempty"`
	Summary  string `json:"summary"`
	URL      string `json:"url"`
}

// Product is one product an advisory talks about.
//
// For products defined in the branch tree, BranchPath holds the names of the
// branches from the root to the leaf (e.g. ["Baxter", "Infusion pumps",
// "Sigma Spectrum", "8.00.01"]) and the Vendor/Family/Name/Version fields hold
// the branch names of those categories. For products built by a
// relationship, Relationship is set and the identity fields are empty: the
// matcher follows Relationship to the two products it combines.
type Product struct {
	// ID is the product id, unique inside the advisory (e.g. "CSAFPID-0001").
	ID string `json:"id"`
	// Name is the full product name as published.
	Name string `json:"name"`

	BranchPath []string `json:"branch_path,omitempty"`
	// BranchCategories is parallel to BranchPath (vendor, product_family,
	// product_name, product_version, product_version_range, architecture,
	// host_name, language, legacy, patch_level, service_pack, specification).
	BranchCategories []string `json:"branch_categories,omitempty"`

	Vendor        string `json:"vendor,omitempty"`
	ProductFamily string `json:"product_family,omitempty"`
	ProductName   string `json:"product_name,omitempty"`
	// Version is the product_version branch name, exactly as given (a single version).
	Version string `json:"version,omitempty"`
	// VersionRange is the product_version_range branch name, exactly as given
	// (e.g. "<=1.9.4.1", "vers:generic/>=2.0|<2.5", "All versions prior to 3.1").
	VersionRange string `json:"version_range,omitempty"`
	Architecture string `json:"architecture,omitempty"`
	PatchLevel   string `json:"patch_level,omitempty"`
	ServicePack  string `json:"service_pack,omitempty"`

	// Identification helpers, as published.
	CPE           string       `json:"cpe,omitempty"`
	PURLs         []string     `json:"purls,omitempty"`
	SerialNumbers []string     `json:"serial_numbers,omitempty"`
	ModelNumbers  []string     `json:"model_numbers,omitempty"`
	SKUs          []string     `json:"skus,omitempty"`
	Hashes        []FileHash   `json:"hashes,omitempty"`
	SBOMURLs      []string     `json:"sbom_urls,omitempty"`
	GenericURIs   []GenericURI `json:"generic_uris,omitempty"`

	// Relationship is set for products defined by a relationship.
	Relationship *Relationship `json:"relationship,omitempty"`
}

// FileHash is a file name with its cryptographic hashes.
type FileHash struct {
	Filename string            `json:"filename"`
	Hashes   map[string]string `json:"hashes"` // algorithm → value
}

// GenericURI is an x_generic_uris entry: a namespace and a URI in it.
type GenericURI struct {
	Namespace string `json:"namespace"`
	URI       string `json:"uri"`
}

// Relationship says that a product is made of two others.
type Relationship struct {
	// Category is default_component_of, external_component_of,
	// installed_on, installed_with or optional_component_of.
	Category string `json:"category"`
	// ProductRef is the component, RelatesTo the product it relates to.
	ProductRef string `json:"product_reference"`
	RelatesTo  string `json:"relates_to_product_reference"`
}

// ProductGroup is a named set of product ids.
type ProductGroup struct {
	ID         string   `json:"id"`
	Summary    string   `json:"summary,omitempty"`
	ProductIDs []string `json:"product_ids"`
}

// Product status categories, as in CSAF 2.0 section 3.2.3.9.
const (
	StatusFirstAffected      = "first_affected"
	StatusFirstFixed         = "first_fixed"
	StatusFixed              = "fixed"
	StatusKnownAffected      = "known_affected"
	StatusKnownNotAffected   = "known_not_affected"
	StatusLastAffected       = "last_affected"
	StatusRecommended        = "recommended"
	StatusUnderInvestigation = "under_investigation"
)

// StatusCategories lists the status categories in the order CSAF defines them.
var StatusCategories = []string{
	StatusFirstAffected, StatusFirstFixed, StatusFixed, StatusKnownAffected,
	StatusKnownNotAffected, StatusLastAffected, StatusRecommended, StatusUnderInvestigation,
}

// Remediation categories.
const (
	RemediationMitigation    = "mitigation"
	RemediationNoFixPlanned  = "no_fix_planned"
	RemediationNoneAvailable = "none_available"
	RemediationVendorFix     = "vendor_fix"
	RemediationWorkaround    = "workaround"
)

// Vulnerability is one vulnerability of an advisory.
type Vulnerability struct {
	// CVE is the CVE id, empty when the vulnerability has none.
	CVE string `json:"cve,omitempty"`
	// IDs are other identifiers (system name → text), e.g. vendor bug ids.
	IDs   []VulnID `json:"ids,omitempty"`
	Title string   `json:"title,omitempty"`
	CWE   *CWE     `json:"cwe,omitempty"`
	// Summary is the text of the first note with category "summary"
	// (else "description"), a convenience copy of one of Notes.
	Summary string `json:"summary,omitempty"`
	Notes   []Note `json:"notes,omitempty"`

	DiscoveryDate time.Time `json:"discovery_date,omitzero"`
	ReleaseDate   time.Time `json:"release_date,omitzero"`

	// Scores are the CVSS scores as published, one entry per (score, version).
	Scores []Score `json:"scores,omitempty"`
	// Statuses maps a status category (StatusKnownAffected…) to the product
	// ids in it, as published (no group expansion needed: statuses hold
	// product ids only).
	Statuses     map[string][]string `json:"statuses,omitempty"`
	Remediations []Remediation       `json:"remediations,omitempty"`
	Threats      []Threat            `json:"threats,omitempty"`
	Flags        []Flag              `json:"flags,omitempty"`
	References   []Reference         `json:"references,omitempty"`

	// ProductStatus is the reverse index of Statuses: product id → its
	// status categories in this vulnerability (sorted).
	ProductStatus map[string][]string `json:"product_status,omitempty"`
}

// VulnID is a non-CVE identifier of a vulnerability.
type VulnID struct {
	SystemName string `json:"system_name"`
	Text       string `json:"text"`
}

// CWE is a weakness as published.
type CWE struct {
	ID   string `json:"id"` // "CWE-79"
	Name string `json:"name"`
}

// Score is one published CVSS score and the products it applies to.
type Score struct {
	// Version is "2.0", "3.0", "3.1" or "4.0".
	Version string `json:"version"`
	// Vector is the vector string exactly as published.
	Vector string `json:"vector"`
	// BaseScore is the published base score (not recomputed).
	BaseScore    float64 `json:"base_score"`
	BaseSeverity string  `json:"base_severity,omitempty"`
	// ProductIDs are the products the score applies to.
	ProductIDs []string `json:"product_ids"`
	// Source says where the score came from: "cvss_v2", "cvss_v3" (CSAF score
	// objects) or "reference" (a CVSS calculator URL in the vulnerability's
	// references, the only place CSAF 2.0 documents can carry CVSS 4.0; such
	// scores have BaseScore 0 as none is published).
	Source string `json:"source"`
}

// Remediation is advice on what to do, for some products.
type Remediation struct {
	// Category is one of the Remediation* constants.
	Category string    `json:"category"`
	Details  string    `json:"details"`
	URL      string    `json:"url,omitempty"`
	Date     time.Time `json:"date,omitzero"`
	// Entitlements, restart requirement: as published.
	Entitlements []string `json:"entitlements,omitempty"`
	Restart      string   `json:"restart_required,omitempty"`
	// ProductIDs are the products concerned: the published product ids plus
	// the members of the published groups, deduplicated, in first-seen order.
	ProductIDs []string `json:"product_ids"`
	// GroupIDs are the product group ids as published.
	GroupIDs []string `json:"group_ids,omitempty"`
}

// Threat is a statement about exploitation, impact or target set.
type Threat struct {
	// Category is exploit_status, impact or target_set.
	Category string    `json:"category"`
	Details  string    `json:"details"`
	Date     time.Time `json:"date,omitzero"`
	// ProductIDs with groups expanded, as for Remediation.
	ProductIDs []string `json:"product_ids,omitempty"`
	GroupIDs   []string `json:"group_ids,omitempty"`
}

// Flag is a machine-readable VEX justification (e.g. vulnerable_code_not_present).
type Flag struct {
	Label      string    `json:"label"`
	Date       time.Time `json:"date,omitzero"`
	ProductIDs []string  `json:"product_ids,omitempty"`
	GroupIDs   []string  `json:"group_ids,omitempty"`
}

// Product returns the product with the given id, or nil.
func (a *Advisory) Product(id string) *Product {
	for i := range a.Products {
		if a.Products[i].ID == id {
			return &a.Products[i]
		}
	}
	return nil
}

// Parts returns, for a product built by a relationship, the component
// (ProductRef) and the product it relates to (RelatesTo), each nil when not
// defined in the advisory; ok is false when the product is not built by a
// relationship.
func (a *Advisory) Parts(id string) (component, relatesTo *Product, ok bool) {
	p := a.Product(id)
	if p == nil || p.Relationship == nil {
		return nil, nil, false
	}
	return a.Product(p.Relationship.ProductRef), a.Product(p.Relationship.RelatesTo), true
}

// Affected reports the product ids that the vulnerability lists as
// affected (known_affected, first_affected or last_affected), in
// document order and without duplicates.
func (v *Vulnerability) Affected() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range []string{StatusKnownAffected, StatusFirstAffected, StatusLastAffected} {
		for _, id := range v.Statuses[c] {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// RemediationsFor returns the remediations that apply to product id.
func (v *Vulnerability) RemediationsFor(id string) []Remediation {
	var out []Remediation
	for _, r := range v.Remediations {
		for _, p := range r.ProductIDs {
			if p == id {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// ScoresFor returns the scores that apply to product id.
func (v *Vulnerability) ScoresFor(id string) []Score {
	var out []Score
	for _, s := range v.Scores {
		for _, p := range s.ProductIDs {
			if p == id {
				out = append(out, s)
				break
			}
		}
	}
	return out
}
