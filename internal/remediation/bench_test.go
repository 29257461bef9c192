package remediation

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/risk"
)

// BenchmarkBuild builds the queue of a fleet: 2.4 findings per device,
// 1 in 8 in KEV, remediation categories as in CISA ICSMA advisories
// (mostly vendor_fix, some mitigation only, a few no fix), 5 % of devices
// past end of support, 1 % of findings accepted.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("devices-1e%d", len(fmt.Sprint(n))-1), func(b *testing.B) {
			r := rand.New(rand.NewPCG(7, 7))
			p := DefaultPolicy()
			fleet := make([]DeviceInfo, n)
			var inputs []Input
			rems := [][]string{{"vendor_fix"}, {"vendor_fix", "mitigation"}, {"mitigation"}, {"workaround"}, {"none_available", "mitigation"}, nil}
			for i := range fleet {
				d := &fleet[i]
				*d = DeviceInfo{AssetID: fmt.Sprintf("A%07d", i), Vendor: "V" + fmt.Sprint(r.IntN(40)), Model: "M" + fmt.Sprint(r.IntN(300)),
					Version: fmt.Sprint(r.IntN(5)), Site: "S" + fmt.Sprint(r.IntN(4)), Department: "D" + fmt.Sprint(r.IntN(30)),
					Exposure: risk.Exposure(r.IntN(5))}
				if r.IntN(20) == 0 {
					d.EndOfSupport = now.AddDate(-1, 0, 0)
				}
				for j := range []int{1, 1, 2, 2, 3, 4}[r.IntN(6)] {
					f := &risk.Finding{AdvisoryID: fmt.Sprintf("ICSMA-%d", j+r.IntN(100)), KEV: r.IntN(8) == 0, KEVCVE: "CVE-2020-1",
						KEVDateAdded: now.AddDate(0, 0, -r.IntN(400)), Remediations: rems[r.IntN(len(rems))],
						Detected: now.AddDate(0, 0, -r.IntN(200))}
					if r.IntN(100) == 0 {
						p.Acceptances = append(p.Acceptances, Acceptance{AssetID: d.AssetID, AdvisoryID: f.AdvisoryID, Justification: "j", Approver: "a",
							Accepted: Date{now.AddDate(0, -1, 0)}, Expires: Date{now.AddDate(0, 0, r.IntN(60)-30)}})
					}
					inputs = append(inputs, Input{d, f, float64(r.IntN(1000)) / 10, risk.Bands[r.IntN(5)]})
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(&p, now.Add(time.Hour), fleet, inputs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(inputs))/float64(n), "findings/device")
		})
	}
}
