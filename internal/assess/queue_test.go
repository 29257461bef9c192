package assess

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/remediation"
)

// TestEngineItemsEqualBuild: the engine computes each pair's queue items
// where it scores the pair (remediation.FindingItems); they must be the
// items remediation.Build's whole queue gives that pair, in the queue's
// order, with acceptances in force and expired, exclusions, device
// vectors and replacements (eight years later, half the advisories
// without a fix).
func TestEngineItemsEqualBuild(t *testing.T) {
	devs, as := fleet(t, 4000), icsma(t)
	later := testNow.AddDate(8, 0, 0)
	noFix := slices.Clone(as)
	for i, a := range noFix {
		if i%2 == 0 {
			continue
		}
		c := *a
		c.Vulnerabilities = slices.Clone(a.Vulnerabilities)
		for j := range c.Vulnerabilities {
			var pids []string
			for _, p := range c.Products {
				pids = append(pids, p.ID)
			}
			c.Vulnerabilities[j].Remediations = []advisory.Remediation{{Category: advisory.RemediationNoFixPlanned, Details: "none", ProductIDs: pids}}
		}
		noFix[i] = &c
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		advs []*advisory.Advisory
	}{{"today", Config{Now: testNow}, as}, {"eight years later", Config{Now: later}, noFix}} {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.cfg.Now
			e, err := NewEngine(tc.cfg, devs, tc.advs)
			if err != nil {
				t.Fatal(err)
			}
			full, err := e.All(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ov := map[Pair]Override{}
			for i, r := range full.Records {
				switch i % 7 {
				case 1:
					ov[r.Pair] = Override{Exclude: true}
				case 2:
					ov[r.Pair] = Override{Acceptance: &remediation.Acceptance{Justification: "isolated VLAN", Approver: "CISO",
						Accepted: remediation.Date{Time: now.AddDate(0, -1, 0)}, Expires: remediation.Date{Time: now.AddDate(0, 2, 0)}}}
				case 3:
					ov[r.Pair] = Override{Detected: now.AddDate(0, -7, 0), Acceptance: &remediation.Acceptance{Justification: "expired",
						Approver: "CISO", Accepted: remediation.Date{Time: now.AddDate(0, -6, 0)}, Expires: remediation.Date{Time: now.AddDate(0, -1, 0)}}}
				case 4:
					ov[r.Pair] = Override{Detected: now.AddDate(0, -2, 0), Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}
				}
			}
			e.SetOverrides(ov)
			res, err := e.Rescore(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// the whole queue the way remediation.Build lists it
			pol := remediation.DefaultPolicy()
			for p, o := range ov {
				if o.Acceptance != nil {
					a := *o.Acceptance
					a.AssetID, a.AdvisoryID = key(p.DeviceID), p.AdvisoryID
					pol.Acceptances = append(pol.Acceptances, a)
				}
			}
			infos := map[int64]*remediation.DeviceInfo{}
			var inputs []remediation.Input
			for i := range res.Records {
				r := &res.Records[i]
				if r.Excluded {
					continue
				}
				info := infos[r.DeviceID]
				if info == nil {
					fleet := 0
					if k, ok := AreaOf(r.Device); ok && e.area[k] != nil {
						fleet = *e.area[k]
					}
					rd := RiskDevice(r.Device, nil, fleet)
					di := DeviceInfo(r.Device, &rd)
					di.AssetID = key(r.DeviceID)
					info = &di
					infos[r.DeviceID] = info
				}
				inputs = append(inputs, remediation.Input{Device: info, Finding: &r.Input, Score: r.Risk.Score, Band: r.Risk.Band})
			}
			q, err := remediation.Build(&pol, now, nil, inputs)
			if err != nil {
				t.Fatal(err)
			}
			type pk struct {
				asset, adv string
			}
			want := map[pk][]remediation.Item{}
			for _, it := range q.Items {
				want[pk{it.AssetID, it.AdvisoryID}] = append(want[pk{it.AssetID, it.AdvisoryID}], it)
			}
			opts := cmp.Options{cmpopts.IgnoreUnexported(remediation.Item{}), cmpopts.IgnoreFields(remediation.Item{}, "AssetID", "Replacement"),
				cmpopts.IgnoreFields(remediation.Acceptance{}, "AssetID")}
			accepted, reopened, replaced := 0, 0, 0
			for _, r := range res.Records {
				w := want[pk{key(r.DeviceID), r.AdvisoryID}]
				if r.Excluded {
					if len(r.Items) != 0 || len(w) != 0 {
						t.Errorf("excluded %v has items", r.Pair)
					}
					continue
				}
				if d := cmp.Diff(w, r.Items, opts); d != "" {
					t.Fatalf("%v items differ from the queue's (-queue +engine):\n%s", r.Pair, d)
				}
				for _, it := range r.Items {
					if it.AssetID != r.Device.AssetID || (it.Acceptance != nil && it.Acceptance.AssetID != r.Device.AssetID) {
						t.Errorf("%v item names %q, not the device's asset id", r.Pair, it.AssetID)
					}
					accepted += btoi(it.Action == remediation.ActionAccept)
					reopened += btoi(it.Reopened)
				}
			}
			for _, dr := range res.Devices {
				w := want[pk{key(dr.DeviceID), ""}]
				if d := cmp.Diff(w, dr.Items, opts); d != "" {
					t.Fatalf("device %d replace items differ (-queue +engine):\n%s", dr.DeviceID, d)
				}
				replaced += len(dr.Items)
			}
			if accepted == 0 || reopened == 0 {
				t.Errorf("the overrides gave %d accept and %d reopened items", accepted, reopened)
			}
			if tc.name != "today" && replaced == 0 {
				t.Error("no replace item eight years later")
			}
			t.Logf("%d records, %d accept items, %d reopened, %d replace items", len(res.Records), accepted, reopened, replaced)
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
