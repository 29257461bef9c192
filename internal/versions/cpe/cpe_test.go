package cpe

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          string
		wantVendor  string
		wantProduct string
		wantVersion Kind
		wantLit     string
	}{
		{"nvd_hardware", "cpe:2.3:h:baxter:sigma_spectrum_infusion_system:-:*:*:*:*:*:*:*", "baxter", "sigma_spectrum_infusion_system", NA, ""},
		{"nvd_firmware_any", "cpe:2.3:o:bd:alaris_8015_pcu_firmware:*:*:*:*:*:*:*:*", "bd", "alaris_8015_pcu_firmware", Any, ""},
		{"version", "cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*", "offis", "dcmtk", String, "3.6.6"},
		{"quoted_colon", `cpe:2.3:a:foo\:bar:prod:1.0:*:*:*:*:*:*:*`, "foo:bar", "prod", String, "1.0"},
		{"quoted_specials", `cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*`, "hp", "insight_diagnostics", String, "7.4.0.1570"},
		{"upper_case_folded", "cpe:2.3:a:Microsoft:Internet_Explorer:8.0.6001:beta:*:*:*:*:*:*", "microsoft", "internet_explorer", String, "8.0.6001"},
		{"escaped_backslash", `cpe:2.3:a:foo\\bar:big\$money:2010:*:*:*:*:*:*:*`, `foo\bar`, "big$money", String, "2010"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			got := []any{n.Attr(Vendor).Literal(), n.Attr(Product).Literal(), n.Attr(Version).Kind, n.Attr(Version).Literal()}
			want := []any{tt.wantVendor, tt.wantProduct, tt.wantVersion, tt.wantLit}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
			}
			if got := n.String(); got != tt.in {
				t.Errorf("Parse(%q).String() = %q", tt.in, got)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"",
		"cpe:/a:microsoft:ie:8.0", // CPE 2.2 URI binding
		"cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*",     // 10 components
		"cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:*:*:*", // 12 components
		"cpe:2.3:x:vendor:product:1.0:*:*:*:*:*:*:*",   // bad part
		"cpe:2.3:a:ven*dor:product:1.0:*:*:*:*:*:*:*",  // inner wildcard
		"cpe:2.3:a:vendor::1.0:*:*:*:*:*:*:*",          // empty value
		"cpe:2.3:a:ven$dor:product:1.0:*:*:*:*:*:*:*",  // unquoted special
		`cpe:2.3:a:vendor:product:1.0\:*:*:*:*:*:*:*`,  // quoted colon eats a separator
	} {
		if n, err := Parse(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, %v; want ErrInvalid", in, n, err)
		}
	}
}

