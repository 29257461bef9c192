package risk

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func registerFixture() []Assessed {
	return []Assessed{
		{AssetID: "V1", Site: "Main", Department: "ICU", DeviceType: "Ventilator", Vendor: "Hamilton", Score: 84.5, Band: BandCritical, Findings: 2, KEV: true},
		{AssetID: "V2", Site: "Main", Department: "ICU", DeviceType: "Ventilator", Vendor: "Hamilton", Score: 60.2, Band: BandHigh, Findings: 1},
		{AssetID: "P1", Site: "Main", Department: "ICU", DeviceType: "Infusion Pump", Vendor: "BD", Score: 0, Band: BandInfo},
		{AssetID: "C1", Site: "North", Department: "Radiology", DeviceType: "CT Scanner", Vendor: "Siemens Healthineers", Score: 44.8, Band: BandMedium, Findings: 3},
		{AssetID: "B1", Site: "North", Department: "", DeviceType: "Badge Reader", Vendor: "HID", Score: 44.8, Band: BandMedium, Findings: 1},
	}
}

func TestBuildRegister(t *testing.T) {
	t.Parallel()
	got := BuildRegister(registerFixture())
	want := Register{
		Total: Group{Key: "all", Devices: 5, Affected: 4, Findings: 7, Bands: BandCounts{Critical: 1, High: 1, Medium: 2},
			MaxScore: 84.5, MeanScore: 58.6, KEVDevices: 1},
		BySite: []Group{
			{Key: "Main", Devices: 3, Affected: 2, Findings: 3, Bands: BandCounts{Critical: 1, High: 1}, MaxScore: 84.5, MeanScore: 72.4, KEVDevices: 1},
			{Key: "North", Devices: 2, Affected: 2, Findings: 4, Bands: BandCounts{Medium: 2}, MaxScore: 44.8, MeanScore: 44.8},
		},
		ByDepartment: []Group{
			{Key: "ICU", Devices: 3, Affected: 2, Findings: 3, Bands: BandCounts{Critical: 1, High: 1}, MaxScore: 84.5, MeanScore: 72.4, KEVDevices: 1},
			{Key: "(unknown)", Devices: 1, Affected: 1, Findings: 1, Bands: BandCounts{Medium: 1}, MaxScore: 44.8, MeanScore: 44.8},
			{Key: "Radiology", Devices: 1, Affected: 1, Findings: 3, Bands: BandCounts{Medium: 1}, MaxScore: 44.8, MeanScore: 44.8},
		},
		ByDeviceType: []Group{
			{Key: "Ventilator", Devices: 2, Affected: 2, Findings: 3, Bands: BandCounts{Critical: 1, High: 1}, MaxScore: 84.5, MeanScore: 72.4, KEVDevices: 1},
			{Key: "Badge Reader", Devices: 1, Affected: 1, Findings: 1, Bands: BandCounts{Medium: 1}, MaxScore: 44.8, MeanScore: 44.8},
			{Key: "CT Scanner", Devices: 1, Affected: 1, Findings: 3, Bands: BandCounts{Medium: 1}, MaxScore: 44.8, MeanScore: 44.8},
			{Key: "Infusion Pump", Devices: 1},
		},
		ByVendor: []Group{
			{Key: "Hamilton", Devices: 2, Affected: 2, Findings: 3, Bands: BandCounts{Critical: 1, High: 1}, MaxScore: 84.5, MeanScore: 72.4, KEVDevices: 1},
			{Key: "HID", Devices: 1, Affected: 1, Findings: 1, Bands: BandCounts{Medium: 1}, MaxScore: 44.8, MeanScore: 44.8},
			{Key: "Siemens Healthineers", Devices: 1, Affected: 1, Findings: 3, Bands: BandCounts{Medium: 1}, MaxScore: 44.8, MeanScore: 44.8},
			{Key: "BD", Devices: 1},
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Group{})); diff != "" {
		t.Errorf("BuildRegister (-want +got):\n%s", diff)
	}
}

func TestSnapshotDeterministic(t *testing.T) {
	t.Parallel()
	items := registerFixture()
	day := time.Date(2026, 6, 1, 23, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	a := TakeSnapshot(day, items)
	rev := slices.Clone(items)
	slices.Reverse(rev)
	b := TakeSnapshot(day, rev)
	if diff := cmp.Diff(a, b, cmpopts.IgnoreUnexported(Group{})); diff != "" {
		t.Errorf("snapshot depends on device order (-a +b):\n%s", diff)
	}
	if a.Date != "2026-06-01" {
		t.Errorf("Date = %q, want the UTC day 2026-06-01", a.Date)
	}
}
