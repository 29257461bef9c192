package hl7_test

import (
	"os"
	"testing"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
	"github.com/medwarden/medwarden/internal/sensor/dissect/list"
	"github.com/medwarden/medwarden/internal/sensor/sensortest"
)

// BenchmarkScanMedical runs the sensor over the capture named by
// MEDWARDEN_BENCH_CAPTURE (e.g. a `sensorbench -simulate … -large 0 -tls
// 1500000` mix where HL7 and DICOM are 30 % of the traffic) with every
// dissector, and with every dissector but hl7 and dicom: the ratio of the
// two is issue 7's "HL7 and DICOM dissection add ≤ 20 % to a scan". Run
// the two alternately (-count) and compare CPU time, or profile the first
// with -cpuprofile. Skipped without the variable: the captures are large.
func BenchmarkScanMedical(b *testing.B) {
	path := os.Getenv("MEDWARDEN_BENCH_CAPTURE")
	if path == "" {
		b.Skip("MEDWARDEN_BENCH_CAPTURE is not set: set it to a capture (bench/sensor.sh builds mix30.pcap)")
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		skip map[string]bool
	}{
		{"all-dissectors", nil},
		{"without-hl7-dicom", map[string]bool{"hl7": true, "dicom": true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for b.Loop() {
				var kept []dissect.Dissector
				for _, d := range list.Build(list.Default()) {
					if !bc.skip[d.Name()] {
						kept = append(kept, d)
					}
				}
				sensortest.Run(b, path, kept...)
			}
		})
	}
}
