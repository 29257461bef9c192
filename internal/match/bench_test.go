package match

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/demo"
	"github.com/medwarden/medwarden/internal/inventory"
)

// synthetic returns n advisories shaped like the real ones: each is a copy
// of a real advisory (round robin) with a new id and product names whose
// model numbers and words are varied, so product trees, vendors, version
// ranges and status lists keep their real shapes.
func synthetic(real []*advisory.Advisory, n int) []*advisory.Advisory {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"Pro", "Plus", "Elite", "Vision", "Care", "Flow", "Link", "Nova", "Max", "Edge"}
	out := make([]*advisory.Advisory, 0, n)
	for i := range n {
		src := real[i%len(real)]
		a := *src
		a.ID = fmt.Sprintf("SYN-%05d", i)
		a.Products = make([]advisory.Product, len(src.Products))
		for j, p := range src.Products {
			q := p
			name := mutate(p.ProductName, rng, words)
			q.ProductName = name
			q.Name = strings.Replace(p.Name, p.ProductName, name, 1)
			q.BranchPath = append([]string(nil), p.BranchPath...)
			for k, c := range q.BranchCategories {
				if c == "product_name" && k < len(q.BranchPath) {
					q.BranchPath[k] = name
				}
			}
			if modelLike(q.Version) {
				// version branches that name models ("Accu-Chek Inform II") get made-up names too
				q.Version = mutate(q.Version, rng, words)
			}
			a.Products[j] = q
		}
		out = append(out, &a)
	}
	return out
}

// mutate changes the digits of model numbers and adds a word now and then.
func mutate(s string, rng *rand.Rand, words []string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= '0' && c <= '9' {
			b[i] = byte('0' + rng.IntN(10))
		}
	}
	// replace the words by made-up product line names ("Zorvexka"),
	// keeping model numbers (digits varied) and the name's shape
	fs := strings.Fields(string(b))
	for i, w := range fs {
		if !hasDigit(w) && len(w) > 2 {
			fs[i] = pseudoWord(rng)
		}
	}
	if rng.IntN(2) == 0 {
		fs = append(fs, words[rng.IntN(len(words))])
	}
	return strings.Join(fs, " ")
}

func pseudoWord(rng *rand.Rand) string {
	syl := []string{"zor", "vex", "ka", "li", "tra", "mon", "qui", "sen", "do", "ria", "pex", "nu"}
	var sb strings.Builder
	for i := range 2 + rng.IntN(2) {
		w := syl[rng.IntN(len(syl))]
		if i == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		sb.WriteString(w)
	}
	return sb.String()
}

type benchDevice struct{ asset, vendor, model, version, udi string }

func demoFleet(b *testing.B, n int) []benchDevice {
	b.Helper()
	cfg := demo.DefaultConfig()
	cfg.Devices = n
	cfg.Sites = 0
	cfg.Now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]benchDevice, 0, n)
	if err := demo.Generate(cfg, func(d *inventory.Device) error {
		out = append(out, benchDevice{d.AssetID, d.Vendor, d.Model, d.Version, d.UDIDI})
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return out
}

func buildFleet(devs []benchDevice) *Fleet {
	f := NewFleetSize(nil, len(devs))
	d := &inventory.Device{}
	for _, x := range devs {
		d.AssetID, d.Vendor, d.Model, d.Version, d.UDIDI = x.asset, x.vendor, x.model, x.version, x.udi
		f.Add(d)
	}
	return f
}

// BenchmarkRematch: full re-match (group the fleet into combos, match every
// combo, expand to per-device findings) of the demo fleet against every
// real ICSMA advisory plus 10,000 synthetic ones.
func BenchmarkRematch(b *testing.B) {
	real := loadAdvisories(b, "testdata/icsma")
	advs := append(append([]*advisory.Advisory(nil), real...), synthetic(real, 10000)...)
	ix, err := Compile(advs, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10_000, 1_000_000} {
		b.Run("devices-1e"+strconv.Itoa(len(strconv.Itoa(n))-1), func(b *testing.B) {
			devs := demoFleet(b, n)
			b.ReportAllocs()
			var findings, iters int
			cpu0 := cpuTime()
			for b.Loop() {
				f := buildFleet(devs)
				fs, err := ix.Match(context.Background(), f)
				if err != nil {
					b.Fatal(err)
				}
				findings = len(fs)
				iters++
			}
			b.ReportMetric(float64(findings), "findings")
			// CPU seconds (all threads) per re-match: wall time on a shared
			// machine also counts other processes' turns.
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(iters), "cpu-s/op")
		})
	}
}

// BenchmarkCompile: building the index of every real advisory plus 10,000
// synthetic ones.
func BenchmarkCompile(b *testing.B) {
	real := loadAdvisories(b, "testdata/icsma")
	advs := append(append([]*advisory.Advisory(nil), real...), synthetic(real, 10000)...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(advs, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewAdvisory: one new advisory against a fleet already grouped
// (the incremental path: only that advisory's vendors' combos are touched).
func BenchmarkNewAdvisory(b *testing.B) {
	real := loadAdvisories(b, "testdata/icsma")
	var newAdv *advisory.Advisory
	var rest []*advisory.Advisory
	for _, a := range real {
		if a.ID == "ICSMA-20-343-01" { // GE, 107 products: the largest tree
			newAdv = a
			continue
		}
		rest = append(rest, a)
	}
	ix, err := Compile(append(rest, synthetic(real, 10000)...), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10_000, 1_000_000} {
		b.Run("devices-1e"+strconv.Itoa(len(strconv.Itoa(n))-1), func(b *testing.B) {
			f := buildFleet(demoFleet(b, n))
			b.ReportAllocs()
			var findings, iters int
			cpu0 := cpuTime()
			for b.Loop() {
				fs, err := ix.MatchAdvisory(context.Background(), newAdv, f)
				if err != nil {
					b.Fatal(err)
				}
				findings = len(fs)
				iters++
			}
			b.ReportMetric(float64(findings), "findings")
			b.ReportMetric((cpuTime()-cpu0).Seconds()*1000/float64(iters), "cpu-ms/op")
		})
	}
}

// BenchmarkIdentity: scoring one device model against one product form.
func BenchmarkIdentity(b *testing.B) {
	al := DefaultAliases()
	d := newDeviceModel(parseModel("Philips IntelliVue MX450 Patient Monitor", al.vendorWords("Philips")))
	f := newForm(parseModel("IntelliVue Patient Monitors MX", nil), parseModel("MX400-550", nil), nil)
	f.ranges = modelRanges("MX400-550")
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = identityScore(&d, &f)
	}
}
