// Package risk computes explainable clinical risk for vulnerability findings
// on medical devices, per finding and per device.
//
// A finding's score (0–100) is the sum of six factor contributions:
//
//	severity               0..35  environment-adjusted CVSS × 3.5
//	exploitation           0..25  max(KEV, exploit maturity, EPSS)      ┐
//	exposure               0..15  zone + observed inbound peers         │ scaled by
//	clinical_impact        0..20  criticality, patient link, PHI, fleet │ s = 0.25 + 0.75 × cvss/10
//	support_status         0..5   no fix possible, end of support       │
//	compensating_controls  ≤ 0    − min(Σ control weights, 70 % of      │
//	                              (exploitation + exposure))            ┘
//	match_confidence       ≤ 0    − 50 % × (1 − confidence) × the above
//
// Every weight is a field of Model (DefaultModel documents them) and
// docs/RISK.md explains why. Contributions are rounded to tenths so that they
// sum exactly to the score. A device's score is its highest finding score
// plus a diminishing sum of the others (see DeviceScore).
//
// The package is pure: no I/O and no clock; the caller passes "now".
package risk

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
)

// Band is a qualitative risk band.
type Band string

// The bands, most urgent first. Cut-offs are in Model.Bands.
const (
	BandCritical Band = "critical"
	BandHigh     Band = "high"
	BandMedium   Band = "medium"
	BandLow      Band = "low"
	BandInfo     Band = "info"
)

// Bands lists the bands, most urgent first.
var Bands = []Band{BandCritical, BandHigh, BandMedium, BandLow, BandInfo}

// Rank orders bands: 5 for critical down to 1 for info, 0 when unknown.
func (b Band) Rank() int {
	i := slices.Index(Bands, b)
	if i < 0 {
		return 0
	}
	return len(Bands) - i
}

// Factor names, stable for the JSON contract.
const (
	FactorSeverity      = "severity"
	FactorExploitation  = "exploitation"
	FactorExposure      = "exposure"
	FactorClinical      = "clinical_impact"
	FactorSupport       = "support_status"
	FactorControls      = "compensating_controls"
	FactorConfidence    = "match_confidence"
	FactorOtherFindings = "other_findings"
)

// Factor is one line of an explanation: what was considered, what it was
// worth and how many points it added (negative: removed) to the score.
type Factor struct {
	Name         string  `json:"name"`
	Value        string  `json:"value"`
	Contribution float64 `json:"contribution"`
}

// Exposure is where a device sits on the network.
type Exposure uint8

// Exposure levels, from most to least reachable. ExposureUnknown is scored
// like ExposureIT (a flat hospital network is the common case).
const (
	ExposureUnknown  Exposure = iota
	ExposureInternet          // reachable from the internet (DMZ, public IP, vendor cloud inbound)
	ExposureIT                // reachable from the hospital's IT network (flat network)
	ExposureClinical          // segmented clinical VLAN, reachable from clinical systems only
	ExposureIsolated          // isolated: no routed access (air-gapped, standalone, closed VLAN)
)

var exposureNames = [...]string{"unknown", "internet", "it", "clinical", "isolated"}

func (e Exposure) String() string {
	if int(e) < len(exposureNames) {
		return exposureNames[e]
	}
	return "unknown"
}

// ParseExposure maps an inventory zone name onto an exposure level. It
// recognises words in the name ("DMZ", "internet", "guest", "corporate",
// "IT", "flat", "clinical", "biomed", "medical", "isolated", "air-gap",
// "standalone"…); anything else is ExposureUnknown.
func ParseExposure(zone string) Exposure {
	z := strings.ToLower(strings.TrimSpace(zone))
	if z == "" {
		return ExposureUnknown
	}
	// the words of z (runs of a–z and 0–9), walked without building a
	// slice: this runs for every device of a fleet rescore
	has := func(ws ...string) bool {
		for i := 0; i < len(z); {
			for i < len(z) && !wordByte(z[i]) {
				i++
			}
			j := i
			for j < len(z) && wordByte(z[j]) {
				j++
			}
			if j > i && slices.Contains(ws, z[i:j]) {
				return true
			}
			i = j
		}
		return false
	}
	switch {
	case has("isolated", "airgap", "airgapped", "standalone", "offline", "closed", "enclave") || strings.Contains(z, "air gap") || strings.Contains(z, "air-gap"):
		return ExposureIsolated
	case has("internet", "dmz", "public", "external", "wan", "cloud", "extranet"):
		return ExposureInternet
	case has("clinical", "biomed", "medical", "med", "iomt", "modality", "modalities", "pacs", "icu", "clinic"):
		return ExposureClinical
	case has("it", "corporate", "corp", "office", "flat", "guest", "enterprise", "user", "users", "lan", "wifi", "wlan", "campus", "default"):
		return ExposureIT
	}
	return ExposureUnknown
}

