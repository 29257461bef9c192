package versions

import (
	"errors"
	"testing"
)

// TestSchemeCompare is the per-scheme table: each row is a pair with its
// expected order, from the scheme's own documentation and test suites.
func TestSchemeCompare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scheme, a, b string
		want         int
	}{
		// semver (SemVer 2.0.0 §11)
		{"semver", "1.0.0-alpha", "1.0.0-alpha.1", -1},
		{"semver", "1.0.0-alpha.1", "1.0.0-alpha.beta", -1},
		{"semver", "1.0.0-beta.2", "1.0.0-beta.11", -1},
		{"semver", "1.0.0-rc.1", "1.0.0", -1},
		{"semver", "1.0.0+build.1", "1.0.0+build.2", 0},
		{"semver", "2.0.0", "10.0.0", -1},
		// npm accepts a "v" and partial versions
		{"npm", "v1.2.3", "1.2.3", 0},
		{"npm", "1.2", "1.2.0", 0},
		// golang: pseudo-versions are pre-releases
		{"golang", "v0.0.0-20191109021931-daa7c04131f5", "v0.0.1", -1},
		{"golang", "v2.0.0+incompatible", "v2.0.0", 0},
		// nuget: four parts, case-insensitive labels
		{"nuget", "1.0.0.1", "1.0.0", 1},
		{"nuget", "1.0.0-BETA", "1.0.0-beta", 0},
		// pypi (PEP 440)
		{"pypi", "1.0.dev0", "1.0a1", -1},
		{"pypi", "1.0a1", "1.0b1", -1},
		{"pypi", "1.0rc1", "1.0", -1},
		{"pypi", "1.0", "1.0.post1", -1},
		{"pypi", "1.0", "1.0+local.1", -1},
		{"pypi", "1!0.1", "2.0", 1},
		{"pypi", "1.0.0", "1.0", 0},
		{"pypi", "1.0-r1", "1.0.post1", 0},
		// maven
		{"maven", "1.0-alpha-1", "1.0", -1},
		{"maven", "1.0-SNAPSHOT", "1.0", -1},
		{"maven", "1.0", "1.0-sp", -1},
		{"maven", "1.0.ga", "1.0", 0},
		{"maven", "1-rc", "1-cr", 0},
		// deb
		{"deb", "1.0~rc1", "1.0", -1},
		{"deb", "1:0.5", "2.0", 1},
		{"deb", "1.0-1", "1.0-1ubuntu1", -1},
		{"deb", "1.0+dfsg", "1.0", 1},
		// rpm
		{"rpm", "1.0~rc1", "1.0", -1},
		{"rpm", "1.0^git1", "1.0", 1},
		{"rpm", "1.0^git1", "1.0.1", -1},
		{"rpm", "2:1.0", "1:9.9", 1},
		{"rpm", "1.0-2.el8", "1.0-10.el8", -1},
		{"rpm", "1.0a", "1.0", 1},
		// apk
		{"apk", "1.0_rc1", "1.0", -1},
		{"apk", "1.0_p1", "1.0", 1},
		{"apk", "1.0-r1", "1.0-r2", -1},
		{"apk", "1.0a", "1.0", 1},
		// alpm
		{"alpm", "1.0alpha", "1.0", -1},
		{"alpm", "1:1.0", "2.0", 1},
		// gentoo
		{"gentoo", "1.0_rc1", "1.0", -1},
		{"gentoo", "1.0_p1", "1.0", 1},
		{"gentoo", "1.0-r1", "1.0", 1},
		// gem
		{"gem", "1.0.a", "1.0", -1},
		{"gem", "1.0.0", "1", 0},
		{"gem", "1.0.b1", "1.0.a2", 1},
		// composer (coerced to SemVer)
		{"composer", "1.5.6d", "1.5.6", -1},
		{"composer", "19.04.5", "19.4.5", 0},
		// conan
		{"conan", "1.1-pre1", "1.1", -1},
		{"conan", "1.1+b1", "1.1", 1},
		// openssl
		{"openssl", "1.0.2z", "1.0.2za", -1},
		{"openssl", "1.1.1", "1.1.1a", -1},
		{"openssl", "3.0.0-beta1", "3.0.0", -1},
		// intdot
		{"intdot", "4.4", "4.4.0", 0},
		{"intdot", "4.10.0", "4.9.9", 1},
		{"intdot", "04.4", "4.4", 0},
		// datetime, lexicographic, generic
		{"datetime", "2024-01-01T02:00:00+02:00", "2024-01-01T00:00:00Z", 0},
		{"lexicographic", "B", "a", -1},
		{"generic", "1.10", "1.9", 1},
		{"generic", "1.0.0", "1", 0},
	}
	for _, tt := range tests {
		got, err := Compare(tt.scheme, tt.a, tt.b)
		if err != nil {
			t.Errorf("Compare(%s, %q, %q): %v", tt.scheme, tt.a, tt.b, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Compare(%s, %q, %q) = %d, want %d", tt.scheme, tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSchemeParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ scheme, in string }{
		{"semver", "1.2"},
		{"semver", "01.2.3"},
		{"semver", "1.2.3-"},
		{"semver", "1.2.3-01"},
		{"pypi", "1.0-foo"},
		{"gem", "1..0"},
		{"gentoo", "1.0-foo"},
		{"openssl", "1.x"},
		{"datetime", "2024-13-01T00:00:00Z"},
		{"deb", "a1.0"},
		{"apk", "1.0-foo"},
		{"intdot", "4.4a"},
		{"intdot", "4..4"},
	}
	for _, tt := range tests {
		if v, err := Parse(tt.scheme, tt.in); err == nil || !errors.Is(err, ErrInvalidVersion) && !errors.Is(err, ErrUnknownScheme) {
			if err == nil {
				t.Errorf("Parse(%s, %q) = %v, want error", tt.scheme, tt.in, v)
			}
		}
	}
	if _, err := Parse("nosuch", "1"); !errors.Is(err, ErrUnknownScheme) {
		t.Errorf("Parse(nosuch) error = %v, want ErrUnknownScheme", err)
	}
}
