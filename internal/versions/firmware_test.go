package versions

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFirmwareCompare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"numeric_segments", "8.2.1.13", "8.2.1.9", 1},
		{"numeric_not_lexical", "1.10", "1.9", 1},
		{"leading_v_ignored", "v3.2.1", "3.2.1", 0},
		{"version_word_ignored", "Version 5.1", "5.1", 0},
		{"sw_prefix_ignored", "SW 2.03.01", "2.3.1", 0},
		{"leading_zeros", "02.07.07", "2.7.7", 0},
		{"trailing_zero", "1.0", "1.0.0", 0},
		{"trailing_zeros_before_suffix", "4.5.0.0 SR2", "4.5 SR2", 0},
		{"service_pack_after_base", "V2.4.1 SP3", "V2.4.1", 1},
		{"service_pack_before_next", "V2.4.1 SP3", "V2.4.2", -1},
		{"service_pack_numbers", "V2.4.1 SP3", "V2.4.1 SP10", -1},
		{"service_pack_words", "8.0 Service Pack 2", "8.0 SP2", 0},
		{"sr_after_base", "4.5.0.0 SR2", "4.5.0.0", 1},
		{"sp_after_sr", "4.5 SP1", "4.5 SR9", 1},
		{"build_after_base", "Version 5.1 build 1234", "5.1", 1},
		{"build_numbers", "9.0 (Build 123)", "9.0 (Build 1000)", -1},
		{"build_before_patch_number", "9.0 build 123", "9.0.1", -1},
		{"letter_after_number", "1.0.2b", "1.0.2", 1},
		{"letter_order", "1.0.2b", "1.0.2a", 1},
		{"letter_before_next_patch", "1.0.2b", "1.0.3", -1},
		{"rc_before_release", "v3.2.1-rc1", "3.2.1", -1},
		{"rc_after_previous", "v3.2.1-rc1", "3.2.0", 1},
		{"beta_before_rc", "3.2.1-beta2", "3.2.1-rc1", -1},
		{"alpha_before_beta", "3.2.1 alpha", "3.2.1 beta", -1},
		{"dev_first", "2.0-dev", "2.0-alpha", -1},
		{"release_prefix_letter", "R11.2", "R11.10", -1},
		{"release_letter_major", "R11", "R8.0.3", 1},
		{"letter_majors", "A.02.10", "B.01", -1},
		{"letter_major_same", "A.02.10", "A.2.9", 1},
		{"year_versions", "2019.1", "2018.12", 1},
		{"update_suffix", "V19 Update 1", "V19_Update_2", -1},
		{"combined_suffixes", "V7.5_SP2_Update_16", "V7.5 SP2 Update 2", 1},
		{"case_insensitive", "4.4.9sp", "4.4.9SP", 0},
		{"huge_numbers", "1.99999999999999999999999", "1.100000000000000000000000", -1},
		{"paren_build", "2025.1 (Build 3321)", "2025.1 build 3321", 0},
		{"letter_suffix_model", "BT02", "BT06", -1},
		{"u_series", "012U000061", "012U000040", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Compare("firmware", tt.a, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Compare(firmware, %q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			rev, _ := Compare("firmware", tt.b, tt.a)
			if rev != -tt.want {
				t.Errorf("Compare(firmware, %q, %q) = %d, want %d", tt.b, tt.a, rev, -tt.want)
			}
		})
	}
}

func TestFirmwareParseErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "   ", "...", "--", strings.Repeat("1.", 300)} {
		if _, err := Parse("firmware", in); err == nil {
			t.Errorf("Parse(firmware, %q) succeeded, want error", in)
		}
	}
}

func TestFirmwareSortOrder(t *testing.T) {
	t.Parallel()
	in := []string{"2.0", "1.0.2b", "1.0.2", "1.0.2-rc1", "1.0.2 SP1", "1.0.2 build 7", "1.0.10", "1.0.2.1", "1.0.2-beta", "1.0.2 SR1"}
	want := []string{"1.0.2-beta", "1.0.2-rc1", "1.0.2", "1.0.2 build 7", "1.0.2 SR1", "1.0.2 SP1", "1.0.2b", "1.0.2.1", "1.0.10", "2.0"}
	vs := make([]Version, len(in))
	for i, s := range in {
		v, err := Firmware.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		vs[i] = v
	}
	slices.SortFunc(vs, Version.Compare)
	got := make([]string, len(vs))
	for i, v := range vs {
		got[i] = v.String()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sorted firmware versions (-want +got):\n%s", diff)
	}
}

// randomFirmware builds version strings from the pieces real registers use.
func randomFirmware(r *rand.Rand) string {
	pieces := []string{"0", "1", "2", "10", "09", "00", "a", "b", "x", "SP", "SR", "build", "rc", "beta", "alpha", "dev", "patch", "update", "V", "R", "A", "hf", "u"}
	seps := []string{".", "-", "_", " ", "", "(", ")"}
	var b strings.Builder
	n := 1 + r.IntN(6)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(seps[r.IntN(len(seps))])
		}
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// TestFirmwareTotalOrder checks that Compare is a total preorder:
// reflexive, antisymmetric (a<=b and b<=a means equal) and transitive.
func TestFirmwareTotalOrder(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	var vs []Version
	for len(vs) < 300 {
		if v, err := Firmware.Parse(randomFirmware(r)); err == nil {
			vs = append(vs, v)
		}
	}
	for _, a := range vs {
		if a.Compare(a) != 0 {
			t.Fatalf("Compare(%q, %q) != 0", a, a)
		}
		for _, b := range vs {
			ab, ba := a.Compare(b), b.Compare(a)
			if ab != -ba {
				t.Fatalf("antisymmetry: Compare(%q, %q) = %d but Compare(%q, %q) = %d", a, b, ab, b, a, ba)
			}
		}
	}
	for i, a := range vs[:120] {
		for _, b := range vs[:120] {
			for _, c := range vs[i%7 : 120 : 120] {
				if a.Compare(b) <= 0 && b.Compare(c) <= 0 && a.Compare(c) > 0 {
					t.Fatalf("transitivity: %q <= %q <= %q but %q > %q", a, b, c, a, c)
				}
			}
		}
	}
}
