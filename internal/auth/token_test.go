package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseScopes(t *testing.T) {
	tests := []struct {
		in      string
		want    []Scope
		wantErr bool
	}{
		{"devices:read", []Scope{"devices:read"}, false},
		{" imports:write , devices:read,devices:read ", []Scope{"devices:read", "imports:write"}, false},
		{"DEVICES:READ", []Scope{"devices:read"}, false},
		{"devices:*", []Scope{"devices:read", "devices:write"}, false},
		{"audit:*", []Scope{"audit:read"}, false},
		{"*", AllScopes, false},
		{"audit:write", nil, true},
		{"metrics:write", nil, true},
		{"devices", nil, true},
		{"patients:read", nil, true},
		{"nope:*", nil, true},
		{"", nil, true},
		{",,", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseScopes(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseScopes(%q) error %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil && !errors.Is(err, ErrBadScope) {
			t.Errorf("ParseScopes(%q) error %v does not wrap ErrBadScope", tt.in, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseScopes(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestRoleScopes(t *testing.T) {
	reads := []Scope{"devices:read", "imports:read", "advisories:read", "feeds:read", "findings:read", "metrics:read"}
	writes := []Scope{"devices:write", "imports:write", "advisories:write", "feeds:write", "findings:write", "sensor:write"}
	tests := []struct {
		role Role
		want []Scope
	}{
		{Admin, AllScopes},
		{Analyst, append(append([]Scope{}, reads...), writes...)},
		{ClinicalEngineer, append(append([]Scope{}, reads...), writes...)},
		{Auditor, append(append([]Scope{}, reads...), "audit:read")},
		{Viewer, reads},
		{Role("root"), nil},
	}
	sortScopes := cmp.Transformer("sort", func(in []Scope) map[Scope]bool {
		m := map[Scope]bool{}
		for _, s := range in {
			m[s] = true
		}
		return m
	})
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.role.Scopes(), sortScopes); diff != "" {
			t.Errorf("%s scopes (-want +got):\n%s", tt.role, diff)
		}
	}
	if err := Viewer.CheckScopes([]Scope{"devices:read", "devices:write"}); err == nil || !strings.Contains(err.Error(), "devices:write") {
		t.Errorf("viewer with devices:write: %v", err)
	}
	if Admin.Allows("devices:delete") {
		t.Error("an unknown scope is allowed")
	}
}

func TestAPITokenShape(t *testing.T) {
	a, err := NewAPIToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewAPIToken()
	if a == b || !LooksLikeAPIToken(a) || len(a) != 47 {
		t.Errorf("tokens %q %q", a, b)
	}
	for _, bad := range []string{"", "mwt_", a[:46], a + "A", "mwx_" + a[4:], "mwt_" + strings.Repeat("!", 43)} {
		if LooksLikeAPIToken(bad) {
			t.Errorf("LooksLikeAPIToken(%q) = true", bad)
		}
	}
}

func TestParseLifetime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * 24 * time.Hour, true},
		{"12h", 12 * time.Hour, true},
		{"30m", 30 * time.Minute, true},
		{"366d", 366 * 24 * time.Hour, true},
		{"367d", 0, false},
		{"30s", 0, false},
		{"-1d", 0, false},
		{"forever", 0, false},
		{"d", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseLifetime(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseLifetime(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{"devices:read", "devices:*,audit:read", "*", ",x:y,", "users:write"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseScopes(in)
		if err != nil {
			return
		}
		if len(got) == 0 {
			t.Fatal("no error and no scope")
		}
		for _, s := range got {
			if !Admin.Allows(s) {
				t.Fatalf("ParseScopes(%q) returned invalid scope %q", in, s)
			}
		}
	})
}
