package api_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestRubricQuestionnaire(t *testing.T) {
	_, ts := newServer(t, 0)
	r := do(t, "GET", ts.URL+"/api/v1/rubric", "")
	if r.code != 200 {
		t.Fatalf("GET rubric: %d %s", r.code, r.raw)
	}
	if qs, _ := r.body["questions"].([]any); len(qs) < 20 {
		t.Errorf("%d questions", len(qs))
	}
	if first, _ := r.body["first"].(map[string]any); first["id"] != "XAVN" {
		t.Errorf("first question %v, want XAVN", r.body["first"])
	}

	// Guided: start from {} and answer whatever "next" asks, with the
	// workbook example's answers; the result is the workbook's vector.
	var ex struct {
		Vector  string            `json:"expected_vector"`
		Score   float64           `json:"expected_base_score"`
		Answers map[string]string `json:"answers"`
	}
	b, err := os.ReadFile("../rubric/testdata/workbook-test.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{}
	for step := 0; ; step++ {
		if step > 40 {
			t.Fatal("questionnaire did not finish in 40 steps")
		}
		body, _ := json.Marshal(map[string]any{"answers": answers, "cvss_version": "3.0"})
		r = do(t, "POST", ts.URL+"/api/v1/rubric", string(body), "Content-Type", "application/json")
		if r.code != 200 {
			t.Fatalf("step %d: %d %s", step, r.code, r.raw)
		}
		next, ok := r.body["next"].(map[string]any)
		if !ok {
			break
		}
		if r.body["complete"] != false {
			t.Fatalf("step %d: complete with a next question: %s", step, r.raw)
		}
		id := next["id"].(string)
		a, ok := ex.Answers[id]
		if !ok {
			t.Fatalf("step %d: asked %s, which the example does not answer", step, id)
		}
		answers[strings.ToLower(id)] = strings.ToLower(a) // ids and answers are normalised
	}
	if r.body["complete"] != true || r.body["vector"] != ex.Vector || r.body["base_score"] != ex.Score {
		t.Errorf("result %v %v %v, want %s %v", r.body["complete"], r.body["vector"], r.body["base_score"], ex.Vector, ex.Score)
	}
	if ms, _ := r.body["metrics"].([]any); len(ms) != 8 {
		t.Errorf("%d metrics with rationale, want 8", len(ms))
	} else if rat := ms[0].(map[string]any)["rationale"].([]any); len(rat) == 0 {
		t.Errorf("AV has no rationale")
	}
	if a, _ := r.body["answers"].(map[string]any); a["XAVN"] != "YES" {
		t.Errorf("answers not normalised: %v", r.body["answers"])
	}
}

func TestRubricRejects(t *testing.T) {
	_, ts := newServer(t, 0)
	tests := []struct {
		name, body string
		wantField  string
	}{
		{name: "unknown_question", body: `{"answers": {"XAVN": "YES", "XNOPE": "YES"}}`, wantField: "answers.XNOPE"},
		{name: "invalid_answer", body: `{"answers": {"XAVN": "MAYBE"}}`, wantField: "answers.XAVN"},
		{name: "answer_not_string", body: `{"answers": {"XAVN": true}}`, wantField: "answers"},
		{name: "no_answers", body: `{}`, wantField: "answers"},
		{name: "bad_version", body: `{"answers": {}, "cvss_version": "4.0"}`, wantField: "cvss_version"},
		{name: "bad_unknown_impact", body: `{"answers": {}, "unknown_impact": "medium"}`, wantField: "unknown_impact"},
		{name: "unknown_field", body: `{"answers": {}, "vector": "x"}`, wantField: "vector"},
		{name: "array", body: `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, "POST", ts.URL+"/api/v1/rubric", tt.body, "Content-Type", "application/json")
			if r.code != 400 || r.hdr.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d %q, want 400 problem: %s", r.code, r.hdr.Get("Content-Type"), r.raw)
			}
			if tt.wantField != "" && problemField(r) != tt.wantField {
				t.Errorf("field %q, want %q: %s", problemField(r), tt.wantField, r.raw)
			}
		})
	}
}
