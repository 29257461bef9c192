package risk

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/inventory"
)

func TestParseExposure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		zone string
		want Exposure
	}{
		{"", ExposureUnknown},
		{"VLAN 20", ExposureUnknown},
		{"DMZ", ExposureInternet},
		{"vendor-cloud", ExposureInternet},
		{"Corporate LAN", ExposureIT},
		{"flat", ExposureIT},
		{"Guest WiFi", ExposureIT},
		{"Biomed VLAN 20", ExposureClinical},
		{"clinical", ExposureClinical},
		{"Radiology modality VLAN", ExposureClinical},
		{"isolated", ExposureIsolated},
		{"Air-gapped lab", ExposureIsolated},
		{"air gap", ExposureIsolated},
		{"Standalone", ExposureIsolated},
		{"Clinical (isolated)", ExposureIsolated},
		{"Airport", ExposureUnknown},
	}
	for _, tt := range tests {
		if got := ParseExposure(tt.zone); got != tt.want {
			t.Errorf("ParseExposure(%q) = %s, want %s", tt.zone, got, tt.want)
		}
	}
}

func TestAdjustVector(t *testing.T) {
	t.Parallel()
	life := profile{cr: reqL, ir: reqH, ar: reqH}
	tests := []struct {
		name       string
		vec        string
		p          profile
		wantVector string
		wantScore  float64
		wantOK     bool
	}{
		{"v31_no_context", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", profile{},
			"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, true},
		{"v31_isolated_lowers_av", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", profile{adjacent: true},
			"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/MAV:A", 8.8, true},
		{"v31_isolated_local_unchanged", "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", profile{adjacent: true},
			"CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.4, true},
		{"v31_availability_only_life_sustaining", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", life,
			"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H/CR:L/IR:H/AR:H", 9.3, true},
		{"v31_confidentiality_only_no_phi", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", profile{cr: reqL},
			"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/CR:L", 5.7, true},
		{"v31_publisher_env_kept", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/CR:H", profile{cr: reqL},
			"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/CR:H", 9.3, true},
		{"v31_x_values_replaced", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/CR:X/MAV:X", profile{cr: reqH},
			"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/CR:H", 9.3, true},
		{"v2_requirements", "AV:N/AC:L/Au:N/C:P/I:P/A:P", profile{cr: reqH, ir: reqH, ar: reqH, adjacent: true},
			"AV:N/AC:L/Au:N/C:P/I:P/A:P/CR:H/IR:H/AR:H", 8.8, true},
		{"v40_isolated", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", profile{adjacent: true},
			"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/MAV:A", 8.7, true},
		{"invalid", "CVSS:3.1/AV:N", profile{}, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := adjustVector(tt.vec, tt.p)
			if got.ok != tt.wantOK || got.vector != tt.wantVector || got.score != tt.wantScore {
				t.Errorf("adjustVector(%q, %+v) = ok %t %q %.1f, want ok %t %q %.1f", tt.vec, tt.p, got.ok, got.vector, got.score, tt.wantOK, tt.wantVector, tt.wantScore)
			}
		})
	}
}

// TestMonotoneAdjust pins the CVSS v3.0 scope-changed quirk: raising the
// integrity requirement lowers the raw environmental score from 10.0 to
// 9.9; the device's severity keeps the higher score.
func TestMonotoneAdjust(t *testing.T) {
	t.Parallel()
	const vec = "CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:L/A:L"
	lower := profile{cr: reqH, ir: reqM, ar: reqM}  // non-clinical, PHI
	higher := profile{cr: reqH, ir: reqH, ar: reqM} // diagnostic, PHI
	if raw := adjustVector(vec, higher).score; raw != 9.9 {
		t.Fatalf("raw score %.1f: the quirk this test pins is gone", raw)
	}
	got := monotoneAdjust(vec, higher, adjustVector)
	if got.score != 10.0 || got.vector != "CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:L/A:L/CR:H/IR:H/AR:L" {
		t.Errorf("monotoneAdjust = %.1f %q, want 10.0 from the nearest lower setting CR:H/IR:H/AR:L", got.score, got.vector)
	}
	if l := monotoneAdjust(vec, lower, adjustVector); l.score > got.score {
		t.Errorf("lower requirements score %.1f above %.1f", l.score, got.score)
	}
}

func TestFindingFactors(t *testing.T) {
	t.Parallel()
	s := newTestScorer(t)
	d := Device{AssetID: "X", Criticality: inventory.Therapeutic, PatientConnected: ptr(true), Exposure: ExposureIT, InboundPeers: -1}
	tests := []struct {
		name string
		f    Finding
		want []Factor
	}{
		{
			name: "no_cvss_assumed_high",
			f:    Finding{AdvisoryID: "A", EPSS: -1},
			want: []Factor{
				{FactorSeverity, "no CVSS published: assumed 7.0", 24.5},
				{FactorExploitation, "not in KEV; EPSS unknown", 0},
				{FactorExposure, "zone it", 7},
				{FactorClinical, "therapeutic, patient-connected", 8.5},
				{FactorSupport, "no remediation published", 0},
				{FactorControls, "none", 0},
				{FactorConfidence, "match confidence 1.00", 0},
			},
		},
		{
			name: "needs_review_halves_at_zero_confidence_share",
			f: Finding{AdvisoryID: "A", EPSS: 0.2, EPSSPercentile: 0.96, BaseScore: 10, Confidence: 0.5, Status: "needs_review",
				Remediations: []string{"no_fix_planned"}},
			want: []Factor{
				{FactorSeverity, "published base score 10.0 (no usable vector, not adjusted)", 35},
				{FactorExploitation, "not in KEV; EPSS 0.2000 (96.00% of CVEs score lower)", 14},
				{FactorExposure, "zone it", 9},
				{FactorClinical, "therapeutic, patient-connected", 11},
				{FactorSupport, "no fix available or planned", 3},
				{FactorControls, "none", 0},
				{FactorConfidence, "match confidence 0.50 (needs_review)", -18},
			},
		},
		{
			name: "v3_exploit_maturity",
			f:    Finding{AdvisoryID: "A", EPSS: -1, Vectors: []string{"bogus", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H/E:F"}, Remediations: []string{"vendor_fix"}},
			want: []Factor{
				{FactorSeverity, "CVSS 3.1 7.5 adjusted for the device to 9.1 (CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H/E:F/IR:H/AR:H)", 31.8},
				{FactorExploitation, "not in KEV; exploit maturity E:F; EPSS unknown", 14},
				{FactorExposure, "zone it", 8.4},
				{FactorClinical, "therapeutic, patient-connected", 10.3},
				{FactorSupport, "vendor fix available", 0},
				{FactorControls, "none", 0},
				{FactorConfidence, "match confidence 1.00", 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Finding(&d, &tt.f)
			if diff := cmp.Diff(tt.want, got.Factors); diff != "" {
				t.Errorf("Finding factors (-want +got):\n%s", diff)
			}
			if Sum(got.Factors) != got.Score {
				t.Errorf("factors sum to %v, score %v", Sum(got.Factors), got.Score)
			}
		})
	}
}

func TestControlCap(t *testing.T) {
	t.Parallel()
	s := newTestScorer(t)
	d := Device{Criticality: inventory.LifeSustaining, Exposure: ExposureIsolated, InboundPeers: -1}
	f := Finding{EPSS: -1, Vectors: []string{"CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}
	base := s.Finding(&d, &f)
	d.Controls = sortedKeys(DefaultControlWeights()) // every control: far more than the cap
	all := s.Finding(&d, &f)
	// isolated (1 point), no exploitation: at most 0.7 point can be removed (× scale)
	if drop := base.Score - all.Score; drop <= 0 || drop > 0.7+1e-9 {
		t.Errorf("controls removed %.1f points, want (0, 0.7]", drop)
	}
}

func TestDeviceAggregation(t *testing.T) {
	t.Parallel()
	s := newTestScorer(t)
	d := Device{AssetID: "D1", Criticality: inventory.Diagnostic, Exposure: ExposureClinical, InboundPeers: -1}
	one := Finding{AdvisoryID: "A1", EPSS: -1, BaseScore: 9.8}
	two := Finding{AdvisoryID: "A2", EPSS: -1, BaseScore: 5.0}
	s1 := s.Finding(&d, &one).Score
	s2 := s.Finding(&d, &two).Score
	dr := s.Device(&d, []Finding{two, one})
	want := s1 + (100-s1)*0.1*s2/100
	if d := dr.Score - want; d < -0.05 || d > 0.05 {
		t.Errorf("device score %v, want %.2f (max %v plus diminishing %v)", dr.Score, want, s1, s2)
	}
	if dr.Findings[0].AdvisoryID != "A1" {
		t.Errorf("findings not sorted by score: %+v", dr.Findings)
	}
	last := dr.Factors[len(dr.Factors)-1]
	if want := (Factor{FactorOtherFindings, fmt.Sprintf("1 more finding(s), next highest %.1f", s2), float64(tenths(dr.Score)-tenths(s1)) / 10}); last != want {
		t.Errorf("last device factor = %+v, want %+v", last, want)
	}
	if empty := s.Device(&d, nil); empty.Score != 0 || empty.Band != BandInfo || len(empty.Factors) != 0 {
		t.Errorf("device without findings = %+v", empty)
	}
}

func TestModelValidate(t *testing.T) {
	t.Parallel()
	m := DefaultModel()
	if err := m.Validate(); err != nil {
		t.Fatalf("default model: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Model)
		field  string
	}{
		{"over_100", func(m *Model) { m.SeverityWeight = 5 }, "weights"},
		{"bands_not_decreasing", func(m *Model) { m.Bands = [4]float64{50, 60, 30, 10} }, "bands"},
		{"negative_control", func(m *Model) { m.ControlWeights = map[string]float64{"x": -1} }, "control_weights/x"},
		{"scale_floor", func(m *Model) { m.ScaleFloor = 2 }, "scale_floor"},
		{"thresholds", func(m *Model) { m.EPSSPoints = m.EPSSPoints[:1] }, "thresholds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := DefaultModel()
			tt.mutate(&m)
			err := m.Validate()
			if !errors.Is(err, ErrInvalidModel) || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Validate() = %v, want ErrInvalidModel naming %q", err, tt.field)
			}
		})
	}
}

func TestBandOf(t *testing.T) {
	t.Parallel()
	m := DefaultModel()
	for score, want := range map[float64]Band{100: BandCritical, 75: BandCritical, 74.9: BandHigh, 55: BandHigh, 54.9: BandMedium,
		35: BandMedium, 34.9: BandLow, 15: BandLow, 14.9: BandInfo, 0: BandInfo} {
		if got := m.BandOf(score); got != want {
			t.Errorf("BandOf(%v) = %s, want %s", score, got, want)
		}
	}
}
