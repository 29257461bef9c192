package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), append([]string{"medwarden"}, args...), strings.NewReader(stdin), &out, &errb,
		func(string) string { return "" })
	return out.String(), errb.String(), code
}

func TestCVSSVerb(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantOut  string
		wantErr  string
		wantCode int
	}{
		{
			name: "table_mixed_versions",
			args: []string{"cvss", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "(AV:N/AC:L/Au:N/C:P/I:P/A:P)",
				"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U"},
			wantOut: `VERSION  BASE  TEMPORAL  ENVIRONMENTAL  SCORE  SEVERITY  VECTOR
3.1      9.8   9.8       9.8            9.8    Critical  CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
2.0      7.5   7.5       7.5            7.5    High      AV:N/AC:L/Au:N/C:P/I:P/A:P
4.0      9.3   8.1       8.1            8.1    High      CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U
`,
		},
		{
			name: "table_invalid_still_prints_others",
			args: []string{"cvss", "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
			wantOut: `VERSION  BASE  TEMPORAL  ENVIRONMENTAL  SCORE  SEVERITY  VECTOR
-        -     -         -              -      INVALID   CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
3.0      9.8   9.8       9.8            9.8    Critical  CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H

invalid vectors:
  CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H: cvss: metric "AV" has invalid value "Q" (want one of N, A, L, P)
`,
			wantErr:  "medwarden cvss: bad input: 1 of 2 vectors invalid\n",
			wantCode: ExitBadInput,
		},
		{
			name:  "csv_from_stdin_skips_blank_and_comments",
			args:  []string{"cvss", "--format", "csv", "-"},
			stdin: "# exported from the asset register\nCVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:C/C:H/I:H/A:H\n\n  AV:L/AC:H/Au:N/C:C/I:C/A:C/E:POC/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:M  \r\nCVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/CR:L/IR:L/AR:L/MAV:A/E:X\n",
			wantOut: `vector,version,base_score,temporal_score,environmental_score,score,severity,nomenclature,error
CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:C/C:H/I:H/A:H,3.1,7.6,7.6,7.7,7.6,High,base,
AV:L/AC:H/Au:N/C:C/I:C/A:C/E:POC/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:M,2.0,6.2,4.9,7.5,7.5,High,environmental,
CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/CR:L/IR:L/AR:L/MAV:A,3.1,9.8,9.8,6.9,6.9,Medium,environmental,
`,
		},
		{
			name:     "no_vectors_is_usage_error",
			args:     []string{"cvss"},
			wantErr:  "medwarden cvss: usage: no vector given (pass vectors as arguments, or - to read them from standard input)\nusage: medwarden cvss [--format table|json|csv] VECTOR... | - (see 'medwarden cvss -h')\n",
			wantCode: ExitUsage,
		},
		{
			name:     "bad_format_is_usage_error",
			args:     []string{"cvss", "--format", "xml", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
			wantErr:  "medwarden cvss: usage: unknown --format \"xml\" (want table, json or csv)\nusage: medwarden cvss [--format table|json|csv] VECTOR... | - (see 'medwarden cvss -h')\n",
			wantCode: ExitUsage,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := runCLI(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			if diff := cmp.Diff(tt.wantOut, out); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErr, errOut); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCVSSVerbJSON(t *testing.T) {
	t.Parallel()
	out, _, code := runCLI(t, "", "cvss", "--format", "json",
		"CVSS:3.1/E:P/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "CVSS:3.1/AV:N", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CR:L/IR:L/AR:L")
	if code != ExitBadInput {
		t.Errorf("exit code = %d, want %d", code, ExitBadInput)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out)
	}
	want := []map[string]any{
		{
			"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N/E:P", "input": "CVSS:3.1/E:P/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N",
			"version": "3.1", "base_score": 0.0, "temporal_score": 0.0, "environmental_score": 0.0, "score": 0.0,
			"severity": "None", "nomenclature": "temporal",
		},
		{"vector": "CVSS:3.1/AV:N", "error": `cvss: missing mandatory metric "AC", "PR", "UI", "S", "C", "I", "A" in CVSS v3.1 vector`},
		{
			"vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/CR:L/IR:L/AR:L", "version": "4.0",
			"base_score": 9.3, "temporal_score": 9.3, "environmental_score": 8.9, "score": 8.9,
			"severity": "High", "nomenclature": "CVSS-BE",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}
