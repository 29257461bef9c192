package cli

import (
	"archive/zip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sbomExample(name string) string {
	return filepath.Join("..", "sbom", "testdata", "examples", name)
}

func TestSBOMCheckJSON(t *testing.T) {
	t.Parallel()
	vex := sbomExample("cisa-case1-vex-not_affected.cdx.json")
	invalid := filepath.Join("..", "sbom", "testdata", "spec-tests", "1.6", "invalid-component-ref-1.6.json")
	out, stderr, code := runCLI(t, "", "sbom", "check", "--format", "json", vex, invalid)
	if code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr: %s", code, stderr)
	}
	var got []sbomResult
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not json: %v\n%s", err, out)
	}
	if len(got) != 2 {
		t.Fatalf("got %d results, want 2", len(got))
	}
	// Quality details are tested in sbom/quality; here only the contract.
	for i := range got {
		if got[i].Quality == nil {
			t.Fatalf("%s: no quality", got[i].File)
		}
		got[i].Quality.Missing = nil
	}
	want := []sbomResult{
		{
			File: vex, Format: "cyclonedx-json", SpecVersion: "1.4", Valid: true, Read: true, Errors: []sbomError{},
			Components: 0, Primary: "ABC@4.2", Quality: &sbomQuality{Score: 20},
			Vulnerabilities: []sbomVuln{{
				Component: "ABC@4.2", ID: "CVE-2021-44228", Source: "sbom", Database: "NVD", Status: "not_affected",
				Justification: "code_not_present",
				Detail:        "This version of Product ABC is not affected by the vulnerability. Class with vulnerable code was removed before shipping.",
			}},
			VulnNote: sbomVulnSrc,
		},
		{
			File: invalid, Format: "cyclonedx-json", SpecVersion: "1.6", Valid: false, Read: true,
			Errors: []sbomError{
				{Pointer: "/components/1/bom-ref", Message: "minLength: got 0, want 1"},
			},
			Components: 2, Quality: &sbomQuality{Score: 15}, Vulnerabilities: []sbomVuln{}, VulnNote: noVulnData,
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sbom check --format json (-want +got):\n%s", diff)
	}
}

func TestSBOMCheckExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  []string // substrings of stdout
		wantErr  string   // substring of stderr
	}{
		{
			name:     "unreadable_file_exit_1_others_reported",
			args:     []string{"sbom", "check", sbomExample("medical-extended.cdx.json"), "does-not-exist.cdx.json"},
			wantCode: ExitFailure,
			wantOut:  []string{"medical-extended.cdx.json", "78/100", "UNREAD", "cannot read: open does-not-exist.cdx.json"},
			wantErr:  "1 of 2 files could not be read",
		},
		{
			name:     "truncated_from_stdin_is_read_but_invalid",
			args:     []string{"sbom", "check", "-"},
			stdin:    "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": [{\"name\": ",
			wantCode: ExitOK,
			wantOut:  []string{"-     cyclonedx-json  -     no", `line 1: /components/0/name: malformed sbom: unexpected end of json input (truncated?)`, "no vulnerability data was given"},
		},
		{
			// medical-extended.cdx.json is 78,339 bytes: one byte over the
			// limit is refused with the limit named, exactly the limit is read.
			name:     "one_byte_over_max_size",
			args:     []string{"sbom", "check", "--max-size", "78338", sbomExample("medical-extended.cdx.json")},
			wantCode: ExitOK,
			wantOut:  []string{"sbom too large: more than 78338 bytes"},
		},
		{
			name:     "exactly_max_size",
			args:     []string{"sbom", "check", "--max-size", "78339", sbomExample("medical-extended.cdx.json")},
			wantCode: ExitOK,
			wantOut:  []string{"cyclonedx-json  1.4   yes    65          78/100"},
		},
		{name: "no_subcommand", args: []string{"sbom"}, wantCode: ExitUsage, wantErr: "want a subcommand: check"},
		{name: "no_files", args: []string{"sbom", "check"}, wantCode: ExitUsage, wantErr: "no SBOM files given"},
		{name: "bad_format", args: []string{"sbom", "check", "--format", "xml", "x"}, wantCode: ExitUsage, wantErr: "--format must be table or json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, stderr, code := runCLI(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.wantErr)
			}
		})
	}
}

