package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/store"
)

// RunFindings runs the conformance tests of store.FindingStore.
func RunFindings(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"replace_keeps_workflow_and_resolves", testFindingsReplace},
		{"replace_is_all_or_nothing", testFindingsReplaceAtomic},
		{"workflow_revision_and_validation", testFindingsWorkflow},
		{"list_filters_sort_and_pages", testFindingsList},
		{"device_risk_rows", testDeviceRisk},
		{"stats", testFindingStats},
		{"list by site", testFindingsSite},
		{"stats at scale", testFindingStatsMany},
		{"risk_snapshots", testRiskSnapshots},
		{"sbom_source_and_evidence", testFindingsSBOMSource},
		{"vex_suppressed_stored_resolved", testFindingsSuppressed},
		{"workflow_scan_and_resolve_in_place", testFindingWorkflowScan},
		{"merge_carries_sbom_workflow", testFindingsMergeCarry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

// SampleFinding returns a realistic finding of device dev (asset
// "PUMP-<dev>") and advisory adv with the given score.
func SampleFinding(dev int64, adv string, score float64) *store.Finding {
	band := "low"
	switch {
	case score >= 80:
		band = "critical"
	case score >= 60:
		band = "high"
	case score >= 35:
		band = "medium"
	}
	due := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(100-score)).Format(time.DateOnly)
	return &store.Finding{
		DeviceID: dev, AssetID: fmt.Sprintf("PUMP-%04d", dev), AdvisoryID: adv, AdvisoryTitle: "BD Alaris infusion system " + adv,
		ProductID: "CSAFPID-0001", ProductName: "BD Alaris PC Unit 12.1.2", BranchPath: []string{"Becton Dickinson", "Alaris PC Unit", "12.1.2"},
		Method: "model+version", Confidence: 0.95, MatchStatus: "known_affected", Reasons: []string{"model tokens alaris pc unit"},
		CVEs: []string{"CVE-2023-30563", "CVE-2023-30564"}, CVSS: 8.2, CVSSVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:H/A:N",
		CVSSVersion: "3.1", EPSS: 0.0123, EPSSPercentile: 0.71,
		Remediations: json.RawMessage(`[{"category":"vendor_fix","details":"Update to 12.3.0"}]`),
		Score:        score, Band: band, Factors: json.RawMessage(`[{"name":"severity","value":"CVSS 8.2","contribution":30}]`),
		Action: "patch", Due: due, DueRule: "high: 30 days", SLA: "on_track",
		Actions: json.RawMessage(`[{"asset_id":"x","action":"patch"}]`),
	}
}

func pairsOf(fs []*store.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d/%s", f.DeviceID, f.AdvisoryID))
	}
	return out
}

