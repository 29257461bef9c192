package purl

import "testing"

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"pkg:npm/%40angular/animation@12.3.1",
		"pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25",
		"pkg:git/codeberg.org/forgejo/forgejo@a72d2c07cfca03b55371089de6aa230d8c951fa0#options/locale_readme.md",
		"pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?type=pom",
		"pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Canonical(s)
		if err != nil {
			return
		}
		// Canonicalisation must be idempotent.
		c2, err := Canonical(c)
		if err != nil {
			t.Fatalf("Canonical(%q) = %q, which does not parse: %v", s, c, err)
		}
		if c2 != c {
			t.Fatalf("Canonical not idempotent: %q -> %q -> %q", s, c, c2)
		}
		if _, err := Parse(s); err != nil {
			t.Fatalf("Canonical(%q) ok but Parse failed: %v", s, err)
		}
	})
}
