package csvfile

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"syscall"
	"testing"
)

// canonicalRows builds n realistic canonical rows (every column filled, one
// MAC, one IP, as a CMMS export of networked devices looks).
func canonicalRows(n int) []byte {
	var b bytes.Buffer
	b.WriteString("asset_id,vendor,model,version,serial,mac,ip,hostname,site,location,department,device_type,criticality,patient_connected,phi,os,end_of_support\n")
	for i := range n {
		fmt.Fprintf(&b, "BME-%06d,Philips,IntelliVue MX450,M.00.03,DE%08d,00:09:fb:%02x:%02x:%02x,10.20.%d.%d,icu-mon-%04d,Main Campus,Building A / Floor 3 / ICU,Intensive Care,Patient Monitor,life-supporting,yes,yes,VxWorks 6.9,2028-12-31\n",
			i, i, byte(i>>16), byte(i>>8), byte(i), byte(i>>8), byte(i), i%10000)
	}
	return b.Bytes()
}

func BenchmarkDecode(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		data := canonicalRows(n)
		b.Run(fmt.Sprintf("canonical-rows-%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			rows := 0
			cpu0 := cpuSeconds()
			for b.Loop() {
				d, err := NewDecoder(bytes.NewReader(data), "bench.csv")
				if err != nil {
					b.Fatal(err)
				}
				for {
					_, err := d.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					rows++
				}
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(rows)/(cpuSeconds()-cpu0), "rows/cpu-s")
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	data := canonicalRows(1000)
	res, _, err := decodeAll(b, bytes.NewReader(data), "bench.csv")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := NewWriter(io.Discard)
		for _, d := range res.Devices {
			if err := w.Write(d); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res.Devices)*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// cpuSeconds is the user+system CPU time of the process so far. The build
// machine is shared, so wall-clock rows/s understate the parser; rows per
// CPU-second (all threads, GC included) is the fair figure.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkStdlibCSV is the baseline: encoding/csv splitting the same rows
// into fields (ReuseRecord, no validation, no devices built).
func BenchmarkStdlibCSV(b *testing.B) {
	data := canonicalRows(100000)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	rows := 0
	cpu0 := cpuSeconds()
	for b.Loop() {
		r := csv.NewReader(bytes.NewReader(data))
		r.ReuseRecord = true
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(rows)/(cpuSeconds()-cpu0), "rows/cpu-s")
}
