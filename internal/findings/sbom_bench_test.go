package findings

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
)

// benchSBOMs attaches nSBOM model SBOMs of comps components to the most
// common vendor+model+version groups of st's devices; every `every`-th
// component has a vulnerability (CVSS from its record; every 10th of
// them suppressed by VEX, every 7th a low-confidence name match).
func benchSBOMs(b *testing.B, st store.Store, nSBOM, comps, every int) (covered int) {
	ctx := context.Background()
	type group struct {
		vendor, model, version string
		n                      int
	}
	groups := map[string]*group{}
	if err := st.ScanDevices(ctx, func(d *inventory.Device) error {
		k := strings.ToLower(d.Vendor + "\x00" + d.Model + "\x00" + d.Version)
		g := groups[k]
		if g == nil {
			g = &group{vendor: d.Vendor, model: d.Model, version: d.Version}
			groups[k] = g
		}
		g.n++
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	all := make([]*group, 0, len(groups))
	for _, g := range groups {
		all = append(all, g)
	}
	slices.SortFunc(all, func(x, y *group) int {
		return cmp.Or(cmp.Compare(y.n, x.n), strings.Compare(x.vendor+x.model+x.version, y.vendor+y.model+y.version))
	})
	ss := st.(store.SBOMStore)
	for i, g := range all[:min(nSBOM, len(all))] {
		in := &store.SBOMAttach{Subject: store.SBOMSubject{Vendor: g.vendor, Model: g.model, FirmwareVersion: g.version},
			Raw: []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","n":` + strconv.Itoa(i) + `}`), SHA256: fmt.Sprintf("%064x", i+1),
			Format: "cyclonedx-json", SpecVersion: "1.6", Name: g.model + " " + g.version, Valid: true, Quality: 80, AttachedBy: "bench"}
		for c := range comps {
			in.Components = append(in.Components, store.SBOMComponent{Index: c, Name: fmt.Sprintf("lib%d", c), Version: "1.2." + strconv.Itoa(c%9),
				PURL: fmt.Sprintf("pkg:generic/lib%d@1.2.%d", c, c%9)})
			if c%every != 0 {
				continue
			}
			j := c / every
			v := store.SBOMVuln{Index: c, ID: fmt.Sprintf("CVE-2024-%05d", (i*comps+c)%40000), Source: "nvd", Method: "cpe", Status: "affected",
				Confidence: "high", CVSS: 4 + float64(c%60)/10, CVSSVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", CVSSVersion: "3.1", Summary: "bench"}
			switch {
			case j%10 == 9:
				v.Status, v.Suppressed, v.Justification = "not_affected", true, "code_not_present"
			case j%7 == 6:
				v.Method, v.Confidence, v.NeedsReview = "name", "low", true
			}
			in.Vulns = append(in.Vulns, v)
		}
		if _, _, err := ss.AttachSBOM(ctx, in); err != nil {
			b.Fatal(err)
		}
		covered += g.n
	}
	return covered
}

// BenchmarkRecomputeAllSBOMs is BenchmarkRecomputeAll with SBOM findings:
// the demo hospital of MEDWARDEN_BENCH_SBOM_DEVICES devices (default
// 100,000) and 200 model SBOMs of 500 components, one vulnerable
// component in MEDWARDEN_BENCH_SBOM_EVERY (default 20: 25 per SBOM). The
// first recompute after the attach (every SBOM finding new) is a log
// line; the timed runs are steady state (load, assess, store).
func BenchmarkRecomputeAllSBOMs(b *testing.B) {
	n, every := 100_000, 20
	if v, err := strconv.Atoi(os.Getenv("MEDWARDEN_BENCH_SBOM_DEVICES")); err == nil && v > 0 {
		n = v
	}
	if v, err := strconv.Atoi(os.Getenv("MEDWARDEN_BENCH_SBOM_EVERY")); err == nil && v > 0 {
		every = v
	}
	for name, open := range benchStores(b) {
		b.Run(fmt.Sprintf("%s/devices=%d/sboms=200/every=%d", name, n, every), func(b *testing.B) {
			svc, st, _ := loaded(b, open, n)
			covered := benchSBOMs(b, st, 200, 500, every)
			c0 := cpuTime()
			first, err := svc.RecomputeAll(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("first recompute with SBOMs (%d devices covered): load %s assess %s store %s, %d findings (%d new), %s CPU",
				covered, first.Load, first.Assess, first.Store, first.Findings, first.New, cpuTime()-c0)
			var sums []*Summary
			var cpu time.Duration
			for b.Loop() {
				c0 := cpuTime()
				sum, err := svc.RecomputeAll(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c0
				sums = append(sums, sum)
			}
			report(b, sums, cpu)
			b.ReportMetric(float64(covered), "covered-devices")
		})
	}
}
