package fieldvalue

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/inventory"
)

func TestSet(t *testing.T) {
	yes, no := true, false
	eos := inventory.NewDate(2028, 2, 29)
	tests := []struct {
		field, in string
		want      inventory.Device
		wantErr   string
	}{
		{"asset_id", "  BME-1 ", inventory.Device{AssetID: "BME-1"}, ""},
		{"mac", "AA-BB-CC-DD-EE-FF; aabb.ccdd.eeff,00:01:02:03:04:05", inventory.Device{MACs: []string{"aa:bb:cc:dd:ee:ff", "00:01:02:03:04:05"}}, ""},
		{"mac", "00:01:02:03:04", inventory.Device{}, `MAC address "00:01:02:03:04" does not have 12 hex digits`},
		{"ip", "10.0.0.1 ::FFFF:10.0.0.2|2001:DB8:0:0::1", inventory.Device{IPs: []string{"10.0.0.1", "10.0.0.2", "2001:db8::1"}}, ""},
		{"ip", "10.0.0.01", inventory.Device{}, `IP address "10.0.0.01" is not valid`},
		{"criticality", "Life Sustaining", inventory.Device{Criticality: inventory.LifeSustaining}, ""},
		{"criticality", "none", inventory.Device{Criticality: inventory.NonClinical}, ""},
		{"criticality", "High", inventory.Device{}, `unknown criticality "High" (want one of life-sustaining, life-supporting, therapeutic, diagnostic, non-clinical)`},
		{"patient_connected", "X", inventory.Device{PatientConnected: &yes}, ""},
		{"phi", "No", inventory.Device{PHI: &no}, ""},
		{"phi", "2", inventory.Device{}, `"2" is not a yes/no value (want yes, no, true, false, y, n, 1, 0, x or blank)`},
		{"end_of_support", "2028-02-29", inventory.Device{EndOfSupport: &eos}, ""},
		{"end_of_support", "2028/02/29", inventory.Device{EndOfSupport: &eos}, ""},
		{"end_of_support", "2028-2-29", inventory.Device{EndOfSupport: &eos}, ""},
		{"end_of_support", "2028-02-29T00:00:00Z", inventory.Device{EndOfSupport: &eos}, ""},
		{"end_of_support", "2027-02-29", inventory.Device{}, `date "2027-02-29" does not exist (want a valid YYYY-MM-DD)`},
		{"end_of_support", "02/03/2028", inventory.Device{}, `date "02/03/2028" is not YYYY-MM-DD (day/month forms like 01/02/2024 are ambiguous and refused)`},
		{"end_of_life", "next year", inventory.Device{}, `date "next year" is not YYYY-MM-DD`},
		{"udi_di", "(01)00884838086316(11)210315(21)DE1", inventory.Device{UDIDI: "00884838086316"}, ""},
		{"udi_di", "+H123PARTNO1/$$420020216LOT123", inventory.Device{UDIDI: "+H123PARTNO1/$$420020216LOT123"}, ""},
		{"zone", "", inventory.Device{}, ""},
		{"purchase_price", "1", inventory.Device{}, `unknown field "purchase_price"`},
	}
	for _, tt := range tests {
		t.Run(tt.field+"/"+tt.in, func(t *testing.T) {
			var d inventory.Device
			err := Set(&d, tt.field, tt.in)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("Set(%s, %q) error = %q, want %q", tt.field, tt.in, gotErr, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, d); diff != "" {
				t.Errorf("Set(%s, %q) (-want +got):\n%s", tt.field, tt.in, diff)
			}
		})
	}
}

// TestFastPathsAgree: the fast paths must give exactly what the slow
// inventory functions give.
func TestFastPathsAgree(t *testing.T) {
	for _, m := range []string{"00:09:fb:12:34:56", "00:09:FB:12:34:56", "00:09:fb:12:34:5g", "0009.fb12.3456", "00:09:fb:12:34:56:"} {
		a, errA := MAC(m)
		b, errB := inventory.NormalizeMAC(m)
		if a != b || (errA == nil) != (errB == nil) {
			t.Errorf("MAC(%q) = %q, %v; NormalizeMAC = %q, %v", m, a, errA, b, errB)
		}
	}
	for _, s := range []string{"10.0.0.1", "::ffff:10.0.0.1", "2001:DB8::1", "10.0.0.256", "fe80::1%eth0"} {
		a, errA := IP(s)
		b, errB := inventory.NormalizeIP(s)
		if a != b || (errA == nil) != (errB == nil) {
			t.Errorf("IP(%q) = %q, %v; NormalizeIP = %q, %v", s, a, errA, b, errB)
		}
	}
	for _, s := range []string{"2028-02-29", "2027-02-29", "2027-12-31", "2027-00-10", "2027-1-5", "0000-01-01"} {
		a, errA := parseDate(s)
		b, errB := inventory.ParseDate(s)
		if !a.Equal(b.Time) || (errA == nil) != (errB == nil) {
			t.Errorf("parseDate(%q) = %v, %v; ParseDate = %v, %v", s, a, errA, b, errB)
		}
	}
	for _, s := range []string{"Life-Sustaining", "diagnostic", "non clinical", "bogus"} {
		a, errA := Criticality(s)
		b, errB := inventory.ParseCriticality(s)
		if a != b || (errA == nil) != (errB == nil) {
			t.Errorf("Criticality(%q) = %q, %v; ParseCriticality = %q, %v", s, a, errA, b, errB)
		}
	}
}

func TestGS1AI(t *testing.T) {
	tests := []struct {
		in, ai, want string
		ok           bool
	}{
		{"(01)00884838086316(17)301231(21)SN-77", "21", "SN-77", true},
		{"(01)00884838086316(17)301231(21)SN-77", "17", "301231", true},
		{"(01)00884838086316", "21", "", false},
		{"01008848380863161730123121SN", "01", "", false},
		{"(01", "01", "", false},
	}
	for _, tt := range tests {
		got, ok := GS1AI(tt.in, tt.ai)
		if got != tt.want || ok != tt.ok {
			t.Errorf("GS1AI(%q, %q) = %q, %v; want %q, %v", tt.in, tt.ai, got, ok, tt.want, tt.ok)
		}
	}
}
