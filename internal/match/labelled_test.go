package match

import (
	"context"
	"encoding/csv"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/inventory"
)

type labelledRow struct {
	dev      inventory.Device
	kind     string
	source   string
	expected []string
}

func readLabelled(t *testing.T, name string) []labelledRow {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, h := range []string{"asset_id", "vendor", "model", "version", "expected_advisories"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("%s: no column %q", name, h)
		}
	}
	var out []labelledRow
	for _, r := range recs[1:] {
		row := labelledRow{dev: inventory.Device{AssetID: r[col["asset_id"]], Vendor: r[col["vendor"]], Model: r[col["model"]], Version: r[col["version"]]},
			kind: r[col["kind"]], source: r[col["source"]], expected: strings.Fields(r[col["expected_advisories"]])}
		if i, ok := col["udi_di"]; ok {
			row.dev.UDIDI = r[i]
		}
		out = append(out, row)
	}
	return out
}

// TestLabelledRegister measures precision and recall on the hand-checked
// register of testdata/labelled (rows written the way hospital registers
// write them, against every CISA ICSMA advisory of testdata/icsma). A
// needs_review finding counts as a positive. Both must be 100 %.
func TestLabelledRegister(t *testing.T) {
	advs := loadAdvisories(t, "testdata/icsma")
	ix, err := Compile(advs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := readLabelled(t, "testdata/labelled/register.csv")
	rows = append(rows, readLabelled(t, "testdata/labelled/register_hand.csv")...)
	fleet := NewFleet(nil)
	for i := range rows {
		fleet.Add(&rows[i].dev)
	}
	fs, err := ix.Match(context.Background(), fleet)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]Finding{}
	for _, f := range fs {
		got[f.AssetID] = append(got[f.AssetID], f)
	}
	tp, fp, fn, review := 0, 0, 0, 0
	for _, r := range rows {
		var ids []string
		for _, f := range got[r.dev.AssetID] {
			ids = append(ids, f.AdvisoryID)
			if !slices.Contains(r.expected, f.AdvisoryID) {
				fp++
				t.Errorf("%s (%s) %q %q %q: unexpected %s %s via %s (%s) %.2f: %v", r.dev.AssetID, r.kind, r.dev.Vendor, r.dev.Model, r.dev.Version,
					f.AdvisoryID, f.Status, f.ProductName, f.Method, f.Confidence, f.Reasons)
				continue
			}
			tp++
			if f.Status == StatusNeedsReview {
				review++
			}
		}
		for _, e := range r.expected {
			if !slices.Contains(ids, e) {
				fn++
				t.Errorf("%s (%s) %q %q %q: missed %s (source %s)", r.dev.AssetID, r.kind, r.dev.Vendor, r.dev.Model, r.dev.Version, e, r.source)
			}
		}
	}
	precision := float64(tp) / float64(max(1, tp+fp))
	recall := float64(tp) / float64(max(1, tp+fn))
	t.Logf("labelled register: %d rows, %d expected pairs; TP %d (needs_review %d), FP %d, FN %d; precision %.4f recall %.4f",
		len(rows), tp+fn, tp, review, fp, fn, precision, recall)
}
