package oidc

import (
	"testing"

	"github.com/medwarden/medwarden/internal/auth"
)

func TestMapRole(t *testing.T) {
	m, err := ParseRoleMap("a=viewer,b=admin,c d=analyst")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		groups []string
		def    auth.Role
		want   auth.Role
		err    bool
	}{
		{[]string{"a", "b"}, "", auth.Admin, false},
		{[]string{"c d"}, "", auth.Analyst, false},
		{[]string{"x"}, auth.Viewer, auth.Viewer, false},
		{nil, "", "", true},
	} {
		got, err := MapRole(tc.groups, m, tc.def)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("MapRole(%v) = %s, %v", tc.groups, got, err)
		}
	}
	if _, err := ParseRoleMap("a=superuser"); err == nil {
		t.Error("unknown role accepted")
	}
}
