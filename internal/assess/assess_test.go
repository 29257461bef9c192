package assess

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/csaf"
	"github.com/medwarden/medwarden/internal/demo"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/match"
	"github.com/medwarden/medwarden/internal/remediation"
	"github.com/medwarden/medwarden/internal/risk"
)

var (
	advOnce sync.Once
	advs    []*advisory.Advisory
	advErr  error
)

// icsma returns the 96 CISA ICSMA advisories of internal/match/testdata.
func icsma(t testing.TB) []*advisory.Advisory {
	t.Helper()
	advOnce.Do(func() {
		v, err := csaf.NewValidator(csaf.Options{})
		if err != nil {
			advErr = err
			return
		}
		files, _ := filepath.Glob(filepath.Join("..", "match", "testdata", "icsma", "*.json"))
		slices.Sort(files)
		for _, name := range files {
			f, err := os.Open(name)
			if err != nil {
				advErr = err
				return
			}
			a, _, err := v.ParseAdvisory(f, name)
			f.Close()
			if err != nil || a == nil {
				advErr = err
				return
			}
			advs = append(advs, a)
		}
	})
	if advErr != nil {
		t.Fatal(advErr)
	}
	if len(advs) < 50 {
		t.Fatalf("only %d advisories in ../match/testdata/icsma", len(advs))
	}
	return advs
}

var testNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// fleet is the demo hospital (n devices) with store-like ids 1..n.
func fleet(t testing.TB, n int) []*inventory.Device {
	t.Helper()
	cfg := demo.DefaultConfig()
	cfg.Devices, cfg.Now = n, testNow
	var out []*inventory.Device
	if err := demo.Generate(cfg, func(d *inventory.Device) error {
		d.ID = int64(len(out) + 1)
		out = append(out, d)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func newEngine(t testing.TB, devs []*inventory.Device, as []*advisory.Advisory) *Engine {
	t.Helper()
	e, err := NewEngine(Config{Now: testNow}, devs, as)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestEngineAllEqualsBatch: the engine's full assessment gives every device
// the score, band and scored findings of the batch path the risk verb uses.
func TestEngineAllEqualsBatch(t *testing.T) {
	devs, as := fleet(t, 2500), icsma(t)
	e := newEngine(t, devs, as)
	res, err := e.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) < 100 {
		t.Fatalf("only %d findings on the demo fleet", len(res.Records))
	}
	s, err := risk.NewScorer(risk.DefaultModel(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	fs, _, _, err := Match(context.Background(), devs, as, match.Options{Aliases: match.DefaultAliases()})
	if err != nil {
		t.Fatal(err)
	}
	batch, _ := Assess(s, nil, devs, as, nil, fs)
	if len(batch) != len(res.Devices) {
		t.Fatalf("batch scores %d devices, engine %d", len(batch), len(res.Devices))
	}
	byID := map[int64]DeviceResult{}
	for _, d := range res.Devices {
		byID[d.DeviceID] = d
	}
	for _, b := range batch {
		d := byID[b.Device.ID]
		if d.Score != b.Score || d.Band != b.Band || d.Findings != len(b.Findings) {
			t.Errorf("device %s: engine %.1f %s %d findings, batch %.1f %s %d", b.Device.AssetID, d.Score, d.Band, d.Findings, b.Score, b.Band, len(b.Findings))
		}
	}
	testReplacements(t, devs, as)
	for _, r := range res.Records {
		if r.Match.AssetID != r.Device.AssetID || r.Device.ID != r.DeviceID {
			t.Fatalf("record %+v names the wrong device", r.Pair)
		}
		if len(r.Items) == 0 {
			t.Errorf("%s × %s has no remediation item", r.Device.AssetID, r.AdvisoryID)
		}
	}
}

// testReplacements: years later most of the fleet is past end of support;
// the engine summarises each same-model fleet once where the batch queue
// lists it per item: same counts, sites, care areas, rationale, due date.
func testReplacements(t *testing.T, devs []*inventory.Device, as []*advisory.Advisory) {
	later := testNow.AddDate(8, 0, 0)
	// the vendor withdraws every fix: no fix for any product
	as = slices.Clone(as)
	for i, a := range as {
		c := *a
		c.Vulnerabilities = slices.Clone(a.Vulnerabilities)
		for j := range c.Vulnerabilities {
			v := &c.Vulnerabilities[j]
			var pids []string
			for _, r := range v.Remediations {
				pids = append(pids, r.ProductIDs...)
			}
			for _, p := range c.Products {
				pids = append(pids, p.ID)
			}
			v.Remediations = []advisory.Remediation{{Category: advisory.RemediationNoFixPlanned, Details: "no fix planned", ProductIDs: pids}}
		}
		as[i] = &c
	}
	e, err := NewEngine(Config{Now: later}, devs, as)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := risk.NewScorer(risk.DefaultModel(), later)
	if err != nil {
		t.Fatal(err)
	}
	fs, _, _, err := Match(context.Background(), devs, as, match.Options{Aliases: match.DefaultAliases()})
	if err != nil {
		t.Fatal(err)
	}
	batch, infos := Assess(s, nil, devs, as, nil, fs)
	q, err := Queue(ptrTo(remediation.DefaultPolicy()), later, batch, infos)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]remediation.Item{}
	for _, it := range q.Items {
		if it.Action == remediation.ActionReplace {
			want[it.AssetID] = it
		}
	}
	replaced := 0
	for _, d := range res.Devices {
		for _, it := range d.Items {
			w, ok := want[it.AssetID]
			if !ok || it.Action != remediation.ActionReplace {
				t.Errorf("engine replace item %s %s not in the batch queue", it.AssetID, it.Action)
				continue
			}
			replaced++
			r, wr := it.Replacement, w.Replacement
			if r.FleetDevices != wr.FleetDevices || !slices.Equal(r.Sites, wr.Sites) || !slices.Equal(r.CareAreas, wr.CareAreas) ||
				r.Rationale != wr.Rationale || !slices.Equal(r.AssetIDs, wr.AssetIDs[:min(len(wr.AssetIDs), MaxFleetAssetIDs)]) || it.Due != w.Due {
				t.Errorf("replacement of %s differs:\n engine %+v\n batch  %+v", it.AssetID, r, wr)
			}
		}
	}
	if replaced != len(want) || replaced == 0 {
		t.Errorf("%d replace items from the engine, %d from the batch queue", replaced, len(want))
	}
}

// recordsOf returns the records of one device from a result.
func recordsOf(res *Result, id int64) []Record {
	var out []Record
	for _, r := range res.Records {
		if r.DeviceID == id {
			out = append(out, r)
		}
	}
	return out
}

func deviceOf(res *Result, id int64) (DeviceResult, bool) {
	for _, d := range res.Devices {
		if d.DeviceID == id {
			return d, true
		}
	}
	return DeviceResult{}, false
}

var cmpRecords = cmp.Options{
	cmp.Comparer(func(a, b *inventory.Device) bool { return a.ID == b.ID }),
	cmpopts.IgnoreUnexported(remediation.Item{}),
}

// TestEngineDevicesIncremental: editing, adding and deleting devices gives
// exactly the pairs and scores a full recompute of the new fleet gives,
// including care-area peers whose fleet size changed.
func TestEngineDevicesIncremental(t *testing.T) {
	devs, as := fleet(t, 2500), icsma(t)
	e := newEngine(t, devs, as)
	full, err := e.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// a device with findings, and a peer with findings in its care area
	var hit *inventory.Device
	var peer int64
	for _, r := range full.Records {
		for _, p := range full.Records {
			if p.DeviceID != r.DeviceID && p.Device.DeviceType == r.Device.DeviceType && p.Device.Site == r.Device.Site &&
				p.Device.Department == r.Device.Department {
				hit, peer = r.Device, p.DeviceID
				break
			}
		}
		if hit != nil {
			break
		}
	}
	if hit == nil {
		t.Fatal("no two affected devices share a care area")
	}
	// 1. the device moves to another department: its area and its old
	// area change size
	moved := *hit
	moved.Department = "Moved Ward"
	// 2. a new device of another device's model
	added := *hit
	added.ID, added.AssetID = int64(len(devs)+1), "NEW-0001"
	res, err := e.Devices(context.Background(), []*inventory.Device{&moved, &added}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.DeviceScope, peer) {
		t.Errorf("care-area peer %d not rescored (scope %v)", peer, res.DeviceScope)
	}
	next := slices.Clone(devs)
	next[hit.ID-1] = &moved
	next = append(next, &added)
	want, err := newEngine(t, next, as).All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range res.DeviceScope {
		got, w := recordsOf(res, id), recordsOf(want, id)
		if diff := cmp.Diff(w, got, cmpRecords); diff != "" {
			t.Errorf("device %d records differ from a full recompute (-want +got):\n%s", id, diff)
		}
		gd, _ := deviceOf(res, id)
		wd, ok := deviceOf(want, id)
		if !ok {
			wd = DeviceResult{DeviceID: id, Band: risk.BandInfo}
		}
		if gd.Score != wd.Score || gd.Band != wd.Band || gd.Findings != wd.Findings {
			t.Errorf("device %d: incremental %.1f %s, full %.1f %s", id, gd.Score, gd.Band, wd.Score, wd.Band)
		}
	}
	if len(recordsOf(res, added.ID)) == 0 {
		t.Error("the added device has no findings although its twin has")
	}
	// 3. deleting the added device resolves its pairs
	res, err = e.Devices(context.Background(), nil, []int64{added.ID})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(recordsOf(res, added.ID)); n != 0 {
		t.Errorf("deleted device still has %d findings", n)
	}
	if d, ok := deviceOf(res, added.ID); !ok || d.Device != nil || d.Findings != 0 {
		t.Errorf("deleted device result %+v", d)
	}
}

// TestEngineAdvisoriesIncremental: a new advisory gives exactly the pairs
// and device scores a full recompute with it gives.
func TestEngineAdvisoriesIncremental(t *testing.T) {
	devs, as := fleet(t, 2500), icsma(t)
	full, err := newEngine(t, devs, as).All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range full.Records {
		count[r.AdvisoryID]++
	}
	var newest string
	for id, n := range count {
		if n > count[newest] || n == count[newest] && id < newest {
			newest = id
		}
	}
	var rest []*advisory.Advisory
	var add *advisory.Advisory
	for _, a := range as {
		if a.ID == newest {
			add = a
		} else {
			rest = append(rest, a)
		}
	}
	e := newEngine(t, devs, rest)
	if _, err := e.All(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := e.Advisories(context.Background(), []*advisory.Advisory{add})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.AdvisoryScope, []string{newest}) {
		t.Fatalf("scope %v", res.AdvisoryScope)
	}
	var want []Record
	for _, r := range full.Records {
		if r.AdvisoryID == newest {
			want = append(want, r)
		}
	}
	if diff := cmp.Diff(want, res.Records, cmpRecords); diff != "" {
		t.Errorf("records differ from a full recompute (-want +got):\n%s", diff)
	}
	for _, d := range res.Devices {
		w, _ := deviceOf(full, d.DeviceID)
		if d.Score != w.Score || d.Findings != w.Findings {
			t.Errorf("device %d: incremental %.1f (%d), full %.1f (%d)", d.DeviceID, d.Score, d.Findings, w.Score, w.Findings)
		}
	}
	if len(res.Devices) != count[newest] {
		t.Errorf("%d devices rescored, want the %d the advisory hits", len(res.Devices), count[newest])
	}
}

// TestEngineOverrides: a rubric vector rescoring the finding, a false
// positive leaving the device risk, an acceptance suspending the deadline.
func TestEngineOverrides(t *testing.T) {
	devs, as := fleet(t, 2500), icsma(t)
	e := newEngine(t, devs, as)
	full, err := e.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// a device with at least two findings
	n := map[int64]int{}
	for _, r := range full.Records {
		n[r.DeviceID]++
	}
	var r0 Record
	for _, r := range full.Records {
		if n[r.DeviceID] >= 2 && r.Risk.Score > 20 {
			r0 = r
			break
		}
	}
	if r0.DeviceID == 0 {
		t.Fatal("no device with two findings")
	}
	before, _ := deviceOf(full, r0.DeviceID)

	// the rubric says: local access only, no impact on integrity/availability
	vec := "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"
	e.SetOverride(r0.Pair, Override{Vector: vec})
	res, err := e.Devices(context.Background(), []*inventory.Device{r0.Device}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := recordsOf(res, r0.DeviceID)
	var rr Record
	for _, r := range got {
		if r.AdvisoryID == r0.AdvisoryID {
			rr = r
		}
	}
	if rr.Risk.Score >= r0.Risk.Score || !strings.HasPrefix(rr.Risk.Vector, vec) {
		t.Errorf("rubric vector: score %.1f (was %.1f), vector %q", rr.Risk.Score, r0.Risk.Score, rr.Risk.Vector)
	}

	// false positive: out of the device risk, no queue item
	e.SetOverride(r0.Pair, Override{Exclude: true})
	res, err = e.Devices(context.Background(), []*inventory.Device{r0.Device}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := deviceOf(res, r0.DeviceID)
	if d.Findings != before.Findings-1 {
		t.Errorf("false positive: %d active findings, want %d", d.Findings, before.Findings-1)
	}
	for _, r := range recordsOf(res, r0.DeviceID) {
		if r.AdvisoryID == r0.AdvisoryID && (!r.Excluded || len(r.Items) != 0) {
			t.Errorf("false positive record: excluded %v, %d items", r.Excluded, len(r.Items))
		}
	}

	// acceptance in force: one "accept" item due at the expiry
	exp := testNow.AddDate(0, 3, 0)
	e.SetOverride(r0.Pair, Override{Acceptance: &remediation.Acceptance{Justification: "isolated VLAN, vendor patch due Q3",
		Approver: "CISO", Accepted: remediation.Date{Time: testNow}, Expires: remediation.Date{Time: exp}}})
	res, err = e.Devices(context.Background(), []*inventory.Device{r0.Device}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recordsOf(res, r0.DeviceID) {
		if r.AdvisoryID != r0.AdvisoryID {
			continue
		}
		if len(r.Items) != 1 || r.Items[0].Action != remediation.ActionAccept || r.Items[0].Due != exp.Format(time.DateOnly) ||
			r.Items[0].AssetID != r0.Device.AssetID {
			t.Errorf("accepted pair items: %+v", r.Items)
		}
	}
	reg := e.Register()
	if reg.Total.Devices != len(devs) || reg.Total.Affected == 0 {
		t.Errorf("register total %+v", reg.Total)
	}
}

func ptrTo[T any](v T) *T { return &v }
