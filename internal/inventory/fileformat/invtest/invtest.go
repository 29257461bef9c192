// Package invtest generates realistic random devices for the round-trip
// property tests and benchmarks of the inventory file formats. It is only
// imported by tests.
package invtest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	gotime "time"

	"github.com/medwarden/medwarden/internal/inventory"
)

var (
	vendors = []string{"Philips", "GE HealthCare", "Siemens Healthineers", "BD", "Baxter", "B. Braun",
		"Medtronic", "Drägerwerk AG & Co. KGaA", "Mindray", "Nihon Kohden", `Hill-Rom, Inc.`, "Fresenius Kabi"}
	models = []string{"IntelliVue MX450", "CARESCAPE B650", "Alaris 8015 PC Unit", "Sigma Spectrum",
		"Puritan Bennett 980", `Space Infusomat "P"`, "SOMATOM go.Up", "BeneVision N17", "Babyleo TN500"}
	types = []string{"Patient Monitor", "Infusion Pump", "Ventilator", "CT Scanner", "Incubator", "Defibrillator"}
	texts = []string{"ICU", "Building A / Floor 3", "Radiology; CT Room 2", "Clinic 2, Room 14",
		"Emergency Department – Trauma Bay", "Säuglingsstation", "Line one\nline two", `say "hi"`, "x|y", "#4410"}
)

func pick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

func maybe(r *rand.Rand, s string) string {
	if r.IntN(4) == 0 {
		return ""
	}
	return s
}

func word(r *rand.Rand) string {
	const chars = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-./"
	n := 3 + r.IntN(12)
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return "S" + string(b)
}

func mac(r *rand.Rand) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256))
}

func ip(r *rand.Rand) string {
	if r.IntN(5) == 0 {
		return fmt.Sprintf("fd00:%x::%x", r.IntN(65536), 1+r.IntN(65535))
	}
	return fmt.Sprintf("10.%d.%d.%d", r.IntN(256), r.IntN(256), 1+r.IntN(254))
}

func boolp(r *rand.Rand) *bool {
	switch r.IntN(3) {
	case 0:
		return nil
	case 1:
		b := true
		return &b
	}
	b := false
	return &b
}

func datep(r *rand.Rand) *inventory.Date {
	if r.IntN(3) == 0 {
		return nil
	}
	d := inventory.NewDate(2024+r.IntN(12), gotime.Month(r.IntN(12)+1), 1+r.IntN(28))
	return &d
}

// Device returns a random device with intended values only, in the
// normalised form the readers produce, and at least one identity value.
func Device(r *rand.Rand) *inventory.Device {
	d := &inventory.Device{
		AssetID:          maybe(r, fmt.Sprintf("BME-%06d", r.IntN(1000000))),
		Vendor:           maybe(r, pick(r, vendors)),
		Model:            maybe(r, pick(r, models)),
		Version:          maybe(r, fmt.Sprintf("%d.%d.%d", r.IntN(20), r.IntN(10), r.IntN(100))),
		Serial:           maybe(r, word(r)),
		Hostname:         maybe(r, fmt.Sprintf("dev-%d.example.org", r.IntN(10000))),
		Site:             maybe(r, pick(r, texts)),
		Location:         maybe(r, pick(r, texts)),
		Department:       maybe(r, pick(r, texts)),
		DeviceType:       maybe(r, pick(r, types)),
		PatientConnected: boolp(r),
		PHI:              boolp(r),
		OS:               maybe(r, pick(r, []string{"VxWorks 6.9", "Windows 10 IoT Enterprise LTSC", "Linux 4.19"})),
		EndOfSupport:     datep(r),
		EndOfLife:        datep(r),
		UDIDI:            maybe(r, fmt.Sprintf("%014d", r.Int64N(1e14))),
		Zone:             maybe(r, fmt.Sprintf("VLAN %d", r.IntN(4096))),
	}
	if r.IntN(4) != 0 {
		d.Criticality = inventory.Criticalities[r.IntN(len(inventory.Criticalities))]
	}
	for range r.IntN(3) {
		d.MACs = append(d.MACs, mac(r))
	}
	for range r.IntN(3) {
		d.IPs = append(d.IPs, ip(r))
	}
	d.MACs = dedupe(d.MACs)
	d.IPs = dedupe(d.IPs)
	if d.AssetID == "" && d.Serial == "" && len(d.MACs) == 0 && d.UDIDI == "" {
		d.AssetID = "BME-" + strings.ToUpper(word(r))
	}
	return d
}

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		dup := false
		for _, o := range out {
			dup = dup || o == v
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}
