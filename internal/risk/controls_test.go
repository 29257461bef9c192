package risk

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readControls(t *testing.T) *Controls {
	t.Helper()
	f, err := os.Open("testdata/controls.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ParseControls(f, "controls.json")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestControlsFor(t *testing.T) {
	t.Parallel()
	c := readControls(t)
	tests := []struct {
		asset, zone, typ string
		want             []string
	}{
		{"BME-000101", "vlan 20 biomed", "Infusion Pump", []string{"allow_listing", "disabled_services", "monitored", "nac_quarantine", "segmented"}},
		{"BME-000102", "VLAN 20 Biomed", "Patient Monitor", []string{"monitored", "segmented"}},
		{"bme-000101", "", "infusion pump ", []string{"allow_listing"}},
		{"X", "Corporate", "CT", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, c.For(tt.asset, tt.zone, tt.typ)); diff != "" {
			t.Errorf("For(%q, %q, %q) (-want +got):\n%s", tt.asset, tt.zone, tt.typ, diff)
		}
	}
	for zone, want := range map[string]Exposure{"Vendor DMZ": ExposureInternet, "or suite": ExposureIsolated, "Guest WiFi": ExposureIT, "VLAN 20 Biomed": ExposureClinical} {
		if got := c.Exposure(zone); got != want {
			t.Errorf("Exposure(%q) = %s, want %s", zone, got, want)
		}
	}
	var none *Controls
	if none.For("a", "b", "c") != nil || none.Exposure("DMZ") != ExposureInternet {
		t.Error("nil Controls must have no controls and fall back to ParseExposure")
	}
	m := DefaultModel()
	c.Apply(&m)
	if m.ControlWeights["nac_quarantine"] != 4 || m.ControlWeights["segmented"] != 7 || m.ControlWeights["monitored"] != 2 {
		t.Errorf("Apply: weights %v", m.ControlWeights)
	}
	if err := m.Validate(); err != nil {
		t.Errorf("model after Apply: %v", err)
	}
}

func TestParseControlsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"empty", ``, "empty document"},
		{"syntax", "{\n\"zones\": {\n}}}", "line 3: data after"},
		{"syntax_inside", "{\n\"zones\": {\n,}}", "line 3: invalid character"},
		{"unknown_field", `{"zone": {}}`, `unknown field "zone"`},
		{"unknown_control", `{"devices": {"A/1": ["segmented", "firewall"]}}`, `/devices/A~11/1: unknown control "firewall"`},
		{"bad_weight", `{"weights": {"x": 40}}`, "/weights/x: weight 40 is not in [0,25]"},
		{"bad_id", `{"weights": {"Bad Id": 1}}`, "/weights/Bad Id: control id"},
		{"bad_exposure", `{"zone_exposure": {"Z": "dmz"}}`, `/zone_exposure/Z: unknown exposure "dmz"`},
		{"wrong_type", `{"devices": {"A": "segmented"}}`, "line 1: /devices: string is not a []string"},
		{"trailing", `{} {}`, "data after the JSON object"},
		{"empty_key", `{"zones": {" ": []}}`, "/zones: empty key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseControls(strings.NewReader(tt.in), "c.json")
			if err == nil || !errors.Is(err, ErrInvalidControls) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "controls c.json: ") {
				t.Errorf("ParseControls(%q) error = %v, want ErrInvalidControls containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func FuzzParseControls(f *testing.F) {
	seed, err := os.ReadFile("testdata/controls.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"devices": {"A": ["segmented"]}}`))
	f.Add([]byte(`{"weights": {"x": 1e308}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseControls(strings.NewReader(string(data)), "fuzz.json")
		if err != nil {
			if !errors.Is(err, ErrInvalidControls) {
				t.Fatalf("error %v does not wrap ErrInvalidControls", err)
			}
			return
		}
		m := DefaultModel()
		c.Apply(&m)
		for a := range c.Devices {
			for _, id := range c.For(a, "", "") {
				if _, ok := m.ControlWeights[id]; !ok {
					t.Fatalf("control %q accepted without a weight", id)
				}
			}
		}
	})
}
