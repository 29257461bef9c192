package versions

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParseVers(f *testing.F) {
	for _, s := range []string{
		"vers:npm/1.2.3|>=2.0.0|<5.0.0", "vers:pypi/>0.0.0|>=0.0.1|!=0.7", "vers:datetime/2024-01-01T00:00:00Z",
		"vers:npm/1.0%252F0", "vers:generic/*", "vers:firmware/<V2.4.1%20SP3", "vers:maven/>=1.0-SNAPSHOT",
		"vers:deb/>=1:1.0~rc1-1", "vers:npm/|>=1.0.0", "vers:all/<V22.01.10",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseVers(s)
		if err != nil {
			return
		}
		// The canonical form must parse to the same canonical form.
		c := r.String()
		r2, err := ParseVersCanonical(c)
		if err != nil {
			// A canonical string may still hold a version whose sort order
			// depends on ties; it must at least parse leniently.
			if r2, err = ParseVers(c); err != nil {
				t.Fatalf("ParseVers(%q) ok, but its String %q does not parse: %v", s, c, err)
			}
		}
		if got := r2.String(); got != c {
			t.Fatalf("canonical form not stable: %q -> %q -> %q", s, c, got)
		}
		for _, cs := range r.Constraints() {
			if cs.Op != OpAny {
				_ = r.ContainsVersion(cs.Version)
			}
		}
	})
}

func FuzzFirmwareCompare(f *testing.F) {
	for _, p := range [][2]string{
		{"V2.4.1 SP3", "8.2.1.13"}, {"R11.2", "1.0.2b"}, {"v3.2.1-rc1", "Version 5.1 build 1234"},
		{"9.0 (Build 123)", "SW 2.03.01"}, {"4.5.0.0 SR2", "A.02.10"}, {"2019.1", "1.0"},
	} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := Firmware.Parse(a)
		vb, errB := Firmware.Parse(b)
		if errA != nil || errB != nil {
			return
		}
		if va.Compare(va) != 0 {
			t.Fatalf("Compare(%q, itself) != 0", a)
		}
		if ab, ba := va.Compare(vb), vb.Compare(va); ab != -ba {
			t.Fatalf("Compare(%q, %q) = %d, reverse = %d", a, b, ab, ba)
		}
	})
}

func FuzzParseCSAFRange(f *testing.F) {
	for _, s := range []string{
		"<= 3.2", "< 5.0", "Version 5 and prior", "versions prior to 4.1.2", "All versions",
		"all versions before R11", "1.0 through 2.3", "v2.1 - v2.7", "4.x", "versions 8.0 to 8.2.1",
		"1.2, 1.3 and 1.4", ">= 2.5 | <= 3.11", "A.01 <= C.0x | 4.0", "vers:all/<V22.01.10",
		"<= 1.54 (integrated into GE MobileLink)", "Revisions A.01 to C.0x and 4.0", "<May 2018",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseCSAFRange(s)
		if err != nil {
			if !errors.Is(err, ErrNotUnderstood) && !errors.Is(err, ErrInvalidRange) {
				t.Fatalf("ParseCSAFRange(%q) error %v wraps neither ErrNotUnderstood nor ErrInvalidRange", s, err)
			}
			return
		}
		// Every interval bound must be inside (or just outside) the range
		// as its inclusiveness says.
		for _, iv := range r.Intervals() {
			if !iv.Lo.Unbounded && r.ContainsVersion(iv.Lo.Version) != iv.Lo.Inclusive && !r.All() {
				// a bound may be covered by a neighbouring interval only
				// when intervals touch, which RangeFromIntervals merges away.
				t.Fatalf("%q: lower bound %q containment %v, inclusive %v (%s)", s, iv.Lo.Version, !iv.Lo.Inclusive, iv.Lo.Inclusive, r)
			}
		}
		if _, err := ParseVers(r.String()); err != nil {
			t.Fatalf("ParseCSAFRange(%q).String() = %q does not parse: %v", s, r.String(), err)
		}
	})
}

func FuzzFromNative(f *testing.F) {
	for _, p := range [][2]string{
		{"npm", ">=1.5.2 || >=1.4.11 <1.5.0"}, {"npm", "^1.2.3-beta.1"}, {"npm", "1.2.x"}, {"npm", "5.0.0 - 7.2.3"},
		{"conan", "~2.5"}, {"pypi", ">=1.8.0a,<1.8.4||==2.0"}, {"gem", "~> 1.2"}, {"nuget", "[1.0.0, 2.0.0)"},
		{"nginx", "1.5.0+, 1.4.1+"}, {"composer", ">=2.0.13.0alpha,<2.0.15"}, {"golang", "<v2021-08-11"},
	} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, scheme, native string) {
		if _, err := LookupScheme(scheme); err != nil || strings.ContainsAny(native, "\x00") {
			return
		}
		r, err := FromNative(scheme, native)
		if err != nil {
			return
		}
		if len(r.constraints) == 0 {
			return
		}
		if _, err := ParseVers(r.String()); err != nil {
			t.Fatalf("FromNative(%s, %q) = %q does not parse: %v", scheme, native, r.String(), err)
		}
	})
}