// TestCompareValues follows NISTIR 7696 Table 6-2.
func TestCompareValues(t *testing.T) {
	t.Parallel()
	v := func(s string) Value {
		x, err := parseValue(s)
		if err != nil {
			t.Fatalf("parseValue(%q): %v", s, err)
		}
		return x
	}
	tests := []struct {
		source, target string
		want           Relation
	}{
		{"*", "*", Equal},
		{"*", "-", Superset},
		{"*", "foo", Superset},
		{"-", "*", Subset},
		{"-", "-", Equal},
		{"-", "foo", Disjoint},
		{"foo", "*", Subset},
		{"foo", "-", Disjoint},
		{"foo", "FOO", Equal},
		{"foo", "bar", Disjoint},
		{"foo*", "foobar", Superset},
		{"*bar", "foobar", Superset},
		{"*oob*", "foobar", Superset},
		{"foo?", "foob", Superset},
		{"foo?", "fooba", Disjoint},
		{"foo??", "foob", Superset},
		{"?oo", "foo", Superset},
		{"?oo", "xfoo", Disjoint},
		{"foo*", "bar", Disjoint},
		{"foo", "foo*", Undefined},
		{`foo\*`, `foo\*`, Equal},
		{`foo\*`, "foo", Disjoint},
	}
	for _, tt := range tests {
		if got := CompareValues(v(tt.source), v(tt.target)); got != tt.want {
			t.Errorf("CompareValues(%q, %q) = %v, want %v", tt.source, tt.target, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		source, target string
		want           bool
	}{
		{"cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*", "cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*", true},
		{"cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*", "cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*", false},
		{"cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*", "cpe:2.3:a:offis:dcmtk_tools:3.6.6:*:*:*:*:*:*:*", false},
		{"cpe:2.3:a:offis:dcmtk*:*:*:*:*:*:*:*:*", "cpe:2.3:a:offis:dcmtk_tools:3.6.6:*:*:*:*:*:*:*", true},
		{"cpe:2.3:h:bd:alaris_8015_pcu:-:*:*:*:*:*:*:*", "cpe:2.3:h:bd:alaris_8015_pcu:-:*:*:*:*:*:*:*", true},
		{"cpe:2.3:h:bd:alaris_8015_pcu:-:*:*:*:*:*:*:*", "cpe:2.3:h:bd:alaris_8015_pcu:2:*:*:*:*:*:*:*", false},
		{"cpe:2.3:*:bd:*:*:*:*:*:*:*:*:*", "cpe:2.3:o:bd:alaris_8015_pcu_firmware:12.1.3:*:*:*:*:*:*:*", true},
		{"cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*", "cpe:2.3:a:microsoft:internet_explorer:8.0.6001:sp1:*:*:*:*:*:*", true},
		{"cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*", "cpe:2.3:a:microsoft:internet_explorer:8.0.6001:sp12:*:*:*:*:*:*", false},
	}
	for _, tt := range tests {
		s, err := Parse(tt.source)
		if err != nil {
			t.Fatal(err)
		}
		g, err := Parse(tt.target)
		if err != nil {
			t.Fatal(err)
		}
		if got := Match(s, g); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.source, tt.target, got, tt.want)
		}
	}
}

func TestParseURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"cpe:/a:microsoft:internet_explorer:8.0.6001:beta", `cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*`},
		{"cpe:/o:bd:alaris_8015_pcu_firmware:12.1.3", `cpe:2.3:o:bd:alaris_8015_pcu_firmware:12.1.3:*:*:*:*:*:*:*`},
		{"cpe:/h:baxter:sigma_spectrum_infusion_system:-", `cpe:2.3:h:baxter:sigma_spectrum_infusion_system:-:*:*:*:*:*:*:*`},
		{"cpe:/a:foo%21:bar", `cpe:2.3:a:foo\!:bar:*:*:*:*:*:*:*:*`},
		{"cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~", `cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:*:*:*:online:win2003:x64:*`},
		{"cpe:/a:acme:product:1.%02", `cpe:2.3:a:acme:product:1.*:*:*:*:*:*:*:*`},
	}
	for _, tt := range tests {
		got, err := ParseAny(tt.in)
		if err != nil {
			t.Errorf("ParseAny(%q): %v", tt.in, err)
			continue
		}
		want, err := Parse(tt.want)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.want, err)
		}
		if got.String() != tt.want {
			t.Errorf("ParseAny(%q).String() = %q, want %q", tt.in, got.String(), tt.want)
		}
		for i := range got.attrs {
			if got.attrs[i].Kind != want.attrs[i].Kind || got.attrs[i].lit != want.attrs[i].lit || got.attrs[i].pre != want.attrs[i].pre || got.attrs[i].post != want.attrs[i].post {
				t.Errorf("ParseAny(%q) %s = %+v, want %+v", tt.in, attrNames[i], got.attrs[i], want.attrs[i])
			}
		}
	}
	for _, bad := range []string{"cpe:/x:a:b", "cpe:/a:b:c:d:e:f:g:h", "cpe:/a:fo o:bar", "cpe:/a:foo%2:bar", "cpe:/a:b:c:1:2:~x~y"} {
		if _, err := ParseURI(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseURI(%q) error = %v, want ErrInvalid", bad, err)
		}
	}
}