const osvTestSBOM = `{
  "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
  "metadata": {"component": {"type": "device", "bom-ref": "pump", "name": "infusion-pump", "version": "4.2"}},
  "components": [
    {"type": "library", "bom-ref": "lodash", "name": "lodash", "version": "4.17.20", "purl": "pkg:npm/lodash@4.17.20"},
    {"type": "library", "bom-ref": "log4j", "group": "org.apache.logging.log4j", "name": "log4j-core", "version": "2.14.1",
     "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
    {"type": "operating-system", "bom-ref": "rtos", "name": "FreeRTOS", "version": "10.0.1",
     "cpe": "cpe:2.3:o:amazon:freertos:10.0.1:*:*:*:*:*:*:*"}
  ],
  "vulnerabilities": [
    {"id": "CVE-2021-44228", "source": {"name": "NVD"},
     "analysis": {"state": "not_affected", "justification": "code_not_reachable", "detail": "JNDI lookups removed"},
     "affects": [{"ref": "log4j"}]}
  ]
}`

func TestSBOMCheckOSV(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bom := filepath.Join(dir, "pump.cdx.json")
	if err := os.WriteFile(bom, []byte(osvTestSBOM), 0o600); err != nil {
		t.Fatal(err)
	}
	osvDir := filepath.Join("..", "sbom", "osv", "testdata")
	// The same records as a zip, as osv.dev exports them.
	zipPath := filepath.Join(dir, "all.zip")
	zf, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	files, _ := filepath.Glob(filepath.Join(osvDir, "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(filepath.Base(f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zf.Close(); err != nil {
		t.Fatal(err)
	}
	want := []sbomVuln{
		{Component: "lodash@4.17.20", ID: "GHSA-35jh-r3h4-6jhm", Source: "osv", Status: "affected",
			Aliases: []string{"CVE-2021-23337"}, PURL: "pkg:npm/lodash@4.17.20", Method: "purl", Confidence: "high"},
		{Component: "log4j-core@2.14.1", ID: "GHSA-jfh8-c2jp-5v3q", Source: "osv", Status: "not_affected",
			Justification: "code_not_reachable", Detail: "JNDI lookups removed",
			Aliases: []string{"CVE-2021-44228"}, PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", Method: "purl", Confidence: "high"},
	}
	for _, src := range []string{osvDir, zipPath} {
		out, stderr, code := runCLI(t, "", "sbom", "check", "--format", "json", "--osv", src, bom)
		if code != ExitOK {
			t.Fatalf("--osv %s: exit %d; stderr: %s", src, code, stderr)
		}
		var got []sbomResult
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
			t.Fatalf("--osv %s: bad output (%v):\n%s", src, err, out)
		}
		if diff := cmp.Diff(want, got[0].Vulnerabilities); diff != "" {
			t.Errorf("--osv %s vulnerabilities (-want +got):\n%s", src, diff)
		}
		if !strings.Contains(got[0].VulnNote, "matched against 4 OSV records") {
			t.Errorf("--osv %s note = %q", src, got[0].VulnNote)
		}
	}
	_, stderr, code := runCLI(t, "", "sbom", "check", "--osv", filepath.Join(dir, "missing"), bom)
	if code != ExitFailure || !strings.Contains(stderr, "--osv") {
		t.Errorf("missing --osv: exit %d, stderr %q; want %d naming --osv", code, stderr, ExitFailure)
	}
}

const nvdTestSBOM = `{
  "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
  "metadata": {"component": {"type": "device", "bom-ref": "pump", "name": "Sigma Spectrum", "version": "35700BAX",
    "cpe": "cpe:2.3:h:baxter:sigma_spectrum_infusion_system:-:*:*:*:*:*:*:*"}},
  "components": [
    {"type": "firmware", "bom-ref": "fw", "name": "Sigma Spectrum firmware", "version": "6.05",
     "cpe": "cpe:2.3:o:baxter:sigma_spectrum_infusion_system_firmware:6.05:*:*:*:*:*:*:*"},
    {"type": "library", "bom-ref": "lodash", "name": "lodash", "version": "4.17.20", "purl": "pkg:npm/lodash@4.17.20"}
  ]
}`

func TestSBOMCheckNVDAndOSV(t *testing.T) {
	t.Parallel()
	bom := filepath.Join(t.TempDir(), "pump.cdx.json")
	if err := os.WriteFile(bom, []byte(nvdTestSBOM), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, "", "sbom", "check", "--format", "json",
		"--nvd", filepath.Join("..", "sbom", "cpematch", "testdata"), "--osv", filepath.Join("..", "sbom", "osv", "testdata"), bom)
	if code != ExitOK {
		t.Fatalf("exit %d; stderr: %s", code, stderr)
	}
	var got []sbomResult
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
		t.Fatalf("bad output (%v):\n%s", err, out)
	}
	want := []sbomVuln{ // in component order, as attach stores them
		{Component: "Sigma Spectrum firmware@6.05", ID: "CVE-2020-12039", Source: "nvd", Status: "affected",
			CPE: "cpe:2.3:o:baxter:sigma_spectrum_infusion_system_firmware:6.05:*:*:*:*:*:*:*", Method: "cpe", Confidence: "high"},
		{Component: "lodash@4.17.20", ID: "GHSA-35jh-r3h4-6jhm", Source: "osv", Status: "affected",
			Aliases: []string{"CVE-2021-23337"}, PURL: "pkg:npm/lodash@4.17.20", Method: "purl", Confidence: "high"},
	}
	if diff := cmp.Diff(want, got[0].Vulnerabilities); diff != "" {
		t.Errorf("vulnerabilities (-want +got):\n%s", diff)
	}
	if !strings.Contains(got[0].VulnNote, "configurations of 3 NVD CVE records") {
		t.Errorf("note = %q", got[0].VulnNote)
	}
}

