package cvss

import (
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, and that a parsed vector's
// normalised String re-parses to the same vector and the same scores.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"polycvss", "redhat"} {
		for i, c := range readCases(f, filepath.Join("testdata", dir)) {
			if i%25 == 0 {
				f.Add(c.vector)
			}
		}
	}
	for _, s := range []string{
		"(AV:N/AC:L/Au:N/C:P/I:P/A:P)",
		"AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:H",
		"CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:L/VI:H/VA:H/SC:N/SI:H/SA:H/MSI:S/MSA:S/S:P/R:I/U:Red",
		"CVSS:3.1/", "CVSS:", "(", "()", "CVSS:3.1/AV:N//", "AV:N/AV:N",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("Parse(%q): empty error message", s)
			}
			return
		}
		norm := v.String()
		w, err := Parse(norm)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not re-parse: %v", s, norm, err)
		}
		if got := w.String(); got != norm {
			t.Fatalf("String not stable: %q -> %q", norm, got)
		}
		if v.Result() != w.Result() {
			t.Fatalf("Parse(%q) and Parse(%q) score differently: %+v vs %+v", s, norm, v.Result(), w.Result())
		}
		for _, x := range []float64{v.BaseScore(), v.TemporalScore(), v.EnvironmentalScore(), v.Score()} {
			if !(x >= 0 && x <= 10) {
				t.Fatalf("Parse(%q): score %v out of range", s, x)
			}
		}
	})
}
