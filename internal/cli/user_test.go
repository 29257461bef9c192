package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"medwarden"}, args...), strings.NewReader(stdin), &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

func TestUserVerb(t *testing.T) {
	dir := t.TempDir()
	otpRE := regexp.MustCompile(`one-time password: (\S+)`)
	steps := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		wantOut  string // substring
	}{
		{"add_admin", "", []string{"user", "add", "alice", "--role", "admin", "--data", dir}, ExitOK, "created user alice (admin)"},
		{"add_from_stdin", "a long enough passphrase\n", []string{"user", "add", "bob", "--role", "Clinical Engineer", "--password-stdin", "--data", dir}, ExitOK, "created user bob (clinical-engineer)"},
		{"add_duplicate", "", []string{"user", "add", "ALICE", "--role", "viewer", "--data", dir}, ExitBadInput, ""},
		{"add_bad_role", "", []string{"user", "add", "carol", "--role", "root", "--data", dir}, ExitUsage, ""},
		{"add_no_role", "", []string{"user", "add", "carol", "--data", dir}, ExitUsage, ""},
		{"add_bad_name", "", []string{"user", "add", "<x>", "--role", "viewer", "--data", dir}, ExitBadInput, ""},
		{"weak_stdin_password", "short\n", []string{"user", "passwd", "bob", "--password-stdin", "--data", dir}, ExitBadInput, ""},
		{"passwd", "", []string{"user", "passwd", "bob", "--data", dir}, ExitOK, "one-time password: "},
		{"disable", "", []string{"user", "disable", "bob", "--data", dir}, ExitOK, "user bob disabled"},
		{"disable_missing", "", []string{"user", "disable", "nobody", "--data", dir}, ExitBadInput, ""},
		{"unknown_sub", "", []string{"user", "frobnicate", "--data", dir}, ExitUsage, ""},
		{"list", "", []string{"user", "list", "--data", dir}, ExitOK, "bob    clinical-engineer  disabled"},
	}
	for _, s := range steps {
		code, out, errOut := runIn(t, s.stdin, s.args...)
		if code != s.wantCode || !strings.Contains(out, s.wantOut) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", s.name, code, out, errOut, s.wantCode, s.wantOut)
		}
		if s.name == "add_admin" && otpRE.FindStringSubmatch(out) == nil {
			t.Errorf("add without --password-stdin printed no one-time password: %q", out)
		}
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	us, err := st.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Name, Role       string
		Disabled, Change bool
	}
	var got []row
	for _, u := range us {
		got = append(got, row{u.Username, u.Role, u.Disabled, u.MustChangePassword})
	}
	want := []row{{"alice", "admin", false, true}, {"bob", "clinical-engineer", true, true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if ok, _, _ := auth.VerifyPassword(us[1].PasswordHash, "a long enough passphrase", auth.DefaultParams); ok {
		t.Error("passwd did not replace bob's password")
	}
}
