package cpe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadConfigs(t *testing.T, path string) []Configuration {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfgs, err := ParseConfigurations(f, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	return cfgs
}

func names(t *testing.T, ss ...string) []Name {
	t.Helper()
	var out []Name
	for _, s := range ss {
		n, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

const (
	sigmaHW  = "cpe:2.3:h:baxter:sigma_spectrum_infusion_system:-:*:*:*:*:*:*:*"
	sigmaFW  = "cpe:2.3:o:baxter:sigma_spectrum_infusion_system_firmware:%s:*:*:*:*:*:*:*"
	alarisHW = "cpe:2.3:h:bd:alaris_8015_pcu:-:*:*:*:*:*:*:*"
	alarisFW = "cpe:2.3:o:bd:alaris_8015_pcu_firmware:%s:*:*:*:*:*:*:*"
	dcmtk    = "cpe:2.3:a:offis:dcmtk:%s:*:*:*:*:*:*:*"
)

func fw(pattern, version string) string { return strings.Replace(pattern, "%s", version, 1) }

// TestNVDRecords is the hand-built truth table for the NVD records in
// testdata/nvd: devices are sets of CPEs (firmware plus hardware).
func TestNVDRecords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		name   string
		device []string
		want   Truth
	}{
		// CVE-2020-12039: Sigma Spectrum firmware 6.0..6.05 or 8.0, AND the
		// (not vulnerable) infusion system hardware.
		{"CVE-2020-12039.json", "fw_6.02_on_hw", []string{fw(sigmaFW, "6.02"), sigmaHW}, True},
		{"CVE-2020-12039.json", "fw_6.0_start_inclusive", []string{fw(sigmaFW, "6.0"), sigmaHW}, True},
		{"CVE-2020-12039.json", "fw_6.05_end_inclusive", []string{fw(sigmaFW, "6.05"), sigmaHW}, True},
		{"CVE-2020-12039.json", "fw_6.06_after_range", []string{fw(sigmaFW, "6.06"), sigmaHW}, False},
		{"CVE-2020-12039.json", "fw_5.9_before_range", []string{fw(sigmaFW, "5.9"), sigmaHW}, False},
		{"CVE-2020-12039.json", "fw_8.0_exact", []string{fw(sigmaFW, "8.0"), sigmaHW}, True},
		{"CVE-2020-12039.json", "fw_8.01_not_exact", []string{fw(sigmaFW, "8.01"), sigmaHW}, False},
		{"CVE-2020-12039.json", "fw_without_hw", []string{fw(sigmaFW, "6.02")}, False},
		{"CVE-2020-12039.json", "hw_only", []string{sigmaHW}, False},
		{"CVE-2020-12039.json", "fw_version_unknown", []string{fw(sigmaFW, "*"), sigmaHW}, Unknown},
		{"CVE-2020-12039.json", "fw_on_other_hw", []string{fw(sigmaFW, "6.02"), alarisHW}, False},
		// CVE-2022-2119: DCMTK before 3.6.7, no platform.
		{"CVE-2022-2119.json", "dcmtk_3.6.6", []string{fw(dcmtk, "3.6.6")}, True},
		{"CVE-2022-2119.json", "dcmtk_3.6.7_fixed", []string{fw(dcmtk, "3.6.7")}, False},
		{"CVE-2022-2119.json", "dcmtk_3.5.4", []string{fw(dcmtk, "3.5.4")}, True},
		{"CVE-2022-2119.json", "dcmtk_3.7.0", []string{fw(dcmtk, "3.7.0")}, False},
		{"CVE-2022-2119.json", "dcmtk_unknown", []string{fw(dcmtk, "*")}, Unknown},
		{"CVE-2022-2119.json", "other_product", []string{"cpe:2.3:a:offis:dcmtk_tools:3.6.6:*:*:*:*:*:*:*"}, False},
		// CVE-2023-30559: Alaris 8015 PCU firmware up to 12.1.3, on the PCU.
		{"CVE-2023-30559.json", "fw_12.1.3_end_inclusive", []string{fw(alarisFW, "12.1.3"), alarisHW}, True},
		{"CVE-2023-30559.json", "fw_9.33.1", []string{fw(alarisFW, "9.33.1"), alarisHW}, True},
		{"CVE-2023-30559.json", "fw_12.1.4_fixed", []string{fw(alarisFW, "12.1.4"), alarisHW}, False},
		{"CVE-2023-30559.json", "fw_12.1.3_no_hw", []string{fw(alarisFW, "12.1.3")}, False},
		{"CVE-2023-30559.json", "fw_on_sigma_hw", []string{fw(alarisFW, "12.1.3"), sigmaHW}, False},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.name, func(t *testing.T) {
			cfgs := loadConfigs(t, filepath.Join("testdata", "nvd", tt.file))
			got := EvaluateAll(cfgs, names(t, tt.device...))
			if got.Affected != tt.want {
				t.Errorf("EvaluateAll(%v) = %v (matched %v), want %v", tt.device, got.Affected, got.Matched, tt.want)
			}
			if (got.Affected == True) != (len(got.Matched) > 0) {
				t.Errorf("Matched = %v for Affected %v", got.Matched, got.Affected)
			}
		})
	}
}