// wordByte reports whether b is part of a zone word: a–z or 0–9 (z is
// lower-cased; other bytes, multi-byte runes included, separate words as
// in strings.FieldsFunc).
func wordByte(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

// ExposureFromText is the inverse of Exposure.String, for config files.
func ExposureFromText(s string) (Exposure, error) {
	for i, n := range exposureNames {
		if n == s {
			return Exposure(i), nil
		}
	}
	return ExposureUnknown, fmt.Errorf("unknown exposure %q (want internet, it, clinical, isolated or unknown)", s)
}

// Device is the context of a device that risk needs.
type Device struct {
	AssetID          string
	Criticality      inventory.Criticality
	PatientConnected *bool // nil: unknown
	PHI              *bool // nil: unknown
	Exposure         Exposure
	// InboundPeers is the number of distinct hosts seen connecting to the
	// device (from the sensor); negative when not observed.
	InboundPeers int
	// Controls are compensating control ids (see Controls).
	Controls []string
	// EndOfSupport and EndOfLife are zero when unknown.
	EndOfSupport time.Time
	EndOfLife    time.Time
	// CareAreaFleet is how many devices of the same type the device's care
	// area (site + department) has, itself included; 0 when unknown.
	CareAreaFleet int
}

// Finding is one vulnerability finding (device × advisory) as risk sees it.
type Finding struct {
	AdvisoryID string
	CVEs       []string
	// Vectors are the CVSS vectors published for the matched product (any
	// version); the one with the highest environment-adjusted score counts.
	Vectors []string
	// BaseScore is a published base score used when no vector parses (0: none).
	BaseScore float64
	KEV       bool
	// KEVDateAdded and KEVDueDate are zero when unknown.
	KEVDateAdded time.Time
	KEVDueDate   time.Time
	// KEVCVE is the CVE that is in KEV (the earliest added when several).
	KEVCVE string
	// Ransomware is KEV's knownRansomwareCampaignUse = Known.
	Ransomware bool
	// EPSS is the probability in [0,1] and EPSSPercentile its percentile;
	// negative EPSS means unknown.
	EPSS           float64
	EPSSPercentile float64
	// Remediations are the remediation categories available for the product
	// (advisory.Remediation* constants: vendor_fix, mitigation, workaround,
	// none_available, no_fix_planned).
	Remediations []string
	// Confidence is the match confidence in (0,1]; 0 means certain (1).
	Confidence float64
	// Status is the match status (known_affected, needs_review…).
	Status string
	// Detected is when the finding was first seen (zero: unknown).
	Detected time.Time
}

// FindingRisk is the scored finding.
type FindingRisk struct {
	AdvisoryID string   `json:"advisory_id"`
	Score      float64  `json:"score"`
	Band       Band     `json:"band"`
	Factors    []Factor `json:"factors"`
	// CVSS is the environment-adjusted score used and Vector the adjusted
	// vector ("" when no vector was usable).
	CVSS   float64 `json:"cvss"`
	Vector string  `json:"vector,omitempty"`
}

// DeviceRisk is the aggregate risk of one device.
type DeviceRisk struct {
	AssetID  string        `json:"asset_id"`
	Score    float64       `json:"score"`
	Band     Band          `json:"band"`
	Factors  []Factor      `json:"factors"`
	Findings []FindingRisk `json:"findings"`
}

// ErrInvalidModel is wrapped by Model.Validate errors.
var ErrInvalidModel = errors.New("invalid risk model")

// Model holds every weight of the risk model. DefaultModel returns the
// documented defaults.
type Model struct {
	// SeverityWeight: points per CVSS point (35 = 3.5 × 10).
	SeverityWeight float64
	// UnknownCVSS is assumed when a finding has no usable CVSS.
	UnknownCVSS float64
	// ScaleFloor: context factors are multiplied by
	// ScaleFloor + (1−ScaleFloor) × cvss/10.
	ScaleFloor float64

	KEVPoints        float64
	MaturityHigh     float64 // v3 E:H, v4 E:A, v2 E:H
	MaturityFunc     float64 // v3 E:F, v2 E:F
	MaturityPoC      float64 // v3/v4 E:P, v2 E:POC
	EPSSThresholds   []float64
	EPSSPoints       []float64 // parallel to EPSSThresholds (probability ≥ threshold)
	ExploitationMax  float64
	ExposurePoints   [5]float64 // indexed by Exposure
	PeerThresholds   []int
	PeerPoints       []float64
	CriticalityPts   map[inventory.Criticality]float64
	PatientConnected float64
	PHI              float64
	FleetThresholds  []int
	FleetPoints      []float64
	NoFixPoints      float64
	EndOfSupportPts  float64
	// ControlCap is the largest share of exploitation+exposure points that
	// compensating controls can remove.
	ControlCap float64
	// ControlWeights maps control ids to the points they remove.
	ControlWeights map[string]float64
	// ConfidencePenalty is the share of the score removed at confidence 0.
	ConfidencePenalty float64
	// OtherFindingsWeight is the share of the remaining headroom each
	// further finding takes, per point of its score (see DeviceScore).
	OtherFindingsWeight float64
	// Bands are the lower cut-offs of critical, high, medium and low.
	Bands [4]float64
}

// The compensating control ids known to the default model.
const (
	ControlSegmented         = "segmented"          // ACL-enforced segment, only required flows allowed
	ControlNoExternalAccess  = "no_external_access" // no internet or remote-vendor path in or out
	ControlAllowListing      = "allow_listing"      // application allow-listing on the device
	ControlDisabledServices  = "disabled_services"  // the vulnerable service or port is disabled
	ControlVirtualPatch      = "virtual_patch"      // IPS signature blocking the exploit in front of the device
	ControlStrongAuth        = "strong_authentication"
	ControlMonitored         = "monitored" // traffic monitored with alerting (IDS, MedWarden sensor)
	ControlPhysicalIsolation = "physical_access_only"
)

// DefaultModel returns the documented default weights (docs/RISK.md).
func DefaultModel() Model {
	return Model{
		SeverityWeight:      3.5,
		UnknownCVSS:         7.0,
		ScaleFloor:          0.25,
		KEVPoints:           25,
		MaturityHigh:        20,
		MaturityFunc:        15,
		MaturityPoC:         8,
		EPSSThresholds:      []float64{0.5, 0.1, 0.01, 0.001},
		EPSSPoints:          []float64{20, 14, 6, 2},
		ExploitationMax:     25,
		ExposurePoints:      [5]float64{ExposureUnknown: 9, ExposureInternet: 12, ExposureIT: 9, ExposureClinical: 5, ExposureIsolated: 1},
		PeerThresholds:      []int{20, 5, 1},
		PeerPoints:          []float64{3, 2, 1},
		CriticalityPts:      map[inventory.Criticality]float64{inventory.LifeSustaining: 12, inventory.LifeSupporting: 10, inventory.Therapeutic: 8, inventory.Diagnostic: 5, inventory.NonClinical: 1, inventory.CriticalityNone: 6},
		PatientConnected:    3,
		PHI:                 2,
		FleetThresholds:     []int{20, 5, 2},
		FleetPoints:         []float64{3, 2, 1},
		NoFixPoints:         3,
		EndOfSupportPts:     2,
		ControlCap:          0.7,
		ControlWeights:      DefaultControlWeights(),
		ConfidencePenalty:   0.5,
		OtherFindingsWeight: 0.1,
		Bands:               [4]float64{75, 55, 35, 15},
	}
}

// DefaultControlWeights returns the default points removed per control.
func DefaultControlWeights() map[string]float64 {
	return map[string]float64{
		ControlSegmented:         6,
		ControlNoExternalAccess:  4,
		ControlAllowListing:      5,
		ControlDisabledServices:  8,
		ControlVirtualPatch:      5,
		ControlStrongAuth:        3,
		ControlMonitored:         2,
		ControlPhysicalIsolation: 6,
	}
}

// Validate checks that the model keeps scores in [0,100] and monotone.
func (m *Model) Validate() error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidModel, field, fmt.Sprintf(format, a...))
	}
	if m.SeverityWeight < 0 || m.UnknownCVSS < 0 || m.UnknownCVSS > 10 {
		return bad("severity", "weight must be ≥ 0 and unknown CVSS in [0,10]")
	}
	if m.ScaleFloor < 0 || m.ScaleFloor > 1 {
		return bad("scale_floor", "%v is not in [0,1]", m.ScaleFloor)
	}
	if len(m.EPSSThresholds) != len(m.EPSSPoints) || len(m.PeerThresholds) != len(m.PeerPoints) || len(m.FleetThresholds) != len(m.FleetPoints) {
		return bad("thresholds", "threshold and point lists differ in length")
	}
	if m.ControlCap < 0 || m.ControlCap > 1 {
		return bad("control_cap", "%v is not in [0,1]", m.ControlCap)
	}
	if m.ConfidencePenalty < 0 || m.ConfidencePenalty > 1 {
		return bad("confidence_penalty", "%v is not in [0,1]", m.ConfidencePenalty)
	}
	if m.OtherFindingsWeight < 0 || m.OtherFindingsWeight > 1 {
		return bad("other_findings_weight", "%v is not in [0,1]", m.OtherFindingsWeight)
	}
	for id, w := range m.ControlWeights {
		if w < 0 || math.IsNaN(w) {
			return bad("control_weights/"+id, "weight %v must be ≥ 0", w)
		}
	}
	if !(m.Bands[0] > m.Bands[1] && m.Bands[1] > m.Bands[2] && m.Bands[2] > m.Bands[3] && m.Bands[3] > 0) {
		return bad("bands", "cut-offs %v must be strictly decreasing and positive", m.Bands)
	}
	maxPts := m.SeverityWeight*10 + m.ExploitationMax + maxOf(m.ExposurePoints[:]) + maxOf(m.PeerPoints) +
		maxOf(mapValues(m.CriticalityPts)) + m.PatientConnected + m.PHI + maxOf(m.FleetPoints) + m.NoFixPoints + m.EndOfSupportPts
	if maxPts > 100+1e-9 {
		return bad("weights", "maximum total %.1f exceeds 100", maxPts)
	}
	return nil
}

