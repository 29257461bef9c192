package csaf

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mutate decodes the minimal document, lets f change it and re-encodes it.
func mutate(t *testing.T, f func(d map[string]any)) []byte {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(doc(""), &d); err != nil {
		t.Fatal(err)
	}
	f(d)
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func j(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(err)
	}
	return v
}

func docMeta(d map[string]any) map[string]any { return d["document"].(map[string]any) }
func tracking(d map[string]any) map[string]any {
	return docMeta(d)["tracking"].(map[string]any)
}

const productA = `{"full_product_names":[{"name":"Product A","product_id":"A"},{"name":"Product B","product_id":"B"},{"name":"Product C","product_id":"C"}],
  "product_groups":[{"group_id":"G","product_ids":["A","B"]}]}`

// TestMandatorySpecExamples runs the failing examples of CSAF 2.0 section
// 6.1 (and passing neighbours) for the tests whose OASIS suite cases are
// not all in this repository; each case lists the mandatory findings.
func TestMandatorySpecExamples(t *testing.T) {
	t.Parallel()
	v := newTestValidator(t)
	revs := func(d map[string]any, status, version, hist string) {
		tr := tracking(d)
		tr["status"], tr["version"], tr["revision_history"] = status, version, j(hist)
	}
	tests := []struct {
		name string
		mod  func(d map[string]any)
		want []string // "test path"
	}{
		{"6.1.12_region_as_language", func(d map[string]any) { docMeta(d)["lang"] = "EZ" }, []string{"6.1.12 /document/lang"}},
		{"6.1.12_valid_language", func(d map[string]any) { docMeta(d)["lang"] = "de-AT" }, nil},
		{"6.1.13_purl_without_name", func(d map[string]any) {
			d["product_tree"] = j(`{"full_product_names":[{"name":"A","product_id":"A","product_identification_helper":{"purl":"pkg:maven/@1.3.4"}}]}`)
		}, []string{"6.1.13 /product_tree/full_product_names/0/product_identification_helper/purl"}},
		{"6.1.16_latest_version", func(d map[string]any) {
			revs(d, "final", "1", `[{"date":"2021-07-21T09:00:00.000Z","number":"1","summary":"a"},{"date":"2021-07-21T10:00:00.000Z","number":"2","summary":"b"}]`)
		}, []string{"6.1.16 /document/tracking/version"}},
		{"6.1.16_draft_prerelease_ignored", func(d map[string]any) {
			revs(d, "draft", "1.0.0-rc.2", `[{"date":"2021-07-21T09:00:00.000Z","number":"1.0.0","summary":"a"}]`)
		}, nil},
		{"6.1.17_final_0_9_5", func(d map[string]any) {
			revs(d, "final", "0.9.5", `[{"date":"2021-07-21T09:00:00.000Z","number":"0.9.5","summary":"a"}]`)
		}, []string{"6.1.17 /document/tracking/status", "6.1.18 /document/tracking/revision_history/0/number"}},
		{"6.1.18_released_history_with_0", func(d map[string]any) {
			revs(d, "final", "1", `[{"date":"2021-05-17T10:00:00.000Z","number":"0","summary":"draft"},{"date":"2021-07-21T10:00:00.000Z","number":"1","summary":"a"}]`)
		}, []string{"6.1.18 /document/tracking/revision_history/0/number"}},
		{"6.1.20_interim_alpha", func(d map[string]any) {
			revs(d, "interim", "1.0.0-alpha", `[{"date":"2021-07-21T09:00:00.000Z","number":"1.0.0","summary":"a"}]`)
		}, []string{"6.1.16 /document/tracking/version", "6.1.17 /document/tracking/status", "6.1.20 /document/tracking/version"}},
		{"6.1.21_intver_1_3_2_by_date", func(d map[string]any) {
			revs(d, "final", "2", `[{"date":"2026-03-01T11:00:00.000Z","number":"1","summary":"a"},{"date":"2026-03-02T11:00:00.000Z","number":"3","summary":"b"},{"date":"2026-03-03T11:00:00.000Z","number":"2","summary":"c"}]`)
		}, []string{"6.1.14 /document/tracking/revision_history/2/number", "6.1.21 /document/tracking/revision_history/1/number"}},
		{"6.1.22_same_number_twice", func(d map[string]any) {
			revs(d, "final", "1", `[{"date":"2021-07-20T10:00:00.000Z","number":"1","summary":"a"},{"date":"2021-07-21T10:00:00.000Z","number":"1","summary":"b"}]`)
		}, []string{"6.1.22 /document/tracking/revision_history/1/number"}},
		{"6.1.23_same_cve", func(d map[string]any) {
			d["vulnerabilities"] = j(`[{"cve":"CVE-2017-0145"},{"cve":"CVE-2017-0145"}]`)
		}, []string{"6.1.23 /vulnerabilities/1/cve"}},
		{"6.1.24_same_party_and_date", func(d map[string]any) {
			d["vulnerabilities"] = j(`[{"involvements":[{"date":"2021-04-23T10:00:00.000Z","party":"vendor","status":"completed"},{"date":"2021-04-23T10:00:00Z","party":"vendor","status":"in_progress"}]}]`)
		}, []string{"6.1.24 /vulnerabilities/0/involvements/1"}},
		{"6.1.25_sha256_twice", func(d map[string]any) {
			d["product_tree"] = j(`{"full_product_names":[{"name":"A","product_id":"A","product_identification_helper":{"hashes":[{"filename":"a.so","file_hashes":[
			  {"algorithm":"sha256","value":"026a37919b182ef7c63791e82c9645e2f897a3f0b73c7a6028c7febf62e93838"},
			  {"algorithm":"sha256","value":"0a853ce2337f0608489ac596a308dc5b7b19d35a52b10bf31261586ac368b175"}]}]}}]}`)
		}, []string{"6.1.25 /product_tree/full_product_names/0/product_identification_helper/hashes/0/file_hashes/1/algorithm"}},
		{"6.1.26_profile_name_variant", func(d map[string]any) { docMeta(d)["category"] = "Security_Incident_Response" }, []string{"6.1.26 /document/category"}},
		{"6.1.26_reserved_prefix", func(d map[string]any) { docMeta(d)["category"] = "Csaf_a" }, []string{"6.1.26 /document/category"}},
		{"6.1.26_free_category", func(d map[string]any) { docMeta(d)["category"] = "medical_device_notice" }, nil},
		{"6.1.27.3_informational_with_vulnerabilities", func(d map[string]any) {
			m := docMeta(d)
			m["category"] = CategoryInformationalAdvisory
			m["notes"] = j(`[{"category":"summary","text":"x"}]`)
			m["references"] = j(`[{"category":"external","summary":"x","url":"https://example.com"}]`)
			d["vulnerabilities"] = j(`[{"title":"A vulnerability item that SHALL NOT exist"}]`)
		}, []string{"6.1.27.3 /vulnerabilities"}},
		{"6.1.27.6_security_advisory_without_status", func(d map[string]any) {
			docMeta(d)["category"] = CategorySecurityAdvisory
			d["product_tree"] = j(productA)
			d["vulnerabilities"] = j(`[{"title":"no status","notes":[{"category":"summary","text":"x"}]}]`)
		}, []string{"6.1.27.6 /vulnerabilities/0/product_status"}},
		{"6.1.27.9_and_10_vex_statements", func(d map[string]any) {
			docMeta(d)["category"] = CategoryVEX
			d["product_tree"] = j(productA)
			d["vulnerabilities"] = j(`[{"cve":"CVE-2024-0001","notes":[{"category":"summary","text":"x"}],
			  "product_status":{"known_not_affected":["A","B","C"]},
			  "threats":[{"category":"impact","details":"not present","group_ids":["G"]}]},
			 {"cve":"CVE-2024-0002","notes":[{"category":"summary","text":"x"}],
			  "product_status":{"known_affected":["A","B","C"]},
			  "remediations":[{"category":"no_fix_planned","details":"EOL","group_ids":["G"]}]}]`)
		}, []string{"6.1.27.9 /vulnerabilities/0/product_status/known_not_affected/2", "6.1.27.10 /vulnerabilities/1/product_status/known_affected/2"}},
		{"6.1.28_same_language", func(d map[string]any) { docMeta(d)["lang"], docMeta(d)["source_lang"] = "en-US", "en-US" }, []string{"6.1.28 /document/source_lang"}},
		{"6.1.29_and_32_no_products", func(d map[string]any) {
			d["vulnerabilities"] = j(`[{"remediations":[{"category":"no_fix_planned","details":"EOL"}],"flags":[{"label":"component_not_present"}]}]`)
		}, []string{"6.1.29 /vulnerabilities/0/remediations/0", "6.1.32 /vulnerabilities/0/flags/0"}},
		{"6.1.33_flag_direct_and_via_group", func(d map[string]any) {
			d["product_tree"] = j(productA)
			d["vulnerabilities"] = j(`[{"product_status":{"known_not_affected":["A","B"]},"flags":[
			  {"label":"component_not_present","group_ids":["G"]},{"label":"vulnerable_code_cannot_be_controlled_by_adversary","product_ids":["A"]}]}]`)
		}, []string{"6.1.33 /vulnerabilities/0/flags/1"}},
		{"6.1.7_two_v3_1_scores", func(d map[string]any) {
			d["product_tree"] = j(productA)
			d["vulnerabilities"] = j(`[{"scores":[
			  {"products":["A"],"cvss_v3":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H","baseScore":10,"baseSeverity":"CRITICAL"}},
			  {"products":["A"],"cvss_v3":{"version":"3.1","vectorString":"CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H","baseScore":6.5,"baseSeverity":"MEDIUM"}}]}]`)
		}, []string{"6.1.7 /vulnerabilities/0/scores/1/products/0"}},
		{"6.1.8_and_9_cvss", func(d map[string]any) {
			d["product_tree"] = j(productA)
			d["vulnerabilities"] = j(`[{"scores":[
			  {"products":["A"],"cvss_v3":{"version":"3.1","vectorString":"CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H","baseScore":10.0,"baseSeverity":"LOW"}},
			  {"products":["B"],"cvss_v2":{"version":"2.0","vectorString":"AV:N/AC:L/Au:N/C:C/I:C/A:C","baseScore":10.0,"temporalScore":9.0,"environmentalScore":10.0}}]}]`)
		}, []string{"6.1.9 /vulnerabilities/0/scores/0/cvss_v3/baseScore", "6.1.9 /vulnerabilities/0/scores/0/cvss_v3/baseSeverity", "6.1.9 /vulnerabilities/0/scores/1/cvss_v2/temporalScore"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := v.ParseBytes(mutate(t, tt.mod), tt.name)
			var got []string
			for _, e := range rep.Errors {
				got = append(got, e.Test+" "+e.Path)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nall: %v", diff, rep.Errors)
			}
		})
	}
}
