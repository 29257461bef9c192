package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/sbom"
)

const sbomsTestdata = "../sboms/testdata"

func TestSBOMAttachListDiffExport(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	nvdDir := filepath.Join(sbomsTestdata, "nvd")
	osvDir := filepath.Join(sbomsTestdata, "osv")
	if code, out, errs := run(t, "feeds", "import", "--data", data, "--nvd", nvdDir); code != 0 {
		t.Fatalf("feeds import --nvd: %d %s %s", code, out, errs)
	}
	// OSV records are a stored feed (one record per file here; osv.dev's all.zip works the same).
	if code, out, errs := run(t, "feeds", "import", "--data", data, filepath.Join(osvDir, "GHSA-35jh-r3h4-6jhm.json"), filepath.Join(osvDir, "GHSA-jfh8-c2jp-5v3q.json")); code != 0 {
		t.Fatalf("feeds import (OSV): %d %s %s", code, out, errs)
	}
	v1 := filepath.Join(sbomsTestdata, "pump-v1.cdx.json")
	v2 := filepath.Join(sbomsTestdata, "pump-v2.cdx.json")
	model := []string{"--vendor", "Baxter", "--model", "Sigma Spectrum", "--version", "8.0"}
	attach := func(file string, extra ...string) (int, string, string) {
		return run(t, append(append(append([]string{"sbom", "attach", "--data", data}, model...), extra...), file)...)
	}
	code, out, errs := attach(v1, "--note", "vendor portal, January")
	if code != 0 || !strings.Contains(out, "attached SBOM 1: version 1 of Baxter Sigma Spectrum 8.0 (cyclonedx-json 1.5, 7 components") ||
		!strings.Contains(out, "vulnerabilities: 5 open, 0 suppressed by VEX, 0 need review; matched against 3 NVD CVE records (CPE, and name aliases for firmware/OS/RTOS), 2 OSV records (PURL)") {
		t.Fatalf("attach v1: %d %q %q", code, out, errs)
	}
	if code, out, _ := attach(v1); code != 0 || !strings.Contains(out, "unchanged:") || !strings.Contains(out, "is already SBOM 1 (version 1") {
		t.Fatalf("attach v1 again: %d %q", code, out)
	}
	if code, out, errs := attach(v2); code != 0 || !strings.Contains(out, "attached SBOM 2: version 2") || !strings.Contains(out, "1 open, 1 suppressed by VEX") {
		t.Fatalf("attach v2: %d %q %q", code, out, errs)
	}
	code, out, _ = run(t, "sbom", "list", "--data", data, "--format", "json")
	var list []struct {
		ID      int `json:"id"`
		Version int `json:"version"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 || list[0].ID != 2 || list[0].Version != 2 {
		t.Fatalf("list: %d %q", code, out)
	}
	code, out, _ = run(t, "sbom", "diff", "--data", data, "1", "2")
	for _, want := range []string{"SBOM 1 -> 2: 1 added, 1 removed, 2 changed version, 4 unchanged; vulnerabilities 0 new, 4 gone",
		"+ zlib 1.3.1", "- log4j-core 2.14.1", "~ Eclipse ThreadX 5.8 -> 6.4.1", "- CVE-2022-2119 in dcmtk@3.6.5: suppressed: not_affected (code_not_reachable)"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("diff: %d, want %q in:\n%s", code, want, out)
		}
	}
	code, out, _ = run(t, "sbom", "show", "--data", data, "1")
	if code != 0 || !strings.Contains(out, "CVE-2024-2212") || !strings.Contains(out, "nvd/name") || !strings.Contains(out, "medium") {
		t.Errorf("show: %d\n%s", code, out)
	}
	exp := filepath.Join(dir, "vex.cdx.json")
	if code, out, errs := run(t, "sbom", "export", "--data", data, "--out", exp, "2"); code != 0 {
		t.Fatalf("export: %d %q %q", code, out, errs)
	}
	raw, err := os.ReadFile(exp)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := sbom.ParseBytes(raw, exp, sbom.Options{})
	if err != nil || !doc.Valid() {
		t.Fatalf("export is not a valid SBOM: %v %v", err, doc)
	}
	var notAffected bool
	for _, s := range doc.VEX {
		if s.ID == "CVE-2022-2119" && s.Status == "not_affected" && s.Justification == "code_not_reachable" {
			notAffected = true
		}
	}
	if !notAffected {
		t.Errorf("export lacks the not_affected VEX statement for CVE-2022-2119: %+v", doc.VEX)
	}
	if code, out, _ := run(t, "sbom", "export", "--data", data, "--format", "original", "1"); code != 0 || !strings.Contains(out, "3e671687-395b-41f5-a30f-a58921a69b79") {
		t.Errorf("export original: %d", code)
	}
	if code, out, errs := run(t, "sbom", "rematch", "--data", data, "--all"); code != 0 || !strings.Contains(out, "1 SBOMs re-matched") {
		t.Errorf("rematch --all (the latest version only): %d %q %q", code, out, errs)
	}
	if code, out, errs := run(t, "sbom", "rematch", "--data", data, "1"); code != 0 || !strings.Contains(out, "SBOM 1 (Baxter Sigma Spectrum 8.0): 5 open") {
		t.Errorf("rematch 1: %d %q %q", code, out, errs)
	}
	// --osv replaces the stored feed: an empty set of records drops the OSV findings.
	if code, out, errs := run(t, "sbom", "rematch", "--data", data, "--osv", filepath.Join(nvdDir, "CVE-2022-2119.json"), "1"); code != ExitBadInput {
		t.Errorf("rematch with a non-OSV --osv file: %d %q %q, want exit 3", code, out, errs)
	}
	// Usage and input errors.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sbom", "attach", "--data", data, v1}, ExitUsage, "give either --vendor"},
		{[]string{"sbom", "attach", "--data", data, "--vendor", "B", "--model", "M", v1}, ExitUsage, "are all required"},
		{[]string{"sbom", "attach", "--data", data, "--asset", "NOPE", v1}, ExitBadInput, `no device with asset id "NOPE"`},
		{[]string{"sbom", "attach", "--data", data, "--vendor", "B", "--model", "M", "--version", "1", filepath.Join(sbomsTestdata, "PROVENANCE.md")}, ExitBadInput, "unknown sbom format"},
		{[]string{"sbom", "diff", "--data", data, "1", "99"}, ExitBadInput, "no SBOM with id 99"},
		{[]string{"sbom", "show", "--data", data, "x"}, ExitUsage, `"x" is not an SBOM id`},
	} {
		code, _, errs := run(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}
