package advisory

import (
	"fmt"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sample() *Advisory {
	return &Advisory{
		ID: "ICSMA-20-170-05",
		Products: []Product{
			{ID: "P1", Name: "Pump 1.0", Version: "1.0"},
			{ID: "P2", Name: "Pump <2.0", VersionRange: "<2.0"},
			{ID: "P3", Name: "Gateway"},
			{ID: "P5", Name: "Gateway on Pump <2.0", Relationship: &Relationship{Category: "installed_on", ProductRef: "P3", RelatesTo: "P2"}},
		},
		Vulnerabilities: []Vulnerability{{
			CVE: "CVE-2020-12040",
			Statuses: map[string][]string{
				StatusKnownAffected: {"P2", "P1"},
				StatusLastAffected:  {"P1", "P3"},
				StatusFixed:         {"P4"},
			},
			Remediations: []Remediation{
				{Category: RemediationVendorFix, Details: "update", ProductIDs: []string{"P2"}},
				{Category: RemediationMitigation, Details: "segment", ProductIDs: []string{"P1", "P2", "P3"}},
			},
			Scores: []Score{
				{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", BaseScore: 9.8, ProductIDs: []string{"P1", "P2"}},
				{Version: "4.0", Vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", ProductIDs: []string{"P3"}},
			},
		}},
	}
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	a := sample()
	v := &a.Vulnerabilities[0]
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"affected_in_status_order_without_duplicates", v.Affected(), []string{"P2", "P1", "P3"}},
		{"remediations_for_P2", len(v.RemediationsFor("P2")), 2},
		{"remediations_for_P3", v.RemediationsFor("P3")[0].Category, RemediationMitigation},
		{"remediations_for_unknown", v.RemediationsFor("P9"), []Remediation(nil)},
		{"scores_for_P3", v.ScoresFor("P3")[0].Version, "4.0"},
		{"product_lookup", a.Product("P2").VersionRange, "<2.0"},
		{"product_missing", a.Product("P9") == nil, true},
		{"parts_of_relationship", func() []string {
			c, r, ok := a.Parts("P5")
			return []string{c.ID, r.ID, fmt.Sprint(ok)}
		}(), []string{"P3", "P2", "true"}},
		{"parts_of_plain_product", func() bool { _, _, ok := a.Parts("P1"); return ok }(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestPureImports keeps the model and the feed parsers free of I/O layers:
// no store, API, web, app, CLI, network or database imports.
func TestPureImports(t *testing.T) {
	t.Parallel()
	forbidden := []string{"net", "net/http", "database/sql", "os/exec", "log",
		"github.com/medwarden/medwarden/internal/store", "github.com/medwarden/medwarden/internal/api",
		"github.com/medwarden/medwarden/internal/web", "github.com/medwarden/medwarden/internal/app",
		"github.com/medwarden/medwarden/internal/cli"}
	for _, dir := range []string{".", "csaf", "kev", "epss"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range forbidden {
					if p == bad || (strings.HasPrefix(bad, "github.com/") && strings.HasPrefix(p, bad+"/")) {
						t.Errorf("%s imports %s", f, p)
					}
				}
			}
		}
	}
}
