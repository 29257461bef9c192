package csaf

// The types below mirror the CSAF 2.0 JSON schema (csaf_json_schema.json).
// They are decoded after the document passed (or failed) schema validation,
// so they accept any JSON the schema could see; the schema reports unknown
// fields and wrong types, and the mandatory tests work on these structs.
// Optional members are pointers or nil slices so that "absent" and "empty"
// can be told apart where the spec cares (e.g. 6.1.27.5 notes).

// Document is a CSAF 2.0 document.
type Document struct {
	Document        Meta            `json:"document"`
	ProductTree     *ProductTree    `json:"product_tree,omitempty"`
	Vulnerabilities []Vulnerability `json:"vulnerabilities,omitempty"`
	// HasVulnerabilities is true when the "vulnerabilities" member is present
	// (even as an empty array); set by Parse.
	HasVulnerabilities bool `json:"-"`
}

// Meta is /document.
type Meta struct {
	Acknowledgments   []Acknowledgment   `json:"acknowledgments,omitempty"`
	AggregateSeverity *AggregateSeverity `json:"aggregate_severity,omitempty"`
	Category          string             `json:"category"`
	CSAFVersion       string             `json:"csaf_version"`
	Distribution      *Distribution      `json:"distribution,omitempty"`
	Lang              string             `json:"lang,omitempty"`
	Notes             []Note             `json:"notes,omitempty"`
	Publisher         Publisher          `json:"publisher"`
	References        []Reference        `json:"references,omitempty"`
	SourceLang        string             `json:"source_lang,omitempty"`
	Title             string             `json:"title"`
	Tracking          Tracking           `json:"tracking"`
}

// Acknowledgment credits people or organisations.
type Acknowledgment struct {
	Names        []string `json:"names,omitempty"`
	Organization string   `json:"organization,omitempty"`
	Summary      string   `json:"summary,omitempty"`
	URLs         []string `json:"urls,omitempty"`
}

// AggregateSeverity is the publisher's overall severity.
type AggregateSeverity struct {
	Namespace string `json:"namespace,omitempty"`
	Text      string `json:"text"`
}

// Distribution holds the sharing rules.
type Distribution struct {
	Text string `json:"text,omitempty"`
	TLP  *TLP   `json:"tlp,omitempty"`
}

// TLP is a Traffic Light Protocol marking.
type TLP struct {
	Label string `json:"label"`
	URL   string `json:"url,omitempty"`
}

// Note is a note (document or vulnerability level).
type Note struct {
	Audience string `json:"audience,omitempty"`
	Category string `json:"category"`
	Text     string `json:"text"`
	Title    string `json:"title,omitempty"`
}

// Publisher is /document/publisher.
type Publisher struct {
	Category         string `json:"category"`
	ContactDetails   string `json:"contact_details,omitempty"`
	IssuingAuthority string `json:"issuing_authority,omitempty"`
	Name             string `json:"name"`
	Namespace        string `json:"namespace"`
}

// Reference is a link.
type Reference struct {
	Category string `json:"category,omitempty"`
	Summary  string `json:"summary"`
	URL      string `json:"url"`
}

// Tracking is /document/tracking.
type Tracking struct {
	Aliases            []string   `json:"aliases,omitempty"`
	CurrentReleaseDate string     `json:"current_release_date"`
	Generator          *Generator `json:"generator,omitempty"`
	ID                 string     `json:"id"`
	InitialReleaseDate string     `json:"initial_release_date"`
	RevisionHistory    []Revision `json:"revision_history"`
	Status             string     `json:"status"`
	Version            string     `json:"version"`
}

// Generator names the tool that wrote the document.
type Generator struct {
	Date   string `json:"date,omitempty"`
	Engine struct {
		Name    string `json:"name"`
		Version string `json:"version,omitempty"`
	} `json:"engine"`
}

// Revision is one revision history item.
type Revision struct {
	Date          string `json:"date"`
	LegacyVersion string `json:"legacy_version,omitempty"`
	Number        string `json:"number"`
	Summary       string `json:"summary"`
}

// ProductTree is /product_tree.
type ProductTree struct {
	Branches         []Branch          `json:"branches,omitempty"`
	FullProductNames []FullProductName `json:"full_product_names,omitempty"`
	ProductGroups    []ProductGroup    `json:"product_groups,omitempty"`
	Relationships    []Relationship    `json:"relationships,omitempty"`
}

// Branch is one node of the product tree.
type Branch struct {
	Branches []Branch         `json:"branches,omitempty"`
	Category string           `json:"category"`
	Name     string           `json:"name"`
	Product  *FullProductName `json:"product,omitempty"`
}

// FullProductName defines a product id.
type FullProductName struct {
	Name                        string                       `json:"name"`
	ProductID                   string                       `json:"product_id"`
	ProductIdentificationHelper *ProductIdentificationHelper `json:"product_identification_helper,omitempty"`
}

// ProductIdentificationHelper holds machine-readable product identifiers.
type ProductIdentificationHelper struct {
	CPE           string       `json:"cpe,omitempty"`
	Hashes        []Hashes     `json:"hashes,omitempty"`
	ModelNumbers  []string     `json:"model_numbers,omitempty"`
	PURL          string       `json:"purl,omitempty"`
	SBOMURLs      []string     `json:"sbom_urls,omitempty"`
	SerialNumbers []string     `json:"serial_numbers,omitempty"`
	SKUs          []string     `json:"skus,omitempty"`
	XGenericURIs  []GenericURI `json:"x_generic_uris,omitempty"`
}

