package versions

import (
	"errors"
	"testing"
)

func TestParseVers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{"canonical", "vers:npm/1.2.3|>=2.0.0|<5.0.0", "vers:npm/1.2.3|>=2.0.0|<5.0.0", nil},
		{"sorts", "vers:pypi/<2.0|>=1.0", "vers:pypi/>=1.0|<2.0", nil},
		{"explicit_equal_dropped", "vers:semver/=1.3.4", "vers:semver/1.3.4", nil},
		{"whitespace_tolerated", "vers:npm/ >=1.0.0 | <2.0.0 ", "vers:npm/>=1.0.0|<2.0.0", nil},
		{"upper_case_prefix", "VERS:Generic/>=1.0", "vers:generic/>=1.0", nil},
		{"star", "vers:deb/*", "vers:deb/*", nil},
		{"percent_round_trip", "vers:generic/1.0%7C2", "vers:generic/1.0%7C2", nil},
		{"firmware", "vers:firmware/>=V2.4.1%20SP3|<V3", "vers:firmware/>=V2.4.1%20SP3|<V3", nil},
		{"no_prefix", "npm/1.0.0", "", ErrInvalidRange},
		{"no_slash", "vers:npm", "", ErrInvalidRange},
		{"unknown_scheme", "vers:nosuch/1.0", "", ErrUnknownScheme},
		{"empty_constraints", "vers:npm/", "", ErrInvalidRange},
		{"star_not_alone", "vers:npm/*|1.0.0", "", ErrInvalidRange},
		{"bad_version", "vers:semver/>=1.x", "", ErrInvalidVersion},
		{"bad_percent", "vers:generic/1%G0", "", ErrInvalidRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseVers(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseVers(%q) error = %v, want %v", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseVers(%q): %v", tt.in, err)
			}
			if got := r.String(); got != tt.want {
				t.Errorf("ParseVers(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseVersCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		wantErr bool
	}{
		{"vers:npm/>=1.0.0|<2.0.0", false},
		{"vers:npm/>=1.0.0| <2.0.0", true},
		{"vers:npm/<2.0.0|>=1.0.0", true},
		{"vers:npm/>=1.0.0|", true},
		{"vers:npm/=1.0.0", true},
		{"VERS:npm/1.0.0", true},
		{"vers:NPM/1.0.0", true},
		{"vers:generic/1.0%2f0", true},
		{"vers:generic/1.0%2E0", true},
		{"vers:generic/1.0%250", false},
	}
	for _, tt := range tests {
		_, err := ParseVersCanonical(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseVersCanonical(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrNonCanonical) && !errors.Is(err, ErrInvalidRange) {
			t.Errorf("ParseVersCanonical(%q) error = %v, want ErrNonCanonical or ErrInvalidRange", tt.in, err)
		}
	}
}

func TestRangeContains(t *testing.T) {
	t.Parallel()
	tests := []struct {
		vers    string
		version string
		want    bool
	}{
		{"vers:npm/1.2.3|>=2.0.0|<5.0.0", "1.2.3", true},
		{"vers:npm/1.2.3|>=2.0.0|<5.0.0", "1.2.4", false},
		{"vers:npm/1.2.3|>=2.0.0|<5.0.0", "4.9.9", true},
		{"vers:npm/1.2.3|>=2.0.0|<5.0.0", "5.0.0", false},
		{"vers:npm/<1.0.0|>=2.0.0", "0.9.0", true},
		{"vers:npm/<1.0.0|>=2.0.0", "1.5.0", false},
		{"vers:npm/<1.0.0|>=2.0.0", "3.0.0", true},
		{"vers:pypi/>=1.0|!=1.5|<2.0", "1.5", false},
		{"vers:pypi/>=1.0|!=1.5|<2.0", "1.6", true},
		{"vers:pypi/!=1.5", "1.6", true},
		{"vers:pypi/!=1.5", "1.5", false},
		{"vers:deb/*", "1:2.3-4", true},
		{"vers:generic/>1.0|<=2.0", "1.0", false},
		{"vers:generic/>1.0|<=2.0", "2.0.0", true},
		{"vers:firmware/<V2.4.1 SP3", "2.4.1 SP2", true},
		{"vers:firmware/<V2.4.1 SP3", "2.4.1 SP3", false},
	}
	for _, tt := range tests {
		r, err := ParseVers(tt.vers)
		if err != nil {
			t.Fatalf("ParseVers(%q): %v", tt.vers, err)
		}
		got, err := r.Contains(tt.version)
		if err != nil {
			t.Fatalf("%s Contains(%q): %v", tt.vers, tt.version, err)
		}
		if got != tt.want {
			t.Errorf("%s Contains(%q) = %v, want %v", tt.vers, tt.version, got, tt.want)
		}
	}
}

func TestRangeFromIntervalsMerges(t *testing.T) {
	t.Parallel()
	mk := func(s string) Version {
		v, err := Generic.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ivs := []Interval{
		{Lo: Bound{Version: mk("3.0"), Inclusive: true}, Hi: Bound{Version: mk("4.0")}},
		{Lo: Bound{Version: mk("1.0"), Inclusive: true}, Hi: Bound{Version: mk("2.0"), Inclusive: true}},
		{Lo: Bound{Version: mk("1.5"), Inclusive: true}, Hi: Bound{Version: mk("3.0")}},
		{Lo: Bound{Version: mk("5.0"), Inclusive: true}, Hi: Bound{Version: mk("5.0"), Inclusive: true}},
	}
	r, err := RangeFromIntervals(Generic, ivs)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.String(), "vers:generic/>=1.0|<4.0|5.0"; got != want {
		t.Errorf("RangeFromIntervals = %q, want %q", got, want)
	}
}