// threadxVEX is a CSAF VEX document: Express Logic ThreadX 5.8 is not
// affected by CVE-2024-2212 (the vulnerable code is not in the execute
// path).
const threadxVEX = `{
  "document": {"category": "csaf_vex", "csaf_version": "2.0", "title": "ThreadX in Sigma Spectrum firmware",
    "publisher": {"category": "vendor", "name": "Pump Vendor PSIRT", "namespace": "https://psirt.pump.example"},
    "tracking": {"id": "PUMP-VEX-2026-007", "status": "final", "version": "1",
      "initial_release_date": "2026-10-01T00:00:00.000Z", "current_release_date": "2026-10-01T00:00:00.000Z",
      "revision_history": [{"date": "2026-10-01T00:00:00.000Z", "number": "1", "summary": "Initial version."}]}},
  "product_tree": {"branches": [{"category": "vendor", "name": "Express Logic", "branches": [
    {"category": "product_name", "name": "Express Logic ThreadX", "branches": [
      {"category": "product_version", "name": "5.8", "product": {"name": "Express Logic ThreadX 5.8", "product_id": "P-TX"}}]}]}]},
  "vulnerabilities": [{"cve": "CVE-2024-2212",
    "product_status": {"known_not_affected": ["P-TX"]},
    "flags": [{"label": "vulnerable_code_not_in_execute_path", "product_ids": ["P-TX"]}],
    "threats": [{"category": "impact", "details": "The pump firmware never calls the affected API.", "product_ids": ["P-TX"]}]}]
}`

// TestSBOMCheckNameMatchAndCSAFVEX: check matches a name-only RTOS
// component through the alias table (as attach does) and applies a CSAF
// VEX given with --csaf.
func TestSBOMCheckNameMatchAndCSAFVEX(t *testing.T) {
	t.Parallel()
	bom := filepath.Join("..", "sboms", "testdata", "pump-v1.cdx.json")
	nvdDir := filepath.Join("..", "sboms", "testdata", "nvd")
	vex := filepath.Join(t.TempDir(), "vex.json")
	if err := os.WriteFile(vex, []byte(threadxVEX), 0o600); err != nil {
		t.Fatal(err)
	}
	threadx := func(args ...string) (sbomVuln, string) {
		t.Helper()
		out, stderr, code := runCLI(t, "", append([]string{"sbom", "check", "--format", "json", "--nvd", nvdDir}, append(args, bom)...)...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d; stderr: %s", args, code, stderr)
		}
		var got []sbomResult
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
			t.Fatalf("bad output (%v):\n%s", err, out)
		}
		for _, v := range got[0].Vulnerabilities {
			if v.ID == "CVE-2024-2212" {
				return v, got[0].VulnNote
			}
		}
		t.Fatalf("%v: no CVE-2024-2212 row: %+v", args, got[0].Vulnerabilities)
		return sbomVuln{}, ""
	}
	v, note := threadx()
	if v.Component != "Express Logic ThreadX@5.8" || v.Method != "name" || v.Confidence != "medium" || v.Status != "affected" ||
		!strings.Contains(v.Detail, "matched by name") || !strings.Contains(note, "matched by name") {
		t.Errorf("name match: %+v (note %q)", v, note)
	}
	v, note = threadx("--csaf", vex)
	if v.Status != "not_affected" || v.Justification != "vulnerable_code_not_in_execute_path" ||
		!strings.Contains(v.Detail, "PUMP-VEX-2026-007") || !strings.Contains(note, "1 CSAF VEX documents") {
		t.Errorf("with --csaf: %+v (note %q)", v, note)
	}
	// a CSAF file that is not CSAF: exit 3, nothing checked
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"document": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runCLI(t, "", "sbom", "check", "--csaf", bad, bom)
	if code != ExitBadInput || !strings.Contains(stderr, "--csaf") || out != "" {
		t.Errorf("bad --csaf: exit %d, stderr %q, out %q", code, stderr, out)
	}
}