// Hashes lists the hashes of one file.
type Hashes struct {
	FileHashes []FileHash `json:"file_hashes"`
	Filename   string     `json:"filename"`
}

// FileHash is one (algorithm, value) pair.
type FileHash struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}

// GenericURI is an x_generic_uris item.
type GenericURI struct {
	Namespace string `json:"namespace"`
	URI       string `json:"uri"`
}

// ProductGroup is a product group definition.
type ProductGroup struct {
	GroupID    string   `json:"group_id"`
	ProductIDs []string `json:"product_ids"`
	Summary    string   `json:"summary,omitempty"`
}

// Relationship combines two products into a new one.
type Relationship struct {
	Category                  string          `json:"category"`
	FullProductName           FullProductName `json:"full_product_name"`
	ProductReference          string          `json:"product_reference"`
	RelatesToProductReference string          `json:"relates_to_product_reference"`
}

// Vulnerability is one /vulnerabilities item.
type Vulnerability struct {
	Acknowledgments []Acknowledgment `json:"acknowledgments,omitempty"`
	CVE             string           `json:"cve,omitempty"`
	CWE             *CWE             `json:"cwe,omitempty"`
	DiscoveryDate   string           `json:"discovery_date,omitempty"`
	Flags           []Flag           `json:"flags,omitempty"`
	IDs             []VulnID         `json:"ids,omitempty"`
	Involvements    []Involvement    `json:"involvements,omitempty"`
	Notes           []Note           `json:"notes,omitempty"`
	ProductStatus   *ProductStatus   `json:"product_status,omitempty"`
	References      []Reference      `json:"references,omitempty"`
	ReleaseDate     string           `json:"release_date,omitempty"`
	Remediations    []Remediation    `json:"remediations,omitempty"`
	Scores          []Score          `json:"scores,omitempty"`
	Threats         []Threat         `json:"threats,omitempty"`
	Title           string           `json:"title,omitempty"`
}

// CWE is a weakness reference.
type CWE struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Flag is a VEX justification.
type Flag struct {
	Date       string   `json:"date,omitempty"`
	GroupIDs   []string `json:"group_ids,omitempty"`
	Label      string   `json:"label"`
	ProductIDs []string `json:"product_ids,omitempty"`
}

// VulnID is a non-CVE id.
type VulnID struct {
	SystemName string `json:"system_name"`
	Text       string `json:"text"`
}

// Involvement records a party's involvement.
type Involvement struct {
	Date    string `json:"date,omitempty"`
	Party   string `json:"party"`
	Status  string `json:"status"`
	Summary string `json:"summary,omitempty"`
}

// ProductStatus holds the product ids per status.
type ProductStatus struct {
	FirstAffected      []string `json:"first_affected,omitempty"`
	FirstFixed         []string `json:"first_fixed,omitempty"`
	Fixed              []string `json:"fixed,omitempty"`
	KnownAffected      []string `json:"known_affected,omitempty"`
	KnownNotAffected   []string `json:"known_not_affected,omitempty"`
	LastAffected       []string `json:"last_affected,omitempty"`
	Recommended        []string `json:"recommended,omitempty"`
	UnderInvestigation []string `json:"under_investigation,omitempty"`
}

// statusList is one status category with its JSON name and ids.
type statusList struct {
	name string
	ids  []string
}

// lists returns the status categories in schema order.
func (ps *ProductStatus) lists() []statusList {
	if ps == nil {
		return nil
	}
	return []statusList{
		{"first_affected", ps.FirstAffected},
		{"first_fixed", ps.FirstFixed},
		{"fixed", ps.Fixed},
		{"known_affected", ps.KnownAffected},
		{"known_not_affected", ps.KnownNotAffected},
		{"last_affected", ps.LastAffected},
		{"recommended", ps.Recommended},
		{"under_investigation", ps.UnderInvestigation},
	}
}

// Remediation is advice for some products.
type Remediation struct {
	Category        string           `json:"category"`
	Date            string           `json:"date,omitempty"`
	Details         string           `json:"details"`
	Entitlements    []string         `json:"entitlements,omitempty"`
	GroupIDs        []string         `json:"group_ids,omitempty"`
	ProductIDs      []string         `json:"product_ids,omitempty"`
	RestartRequired *RestartRequired `json:"restart_required,omitempty"`
	URL             string           `json:"url,omitempty"`
}

// RestartRequired says what restart a remediation needs.
type RestartRequired struct {
	Category string `json:"category"`
	Details  string `json:"details,omitempty"`
}

// Score is a set of CVSS objects for some products. CVSS objects are kept
// as generic JSON objects (numbers as json.Number) so that the mandatory
// tests 6.1.8–6.1.10 see exactly what was published.
type Score struct {
	CVSSv2   map[string]any `json:"cvss_v2,omitempty"`
	CVSSv3   map[string]any `json:"cvss_v3,omitempty"`
	Products []string       `json:"products"`
}

// Threat is an exploit status, impact or target set statement.
type Threat struct {
	Category   string   `json:"category"`
	Date       string   `json:"date,omitempty"`
	Details    string   `json:"details"`
	GroupIDs   []string `json:"group_ids,omitempty"`
	ProductIDs []string `json:"product_ids,omitempty"`
}
