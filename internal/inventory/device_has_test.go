package inventory

import (
	"testing"
	"time"
)

// Has must agree with Get(f) != "" for every field, including the edge
// cases of the list and pointer fields.
func TestHasAgreesWithGet(t *testing.T) {
	yes, no := true, false
	date := Date{Time: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)}
	devices := []*Device{
		{},
		{AssetID: "A-1", Vendor: "Baxter", Model: "Sigma Spectrum", Version: "8.00.01", Serial: "S1",
			MACs: []string{"00:11:22:33:44:55"}, IPs: []string{"10.0.0.1", "10.0.0.2"}, Hostname: "h",
			Site: "NBR", Location: "B1/2/ICU", Department: "ICU", DeviceType: "infusion-pump",
			Criticality: "life-sustaining", PatientConnected: &yes, PHI: &no, OS: "VxWorks",
			EndOfSupport: &date, EndOfLife: &date, UDIDI: "0123", Zone: "vlan-20"},
		{MACs: []string{""}, IPs: []string{}},
		{MACs: []string{"", ""}, IPs: []string{""}},
		{PatientConnected: &no, PHI: &yes},
	}
	for i, d := range devices {
		for _, f := range Fields {
			if got, want := d.Has(f), d.Get(f) != ""; got != want {
				t.Errorf("device %d field %s: Has = %v, Get = %q", i, f, got, d.Get(f))
			}
		}
	}
}

// Date.String formats by hand; it must equal Format(DateLayout).
func TestDateStringMatchesFormat(t *testing.T) {
	loc := time.FixedZone("UTC+14", 14*3600)
	for _, tm := range []time.Time{
		time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 9, 23, 59, 59, 0, time.UTC),
		time.Date(9, 2, 3, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 15, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 28, 23, 0, 0, 0, loc),
		{},
	} {
		d := Date{tm}
		if got, want := d.String(), tm.Format(DateLayout); got != want {
			t.Errorf("%v: String %q, Format %q", tm, got, want)
		}
	}
}
