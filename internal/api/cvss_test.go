package api_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCVSSGet(t *testing.T) {
	_, ts := newServer(t, 0)
	tests := []struct {
		name      string
		query     string
		wantCode  int
		wantScore float64
		wantSev   string
		wantField string
	}{
		{name: "v31_critical", query: "vector=" + url.QueryEscape("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), wantCode: 200, wantScore: 9.8, wantSev: "Critical"},
		{name: "v40_with_threat", query: "vector=" + url.QueryEscape("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U"), wantCode: 200, wantScore: 8.1, wantSev: "High"},
		{name: "v2_parenthesised", query: "vector=" + url.QueryEscape("(AV:N/AC:L/Au:N/C:P/I:P/A:P)"), wantCode: 200, wantScore: 7.5, wantSev: "High"},
		{name: "bad_metric_value", query: "vector=" + url.QueryEscape("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), wantCode: 400, wantField: "vector.AV"},
		{name: "missing_metric", query: "vector=" + url.QueryEscape("CVSS:3.1/AV:N"), wantCode: 400, wantField: "vector.AC"},
		{name: "garbage", query: "vector=hello", wantCode: 400, wantField: "vector"},
		{name: "no_vector", query: "", wantCode: 400, wantField: "vector"},
		{name: "unknown_param", query: "vec=x", wantCode: 400, wantField: "vec"},
		{name: "repeated", query: "vector=a&vector=b", wantCode: 400, wantField: "vector"},
		{name: "huge", query: "vector=CVSS:3.1/" + strings.Repeat("AV:N/", 1000), wantCode: 400, wantField: "vector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, "GET", ts.URL+"/api/v1/cvss?"+tt.query, "")
			if r.code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", r.code, tt.wantCode, r.raw)
			}
			if tt.wantCode == 200 {
				if r.body["score"] != tt.wantScore || r.body["severity"] != tt.wantSev {
					t.Errorf("score %v %v, want %v %v", r.body["score"], r.body["severity"], tt.wantScore, tt.wantSev)
				}
				for _, k := range []string{"vector", "version", "base_score", "temporal_score", "environmental_score", "score", "severity"} {
					if _, ok := r.body[k]; !ok {
						t.Errorf("field %s missing: %s", k, r.raw)
					}
				}
				return
			}
			if ct := r.hdr.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			if got := problemField(r); got != tt.wantField {
				t.Errorf("error field %q, want %q (%s)", got, tt.wantField, r.raw)
			}
		})
	}
}

// problemField is the field of a problem's first error.
func problemField(r resp) string {
	es, _ := r.body["errors"].([]any)
	if len(es) == 0 {
		return ""
	}
	f, _ := es[0].(map[string]any)["column"].(string)
	return f
}

func TestCVSSPostMatchesCLIContract(t *testing.T) {
	_, ts := newServer(t, 0)
	body := `{"vectors": ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", " CVSS:3.1/AC:L/AV:N/PR:N/UI:N/S:U/C:H/I:H/A:H "]}`
	r := do(t, "POST", ts.URL+"/api/v1/cvss", body, "Content-Type", "application/json")
	if r.code != 200 {
		t.Fatalf("status %d: %s", r.code, r.raw)
	}
	var got struct {
		Results []map[string]any `json:"results"`
		Invalid int              `json:"invalid"`
	}
	if err := json.Unmarshal([]byte(r.raw), &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "version": "3.1", "base_score": 9.8, "temporal_score": 9.8,
			"environmental_score": 9.8, "score": 9.8, "severity": "Critical", "nomenclature": "base"},
		{"vector": "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "metric": "AV",
			"error": `cvss: metric "AV" has invalid value "X" (want one of N, A, L, P)`},
		// a valid 0.0 is shown, not dropped
		{"vector": "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "version": "3.1", "base_score": 0.0, "temporal_score": 0.0,
			"environmental_score": 0.0, "score": 0.0, "severity": "None", "nomenclature": "base"},
		{"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "input": "CVSS:3.1/AC:L/AV:N/PR:N/UI:N/S:U/C:H/I:H/A:H", "version": "3.1",
			"base_score": 9.8, "temporal_score": 9.8, "environmental_score": 9.8, "score": 9.8, "severity": "Critical", "nomenclature": "base"},
	}
	if diff := cmp.Diff(want, got.Results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if got.Invalid != 1 {
		t.Errorf("invalid = %d, want 1", got.Invalid)
	}

	// a bare array works too
	r = do(t, "POST", ts.URL+"/api/v1/cvss", `["CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"]`, "Content-Type", "application/json")
	if r.code != 200 || r.body["invalid"] != 0.0 {
		t.Errorf("bare array: %d %s", r.code, r.raw)
	}
}

func TestCVSSPostRejects(t *testing.T) {
	_, ts := newServer(t, 0)
	many, _ := json.Marshal(map[string]any{"vectors": make([]string, 10001)})
	tests := []struct {
		name, body, ctype string
		wantCode          int
		wantField         string
	}{
		{name: "not_json", body: `vectors please`, wantCode: 400},
		{name: "wrong_type", body: `{"vectors": "CVSS:3.1/AV:N"}`, wantCode: 400, wantField: "vectors"},
		{name: "number_items", body: `{"vectors": [1, 2]}`, wantCode: 400, wantField: "vectors"},
		{name: "unknown_field", body: `{"vectors": [], "format": "csv"}`, wantCode: 400, wantField: "format"},
		{name: "missing", body: `{}`, wantCode: 400, wantField: "vectors"},
		{name: "too_many", body: string(many), wantCode: 400, wantField: "vectors"},
		{name: "empty", body: ``, wantCode: 400},
		{name: "trailing", body: `{"vectors": []} {}`, wantCode: 400},
		{name: "media_type", body: `{"vectors": []}`, ctype: "text/plain", wantCode: 415},
		{name: "too_large", body: `{"vectors": ["` + strings.Repeat("A", 2<<20) + `"]}`, wantCode: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := tt.ctype
			if ct == "" {
				ct = "application/json"
			}
			r := do(t, "POST", ts.URL+"/api/v1/cvss", tt.body, "Content-Type", ct)
			if r.code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", r.code, tt.wantCode, r.raw)
			}
			if r.hdr.Get("Content-Type") != "application/problem+json" {
				t.Errorf("Content-Type %q", r.hdr.Get("Content-Type"))
			}
			if tt.wantField != "" && problemField(r) != tt.wantField {
				t.Errorf("field %q, want %q: %s", problemField(r), tt.wantField, r.raw)
			}
		})
	}
}
