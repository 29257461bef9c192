package risk

import (
	"fmt"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
)

func ptr[T any](v T) *T { return &v }

// docNow is the reference date of the worked examples in docs/RISK.md.
var docNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

type docExample struct {
	name    string
	title   string
	device  Device
	finding Finding
}

func docExamples() []docExample {
	return []docExample{
		{
			name:  "ventilator",
			title: "Ventilator with a KEV CVE on a flat network",
			device: Device{
				AssetID: "ICU-VENT-07", Criticality: inventory.LifeSustaining,
				PatientConnected: ptr(true), PHI: ptr(false), Exposure: ParseExposure("flat"),
				InboundPeers: -1, EndOfSupport: time.Date(2030, 12, 31, 0, 0, 0, 0, time.UTC), CareAreaFleet: 12,
			},
			finding: Finding{
				AdvisoryID: "ICSMA-EXAMPLE-01", CVEs: []string{"CVE-2023-0001"},
				Vectors: []string{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
				KEV:     true, KEVCVE: "CVE-2023-0001", KEVDateAdded: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
				KEVDueDate: time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC),
				EPSS:       0.9421, EPSSPercentile: 0.999,
				Remediations: []string{"vendor_fix", "mitigation"}, Confidence: 1, Status: "known_affected",
			},
		},
		{
			name:  "badge-reader",
			title: "Badge reader with CVSS 9.8",
			device: Device{
				AssetID: "FAC-BADGE-112", Criticality: inventory.NonClinical,
				PatientConnected: ptr(false), PHI: ptr(false), Exposure: ParseExposure("Corporate LAN"),
				InboundPeers: -1, CareAreaFleet: 1,
			},
			finding: Finding{
				AdvisoryID: "ICSA-EXAMPLE-02", CVEs: []string{"CVE-2024-0002"},
				Vectors: []string{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
				EPSS:    0.0021, EPSSPercentile: 0.59,
				Remediations: []string{"vendor_fix"}, Confidence: 1, Status: "known_affected",
			},
		},
		{
			name:  "ct-unsupported",
			title: "Fully patched CT scanner past end of support",
			device: Device{
				AssetID: "RAD-CT-02", Criticality: inventory.Diagnostic,
				PatientConnected: ptr(false), PHI: ptr(true), Exposure: ParseExposure("Radiology modality VLAN"),
				InboundPeers: 3, Controls: []string{ControlSegmented, ControlMonitored},
				EndOfSupport: time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC), CareAreaFleet: 2,
			},
			finding: Finding{
				AdvisoryID: "ICSMA-EXAMPLE-03", CVEs: []string{"CVE-2025-0003"},
				Vectors: []string{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"},
				EPSS:    0.0043, EPSSPercentile: 0.71,
				Remediations: []string{"none_available", "mitigation"}, Confidence: 1, Status: "known_affected",
			},
		},
	}
}

// renderExample is the text docs/RISK.md carries for one worked example.
func renderExample(r FindingRisk) string {
	var b strings.Builder
	b.WriteString("| factor | value | points |\n|---|---|---:|\n")
	for _, f := range r.Factors {
		fmt.Fprintf(&b, "| %s | %s | %.1f |\n", f.Name, f.Value, f.Contribution)
	}
	fmt.Fprintf(&b, "| **score** | **%s** | **%.1f** |\n", r.Band, r.Score)
	return b.String()
}
