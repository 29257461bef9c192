package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/match"
)

const matchTestdata = "../match/testdata/icsma"

func runMatchCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), append([]string{"medwarden", "match"}, args...), strings.NewReader(""), &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const matchInventory = `asset_id,vendor,model,version
BME-1,Baxter,Welch Allyn Connex Spot Monitor,1.36
BME-2,Welch Allyn,Connex Spot Monitor (CSM),1.60
BME-3,Philips,IntelliVue MX40,B.05.10
BME-4,Philips,IntelliVue MX40,B.06.53
BME-5,Siemens Healthineers,MAGNETOM Vida,XA50
`

func TestMatchCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := writeFile(t, dir, "inventory.csv", matchInventory)
	kevFile := writeFile(t, dir, "kev.json", `{"title":"CISA Catalog of Known Exploited Vulnerabilities","catalogVersion":"2026.01.02",
"dateReleased":"2026-01-02T00:00:00Z","count":1,"vulnerabilities":[{"cveID":"CVE-2024-1275","vendorProject":"Baxter",
"product":"Connex Spot Monitor","vulnerabilityName":"test entry","dateAdded":"2026-01-01","shortDescription":"x",
"requiredAction":"apply updates","dueDate":"2026-01-22","knownRansomwareCampaignUse":"Unknown","notes":""}]}`)
	epssFile := writeFile(t, dir, "epss.csv", "#model_version:v2025.03.14,score_date:2026-01-02T00:00:00Z\ncve,epss,percentile\nCVE-2024-1275,0.00043,0.1234\n")
	code, stdout, stderr := runMatchCLI(t, "--inventory", inv, "--advisories", filepath.Join(matchTestdata, "icsma-24-151-02.json"),
		filepath.Join(matchTestdata, "icsma-17-255-01.json"), "--kev", kevFile, "--epss", epssFile)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var got []match.Finding
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output is not a JSON array of findings: %v\n%s", err, stdout)
	}
	type row struct {
		Asset, Advisory, Status, Method string
		KEV                             bool
		Due                             string
		EPSS                            bool
	}
	var rows []row
	for _, f := range got {
		r := row{f.AssetID, f.AdvisoryID, f.Status, f.Method, f.KEV, "", f.EPSS != nil}
		if f.KEVDueDate != nil {
			r.Due = *f.KEVDueDate
		}
		rows = append(rows, r)
	}
	want := []row{
		{"BME-1", "ICSMA-24-151-02", "known_affected", "model+range", true, "2026-01-22", true},
		{"BME-3", "ICSMA-17-255-01", "known_affected", "model+range", false, "", false},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, s := range []string{"feed KEV", "2026-01-02", "feed EPSS", "feed CSAF: 2 advisories, newest dated"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not mention %q:\n%s", s, stderr)
		}
	}
}

func TestMatchCLIFormatsAndWarnings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := writeFile(t, dir, "inventory.csv", matchInventory)
	adv := filepath.Join(matchTestdata, "icsma-24-151-02.json")

	code, stdout, stderr := runMatchCLI(t, "--inventory", inv, "--advisories", adv, "--format", "csv")
	if code != ExitOK {
		t.Fatalf("csv: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "asset_id,advisory_id,status,") || !strings.HasPrefix(lines[1], "BME-1,ICSMA-24-151-02,known_affected,") {
		t.Errorf("csv output:\n%s", stdout)
	}
	for _, s := range []string{"no KEV data", "kev=false means unknown", "no EPSS data"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("missing feed warning %q in stderr:\n%s", s, stderr)
		}
	}
	code, stdout, _ = runMatchCLI(t, "--inventory", inv, "--advisories", adv, "--format", "table")
	if code != ExitOK || !strings.Contains(stdout, "BME-1") || !strings.Contains(stdout, "ICSMA-24-151-02") {
		t.Errorf("table: exit %d\n%s", code, stdout)
	}
	// no findings: an empty JSON array, exit 0
	none := writeFile(t, dir, "none.csv", "asset_id,vendor,model,version\nX-1,Acme,Nothing,1.0\n")
	code, stdout, _ = runMatchCLI(t, "--inventory", none, "--advisories", matchTestdata)
	if code != ExitOK || strings.TrimSpace(stdout) != "[]" {
		t.Errorf("no findings: exit %d, stdout %q", code, stdout)
	}
}

func TestMatchCLIInvalidAdvisoryWarns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := writeFile(t, dir, "inventory.csv", matchInventory)
	bad := filepath.Join("..", "advisory", "csaf", "testdata", "oasis", "mandatory", "oasis_csaf_tc-csaf_2_0-2021-6-1-02-01.json")
	code, stdout, stderr := runMatchCLI(t, "--inventory", inv, "--advisories", bad)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "oasis_csaf_tc-csaf_2_0-2021-6-1-02-01.json fails CSAF validation (tests 6.1.2)") {
		t.Errorf("no validation warning naming the file and test:\n%s", stderr)
	}
	if strings.TrimSpace(stdout) != "[]" {
		t.Errorf("stdout = %q, want []", stdout)
	}
}

func TestMatchCLIErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inv := writeFile(t, dir, "inventory.csv", matchInventory)
	notCSAF := writeFile(t, dir, "broken.json", "{not json")
	noID := writeFile(t, dir, "noid.json", `{"document":{"category":"csaf_base"}}`)
	badKEV := writeFile(t, dir, "kev.json", `{"title":"x"}`)
	adv := filepath.Join(matchTestdata, "icsma-24-151-02.json")
	emptyDir := filepath.Join(dir, "empty")
	if err := os.Mkdir(emptyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no_inventory", []string{"--advisories", adv}, ExitUsage, "--inventory is required"},
		{"no_advisories", []string{"--inventory", inv}, ExitUsage, "--advisories is required"},
		{"bad_format", []string{"--inventory", inv, "--advisories", adv, "--format", "xml"}, ExitUsage, "--format"},
		{"missing_inventory", []string{"--inventory", filepath.Join(dir, "nope.csv"), "--advisories", adv}, ExitBadInput, "nope.csv"},
		{"missing_advisory", []string{"--inventory", inv, "--advisories", filepath.Join(dir, "nope.json")}, ExitBadInput, "nope.json"},
		{"not_csaf", []string{"--inventory", inv, "--advisories", adv, notCSAF}, ExitBadInput, "broken.json"},
		{"no_tracking_id", []string{"--inventory", inv, "--advisories", noID}, ExitBadInput, "noid.json"},
		{"bad_kev", []string{"--inventory", inv, "--advisories", adv, "--kev", badKEV}, ExitBadInput, "kev.json"},
		{"empty_advisory_dir", []string{"--inventory", inv, "--advisories", emptyDir}, ExitBadInput, "no CSAF advisory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runMatchCLI(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d (want %d), stderr %q (want it to contain %q)", code, tt.wantCode, stderr, tt.wantErr)
			}
		})
	}
}
