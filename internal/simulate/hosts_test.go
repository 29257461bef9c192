package simulate

import (
	"errors"
	"testing"

	"github.com/medwarden/medwarden/internal/sensor/dissect/list"
	"github.com/medwarden/medwarden/internal/sensor/sensortest"
)

func TestHostsFromList(t *testing.T) {
	t.Parallel()
	hosts := []HostSpec{
		{Kind: "poct", Vendor: "Abbott Diagnostics", Model: "i-STAT Alinity", MAC: "00:13:dd:01:02:03", IP: "10.1.40.17", Software: "JAMS 150", Serial: "IS0042"},
		{Kind: "astm", Vendor: "Roche Diagnostics", Model: "cobas c 311", MAC: "00:0e:2f:0a:0b:0c", IP: "10.1.41.20", Software: "2.2.0"},
		{Kind: "monitor", Vendor: "Philips", Model: "IntelliVue MX450", MAC: "00:09:fb:aa:bb:cc", IP: "10.1.42.30"},
	}
	path, truth := generate(t, Config{Minutes: 4, Seed: 2, Hosts: hosts})
	got := map[string]bool{}
	for _, h := range truth.Devices {
		got[h.MAC+" "+h.IP] = true
	}
	for _, h := range hosts {
		if !got[h.MAC+" "+h.IP] {
			t.Errorf("device %s %s not simulated", h.MAC, h.IP)
		}
	}
	res := sensortest.Run(t, path, list.Build(list.All())...)
	seen := map[string]bool{}
	for _, o := range res.Observations {
		seen[o.IP.String()+" "+o.Field+"="+o.Value] = true
	}
	for _, want := range []string{"10.1.40.17 poct1.sw_version=JAMS 150", "10.1.40.17 poct1.serial=IS0042", "10.1.41.20 astm.version=2.2.0"} {
		if !seen[want] {
			t.Errorf("sensor did not observe %s", want)
		}
	}
}

func TestHostsValidate(t *testing.T) {
	for _, h := range []HostSpec{
		{Kind: "toaster", MAC: "00:13:dd:01:02:03", IP: "10.0.0.1"},
		{Kind: "poct", MAC: "00:13:dd:01:02", IP: "10.0.0.1"},
		{Kind: "poct", MAC: "00:13:dd:01:02:03", IP: "fe80::1"},
	} {
		c := Config{Minutes: 1, Hosts: []HostSpec{h}}
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("Validate(%+v) = %v, want ErrConfig", h, err)
		}
	}
}