func maxOf(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		if x < 0 {
			return math.Inf(1) // negative points are not allowed; make Validate fail
		}
		m = max(m, x)
	}
	return m
}

func mapValues[K comparable](m map[K]float64) []float64 {
	out := make([]float64, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// BandOf returns the band of a score.
func (m *Model) BandOf(score float64) Band {
	switch {
	case score >= m.Bands[0]:
		return BandCritical
	case score >= m.Bands[1]:
		return BandHigh
	case score >= m.Bands[2]:
		return BandMedium
	case score >= m.Bands[3]:
		return BandLow
	}
	return BandInfo
}

// tenths rounds x to an integer number of tenths.
func tenths(x float64) int64 { return int64(math.Floor(x*10 + 0.5)) }

// settle rounds the contributions to tenths so that they sum to the total
// rounded to tenths: the rounding residue goes to the contribution of
// largest magnitude. It returns the score.
func settle(fs []Factor, total float64) float64 {
	want := tenths(total)
	var sum int64
	big := -1
	var buf [8]int64
	ts := buf[:0]
	if len(fs) > len(buf) {
		ts = make([]int64, 0, len(fs))
	}
	ts = ts[:len(fs)]
	for i := range fs {
		ts[i] = tenths(fs[i].Contribution)
		sum += ts[i]
		if big < 0 || math.Abs(fs[i].Contribution) > math.Abs(fs[big].Contribution) {
			big = i
		}
	}
	if big >= 0 {
		ts[big] += want - sum
	}
	for i := range fs {
		fs[i].Contribution = float64(ts[i]) / 10
	}
	return float64(want) / 10
}