func allFindings(t *testing.T, s store.Store, q store.FindingQuery) []*store.Finding {
	t.Helper()
	var out []*store.Finding
	for {
		p, err := s.ListFindings(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Findings...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
}

func get(t *testing.T, s store.Store, dev int64, adv string) *store.Finding {
	t.Helper()
	for _, f := range allFindings(t, s, store.FindingQuery{DeviceID: dev, AdvisoryID: adv, IncludeResolved: true}) {
		return f
	}
	t.Fatalf("no finding %d/%s", dev, adv)
	return nil
}

func testFindingsReplace(t *testing.T, s store.Store) {
	ctx := context.Background()
	res, err := s.ReplaceFindings(ctx, store.FindingScope{All: true},
		[]*store.Finding{SampleFinding(1, "ICSMA-23-200-01", 72), SampleFinding(1, "ICSMA-24-011-01", 40), SampleFinding(2, "ICSMA-23-200-01", 55)},
		[]*store.DeviceRisk{{DeviceID: 1, AssetID: "PUMP-0001", Score: 78.5, Band: "high", Findings: 2, KEV: true}, {DeviceID: 2, AssetID: "PUMP-0002", Score: 55, Band: "medium", Findings: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if *res != (store.ReplaceResult{New: 3}) {
		t.Errorf("first replace: %+v", res)
	}
	f := get(t, s, 1, "ICSMA-23-200-01")
	t0 := f.FirstSeen
	if f.ID == 0 || t0.IsZero() || !f.LastSeen.Equal(t0) || f.Workflow.State != store.StateOpen || f.Workflow.Revision != 1 {
		t.Fatalf("new finding: id %d first %v last %v workflow %+v", f.ID, f.FirstSeen, f.LastSeen, f.Workflow)
	}
	want := SampleFinding(1, "ICSMA-23-200-01", 72)
	if !slices.Equal(f.CVEs, want.CVEs) || !slices.Equal(f.BranchPath, want.BranchPath) || f.CVSSVector != want.CVSSVector ||
		f.EPSS != want.EPSS || f.Due != want.Due || string(f.Remediations) != string(want.Remediations) || f.Band != "high" {
		t.Errorf("round trip: %+v", f)
	}
	if got, err := s.GetFinding(ctx, f.ID); err != nil || got.AdvisoryID != f.AdvisoryID {
		t.Errorf("GetFinding: %v %v", got, err)
	}
	if computed, err := s.FindingsComputedAt(ctx); err != nil || !computed.Equal(t0) {
		t.Errorf("computed at %v, %v", computed, err)
	}
	// someone works on it
	wf := f.Workflow
	wf.State, wf.Owner, wf.Note, wf.UpdatedBy = store.StateInProgress, "biomed-north", "vendor ticket 4711", "alice"
	if _, err := s.UpdateFindingWorkflow(ctx, f.ID, wf, 1); err != nil {
		t.Fatal(err)
	}

	// a day later: one pair changed score, one vanished, one stays
	time.Sleep(2 * time.Millisecond)
	res, err = s.ReplaceFindings(ctx, store.FindingScope{All: true},
		[]*store.Finding{SampleFinding(1, "ICSMA-23-200-01", 81), SampleFinding(2, "ICSMA-23-200-01", 55)},
		[]*store.DeviceRisk{{DeviceID: 1, AssetID: "PUMP-0001", Score: 81, Band: "critical", Findings: 1}, {DeviceID: 2, AssetID: "PUMP-0002", Score: 55, Band: "medium", Findings: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if *res != (store.ReplaceResult{Updated: 2, Resolved: 1}) {
		t.Errorf("second replace: %+v", res)
	}
	g := get(t, s, 1, "ICSMA-23-200-01")
	t1 := g.LastSeen
	if !t1.After(t0) {
		t.Errorf("last seen %v not after first seen %v", t1, t0)
	}
	if g.ID != f.ID || !g.FirstSeen.Equal(t0) || !g.LastSeen.Equal(t1) || g.Score != 81 || g.Band != "critical" {
		t.Errorf("kept pair: id %d→%d first %v last %v score %v", f.ID, g.ID, g.FirstSeen, g.LastSeen, g.Score)
	}
	if g.Workflow.State != store.StateInProgress || g.Workflow.Owner != "biomed-north" || g.Workflow.Revision != 2 || g.Workflow.UpdatedBy != "alice" {
		t.Errorf("workflow not kept: %+v", g.Workflow)
	}
	gone := get(t, s, 1, "ICSMA-24-011-01")
	if !gone.ResolvedAt.Equal(t1) || gone.Workflow.State != store.StateResolved || gone.Workflow.UpdatedBy != store.SystemActor {
		t.Errorf("vanished pair: resolved %v workflow %+v", gone.ResolvedAt, gone.Workflow)
	}
	if got := pairsOf(allFindings(t, s, store.FindingQuery{Sort: "id"})); len(got) != 2 {
		t.Errorf("matching findings: %v", got)
	}

	// device 1 edited: its old pair comes back, the other goes
	time.Sleep(2 * time.Millisecond)
	res, err = s.ReplaceFindings(ctx, store.FindingScope{DeviceIDs: []int64{1}},
		[]*store.Finding{SampleFinding(1, "ICSMA-24-011-01", 45)},
		[]*store.DeviceRisk{{DeviceID: 1, AssetID: "PUMP-0001", Score: 45, Band: "medium", Findings: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if *res != (store.ReplaceResult{Reopened: 1, Resolved: 1}) {
		t.Errorf("device replace: %+v", res)
	}
	back := get(t, s, 1, "ICSMA-24-011-01")
	if back.ID != gone.ID || !back.ResolvedAt.IsZero() || back.Workflow.State != store.StateOpen || !back.FirstSeen.Equal(t0) {
		t.Errorf("reopened pair: %+v", back)
	}
	if x := get(t, s, 1, "ICSMA-23-200-01"); x.Workflow.State != store.StateResolved || x.ResolvedAt.IsZero() {
		t.Errorf("in-progress pair that vanished: %+v", x.Workflow)
	}
	if x := get(t, s, 2, "ICSMA-23-200-01"); !x.LastSeen.Equal(t1) {
		t.Errorf("device 2 outside the scope was touched: last seen %v", x.LastSeen)
	}

	// advisory revised: device 2 no longer affected, device 3 is
	res, err = s.ReplaceFindings(ctx, store.FindingScope{AdvisoryIDs: []string{"ICSMA-23-200-01"}},
		[]*store.Finding{SampleFinding(3, "ICSMA-23-200-01", 66)},
		[]*store.DeviceRisk{{DeviceID: 2, Findings: 0}, {DeviceID: 3, AssetID: "PUMP-0003", Score: 66, Band: "high", Findings: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if *res != (store.ReplaceResult{New: 1, Resolved: 1}) {
		t.Errorf("advisory replace: %+v", res)
	}
	if got := pairsOf(allFindings(t, s, store.FindingQuery{Sort: "id"})); !slices.Equal(got, []string{"1/ICSMA-24-011-01", "3/ICSMA-23-200-01"}) {
		t.Errorf("matching after advisory replace: %v", got)
	}
	if _, err := s.GetDeviceRisk(ctx, 2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("device 2 risk row kept: %v", err)
	}
	if r, err := s.GetDeviceRisk(ctx, 3); err != nil || r.Score != 66 {
		t.Errorf("device 3 risk: %+v %v", r, err)
	}
	if r, err := s.GetDeviceRisk(ctx, 1); err != nil || r.Score != 45 {
		t.Errorf("device 1 risk: %+v %v", r, err)
	}
	if n := len(allFindings(t, s, store.FindingQuery{IncludeResolved: true})); n != 4 {
		t.Errorf("history: %d findings stored, want 4 (resolved ones are kept)", n)
	}
	// ids never collide with resolved rows
	ids := map[int64]bool{}
	for _, f := range allFindings(t, s, store.FindingQuery{IncludeResolved: true}) {
		if ids[f.ID] {
			t.Errorf("id %d used twice", f.ID)
		}
		ids[f.ID] = true
	}
	// a full recompute with nothing resolves everything and empties device risk
	res, err = s.ReplaceFindings(ctx, store.FindingScope{All: true}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resolved != 2 {
		t.Errorf("empty recompute: %+v", res)
	}
	if p, err := s.ListDeviceRisk(ctx, store.DeviceRiskQuery{}); err != nil || len(p.Devices) != 0 {
		t.Errorf("device risk after empty recompute: %v %v", p, err)
	}
}

func testFindingsReplaceAtomic(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{All: true}, []*store.Finding{SampleFinding(1, "A", 50)},
		[]*store.DeviceRisk{{DeviceID: 1, AssetID: "PUMP-0001", Score: 50, Band: "medium", Findings: 1}}); err != nil {
		t.Fatal(err)
	}
	// a pair outside the scope: refused, nothing written
	_, err := s.ReplaceFindings(ctx, store.FindingScope{DeviceIDs: []int64{2}}, []*store.Finding{SampleFinding(2, "A", 10), SampleFinding(1, "B", 10)}, nil)
	if err == nil {
		t.Fatal("a finding outside the scope was accepted")
	}
	// the same pair twice: refused, nothing written
	_, err = s.ReplaceFindings(ctx, store.FindingScope{All: true}, []*store.Finding{SampleFinding(1, "A", 10), SampleFinding(1, "A", 20)}, nil)
	if err == nil {
		t.Fatal("a pair given twice was accepted")
	}
	got := allFindings(t, s, store.FindingQuery{IncludeResolved: true})
	if len(got) != 1 || got[0].Score != 50 || !got[0].ResolvedAt.IsZero() {
		t.Errorf("after refused replaces: %+v", got)
	}
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{}, nil, nil); err == nil {
		t.Error("an empty scope was accepted")
	}
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{All: true, DeviceIDs: []int64{1}}, nil, nil); err == nil {
		t.Error("two scopes were accepted")
	}
}

func testFindingsWorkflow(t *testing.T, s store.Store) {
	ctx := context.Background()
	fs := []*store.Finding{SampleFinding(1, "A", 50)}
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, nil); err != nil {
		t.Fatal(err)
	}
	id := fs[0].ID
	if id == 0 {
		t.Fatal("ReplaceFindings did not set the id")
	}
	exp := time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)
	wf := store.Workflow{State: store.StateAccepted, Owner: "Biomed", AcceptJustification: "isolated VLAN; vendor fix in Q3",
		AcceptApprover: "CISO Dr. Weber", AcceptExpires: exp, RubricVector: "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:L",
		RubricAnswers: json.RawMessage(`{"AV1":"YES"}`), RubricRationale: json.RawMessage(`[{"metric":"AV","value":"A"}]`),
		DueDate: "2026-07-15", UpdatedBy: "bob"}
	got, err := s.UpdateFindingWorkflow(ctx, id, wf, 1)
	if err != nil {
		t.Fatal(err)
	}
	w := got.Workflow
	if w.Revision != 2 || w.State != store.StateAccepted || !w.AcceptExpires.Equal(exp) || w.AcceptApprover != "CISO Dr. Weber" ||
		string(w.RubricAnswers) != `{"AV1":"YES"}` || w.DueDate != "2026-07-15" || w.UpdatedAt.IsZero() || w.UpdatedBy != "bob" {
		t.Errorf("workflow round trip: %+v", w)
	}
	if got.EffectiveDue() != "2026-07-15" {
		t.Errorf("effective due %q", got.EffectiveDue())
	}
	if n := len(allFindings(t, s, store.FindingQuery{DueBefore: "2026-07-16"})); n != 1 {
		t.Errorf("due before uses the workflow due date: %d", n)
	}
	if _, err := s.UpdateFindingWorkflow(ctx, id, wf, 1); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale revision: %v, want ErrConflict", err)
	}
	if _, err := s.UpdateFindingWorkflow(ctx, id+100, wf, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
	bad := wf
	bad.State = "done"
	if _, err := s.UpdateFindingWorkflow(ctx, id, bad, 0); err == nil {
		t.Error("state \"done\" accepted")
	}
	bad = wf
	bad.DueDate = "15.07.2026"
	if _, err := s.UpdateFindingWorkflow(ctx, id, bad, 0); err == nil {
		t.Error("due date 15.07.2026 accepted")
	}
	if _, err := s.GetFinding(ctx, id+100); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetFinding unknown: %v", err)
	}
	// a recompute keeps all of it
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{All: true}, []*store.Finding{SampleFinding(1, "A", 30)}, nil); err != nil {
		t.Fatal(err)
	}
	again, err := s.GetFinding(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if again.Workflow.Revision != 2 || again.Workflow.AcceptJustification != wf.AcceptJustification || again.Score != 30 {
		t.Errorf("after recompute: %+v", again)
	}
}

func testFindingsList(t *testing.T, s store.Store) {
	ctx := context.Background()
	var fs []*store.Finding
	for i := 1; i <= 40; i++ {
		f := SampleFinding(int64(i), fmt.Sprintf("ICSMA-%02d-001-01", i%3), float64(10+(i*37)%90))
		f.KEV = i%4 == 0
		f.Confidence = 0.5 + float64(i%5)/10
		if i%7 == 0 {
			f.MatchStatus = "needs_review"
			f.CVEs = []string{"CVE-2024-7777"}
		}
		if i%6 == 0 {
			f.Due = ""
		}
		fs = append(fs, f)
	}
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, nil); err != nil {
		t.Fatal(err)
	}
	wf := store.Workflow{State: store.StateInProgress, Owner: "Biomed North"}
	if _, err := s.UpdateFindingWorkflow(ctx, fs[4].ID, wf, 0); err != nil {
		t.Fatal(err)
	}
	// every sort: pages of 7 concatenate to the full order
	for _, sortKey := range []string{"", "score", "-cvss", "epss", "confidence", "due", "-due", "first_seen", "asset_id", "-advisory_id", "id", "-id"} {
		got := allFindings(t, s, store.FindingQuery{Sort: sortKey, Limit: 7})
		if len(got) != 40 {
			t.Errorf("sort %q: %d findings over the pages, want 40", sortKey, len(got))
			continue
		}
		if sortKey == "" {
			if !slices.IsSortedFunc(got, func(a, b *store.Finding) int {
				if a.Score != b.Score {
					if a.Score > b.Score {
						return -1
					}
					return 1
				}
				return int(b.ID - a.ID)
			}) {
				t.Errorf("default sort is not riskiest first")
			}
		}
		if sortKey == "due" {
			if got[0].Due == "" || got[len(got)-1].Due != "" {
				t.Errorf("due: findings without a deadline must sort last")
			}
		}
	}
	count := func(q store.FindingQuery) int { return len(allFindings(t, s, q)) }
	yes := true
	for _, c := range []struct {
		name string
		q    store.FindingQuery
		want int
	}{
		{"kev", store.FindingQuery{KEV: &yes}, 10},
		{"device", store.FindingQuery{DeviceID: 3}, 1},
		{"asset", store.FindingQuery{AssetID: "PUMP-0003"}, 1},
		{"advisory", store.FindingQuery{AdvisoryID: "ICSMA-01-001-01"}, 14},
		{"needs_review", store.FindingQuery{MatchStatus: "needs_review"}, 5},
		{"state", store.FindingQuery{State: store.StateInProgress}, 1},
		{"owner", store.FindingQuery{Owner: "biomed north"}, 1},
		{"min_confidence", store.FindingQuery{MinConfidence: 0.85}, 8},
		{"band", store.FindingQuery{Band: "critical"}, count(store.FindingQuery{Band: "CRITICAL"})},
	} {
		if got := count(c.q); got != c.want {
			t.Errorf("filter %s: %d findings, want %d", c.name, got, c.want)
		}
	}
	var wantDue int
	for _, f := range fs {
		if f.Due != "" && f.Due < "2026-07-01" {
			wantDue++
		}
	}
	if got := count(store.FindingQuery{DueBefore: "2026-07-01"}); got != wantDue || wantDue == 0 {
		t.Errorf("due before: %d, want %d", got, wantDue)
	}
	// CVE filter needs the advisory's CVE index: store the advisories
	if err := s.ImportFeeds(ctx, func(tx store.FeedTx) error {
		for i := range 3 {
			id := fmt.Sprintf("ICSMA-%02d-001-01", i)
			if err := tx.PutAdvisory(ctx, sampleAdvisory(id, "CISA", "CVE-2023-30563", "CVE-2023-30564", "CVE-2024-7777"), "csaf:test"); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := count(store.FindingQuery{CVE: "cve-2024-7777"}); got != 5 {
		t.Errorf("cve: %d, want 5", got)
	}
	if got := count(store.FindingQuery{CVE: "CVE-2023-30563"}); got != 35 {
		t.Errorf("cve: %d, want 35", got)
	}
	for _, q := range []store.FindingQuery{{Sort: "vendor"}, {Cursor: "!!"}, {State: "done"}, {DueBefore: "soon"}} {
		if _, err := s.ListFindings(ctx, q); err == nil {
			t.Errorf("query %+v accepted", q)
		}
	}
}

func testDeviceRisk(t *testing.T, s store.Store) {
	ctx := context.Background()
	var risks []*store.DeviceRisk
	var fs []*store.Finding
	sites := []string{"North Campus", "South Campus"}
	for i := 1; i <= 25; i++ {
		risks = append(risks, &store.DeviceRisk{DeviceID: int64(i), AssetID: fmt.Sprintf("PUMP-%04d", i), Score: float64((i * 13) % 100),
			Band: []string{"low", "medium", "high", "critical"}[i%4], Factors: json.RawMessage(`[{"name":"severity","value":"x","contribution":1}]`),
			Findings: 1 + i%3, KEV: i%5 == 0, Site: sites[i%2], Department: "ICU", DeviceType: "infusion pump", Vendor: "BD",
			Actions: json.RawMessage(`[]`)})
		fs = append(fs, SampleFinding(int64(i), "A", float64((i*13)%100)))
	}
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, risks); err != nil {
		t.Fatal(err)
	}
	for _, sortKey := range []string{"", "score", "findings", "-findings", "asset_id", "-asset_id"} {
		var got []*store.DeviceRisk
		q := store.DeviceRiskQuery{Sort: sortKey, Limit: 4}
		for {
			p, err := s.ListDeviceRisk(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p.Devices...)
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
		if len(got) != 25 {
			t.Errorf("sort %q: %d rows over the pages", sortKey, len(got))
		}
		if sortKey == "" && got[0].Score < got[len(got)-1].Score {
			t.Errorf("default sort is not riskiest first")
		}
	}
	yes := true
	p, err := s.ListDeviceRisk(ctx, store.DeviceRiskQuery{KEV: &yes, Site: "north campus", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range p.Devices {
		if !d.KEV || d.Site != "North Campus" {
			t.Errorf("filter returned %+v", d)
		}
	}
	if len(p.Devices) != 2 {
		t.Errorf("kev + site: %d rows, want 2", len(p.Devices))
	}
	d, err := s.GetDeviceRisk(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if d.AssetID != "PUMP-0007" || d.Score != 91 || d.Findings != 2 || string(d.Factors) == "" || d.UpdatedAt.IsZero() {
		t.Errorf("device risk 7: %+v", d)
	}
	if _, err := s.GetDeviceRisk(ctx, 99); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown device: %v", err)
	}
	if _, err := s.ListDeviceRisk(ctx, store.DeviceRiskQuery{Sort: "vendor"}); err == nil {
		t.Error("sort by vendor accepted")
	}
	// a device scope without a row for device 7 deletes its row
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{DeviceIDs: []int64{7}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDeviceRisk(ctx, 7); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("device 7 row after its findings vanished: %v", err)
	}
}

func testFindingStats(t *testing.T, s store.Store) {
	ctx := context.Background()
	fs := []*store.Finding{SampleFinding(1, "A", 90), SampleFinding(1, "B", 65), SampleFinding(2, "A", 40), SampleFinding(3, "A", 20), SampleFinding(4, "A", 70)}
	fs[0].KEV = true
	fs[0].Due = "2026-05-01" // overdue on 2026-06-01
	fs[1].Due = "2026-06-10" // due soon
	fs[2].Due = "2026-12-01" // on track
	fs[3].Due = ""           // no deadline
	fs[4].MatchStatus = "needs_review"
	risks := []*store.DeviceRisk{{DeviceID: 1, Score: 92, Band: "critical", Findings: 2, KEV: true}, {DeviceID: 2, Score: 40, Band: "medium", Findings: 1},
		{DeviceID: 3, Score: 20, Band: "low", Findings: 1}, {DeviceID: 4, Score: 70, Band: "high", Findings: 1}}
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, risks); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateFindingWorkflow(ctx, fs[4].ID, store.Workflow{State: store.StateFalsePositive, UpdatedBy: "carol"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateFindingWorkflow(ctx, fs[2].ID, store.Workflow{State: store.StateAccepted, AcceptJustification: "j", AcceptApprover: "a",
		AcceptExpires: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)}, 0); err != nil {
		t.Fatal(err)
	}
	st, err := s.FindingStats(ctx, store.FindingStatsOptions{Today: "2026-06-01", Top: 2})
	if err != nil {
		t.Fatal(err)
	}
	if st.Findings != 5 || st.Active != 4 || st.NeedsReview != 0 || st.KEVFindings != 1 || st.KEVDevices != 1 || st.DevicesAtRisk != 4 {
		t.Errorf("counts: %+v", st)
	}
	wantSLA := []store.Count{{Key: "overdue", N: 1}, {Key: "due_soon", N: 1}, {Key: "accepted", N: 1}, {Key: "none", N: 1}}
	if !slices.Equal(st.BySLA, wantSLA) {
		t.Errorf("by SLA %v, want %v", st.BySLA, wantSLA)
	}
	wantBands := []store.Count{{Key: "critical", N: 1}, {Key: "high", N: 1}, {Key: "medium", N: 1}, {Key: "low", N: 1}}
	if !slices.Equal(st.DevicesByBand, wantBands) {
		t.Errorf("devices by band %v", st.DevicesByBand)
	}
	wantStates := []store.Count{{Key: "open", N: 3}, {Key: "accepted", N: 1}, {Key: "false_positive", N: 1}}
	if !slices.Equal(st.ByState, wantStates) {
		t.Errorf("by state %v", st.ByState)
	}
	if len(st.TopDevices) != 2 || st.TopDevices[0].DeviceID != 1 || st.TopDevices[1].DeviceID != 4 {
		t.Errorf("top devices %v", st.TopDevices)
	}
	if st.ComputedAt.IsZero() {
		t.Error("computed at is zero after a full recompute")
	}
}

func testRiskSnapshots(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, d := range []string{"2026-05-30", "2026-05-31", "2026-06-01"} {
		if err := s.PutRiskSnapshot(ctx, d, json.RawMessage(`{"total":{"key":"","devices":10,"affected":3}}`)); err != nil {
			t.Fatal(err)
		}
	}
	// idempotent per day: the later snapshot of a day replaces the earlier
	if err := s.PutRiskSnapshot(ctx, "2026-05-31", json.RawMessage(`{"total":{"key":"","devices":10,"affected":4}}`)); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListRiskSnapshots(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	var days []string
	for _, r := range all {
		days = append(days, r.Day)
	}
	if !slices.Equal(days, []string{"2026-05-30", "2026-05-31", "2026-06-01"}) {
		t.Fatalf("days %v", days)
	}
	if string(all[1].Register) != `{"total":{"key":"","devices":10,"affected":4}}` || all[1].CreatedAt.IsZero() {
		t.Errorf("replaced snapshot: %s", all[1].Register)
	}
	some, err := s.ListRiskSnapshots(ctx, "2026-05-31", "2026-05-31")
	if err != nil || len(some) != 1 {
		t.Errorf("range: %v %v", some, err)
	}
	if err := s.PutRiskSnapshot(ctx, "31.05.2026", json.RawMessage(`{}`)); err == nil {
		t.Error("bad day accepted")
	}
	if err := s.PutRiskSnapshot(ctx, "2026-06-02", json.RawMessage(`{`)); err == nil {
		t.Error("bad JSON accepted")
	}
	if _, err := s.ListRiskSnapshots(ctx, "yesterday", ""); err == nil {
		t.Error("bad from accepted")
	}
}

// testFindingsSite: the site filter selects the findings of the devices
// currently at a site (case-insensitive), combined with other filters and
// the due-date sort.
func testFindingsSite(t *testing.T, s store.Store) {
	ctx := context.Background()
	var fs []*store.Finding
	want := map[string]int{}
	var site0 string
	for i := range 9 {
		d := Sample(i)
		if err := s.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			site0 = d.Site
		}
		for _, adv := range []string{"ICSMA-24-001-01", "ICSMA-24-002-01"} {
			f := SampleFinding(d.ID, adv, float64(20+i*9))
			f.AssetID = d.AssetID
			f.Band = []string{"critical", "high", "medium"}[i%3]
			fs = append(fs, f)
			want[d.Site]++
		}
	}
	// a finding of a device id that is not in the inventory matches no site
	fs = append(fs, SampleFinding(999, "ICSMA-24-001-01", 50))
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, nil); err != nil {
		t.Fatal(err)
	}
	if len(want) < 2 {
		t.Fatalf("sample devices span %d sites, want several", len(want))
	}
	for site, n := range want {
		got := allFindings(t, s, store.FindingQuery{Site: site, Limit: 4, Sort: "due"})
		if len(got) != n {
			t.Errorf("site %q: %d findings, want %d", site, len(got), n)
		}
		for _, f := range got {
			d, err := s.GetDevice(ctx, f.DeviceID)
			if err != nil || d.Site != site {
				t.Errorf("site %q: finding %d of device %d at another site", site, f.ID, f.DeviceID)
			}
		}
	}
	upper := allFindings(t, s, store.FindingQuery{Site: strings.ToUpper(site0)})
	if len(upper) != want[site0] {
		t.Errorf("site filter is case-sensitive: %d findings for %q, want %d", len(upper), strings.ToUpper(site0), want[site0])
	}
	both := allFindings(t, s, store.FindingQuery{Site: site0, Band: "critical"})
	for _, f := range both {
		if f.Band != "critical" {
			t.Errorf("site + band: finding %d has band %s", f.ID, f.Band)
		}
	}
	if len(both) == 0 {
		t.Errorf("site %q + band critical: no findings", site0)
	}
	if got := allFindings(t, s, store.FindingQuery{Site: "No Such Site"}); len(got) != 0 {
		t.Errorf("unknown site: %d findings", len(got))
	}
}

// testFindingStatsMany checks the one-pass counts against counts made
// here over a few hundred findings in every state, band and SLA state.
func testFindingStatsMany(t *testing.T, s store.Store) {
	ctx := context.Background()
	bands := []string{"critical", "high", "medium", "low", "info"}
	dues := []string{"2026-05-01", "2026-06-05", "2026-09-01", ""}
	var fs []*store.Finding
	for i := range 300 {
		f := SampleFinding(int64(1+i/3), fmt.Sprintf("ICSMA-24-%03d-01", i%3), float64(i%100))
		f.Band = bands[i%5]
		f.Due = dues[i%4]
		f.KEV = i%7 == 0
		if i%11 == 0 {
			f.MatchStatus = "needs_review"
		}
		fs = append(fs, f)
	}
	var risks []*store.DeviceRisk
	for d := 1; d <= 100; d++ {
		risks = append(risks, &store.DeviceRisk{DeviceID: int64(d), Score: float64(d), Band: bands[d%5], Findings: 3, KEV: d%9 == 0})
	}
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, risks); err != nil {
		t.Fatal(err)
	}
	states := []string{store.StateOpen, store.StateInProgress, store.StateFalsePositive, store.StateResolved, store.StateAccepted}
	for i, f := range fs {
		st := states[i%5]
		if st == store.StateOpen {
			continue
		}
		wf := store.Workflow{State: st, UpdatedBy: "carol"}
		if st == store.StateAccepted {
			wf.AcceptJustification, wf.AcceptApprover = "vendor patch pending", "ciso"
			wf.AcceptExpires = time.Date(2026, 5+time.Month(i%3)*2, 1, 0, 0, 0, 0, time.UTC) // expired, in force, in force
		}
		if _, err := s.UpdateFindingWorkflow(ctx, f.ID, wf, 0); err != nil {
			t.Fatal(err)
		}
		f.Workflow = wf
	}
	var w store.FindingStats
	byState, byBand, bySLA, devBand := map[string]int64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, f := range fs {
		w.Findings++
		byState[f.Workflow.State]++
		if f.Workflow.State == store.StateFalsePositive || f.Workflow.State == store.StateResolved {
			continue
		}
		w.Active++
		if f.MatchStatus == "needs_review" {
			w.NeedsReview++
		}
		if f.KEV {
			w.KEVFindings++
		}
		byBand[f.Band]++
		switch {
		case f.Workflow.State == store.StateAccepted && f.Workflow.AcceptExpires.Format(time.DateOnly) >= "2026-06-01":
			bySLA["accepted"]++
		case f.Due == "":
			bySLA["none"]++
		case f.Due < "2026-06-01":
			bySLA["overdue"]++
		case f.Due <= "2026-06-15":
			bySLA["due_soon"]++
		default:
			bySLA["on_track"]++
		}
	}
	for _, r := range risks {
		w.DevicesAtRisk++
		if r.KEV {
			w.KEVDevices++
		}
		devBand[r.Band]++
	}
	st, err := s.FindingStats(ctx, store.FindingStatsOptions{Today: "2026-06-01", DueSoonDays: 14})
	if err != nil {
		t.Fatal(err)
	}
	if st.Findings != w.Findings || st.Active != w.Active || st.NeedsReview != w.NeedsReview || st.KEVFindings != w.KEVFindings ||
		st.KEVDevices != w.KEVDevices || st.DevicesAtRisk != w.DevicesAtRisk {
		t.Errorf("counts %+v, want %+v", st, w)
	}
	check := func(name string, got []store.Count, want map[string]int64, order []string) {
		t.Helper()
		var exp []store.Count
		for _, k := range order {
			if want[k] > 0 {
				exp = append(exp, store.Count{Key: k, N: want[k]})
			}
		}
		if !slices.Equal(got, exp) {
			t.Errorf("%s: %v, want %v", name, got, exp)
		}
	}
	check("findings by band", st.FindingsByBand, byBand, bands)
	check("devices by band", st.DevicesByBand, devBand, bands)
	check("by state", st.ByState, byState, store.WorkflowStates)
	check("by SLA", st.BySLA, bySLA, []string{"overdue", "due_soon", "on_track", "accepted", "none"})
}
