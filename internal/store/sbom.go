package store

import (
	"context"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
)

// SBOMStore keeps software bills of materials: documents (deduplicated by
// SHA-256, original bytes kept compressed), their versions attached to a
// device model + firmware version or to one device, the components of each
// document, and the vulnerabilities found in those components with their
// VEX state.
type SBOMStore interface {
	// AttachSBOM stores in.Document (unless a document with the same SHA-256
	// is stored already) and attaches it to in.Subject as the subject's next
	// version. When the subject's latest version already is this document,
	// nothing is written and the existing version is returned with
	// existing=true.
	AttachSBOM(ctx context.Context, in *SBOMAttach) (v *SBOMVersion, existing bool, err error)
	// GetSBOM returns one attached version.
	GetSBOM(ctx context.Context, id int64) (*SBOMVersion, error)
	// ListSBOMs returns attached versions, newest first.
	ListSBOMs(ctx context.Context, q SBOMQuery) (*SBOMPage, error)
	// SBOMRaw returns the original bytes of the version's document.
	SBOMRaw(ctx context.Context, id int64) ([]byte, error)
	// SBOMComponents returns the components of the version's document in
	// document order, each with its vulnerabilities.
	SBOMComponents(ctx context.Context, id int64) ([]SBOMComponent, error)
	// ReplaceSBOMVulns replaces the vulnerabilities of a document (a re-match
	// against newer feeds).
	ReplaceSBOMVulns(ctx context.Context, documentID int64, vulns []SBOMVuln) error
	// SBOMsForDevice returns the latest version of every SBOM that covers d:
	// the one attached to d itself and the one attached to d's vendor, model
	// and firmware version (compared case-insensitively).
	SBOMsForDevice(ctx context.Context, d *inventory.Device) ([]SBOMVersion, error)
	// ListComponents searches components across every stored document.
	ListComponents(ctx context.Context, q ComponentQuery) (*ComponentPage, error)
	// ScanOSV streams every stored OSV record (id, exact JSON) in id order.
	ScanOSV(ctx context.Context, fn func(id string, raw []byte) error) error
	// SBOMMark changes whenever an SBOM is attached or re-matched (the
	// number of versions and the newest attach and match times): the
	// findings service polls it to pick up changes made by any process.
	SBOMMark(ctx context.Context) (string, error)
}

// FeedOSV is the kind (and name) of the OSV records feed.
const FeedOSV = "osv"

// OSVFeedTx is implemented by every driver's FeedTx: OSV records are
// written inside a feed import (ImportFeeds), all or nothing with the
// feed's status.
type OSVFeedTx interface {
	// PutOSV inserts or replaces one OSV record.
	PutOSV(ctx context.Context, id, ecosystem string, modified time.Time, raw []byte) error
}

// SBOMSubject is what an SBOM is attached to: one device (DeviceID set), or
// every device of a vendor, model and firmware version.
type SBOMSubject struct {
	DeviceID        int64  `json:"device_id,omitempty"`
	AssetID         string `json:"asset_id,omitempty"` // of DeviceID, read back
	Vendor          string `json:"vendor,omitempty"`
	Model           string `json:"model,omitempty"`
	FirmwareVersion string `json:"firmware_version,omitempty"`
}

// SBOMAttach is one upload.
type SBOMAttach struct {
	Subject SBOMSubject
	// Raw is the document as uploaded; SHA256 its hex digest.
	Raw    []byte
	SHA256 string
	// RawGzip, when set, is Raw gzip-compressed (what the store keeps); the
	// store compresses Raw itself when it is nil. sboms.Analyze fills it
	// while the document is parsed, on the core the parse leaves idle.
	RawGzip []byte
	// Summary of the parsed document.
	Format, SpecVersion, Serial, Name string
	Valid                             bool
	Problems                          int
	Quality                           int
	Components                        []SBOMComponent
	// Vulns are the component vulnerabilities found at upload time (Index
	// names the component).
	Vulns      []SBOMVuln
	AttachedBy string
	Note       string
}

// SBOMVersion is one version of the SBOM of a subject.
type SBOMVersion struct {
	ID      int64       `json:"id"`
	Subject SBOMSubject `json:"subject"`
	// Version counts the subject's SBOM versions from 1.
	Version     int       `json:"version"`
	DocumentID  int64     `json:"document_id"`
	SHA256      string    `json:"sha256"`
	Format      string    `json:"format"`
	SpecVersion string    `json:"spec_version"`
	Serial      string    `json:"serial,omitempty"`
	Name        string    `json:"name,omitempty"`
	Size        int64     `json:"size"`
	Valid       bool      `json:"valid"`
	Problems    int       `json:"problems"`
	Quality     int       `json:"quality"`
	Components  int       `json:"components"`
	OpenVulns   int       `json:"open_vulnerabilities"`
	Suppressed  int       `json:"suppressed_vulnerabilities"`
	NeedsReview int       `json:"needs_review"`
	AttachedAt  time.Time `json:"attached_at"`
	AttachedBy  string    `json:"attached_by"`
	Note        string    `json:"note,omitempty"`
	MatchedAt   time.Time `json:"matched_at,omitzero"`
}

