package versions

import "testing"

var sinkInt int
var sinkBool bool

func BenchmarkFirmwareCompare(b *testing.B) {
	x, _ := Firmware.Parse("V2.4.1 SP3 build 1234")
	y, _ := Firmware.Parse("V2.4.1 SP3 build 1240")
	b.ReportAllocs()
	for b.Loop() {
		sinkInt = x.Compare(y)
	}
}

func BenchmarkFirmwareParse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len("V2.4.1 SP3 build 1234")))
	for b.Loop() {
		v, _ := Firmware.Parse("V2.4.1 SP3 build 1234")
		sinkInt = len(v.raw)
	}
}

func BenchmarkSemverCompare(b *testing.B) {
	x, _ := SemVer.Parse("1.2.3-beta.2")
	y, _ := SemVer.Parse("1.2.3-beta.11")
	b.ReportAllocs()
	for b.Loop() {
		sinkInt = x.Compare(y)
	}
}

// BenchmarkContains measures the hot path of a fleet re-match: a
// pre-parsed version against a pre-parsed range.
func BenchmarkContains(b *testing.B) {
	cases := []struct {
		name, vers, version string
	}{
		{"firmware-interval", "vers:firmware/>=V2.5|<V20.8", "V20.7 SP1"},
		{"semver-3-intervals", "vers:npm/>=1.10.0|<1.10.10|>=1.11.0|<1.11.6|>=1.12.0|<1.12.4|1.13.0", "1.12.3"},
		{"deb-upper", "vers:deb/<1:2.30-3ubuntu1", "1:2.30-2"},
		{"pypi-ne", "vers:pypi/>=1.0|!=1.5|<2.0", "1.6"},
	}
	for _, c := range cases {
		r, err := ParseVers(c.vers)
		if err != nil {
			b.Fatal(err)
		}
		v, err := r.scheme.Parse(c.version)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBool = r.ContainsVersion(v)
			}
		})
	}
}

func BenchmarkParseVers(b *testing.B) {
	const s = "vers:npm/>=1.10.0|<1.10.10|>=1.11.0|<1.11.6|>=1.12.0|<1.12.4|1.13.0"
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		r, _ := ParseVers(s)
		sinkBool = r != nil
	}
}

func BenchmarkParseCSAFRange(b *testing.B) {
	const s = "All versions >= V2.5 and < V20.8"
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		r, _ := ParseCSAFRange(s)
		sinkBool = r != nil
	}
}
