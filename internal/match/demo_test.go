package match

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/demo"
	"github.com/medwarden/medwarden/internal/inventory"
)

// TestDemoGroundTruth: every device of the default demo fleet that the
// demo catalog records as affected by an advisory gets a finding for it,
// and devices of a covered line outside the affected versions get none.
func TestDemoGroundTruth(t *testing.T) {
	dir := extraDir(t, "csaf_cisa/icsma")
	advs := loadAdvisories(t, dir)
	have := map[string]bool{}
	for _, a := range advs {
		have[a.ID] = true
	}
	ix, err := Compile(advs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := demo.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	cfg := demo.DefaultConfig()
	cfg.Now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fleet := NewFleet(nil)
	var devices []*inventory.Device
	if err := demo.Generate(cfg, func(d *inventory.Device) error {
		fleet.Add(d)
		devices = append(devices, d)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fs, err := ix.Match(context.Background(), fleet)
	if err != nil {
		t.Fatal(err)
	}
	got := map[[2]string]Finding{}
	for _, f := range fs {
		got[[2]string{f.AssetID, f.AdvisoryID}] = f
	}
	checked, missed, reviewed := 0, 0, 0
	missing := map[string]bool{}
	for _, d := range devices {
		for _, id := range cat.KnownAffected(d.Vendor, d.Model, d.Version) {
			if !have[id] {
				continue // advisory on the held-out side
			}
			checked++
			f, ok := got[[2]string{d.AssetID, id}]
			if !ok {
				missed++
				k := d.Vendor + " | " + d.Model + " | " + d.Version + " → " + id
				if !missing[k] {
					missing[k] = true
					t.Errorf("no finding for %s", k)
				}
				continue
			}
			if f.Status == StatusNeedsReview {
				reviewed++
				k := d.Model + " | " + d.Version + " → " + id
				if !missing[k] {
					missing[k] = true
					t.Logf("needs_review %s: %v", k, f.Reasons)
				}
			}
		}
	}
	// Precision against the catalog: a finding whose advisory covers the
	// device's line but not its version is a false positive.
	fp := map[string]bool{}
	byAsset := map[string]*inventory.Device{}
	for _, d := range devices {
		byAsset[d.AssetID] = d
	}
	for _, f := range fs {
		d := byAsset[f.AssetID]
		if f.Status == StatusNeedsReview {
			continue
		}
		if slices.Contains(cat.KnownAffected(d.Vendor, d.Model, d.Version), f.AdvisoryID) {
			continue
		}
		k := d.Vendor + " | " + d.Model + " | " + d.Version + " → " + f.AdvisoryID + " (" + f.ProductName + ")"
		if fp[k] {
			continue
		}
		fp[k] = true
		if lineCovers(cat, d.Vendor, d.Model, f.AdvisoryID) {
			// the catalog says this advisory covers the line, but not this version
			t.Errorf("finding for a version outside the advisory: %s: %v", k, f.Reasons)
		} else {
			// the catalog does not claim to list every advisory of a line
			t.Logf("finding beyond the catalog (check by hand): %s: %v", k, f.Reasons)
		}
	}
	if checked == 0 {
		t.Fatal("no demo device is covered by an advisory of the shared corpus")
	}
	t.Logf("demo ground truth: %d device×advisory pairs, %d missed, %d needs_review", checked, missed, reviewed)
}

func lineCovers(cat *demo.Catalog, vendor, model, id string) bool {
	for i := range cat.Types {
		for j := range cat.Types[i].Lines {
			l := &cat.Types[i].Lines[j]
			if l.Vendor == vendor && l.Model == model {
				_, ok := l.Advisory(id)
				return ok
			}
		}
	}
	return false
}
