package cli

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

func TestTokenVerb(t *testing.T) {
	dir := t.TempDir()
	for _, u := range [][2]string{{"ana", "analyst"}, {"vic", "viewer"}, {"gone", "viewer"}} {
		if code, _, e := runIn(t, "a long enough passphrase\n", "user", "add", u[0], "--role", u[1], "--password-stdin", "--data", dir); code != ExitOK {
			t.Fatalf("user add %s: %s", u[0], e)
		}
	}
	runIn(t, "", "user", "disable", "gone", "--data", dir)
	tokRE := regexp.MustCompile(`^mwt_[A-Za-z0-9_-]{43}\n$`)
	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // regexp on stdout
	}{
		{"create", []string{"create", "--user", "ana", "--scope", "devices:read,imports:write", "--expires", "30d", "--name", "cmms-sync"}, ExitOK, `^mwt_`},
		{"create_wildcard_narrows_to_role", []string{"create", "--user", "vic", "--scope", "devices:*"}, ExitOK, `^mwt_`},
		{"create_beyond_role", []string{"create", "--user", "vic", "--scope", "devices:write"}, ExitBadInput, `^$`},
		{"create_audit_as_analyst", []string{"create", "--user", "ana", "--scope", "audit:read"}, ExitBadInput, `^$`},
		{"create_unknown_scope", []string{"create", "--user", "ana", "--scope", "devices:delete"}, ExitUsage, `^$`},
		{"create_unknown_user", []string{"create", "--user", "nobody", "--scope", "devices:read"}, ExitBadInput, `^$`},
		{"create_disabled_user", []string{"create", "--user", "gone", "--scope", "devices:read"}, ExitBadInput, `^$`},
		{"create_too_long", []string{"create", "--user", "ana", "--scope", "devices:read", "--expires", "400d"}, ExitUsage, `^$`},
		{"create_no_scope", []string{"create", "--user", "ana"}, ExitUsage, `^$`},
		{"revoke", []string{"revoke", "1"}, ExitOK, `token 1 revoked`},
		{"revoke_missing", []string{"revoke", "99"}, ExitBadInput, `^$`},
		{"revoke_not_a_number", []string{"revoke", "abc"}, ExitUsage, `^$`},
		{"list", []string{"list"}, ExitOK, `(?s)ID +USER +NAME.*1 +ana +cmms-sync +devices:read,imports:write .*revoked.*2 +vic +token for vic +devices:read .*never +active`},
		{"unknown_sub", []string{"mint"}, ExitUsage, `^$`},
	}
	var secrets []string
	for _, s := range steps {
		code, out, errOut := runIn(t, "", append([]string{"token"}, append(s.args, "--data", dir)...)...)
		if code != s.wantCode || !regexp.MustCompile(s.wantOut).MatchString(out) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %s", s.name, code, out, errOut, s.wantCode, s.wantOut)
		}
		if strings.HasPrefix(s.name, "create") && code == ExitOK {
			if !tokRE.MatchString(out) {
				t.Errorf("%s: stdout %q is not exactly one token", s.name, out)
			}
			secrets = append(secrets, strings.TrimSpace(out))
		}
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	tk, err := st.GetTokenByHash(ctx, auth.HashToken(secrets[1]))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"devices:read"}, tk.Scopes); diff != "" {
		t.Errorf("viewer's devices:* token scopes (-want +got):\n%s", diff)
	}
	// Nothing but the hash is stored.
	var n int
	if err := st.SQL.QueryRowContext(ctx, "SELECT count(*) FROM api_tokens WHERE hash = $1 OR hash = $2 OR name LIKE 'mwt_%'", secrets[0], secrets[1]).Scan(&n); err != nil || n != 0 {
		t.Errorf("a token secret is stored in clear (%d rows, %v)", n, err)
	}
	var actions []string
	if err := st.ScanAudit(ctx, 0, func(e *audit.Entry) error {
		if strings.HasPrefix(e.Action, "token.") {
			actions = append(actions, e.Action+" "+e.Object+" "+e.ActorKind+" "+e.Source)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"token.create token/1 user cli", "token.create token/2 user cli", "token.revoke token/1 user cli"}, actions); diff != "" {
		t.Errorf("audited token changes (-want +got):\n%s", diff)
	}
}
