package rubric

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medwarden/medwarden/internal/cvss"
)

func mustDefault(t testing.TB) *Rubric {
	t.Helper()
	r, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The two worked examples of the MITRE calculator workbook (Details and
// Summary sheets), "Test" and "Test2".
var (
	workbookTest = Answers{
		"XAVN": "YES", "XAVT": "YES", "XACL": "YES", "XPRL": "YES", "XPRZ": "YES", "XPRS": "YES", "XUI": "YES", "XS": "YES",
		"XCP": "YES", "XCPM": "NO", "XIP": "HIGH", "XAP": "LOW",
		"XCD": "HIGH", "XID": "LOW", "XAD": "LOW",
		"XCT": "HIGH", "XIT": "LOW", "XAT": "NONE",
		"XCW": "HIGH", "XIW": "LOW", "XAW": "NONE",
		"XCS": "LOW", "XIS": "LOW", "XAS": "NONE",
		"XCO": "LOW", "XIO": "NONE", "XAO": "NONE",
	}
	workbookTest2 = Answers{
		"XAVN": "YES", "XAVT": "NO", "XAVW": "NO", "XACL": "YES", "XPRL": "NO", "XUI": "YES", "XS": "YES",
		"XCP": "YES", "XCPM": "YES", "XIP": "LOW", "XAP": "HIGH",
		"XCD": "HIGH", "XID": "LOW", "XAD": "HIGH",
		"XCT": "HIGH", "XIT": "LOW", "XAT": "HIGH",
		"XCW": "LOW", "XIW": "LOW", "XAW": "HIGH",
		"XCS": "HIGH", "XIS": "LOW", "XAS": "NONE",
		"XCO": "HIGH", "XIO": "LOW", "XAO": "LOW",
	}
)

// with returns base with the given answers changed (value "" deletes).
func with(base Answers, kv ...string) Answers {
	out := Answers{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// allNone answers every impact question NONE/NO and the exploitability
// questions for a network, low-complexity, no-privilege vulnerability.
var allNone = Answers{
	"XAVN": "YES", "XAVT": "YES", "XACL": "YES", "XPRL": "NO", "XUI": "NO", "XS": "NO",
	"XCP": "NO", "XIP": "NONE", "XAP": "NONE", "XCD": "NONE", "XID": "NONE", "XAD": "NONE",
	"XCT": "NONE", "XIT": "NONE", "XAT": "NONE", "XCW": "NONE", "XIW": "NONE", "XAW": "NONE",
	"XCS": "NONE", "XIS": "NONE", "XAS": "NONE", "XCO": "NONE", "XIO": "NONE", "XAO": "NONE",
}

func TestEvaluateVectors(t *testing.T) {
	t.Parallel()
	r := mustDefault(t)
	tests := []struct {
		name      string
		answers   Answers
		opt       Options
		want      string
		wantScore float64
		missing   []string
		ignored   []string
	}{
		{name: "workbook_test_v30", answers: workbookTest, opt: Options{Version: cvss.V30},
			want: "CVSS:3.0/AV:N/AC:L/PR:H/UI:R/S:C/C:H/I:H/A:L", wantScore: 8.3},
		{name: "workbook_test2_v30", answers: workbookTest2, opt: Options{Version: cvss.V30},
			want: "CVSS:3.0/AV:A/AC:L/PR:N/UI:R/S:C/C:H/I:L/A:H", wantScore: 8.7},
		{name: "workbook_test_v31_default", answers: workbookTest,
			want: "CVSS:3.1/AV:N/AC:L/PR:H/UI:R/S:C/C:H/I:H/A:L", wantScore: 8.3},
		{name: "workbook_test2_v31", answers: workbookTest2, opt: Options{Version: cvss.V31},
			want: "CVSS:3.1/AV:A/AC:L/PR:N/UI:R/S:C/C:H/I:L/A:H", wantScore: 8.7},
		{name: "no_impact_scores_zero", answers: allNone,
			want: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", wantScore: 0},
		{name: "bluetooth_short_range_is_local", answers: with(allNone, "XAVT", "NO", "XAVW", "YES", "XAVR", "YES", "XID", "HIGH"),
			want: "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", wantScore: 6.2},
		{name: "wireless_long_range_is_adjacent", answers: with(allNone, "XAVT", "NO", "XAVW", "YES", "XAVR", "NO", "XAT", "HIGH"),
			want: "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", wantScore: 6.5},
		{name: "wireless_unknown_is_adjacent", answers: with(allNone, "XAVT", "NO", "XAVW", "UNKNOWN", "XCS", "LOW"),
			want: "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", wantScore: 4.3},
		{name: "network_unknown_is_network", answers: with(allNone, "XAVN", "UNKNOWN", "XAVT", "", "XCP", "YES"),
			want: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", wantScore: 7.5},
		{name: "no_network_no_physical_is_local", answers: with(allNone, "XAVN", "NO", "XAVT", "", "XAVP", "NO", "XIT", "HIGH"),
			want: "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", wantScore: 6.2},
		{name: "physical_contact_not_via_ui_is_physical", answers: with(allNone, "XAVN", "NO", "XAVT", "", "XAVP", "YES", "XAVPA", "NO", "XIT", "HIGH"),
			want: "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", wantScore: 4.6},
		{name: "physical_contact_via_user_interface_is_local", answers: with(allNone, "XAVN", "NO", "XAVT", "", "XAVP", "YES", "XAVPA", "YES", "XIT", "HIGH"),
			want: "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", wantScore: 6.2},
		{name: "special_conditions_high_complexity", answers: with(allNone, "XACL", "NO", "XAD", "HIGH"),
			want: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", wantScore: 5.9},
		{name: "login_without_authorization_is_pr_none", answers: with(allNone, "XPRL", "YES", "XPRZ", "NO", "XAD", "HIGH"),
			want: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", wantScore: 7.5},
		{name: "user_level_privileges_is_pr_low", answers: with(allNone, "XPRL", "YES", "XPRZ", "YES", "XPRS", "NO", "XAD", "HIGH"),
			want: "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", wantScore: 6.5},
		{name: "privilege_level_unknown_is_pr_none", answers: with(allNone, "XPRL", "YES", "XPRZ", "YES", "XPRS", "UNKNOWN", "XAD", "HIGH"),
			want: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", wantScore: 7.5},
		{name: "scope_and_ui_unknown", answers: with(allNone, "XS", "UNKNOWN", "XUI", "UNKNOWN", "XIW", "LOW"),
			want: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:L/A:N", wantScore: 5.8},
		{
			// The workbook's A formula tests XIO instead of XAT in its LOW
			// branch; the rubric's rule (any category LOW) is applied here.
			name: "therapy_availability_low_counts", answers: with(allNone, "XAT", "LOW"),
			want: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", wantScore: 5.3,
		},
		{name: "other_integrity_low_does_not_set_availability", answers: with(allNone, "XIO", "LOW"),
			want: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N", wantScore: 5.3},
		{name: "unknown_impact_counts_none_by_default", answers: with(allNone, "XIT", "UNKNOWN", "XAD", "LOW"),
			want: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", wantScore: 5.3},
		{name: "unknown_impact_high_option", answers: with(allNone, "XIT", "UNKNOWN", "XAD", "LOW"), opt: Options{UnknownImpactHigh: true},
			want: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:L", wantScore: 8.2},
		{name: "phi_readable_unknown_option", answers: with(allNone, "XCP", "UNKNOWN"), opt: Options{UnknownImpactHigh: true},
			want: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", wantScore: 7.5},
		{name: "high_impact_settles_metric_before_all_answered", answers: with(allNone, "XCD", "HIGH", "XCT", "", "XCW", "", "XCS", "", "XCO", ""),
			want: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", wantScore: 7.5},
		{name: "off_path_answers_are_ignored", answers: with(workbookTest, "XAVW", "YES", "XAVP", "NO"),
			want: "CVSS:3.1/AV:N/AC:L/PR:H/UI:R/S:C/C:H/I:H/A:L", wantScore: 8.3, ignored: []string{"XAVW", "XAVP"}},
		{name: "incomplete_reports_missing", answers: Answers{"XAVN": "YES", "XCD": "LOW"},
			missing: []string{"XAVT", "XACL", "XPRL", "XUI", "XS", "XCP", "XIP", "XAP", "XID", "XAD", "XCT", "XIT", "XAT", "XCW", "XIW", "XAW", "XCS", "XIS", "XAS", "XCO", "XIO", "XAO"}},
		{name: "downstream_answer_is_pending_not_ignored", answers: with(allNone, "XAVN", "", "XAVT", "YES"),
			missing: []string{"XAVN"}},
		{name: "lower_case_answers_accepted", answers: with(allNone, "xavn", "yes", "XAVN", "", "XCP", " yes "),
			want: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", wantScore: 7.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := r.Evaluate(tt.answers, tt.opt)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			got := struct {
				Vector  string
				Score   float64
				Missing []string
				Ignored []string
			}{res.Vector, -1, res.Missing, res.Ignored}
			if res.BaseScore != nil {
				got.Score = *res.BaseScore
			}
			want := got
			want.Vector, want.Missing, want.Ignored = tt.want, tt.missing, tt.ignored
			want.Score = -1
			if tt.want != "" {
				want.Score = tt.wantScore
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
			if res.Complete != (tt.want != "") {
				t.Errorf("Complete = %v, want %v", res.Complete, tt.want != "")
			}
		})
	}
}

func TestEvaluateRationale(t *testing.T) {
	t.Parallel()
	r := mustDefault(t)
	res, err := r.Evaluate(workbookTest2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	type brief struct {
		Metric, Value string
		Steps         []string
		Notes         int
	}
	var got []brief
	for _, m := range res.Metrics {
		b := brief{Metric: m.Metric, Value: m.Value, Notes: len(m.Notes)}
		for _, s := range m.Rationale {
			b.Steps = append(b.Steps, s.Question+"="+s.Answer)
		}
		got = append(got, b)
	}
	want := []brief{
		{"AV", "A", []string{"XAVN=YES", "XAVT=NO", "XAVW=NO"}, 0},
		{"AC", "L", []string{"XACL=YES"}, 0},
		{"PR", "N", []string{"XPRL=NO"}, 0},
		{"UI", "R", []string{"XUI=YES"}, 0},
		{"S", "C", []string{"XS=YES"}, 0},
		{"C", "H", []string{"XCP=YES", "XCPM=YES", "XCD=HIGH", "XCT=HIGH", "XCS=HIGH", "XCO=HIGH"}, 1},
		{"I", "L", []string{"XIP=LOW", "XID=LOW", "XIT=LOW", "XIW=LOW", "XIS=LOW", "XIO=LOW"}, 0},
		{"A", "H", []string{"XAP=HIGH", "XAD=HIGH", "XAT=HIGH", "XAW=HIGH"}, 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rationale (-want +got):\n%s", diff)
	}
	if s := res.Metrics[0].Rationale[2]; s.Number != "Q3" || !strings.Contains(s.Text, "wireless") {
		t.Errorf("AV step 3 = %+v, want Q3 about a wireless channel", s)
	}
}

func TestEvaluateErrors(t *testing.T) {
	t.Parallel()
	r := mustDefault(t)
	tests := []struct {
		name    string
		answers Answers
		opt     Options
		wantErr error
		wantMsg string
	}{
		{"unknown_question", Answers{"XAVQ": "YES"}, Options{}, ErrUnknownQuestion, `rubric: question "XAVQ": unknown question`},
		{"answer_not_in_set", Answers{"XAVR": "UNKNOWN"}, Options{}, ErrInvalidAnswer, `rubric: question "XAVR": invalid answer "UNKNOWN" (want one of YES, NO)`},
		{"yes_for_level_question", Answers{"XIP": "YES"}, Options{}, ErrInvalidAnswer, `rubric: question "XIP": invalid answer "YES" (want one of HIGH, LOW, NONE, UNKNOWN)`},
		{"v4_not_supported", Answers{}, Options{Version: cvss.V40}, nil, "rubric: CVSS version 4.0 not supported (want 3.0 or 3.1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := r.Evaluate(tt.answers, tt.opt)
			if err == nil {
				t.Fatal("Evaluate: no error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v is not %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantMsg, err.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNextWalksQuestionnaire answers the guided questionnaire from a full
// answer set and checks the order of the questions asked.
func TestNextWalksQuestionnaire(t *testing.T) {
	t.Parallel()
	r := mustDefault(t)
	tests := []struct {
		name string
		full Answers
		want []string
	}{
		{"workbook_test2", workbookTest2, []string{"XAVN", "XAVT", "XAVW", "XACL", "XPRL", "XUI", "XS",
			"XCP", "XCPM", "XIP", "XAP", "XCD", "XID", "XAD", "XCT", "XIT", "XAT", "XCW", "XIW", "XAW", "XCS", "XIS", "XAS", "XCO", "XIO", "XAO"}},
		{"physical_path_no_phi", with(allNone, "XAVN", "NO", "XAVT", "", "XAVP", "YES", "XAVPA", "NO", "XPRL", "YES", "XPRZ", "YES", "XPRS", "YES"),
			[]string{"XAVN", "XAVP", "XAVPA", "XACL", "XPRL", "XPRZ", "XPRS", "XUI", "XS",
				"XCP", "XIP", "XAP", "XCD", "XID", "XAD", "XCT", "XIT", "XAT", "XCW", "XIW", "XAW", "XCS", "XIS", "XAS", "XCO", "XIO", "XAO"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := []string{}
			a := Answers{}
			for range 100 {
				q, ok := r.Next(a)
				if !ok {
					break
				}
				ans, ok := tt.full[q.ID]
				if !ok {
					t.Fatalf("Next asked %s, which the answer set does not answer", q.ID)
				}
				got = append(got, q.ID)
				a[q.ID] = ans
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("questions asked (-want +got):\n%s", diff)
			}
			res, err := r.Evaluate(a, Options{})
			if err != nil || !res.Complete {
				t.Errorf("after the questionnaire: complete=%v err=%v missing=%v", res.Complete, err, res.Missing)
			}
		})
	}
}

func TestEmbeddedRubric(t *testing.T) {
	t.Parallel()
	r := mustDefault(t)
	if got := len(r.Questions()); got != 31 {
		t.Errorf("%d questions, want 31", got)
	}
	if _, err := load([]byte(`{"questions":[{"id":"X","metric":"ZZ"}]}`)); err == nil {
		t.Error("load accepted a question with an unknown metric")
	}
	bad := strings.Replace(string(rubricJSON), `"next": "XAVR"`, `"next": "XNOPE"`, 1)
	if _, err := load([]byte(bad)); err == nil || !strings.Contains(err.Error(), `next "XNOPE" has no node`) {
		t.Errorf("load of a tree with a dangling next: err = %v", err)
	}
}

func TestParseAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    Answers
		wantErr string
	}{
		{"bare", `{"XAVN":"YES","XACL":"NO"}`, Answers{"XAVN": "YES", "XACL": "NO"}, ""},
		{"wrapped", `{"name":"pump","answers":{"XAVN":"YES"}}`, Answers{"XAVN": "YES"}, ""},
		{"not_object", `["XAVN"]`, nil, "rubric: answers.json: want a JSON object of question id to answer: json: cannot unmarshal array into Go value of type map[string]json.RawMessage"},
		{"non_string", `{"XAVN":true}`, nil, "rubric: answers.json: answers must be strings keyed by question id: json: cannot unmarshal bool into Go value of type string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAnswers(strings.NewReader(tt.in), "answers.json")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseAnswers(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"answers":{"XAVN":"maybe"}}`))
	r := mustDefault(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAnswers(strings.NewReader(string(b)), "fuzz.json")
		if err != nil {
			return
		}
		res, err := r.Evaluate(a, Options{})
		if err != nil {
			return
		}
		if res.Complete != (len(res.Missing) == 0) {
			t.Fatalf("Complete = %v with missing %v", res.Complete, res.Missing)
		}
		if res.Complete {
			if _, err := cvss.Parse(res.Vector); err != nil {
				t.Fatalf("vector %q: %v", res.Vector, err)
			}
		}
		r.Next(a)
	})
}

// TestWorkbookExamples evaluates the answer files in testdata, which carry
// the workbook's expected CVSS v3.0 vector and base score.
func TestWorkbookExamples(t *testing.T) {
	t.Parallel()
	r := mustDefault(t)
	files, err := filepath.Glob(filepath.Join("testdata", "workbook-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/workbook-*.json (%v)", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var ex struct {
			Vector string  `json:"expected_vector"`
			Score  float64 `json:"expected_base_score"`
		}
		if err := json.Unmarshal(b, &ex); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		a, err := ParseAnswers(bytes.NewReader(b), p)
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Evaluate(a, Options{Version: cvss.V30})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if res.Vector != ex.Vector || res.BaseScore == nil || *res.BaseScore != ex.Score {
			t.Errorf("%s: got %s %v, want %s %v", p, res.Vector, res.BaseScore, ex.Vector, ex.Score)
		}
	}
}