// TestConfigurationNegate covers negate on a node: an application is
// affected except when it runs on a given platform.
func TestConfigurationNegate(t *testing.T) {
	t.Parallel()
	const js = `[{"operator":"AND","nodes":[
	  {"operator":"OR","negate":false,"cpeMatch":[{"vulnerable":true,"criteria":"cpe:2.3:a:acme:viewer:*:*:*:*:*:*:*:*","versionEndExcluding":"2.0"}]},
	  {"operator":"OR","negate":true,"cpeMatch":[{"vulnerable":false,"criteria":"cpe:2.3:o:acme:hardened_os:*:*:*:*:*:*:*:*"}]}
	]}]`
	cfgs, err := ParseConfigurations(strings.NewReader(js), "inline")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		device []string
		want   Truth
	}{
		{"viewer_alone", []string{"cpe:2.3:a:acme:viewer:1.5:*:*:*:*:*:*:*"}, True},
		{"viewer_on_hardened_os", []string{"cpe:2.3:a:acme:viewer:1.5:*:*:*:*:*:*:*", "cpe:2.3:o:acme:hardened_os:3:*:*:*:*:*:*:*"}, False},
		{"fixed_viewer", []string{"cpe:2.3:a:acme:viewer:2.0:*:*:*:*:*:*:*"}, False},
	}
	for _, tt := range tests {
		if got := EvaluateAll(cfgs, names(t, tt.device...)).Affected; got != tt.want {
			t.Errorf("%s: Affected = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !cfgs[0].Matches(names(t, "cpe:2.3:a:acme:viewer:1.5:*:*:*:*:*:*:*")) {
		t.Error("Matches(viewer 1.5) = false, want true")
	}
}

func TestParseConfigurationsErrors(t *testing.T) {
	t.Parallel()
	for _, js := range []string{
		`{"configurations":[{"nodes":[{"operator":"XOR","cpeMatch":[]}]}]}`,
		`{"configurations":[{"nodes":[{"operator":"OR","cpeMatch":[{"vulnerable":true,"criteria":"cpe:/a:x:y"}]}]}]}`,
		`{"configurations":[{"nodes":[{"operator":"OR","cpeMatch":[{"vulnerable":true,"criteria":"cpe:2.3:a:x:y:*:*:*:*:*:*:*:*","versionStartIncluding":"3.0","versionEndExcluding":"2.0"}]}]}]}`,
		`{"configurations":`,
	} {
		if _, err := ParseConfigurations(strings.NewReader(js), "bad.json"); err == nil || !strings.Contains(err.Error(), "bad.json") {
			t.Errorf("ParseConfigurations(%s) error = %v, want an error naming the file", js, err)
		}
	}
}

// TestNVDRecordsExtra parses and evaluates every record of the full corpus.
func TestNVDRecordsExtra(t *testing.T) {
	dir := os.Getenv("MEDWARDEN_TESTDATA_EXTRA")
	if dir == "" {
		t.Skip("MEDWARDEN_TESTDATA_EXTRA not set: the held-out NVD records are not available")
	}
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join(dir, "version_ranges", "nvd-cpe", "*.json"))
	for _, f := range files {
		cfgs := loadConfigs(t, f)
		for _, c := range cfgs {
			for _, n := range c.Nodes {
				for _, m := range n.CPEMatch {
					// The criteria itself (with an in-range version when a
					// range is given) must be matched by its own entry.
					if m.rng == nil && m.name.attrs[Version].Kind == String && !m.name.attrs[Version].HasWildcards() {
						if got := m.Eval([]Name{m.name}); got != True {
							t.Errorf("%s: %s does not match itself: %v", filepath.Base(f), m.Criteria, got)
						}
					}
				}
			}
		}
	}
}
