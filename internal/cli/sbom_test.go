package cli

import (
	"encoding/json"
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
