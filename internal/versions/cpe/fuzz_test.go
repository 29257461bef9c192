package cpe

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"cpe:2.3:h:baxter:sigma_spectrum_infusion_system:-:*:*:*:*:*:*:*",
		"cpe:2.3:o:bd:alaris_8015_pcu_firmware:*:*:*:*:*:*:*:*",
		`cpe:2.3:a:foo\:bar:big\$money:2010:*:*:*:*:*:*:*`,
		"cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*",
		"cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(n.String())
		if err != nil {
			t.Fatalf("Parse(%q) ok but String %q does not parse: %v", s, n.String(), err)
		}
		if again.String() != n.String() {
			t.Fatalf("String not stable: %q -> %q", n.String(), again.String())
		}
		if !n.Attr(Version).HasWildcards() && !n.Attr(Vendor).HasWildcards() && !n.Attr(Product).HasWildcards() && !hasWild(n) {
			if !Match(n, n) {
				t.Fatalf("%q does not match itself", s)
			}
		}
	})
}

func hasWild(n Name) bool {
	for _, v := range n.attrs {
		if v.HasWildcards() {
			return true
		}
	}
	return false
}

func FuzzParseConfigurations(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "nvd", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	dev := []Name{}
	for _, s := range []string{sigmaHW, "cpe:2.3:o:baxter:sigma_spectrum_infusion_system_firmware:6.02:*:*:*:*:*:*:*"} {
		n, _ := Parse(s)
		dev = append(dev, n)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfgs, err := ParseConfigurations(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			return
		}
		r := EvaluateAll(cfgs, dev)
		if r.Affected > True {
			t.Fatalf("bad truth value %d", r.Affected)
		}
	})
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"cpe:/a:microsoft:internet_explorer:8.0.6001:beta",
		"cpe:/h:baxter:sigma_spectrum_infusion_system:-",
		"cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~",
		"cpe:/a:foo%21:bar", "cpe:/a:acme:product:1.%02",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseURI(s)
		if err != nil {
			return
		}
		// The formatted-string binding of an unbound URI must parse back
		// to the same name.
		again, err := Parse(n.String())
		if err != nil {
			t.Fatalf("ParseURI(%q).String() = %q does not parse: %v", s, n.String(), err)
		}
		if again.String() != n.String() {
			t.Fatalf("binding not stable: %q -> %q", n.String(), again.String())
		}
	})
}
