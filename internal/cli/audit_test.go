package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

// auditedStore makes a store with n device changes in its audit log.
func auditedStore(t *testing.T, dir string, n int) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec, err := recorder.Wrap(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithActor(t.Context(), audit.Actor{Name: "biomed1", Kind: audit.KindUser, Source: "10.20.0.7"})
	for i := range n {
		d := &inventory.Device{AssetID: fmt.Sprintf("INF-%04d", i), Vendor: "Baxter", Model: "Sigma Spectrum", Version: "8.00"}
		if err := rec.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditVerifyDetectsTampering(t *testing.T) {
	tests := []struct {
		name    string
		sql     string
		wantErr string // regexp on stderr
	}{
		{"intact", "", ""},
		{"edited", `UPDATE audit_log SET after = replace(after, '8.00', '9.00') WHERE seq = 3`, `entry 3 .*content does not match its hash`},
		{"deleted", `DELETE FROM audit_log WHERE seq = 2`, `position 2 has sequence number 3`},
		{"reordered", `UPDATE audit_log SET seq = -4 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = -4`, `entry 2: previous hash`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			auditedStore(t, dir, 5)
			if tt.sql != "" {
				st, err := sqlite.Open(context.Background(), filepath.Join(dir, sqlite.FileName))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := st.SQL.Exec(tt.sql); err != nil {
					t.Fatal(err)
				}
				st.Close()
			}
			code, out, errOut := runIn(t, "", "audit", "verify", "--data", dir)
			if tt.wantErr == "" {
				if code != ExitOK || !regexp.MustCompile(`audit log intact: 5 entries\nhead: [0-9a-f]{64}\n`).MatchString(out) {
					t.Errorf("verify intact log: exit %d, %q %q", code, out, errOut)
				}
				return
			}
			if code != ExitFailure || !regexp.MustCompile(tt.wantErr).MatchString(errOut) {
				t.Errorf("verify after %s: exit %d, stderr %q; want exit 1 and %s", tt.name, code, errOut, tt.wantErr)
			}
		})
	}
}

func TestAuditVerifyExpectHeadDetectsTruncation(t *testing.T) {
	dir := t.TempDir()
	auditedStore(t, dir, 4)
	_, out, _ := runIn(t, "", "audit", "verify", "--data", dir)
	head := regexp.MustCompile(`head: ([0-9a-f]{64})`).FindStringSubmatch(out)
	if head == nil {
		t.Fatalf("no head in %q", out)
	}
	if code, _, e := runIn(t, "", "audit", "verify", "--expect-head", head[1], "--data", dir); code != ExitOK {
		t.Fatalf("verify with the current head: %d %s", code, e)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	st.SQL.Exec("DELETE FROM audit_log WHERE seq = 4") //nolint:errcheck // checked by verify
	st.Close()
	if code, _, e := runIn(t, "", "audit", "verify", "--data", dir); code != ExitOK {
		t.Fatalf("a truncated chain is still a valid chain: %d %s", code, e)
	}
	code, _, errOut := runIn(t, "", "audit", "verify", "--expect-head", head[1], "--data", dir)
	if code != ExitFailure || !strings.Contains(errOut, "removed from the end") {
		t.Errorf("truncation with --expect-head: exit %d, %q", code, errOut)
	}
}

func TestAuditExport(t *testing.T) {
	dir := t.TempDir()
	auditedStore(t, dir, 3)
	out := filepath.Join(t.TempDir(), "audit.jsonl")
	if code, _, e := runIn(t, "", "audit", "export", "--format", "jsonl", "--out", out, "--data", dir); code != ExitOK {
		t.Fatalf("export jsonl: %d %s", code, e)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := audit.NewVerifier()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e audit.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if err := v.Add(&e); err != nil {
			t.Errorf("exported chain does not verify: %v", err)
		}
	}
	if v.Count() != 3 {
		t.Errorf("exported %d entries, want 3", v.Count())
	}
	code, stdout, e := runIn(t, "", "audit", "export", "--format", "syslog", "--after", "1", "--data", dir)
	if code != ExitOK {
		t.Fatalf("export syslog: %d %s", code, e)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	re := regexp.MustCompile(`^<109>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \S+ medwarden - device\.create \[medwarden@32473 seq="(\d)" actor="biomed1" kind="user" src="10\.20\.0\.7" object="device/\d" hash="[0-9a-f]{64}"\] \{.*\}$`)
	if len(lines) != 2 {
		t.Fatalf("syslog export after 1: %d lines, want 2:\n%s", len(lines), stdout)
	}
	for i, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil || m[1] != fmt.Sprint(i+2) {
			t.Errorf("syslog line %d does not match RFC 5424 layout:\n%s", i, l)
		}
	}
	if code, _, _ := runIn(t, "", "audit", "export", "--format", "cef", "--data", dir); code != ExitUsage {
		t.Errorf("unknown format: exit %d, want %d", code, ExitUsage)
	}
}
