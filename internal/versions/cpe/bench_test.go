package cpe

import (
	"os"
	"path/filepath"
	"testing"
)

var sinkBool bool

func BenchmarkMatch(b *testing.B) {
	src, _ := Parse("cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*")
	dst, _ := Parse("cpe:2.3:a:microsoft:internet_explorer:8.0.6001:sp1:*:*:*:*:*:*")
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = Match(src, dst)
	}
}

func BenchmarkParse(b *testing.B) {
	const s = "cpe:2.3:o:baxter:sigma_spectrum_infusion_system_firmware:6.02:*:*:*:*:*:*:*"
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		n, _ := Parse(s)
		sinkBool = n.attrs[Part].Kind == String
	}
}

// BenchmarkEvaluate evaluates a firmware-on-hardware NVD configuration
// (CVE-2020-12039) for one device.
func BenchmarkEvaluate(b *testing.B) {
	f, err := os.Open(filepath.Join("testdata", "nvd", "CVE-2020-12039.json"))
	if err != nil {
		b.Fatal(err)
	}
	cfgs, err := ParseConfigurations(f, "CVE-2020-12039.json")
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	var dev []Name
	for _, s := range []string{"cpe:2.3:o:baxter:sigma_spectrum_infusion_system_firmware:6.02:*:*:*:*:*:*:*", sigmaHW} {
		n, _ := Parse(s)
		dev = append(dev, n)
	}
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = EvaluateAll(cfgs, dev).Affected == True
	}
}
