package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/store"
)

// TestFindingsVerb: the demo fleet and the ICSMA advisories go in through
// the ordinary verbs; findings recompute stores the findings, list prints
// them with filters, snapshot stores the register.
func TestFindingsVerb(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	fleet := filepath.Join(dir, "fleet.csv")
	if code, out, errs := run(t, "demo", "--devices", "800", "--out", fleet); code != 0 {
		t.Fatalf("demo --out: %d %s %s", code, out, errs)
	}
	if code, out, errs := run(t, "import", "--data", data, fleet); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	if code, out, errs := run(t, "feeds", "import", "--data", data, filepath.Join("..", "demo", "advisories", "icsma")); code != 0 {
		t.Fatalf("feeds import: %d %s %s", code, out, errs)
	}
	code, out, errs := run(t, "findings", "recompute", "--data", data)
	if code != 0 || !strings.Contains(out, "new") {
		t.Fatalf("recompute: %d %q %q", code, out, errs)
	}
	code, out, errs = run(t, "findings", "list", "--data", data, "--format", "json", "--limit", "0")
	if code != 0 {
		t.Fatalf("list: %d %s", code, errs)
	}
	var fs []*store.Finding
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatal(err)
	}
	if len(fs) < 20 {
		t.Fatalf("%d findings on the demo fleet", len(fs))
	}
	for i := 1; i < len(fs); i++ {
		if fs[i].Score > fs[i-1].Score {
			t.Fatalf("list is not riskiest first at %d", i)
		}
	}
	adv := fs[0].AdvisoryID
	code, out, _ = run(t, "findings", "list", "--data", data, "--advisory", adv, "--state", "open", "--limit", "0")
	if code != 0 || !strings.Contains(out, adv) || strings.Contains(out, "(no findings") {
		t.Errorf("list --advisory: %d %q", code, out)
	}
	// a second recompute finds the same pairs
	code, out, _ = run(t, "findings", "recompute", "--data", data)
	if code != 0 || !strings.Contains(out, "0 new") || !strings.Contains(out, "0 resolved") {
		t.Errorf("second recompute: %d %q", code, out)
	}
	code, out, errs = run(t, "findings", "snapshot", "--data", data, "--day", "2026-11-28")
	if code != 0 || !strings.Contains(out, "800 devices") {
		t.Errorf("snapshot: %d %q %q", code, out, errs)
	}
	for _, args := range [][]string{{"findings"}, {"findings", "frobnicate"}, {"findings", "list", "--data", data, "--sort", "vendor"},
		{"findings", "list", "--data", data, "--format", "xml"}, {"findings", "snapshot", "--data", data, "--day", "today"}} {
		if code, _, _ := run(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, ExitUsage)
		}
	}
}

func TestFindingsFixColumn(t *testing.T) {
	tests := []struct {
		source, rems, want string
	}{
		{store.SourceSBOM, `[{"category":"vendor_fix","details":"upgrade lodash from 4.17.15 to 4.17.21 (osv GHSA-35jh-r3h4-6jhm)"}]`,
			"upgrade lodash from 4.17.15 to 4.17.21 (osv GHSA-35jh-r3h4-6jhm)"},
		{store.SourceSBOM, `[{"category":"none_available","details":"no fix published for openssl 3.0.11 (osv X)"}]`, "no fix published"},
		{store.SourceSBOM, `[]`, "-"},
		{store.SourceAdvisory, `[{"category":"vendor_fix","details":"upgrade to 6.06"},{"category":"mitigation","details":"x"}]`, "vendor fix"},
		{store.SourceAdvisory, `[{"category":"no_fix_planned","details":"x"}]`, "no fix published"},
	}
	for _, tt := range tests {
		if got := fixText(&store.Finding{Source: tt.source, Remediations: json.RawMessage(tt.rems)}); got != tt.want {
			t.Errorf("fixText(%s %s) = %q, want %q", tt.source, tt.rems, got, tt.want)
		}
	}
}
