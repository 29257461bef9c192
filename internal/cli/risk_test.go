package cli

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/match"
	"github.com/medwarden/medwarden/internal/risk"
)

var updateRisk = flag.Bool("update-risk", false, "rewrite testdata/risk/golden files")

func riskArgs(format string, extra ...string) []string {
	d := filepath.Join("testdata", "risk")
	args := []string{"risk", "--inventory", filepath.Join(d, "inventory.csv"), "--advisories", filepath.Join(d, "advisories"),
		"--kev", filepath.Join(d, "kev.json"), "--epss", filepath.Join(d, "epss.csv"), "--controls", filepath.Join(d, "controls.json"),
		"--policy", filepath.Join(d, "policy.json"), "--now", "2025-09-01", "--format", format}
	return append(args, extra...)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "risk", "golden", name)
	if *updateRisk {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run TestRisk -update-risk)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// TestRiskVerbEndToEnd runs the whole chain on real CISA advisories: CSAF
// parse, match, KEV/EPSS enrichment, risk, remediation queue.
func TestRiskVerbEndToEnd(t *testing.T) {
	t.Parallel()
	out, stderr, code := runCLI(t, "", riskArgs("json")...)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	golden(t, "risk.json", out)

	var devs []struct {
		AssetID  string        `json:"asset_id"`
		Score    float64       `json:"score"`
		Band     risk.Band     `json:"band"`
		Factors  []risk.Factor `json:"factors"`
		Findings []struct {
			AdvisoryID string  `json:"advisory_id"`
			Score      float64 `json:"score"`
		} `json:"findings"`
		Actions []struct {
			Action string `json:"action"`
			Due    string `json:"due"`
			SLA    string `json:"sla"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(out), &devs); err != nil {
		t.Fatal(err)
	}
	var order []string
	for i, d := range devs {
		order = append(order, d.AssetID)
		if i > 0 && d.Score > devs[i-1].Score {
			t.Errorf("%s (%v) sorted after a lower score %v", d.AssetID, d.Score, devs[i-1].Score)
		}
		if risk.Sum(d.Factors) != d.Score {
			t.Errorf("%s: factors sum to %v, score %v", d.AssetID, risk.Sum(d.Factors), d.Score)
		}
		if len(d.Findings) == 0 || len(d.Actions) == 0 {
			t.Errorf("%s: %d findings, %d actions", d.AssetID, len(d.Findings), len(d.Actions))
		}
	}
	// ICU-VENT-02 runs the fixed 2.2.4 and the badge reader matches no advisory
	want := []string{"TEL-XTR-01", "ICU-VENT-01", "PUMP-8015-01", "PUMP-8000-02", "PUMP-8000-01"}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}
	// BlueKeep (KEV since 2021-11-03, due 2022-05-03) on the telemetry receiver
	tel := devs[0]
	if tel.Band != risk.BandCritical || tel.Actions[0].Action != "patch" || tel.Actions[0].Due != "2022-05-03" || tel.Actions[0].SLA != "overdue" {
		t.Errorf("telemetry receiver: %+v", tel)
	}
	if !strings.Contains(stderr, "5 of 7 devices have findings (1 critical, 0 high, 2 medium, 2 low, 0 info)") {
		t.Errorf("stderr summary missing:\n%s", stderr)
	}

	table, _, code := runCLI(t, "", riskArgs("table")...)
	if code != 0 {
		t.Fatalf("table: exit %d", code)
	}
	golden(t, "risk.txt", table)

	queue, _, code := runCLI(t, "", riskArgs("table", "--view", "queue")...)
	if code != 0 {
		t.Fatalf("queue: exit %d", code)
	}
	golden(t, "queue.txt", queue)
	reg, _, code := runCLI(t, "", riskArgs("json", "--view", "register")...)
	if code != 0 {
		t.Fatalf("register: exit %d", code)
	}
	golden(t, "register.json", reg)
	var r risk.Register
	if err := json.Unmarshal([]byte(reg), &r); err != nil {
		t.Fatal(err)
	}
	if r.Total.Devices != 7 || r.Total.Affected != 5 || r.Total.KEVDevices != 1 || r.Total.MaxScore != devs[0].Score {
		t.Errorf("register total = %+v", r.Total)
	}
}

func TestRiskVerbErrors(t *testing.T) {
	t.Parallel()
	d := filepath.Join("testdata", "risk")
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"devices": {"X": ["firewall"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no_inventory", []string{"risk", "--advisories", d}, 2, "--inventory is required"},
		{"no_advisories", []string{"risk", "--inventory", filepath.Join(d, "inventory.csv")}, 2, "--advisories is required"},
		{"bad_format", riskArgs("csv"), 2, `--format must be json or table, not "csv"`},
		{"bad_view", append(riskArgs("json"), "--view", "fleet"), 2, `--view must be devices, queue or register, not "fleet"`},
		{"bad_now", append(riskArgs("json"), "--now", "yesterday"), 2, `--now must be YYYY-MM-DD`},
		{"bad_controls", append(riskArgs("json"), "--controls", bad), 3, `unknown control "firewall"`},
		{"bad_policy", append(riskArgs("json"), "--policy", filepath.Join(d, "controls.json")), 3, `unknown field "zone_exposure"`},
		{"missing_file", []string{"risk", "--inventory", filepath.Join(d, "nope.csv"), "--advisories", d}, 3, "nope.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, "", tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d containing %q", code, stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestToRiskFinding(t *testing.T) {
	t.Parallel()
	due := "2026-03-23"
	mf := match.Finding{
		AssetID: "A1", AdvisoryID: "ICSMA-X", CVEs: []string{"CVE-2019-0708", "CVE-2024-0001"}, Status: "needs_review",
		ProductID: "P1", Confidence: 0.8, KEV: true, KEVDueDate: &due,
		CVSS:         &match.CVSS{BaseScore: 9.8, Vector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Version: "3.0"},
		EPSS:         &match.EPSS{CVE: "CVE-2019-0708", Score: 0.94, Percentile: 0.999},
		Remediations: []match.Remediation{{Category: "vendor_fix"}, {Category: "mitigation"}, {Category: "vendor_fix"}},
	}
	adv := &advisory.Advisory{ID: "ICSMA-X", Vulnerabilities: []advisory.Vulnerability{
		{CVE: "CVE-2019-0708", Scores: []advisory.Score{{Vector: "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ProductIDs: []string{"P1"}}}},
		{CVE: "CVE-2024-0001", Scores: []advisory.Score{
			{Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N", ProductIDs: []string{"P1", "P2"}},
			{Vector: "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ProductIDs: []string{"P2"}},
		}},
	}}
	kevs := map[string]*kev.Entry{
		"CVE-2019-0708": {CVEID: "CVE-2019-0708", DateAdded: time.Date(2021, 11, 3, 0, 0, 0, 0, time.UTC), DueDate: time.Date(2022, 5, 3, 0, 0, 0, 0, time.UTC), Ransomware: true},
	}
	got := toRiskFinding(mf, adv, kevs)
	want := risk.Finding{
		AdvisoryID: "ICSMA-X", CVEs: mf.CVEs,
		Vectors:   []string{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N"},
		BaseScore: 9.8, KEV: true, KEVCVE: "CVE-2019-0708",
		KEVDateAdded: time.Date(2021, 11, 3, 0, 0, 0, 0, time.UTC), KEVDueDate: time.Date(2022, 5, 3, 0, 0, 0, 0, time.UTC),
		Ransomware: true, EPSS: 0.94, EPSSPercentile: 0.999, Remediations: []string{"vendor_fix", "mitigation"},
		Confidence: 0.8, Status: "needs_review",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("toRiskFinding (-want +got):\n%s", diff)
	}
	// without EPSS or KEV data: EPSS unknown (-1), not zero
	bare := toRiskFinding(match.Finding{AdvisoryID: "B"}, nil, nil)
	if bare.EPSS != -1 || bare.KEV || len(bare.Vectors) != 0 {
		t.Errorf("bare finding = %+v", bare)
	}
}
