package hl7

import (
	"net/netip"
	"os"
	"testing"

	"github.com/medwarden/medwarden/internal/classify"
)

// The identification rules for the medical protocols live in
// internal/classify/rules/medical (a new file beside the built-in rules).
// This checks that they load and turn a monitor's HL7 traffic into a
// patient monitor, and a DICOM node proposing CT storage into a CT.
func TestMedicalRules(t *testing.T) {
	t.Parallel()
	rules, err := classify.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open("../../../classify/rules/medical/medical.json")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if err := rules.Add(fh, "medical.json"); err != nil {
		t.Fatal(err)
	}
	c := classify.New(nil, rules, classify.Options{})
	mon, ct := netip.MustParseAddr("10.20.1.31"), netip.MustParseAddr("10.30.2.11")
	ev := func(ip netip.Addr, f, v string) classify.Evidence {
		return classify.Evidence{IP: ip, Field: f, Value: v, Count: 1}
	}
	devs := c.Classify(classify.Input{Evidence: []classify.Evidence{
		ev(mon, "hl7.sending_application", "IntelliVue"),
		ev(mon, "hl7.message_type", "ORU^R01"),
		ev(mon, "hl7.udi", "0007B0FFFE1A2B3C"),
		ev(ct, "dicom.modality", "CT"),
		ev(ct, "dicom.role", "modality"),
		ev(ct, "dicom.implementation_vendor", "GE HealthCare"),
	}})
	got := map[netip.Addr][3]string{}
	for _, d := range devs {
		if len(d.IPs) > 0 {
			got[d.IPs[0]] = [3]string{d.Vendor, d.Type}
		}
	}
	if g := got[mon]; g[0] != "Philips" || g[1] != "patient-monitor" {
		t.Errorf("monitor classified as %q", g)
	}
	if g := got[ct]; g[0] != "GE HealthCare" || g[1] != "ct-scanner" {
		t.Errorf("CT classified as %q", g)
	}
}
