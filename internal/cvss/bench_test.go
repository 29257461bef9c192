package cvss

import (
	"fmt"
	"path/filepath"
	"testing"

	gocvss20 "github.com/pandatix/go-cvss/20"
	gocvss30 "github.com/pandatix/go-cvss/30"
	gocvss31 "github.com/pandatix/go-cvss/31"
	gocvss40 "github.com/pandatix/go-cvss/40"
)

// benchVectors returns the vectors of one version from testdata (v3.x, v4.0)
// or generated (v2.0, which has no corpus), so both libraries see the same mix.
func benchVectors(b *testing.B, ver Version) []string {
	var out []string
	if ver == V20 {
		out = []string{
			"AV:N/AC:L/Au:N/C:P/I:P/A:P",
			"AV:N/AC:M/Au:N/C:C/I:C/A:C",
			"AV:L/AC:H/Au:N/C:C/I:C/A:C/E:POC/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:M",
			"AV:N/AC:L/Au:N/C:N/I:N/A:C/E:F/RL:OF/RC:C/CDP:H/TD:H/CR:M/IR:M/AR:H",
			"AV:A/AC:L/Au:S/C:P/I:N/A:N",
		}
		return out
	}
	file := map[Version]string{V30: "cvss_v30.csv", V31: "cvss_v31.csv", V40: "cvss_v40.csv"}[ver]
	for _, dir := range []string{"polycvss", "redhat"} {
		for _, c := range readCases(b, filepath.Join("testdata", dir)) {
			if c.file == file {
				out = append(out, c.vector)
			}
		}
	}
	if len(out) == 0 {
		b.Fatalf("no %s vectors in testdata", ver)
	}
	return out
}

func avgLen(vs []string) int64 {
	n := 0
	for _, v := range vs {
		n += len(v)
	}
	return int64(n / len(vs))
}

// BenchmarkParseScore measures Parse followed by Score, per vector.
func BenchmarkParseScore(b *testing.B) {
	for _, ver := range []Version{V20, V30, V31, V40} {
		vs := benchVectors(b, ver)
		b.Run("v"+ver.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(avgLen(vs))
			i := 0
			var sink float64
			for b.Loop() {
				v, err := Parse(vs[i%len(vs)])
				if err != nil {
					b.Fatal(err)
				}
				sink += v.Score()
				i++
			}
			_ = sink
		})
	}
}

// BenchmarkResult measures Parse plus all scores and the normalised string.
func BenchmarkResult(b *testing.B) {
	for _, ver := range []Version{V31, V40} {
		vs := benchVectors(b, ver)
		b.Run("v"+ver.String(), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r, err := Score(vs[i%len(vs)])
				if err != nil {
					b.Fatal(err)
				}
				_ = r
				i++
			}
		})
	}
}

// BenchmarkGoCVSS runs github.com/pandatix/go-cvss on the same vectors for
// the ratio in docs/benchmarks/cvss.md (parse + the same score as ours).
func BenchmarkGoCVSS(b *testing.B) {
	type scorer func(string) (float64, error)
	libs := []struct {
		ver Version
		fn  scorer
	}{
		{V20, func(s string) (float64, error) {
			v, err := gocvss20.ParseVector(s)
			if err != nil {
				return 0, err
			}
			return v.EnvironmentalScore(), nil
		}},
		{V30, func(s string) (float64, error) {
			v, err := gocvss30.ParseVector(s)
			if err != nil {
				return 0, err
			}
			return v.EnvironmentalScore(), nil
		}},
		{V31, func(s string) (float64, error) {
			v, err := gocvss31.ParseVector(s)
			if err != nil {
				return 0, err
			}
			return v.EnvironmentalScore(), nil
		}},
		{V40, func(s string) (float64, error) {
			v, err := gocvss40.ParseVector(s)
			if err != nil {
				return 0, err
			}
			return v.Score(), nil
		}},
	}
	for _, l := range libs {
		vs := benchVectors(b, l.ver)
		b.Run("v"+l.ver.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(avgLen(vs))
			i := 0
			var sink float64
			for b.Loop() {
				x, err := l.fn(vs[i%len(vs)])
				if err != nil {
					b.Fatal(fmt.Errorf("%s: %w", vs[i%len(vs)], err))
				}
				sink += x
				i++
			}
			_ = sink
		})
	}
}