// SBOMComponent is one component of a stored document.
type SBOMComponent struct {
	Index    int        `json:"index"`
	Ref      string     `json:"ref,omitempty"`
	Type     string     `json:"type,omitempty"`
	Name     string     `json:"name"`
	Group    string     `json:"group,omitempty"`
	Version  string     `json:"version,omitempty"`
	PURL     string     `json:"purl,omitempty"`
	CPE      string     `json:"cpe,omitempty"`
	Supplier string     `json:"supplier,omitempty"`
	Hashes   []SBOMHash `json:"hashes,omitempty"`
	Vulns    []SBOMVuln `json:"vulnerabilities,omitempty"`
}

// SBOMHash is a digest of a component.
type SBOMHash struct {
	Algorithm string `json:"alg"`
	Value     string `json:"value"`
}

// SBOMVuln is one vulnerability of one component.
type SBOMVuln struct {
	Index int    `json:"-"` // component index in its document
	ID    string `json:"id"`
	// Source is where the match came from: osv, nvd, sbom (the document's
	// own statements).
	Source string `json:"source"`
	// Method is how the component was matched: purl, cpe, name (a name
	// alias mapped to a CPE), or statement.
	Method  string   `json:"method"`
	Aliases []string `json:"aliases,omitempty"`
	// Status: affected, unknown, not_affected, fixed, under_investigation.
	Status        string `json:"status"`
	Suppressed    bool   `json:"suppressed"`
	Justification string `json:"justification,omitempty"`
	Detail        string `json:"detail,omitempty"`
	// Confidence: high (exact PURL/CPE), medium (name alias with version),
	// low; NeedsReview is set for low confidence and unknown status.
	Confidence  string `json:"confidence"`
	NeedsReview bool   `json:"needs_review"`
	// CVSS is the highest base score of the vulnerability's NVD record (or,
	// without one, its OSV severity) at match time, with its vector and
	// version (0 / "": none published); Summary is the record's summary or
	// description (first line). The findings' risk score uses them.
	CVSS        float64 `json:"cvss,omitempty"`
	CVSSVector  string  `json:"cvss_vector,omitempty"`
	CVSSVersion string  `json:"cvss_version,omitempty"`
	Summary     string  `json:"summary,omitempty"`
	// Fixed is the version that fixes the component, from the record the
	// match came from (OSV: the smallest fixed event above the installed
	// version in the ranges affecting it; NVD: the smallest
	// versionEndExcluding of the entries that matched). NoFix: the OSV
	// record publishes no fix for that version. Neither: not determined
	// (NVD without an excluding end, the SBOM's own statements, matches
	// stored before migration 0016 until re-matched).
	Fixed string `json:"fixed,omitempty"`
	NoFix bool   `json:"no_fix,omitempty"`
}

// SBOMQuery selects attached versions.
type SBOMQuery struct {
	DeviceID int64
	Vendor   string // case-insensitive
	Model    string
	// FirmwareVersion is exact.
	FirmwareVersion string
	// Latest keeps only the newest version of each subject.
	Latest bool
	Limit  int    // default 50, at most 1000
	Cursor string // from SBOMPage.Next
}

// SBOMPage is a page of versions.
type SBOMPage struct {
	SBOMs []SBOMVersion `json:"sboms"`
	Next  string        `json:"next,omitempty"`
}

// ComponentQuery searches components. Name and PURL prefix are
// case-insensitive; Vuln selects components with that vulnerability id.
type ComponentQuery struct {
	Name       string
	PURLPrefix string
	Vuln       string
	// Vulnerable keeps components with at least one open (not suppressed)
	// vulnerability.
	Vulnerable bool
	Limit      int
	Cursor     string
}

// ComponentHit is a component and the SBOM versions that list it.
type ComponentHit struct {
	DocumentID int64         `json:"document_id"`
	SBOMIDs    []int64       `json:"sbom_ids"`
	Component  SBOMComponent `json:"component"`
}

// ComponentPage is a page of components.
type ComponentPage struct {
	Components []ComponentHit `json:"components"`
	Next       string         `json:"next,omitempty"`
}
