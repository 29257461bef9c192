package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var rubricExample = filepath.Join("..", "rubric", "testdata", "workbook-test2.json")

func TestRubricVerbAnswersTable(t *testing.T) {
	t.Parallel()
	out, errOut, code := runCLI(t, "", "rubric", "--answers", rubricExample, "--cvss-version", "3.0")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := `vector: CVSS:3.0/AV:A/AC:L/PR:N/UI:R/S:C/C:H/I:L/A:H
score:  8.7 (High)

METRIC  VALUE  RATIONALE
AV      A      XAVN=YES; XAVT=NO; XAVW=NO
AC      L      XACL=YES
PR      N      XPRL=NO
UI      R      XUI=YES
S       C      XS=YES
C       H      XCP=YES; XCPM=YES; XCD=HIGH; XCT=HIGH; XCS=HIGH; XCO=HIGH
I       L      XIP=LOW; XID=LOW; XIT=LOW; XIW=LOW; XIS=LOW; XIO=LOW
A       H      XAP=HIGH; XAD=HIGH; XAT=HIGH; XAW=HIGH

notes:
  C: XCPM (500 or more patients) is recorded but, as in the MITRE calculator, does not change C: readable PHI/PII gives C:H
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

func TestRubricVerbAnswersJSONFromStdin(t *testing.T) {
	t.Parallel()
	in := `{"XAVN":"no","XAVP":"yes","XAVPA":"no","XACL":"yes","XPRL":"no","XUI":"no","XS":"no",
	"XCP":"no","XIP":"none","XAP":"none","XCD":"none","XID":"none","XAD":"none","XCT":"none","XIT":"high","XAT":"unknown",
	"XCW":"none","XIW":"none","XAW":"none","XCS":"none","XIS":"none","XAS":"none","XCO":"none","XIO":"none","XAO":"none","XAVT":"yes"}`
	out, errOut, code := runCLI(t, in, "rubric", "--answers", "-", "--format", "json", "--unknown-impact", "high")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got struct {
		Complete  bool
		Vector    string
		BaseScore float64 `json:"base_score"`
		Severity  string
		Ignored   []string
		Answers   map[string]string
		Metrics   []struct {
			Metric, Value string
			Notes         []string
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if diff := cmp.Diff("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H", got.Vector); diff != "" {
		t.Errorf("vector (-want +got):\n%s", diff)
	}
	if got.BaseScore != 6.1 || got.Severity != "Medium" || !got.Complete {
		t.Errorf("score %v %s complete=%v, want 6.1 Medium true", got.BaseScore, got.Severity, got.Complete)
	}
	if diff := cmp.Diff([]string{"XAVT"}, got.Ignored); diff != "" {
		t.Errorf("ignored (-want +got):\n%s", diff)
	}
	if got.Answers["XAVN"] != "NO" {
		t.Errorf("answers not normalised: %v", got.Answers)
	}
	if n := got.Metrics[7].Notes; len(n) != 1 || !strings.Contains(n[0], "XAT answered UNKNOWN: counted as High") {
		t.Errorf("A notes = %q", n)
	}
}

func TestRubricVerbInteractive(t *testing.T) {
	t.Parallel()
	// Answers to the questions in the order asked, with a retry after an
	// invalid answer, numbers, words and first letters.
	stdin := strings.Join([]string{
		"1",          // XAVN YES
		"maybe", "2", // XAVT: invalid, then NO
		"n",   // XAVW NO
		"yes", // XACL
		"2",   // XPRL NO
		"Y",   // XUI YES
		"1",   // XS YES
		"1",   // XCP YES
		"1",   // XCPM YES
		"low", "high",
		"high", "low", "high",
		"high", "low", "high",
		"low", "low", "high",
		"high", "low", "none",
		"high", "low", "low",
	}, "\n") + "\n"
	out, errOut, code := runCLI(t, stdin, "rubric")
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{
		"1. [AV Q1, XAVN] Can the attacker utilize",
		"   please answer 1-3 or one of YES, NO, UNKNOWN\n",
		"Impact on: Data or functionality related to the delivery of therapy\n",
		"vector: CVSS:3.1/AV:A/AC:L/PR:N/UI:R/S:C/C:H/I:L/A:H\nscore:  8.7 (High)\n",
		`"XAVW":"NO"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRubricVerbErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantErr  string
		wantCode int
	}{
		{"incomplete", []string{"rubric", "--answers", "-"}, `{"XAVN":"YES","XAVT":"YES"}`,
			"medwarden rubric: bad input: answers incomplete: 22 questions needed: XACL, XPRL, XUI, XS, XCP, XIP, XAP, XCD, XID, XAD, XCT, XIT, XAT, XCW, XIW, XAW, XCS, XIS, XAS, XCO, XIO, XAO\n", ExitBadInput},
		{"invalid_answer", []string{"rubric", "--answers", "-"}, `{"XAVR":"UNKNOWN"}`,
			"medwarden rubric: bad input: rubric: question \"XAVR\": invalid answer \"UNKNOWN\" (want one of YES, NO)\n", ExitBadInput},
		{"not_json", []string{"rubric", "--answers", "-"}, `XAVN=YES`,
			"medwarden rubric: bad input: rubric: standard input: want a JSON object of question id to answer: invalid character 'X' looking for beginning of value\n", ExitBadInput},
		{"eof_interactive", []string{"rubric"}, "1\n",
			"medwarden rubric: input ended before the questionnaire was complete (1 questions answered)\n", ExitFailure},
		{"bad_version", []string{"rubric", "--cvss-version", "4.0"}, "",
			"medwarden rubric: usage: unknown --cvss-version \"4.0\" (want 3.1 or 3.0)\nusage: medwarden rubric [--answers FILE.json] [--format table|json] [--cvss-version 3.1|3.0] [--unknown-impact none|high] (see 'medwarden rubric -h')\n", ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, errOut, code := runCLI(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			if diff := cmp.Diff(tt.wantErr, errOut); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}
