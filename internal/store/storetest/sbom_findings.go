package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/medwarden/medwarden/internal/store"
)

// sbomFinding is a finding from an SBOM component vulnerability.
func sbomFinding(dev int64, vuln string, suppressed bool) *store.Finding {
	f := SampleFinding(dev, vuln, 64)
	f.AdvisoryTitle = vuln + " in openssl 1.1.1k: buffer overread"
	f.ProductID, f.ProductName, f.BranchPath = "pkg:generic/openssl@1.1.1k", "openssl 1.1.1k", []string{}
	f.Method, f.CVEs, f.Remediations = "sbom-cpe", []string{vuln}, json.RawMessage(`[]`)
	f.Source, f.Suppressed = store.SourceSBOM, suppressed
	status := "affected"
	if suppressed {
		status = "not_affected"
	}
	f.Evidence = json.RawMessage(`[{"sbom_id":7,"sbom_version":2,"subject":"model","component":"openssl","version":"1.1.1k",` +
		`"cpe":"cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*","vulnerability":"` + vuln + `","source":"nvd","method":"cpe",` +
		`"confidence":"high","status":"` + status + `","justification":"code_not_present"}]`)
	return f
}

// testFindingsSBOMSource: SBOM findings keep their source and evidence,
// the source filter and the CVE filter find them.
func testFindingsSBOMSource(t *testing.T, s store.Store) {
	ctx := context.Background()
	both := SampleFinding(1, "ICSMA-23-200-01", 72)
	both.Source = store.SourceAdvisorySBOM
	both.Evidence = sbomFinding(1, "CVE-2023-30563", false).Evidence
	fs := []*store.Finding{both, SampleFinding(2, "ICSMA-23-200-01", 50), sbomFinding(1, "CVE-2024-0727", false), sbomFinding(2, "CVE-2024-0727", false)}
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, nil); err != nil {
		t.Fatal(err)
	}
	f := get(t, s, 1, "CVE-2024-0727")
	if f.Source != store.SourceSBOM || f.Method != "sbom-cpe" || f.Suppressed {
		t.Errorf("sbom finding: source %q method %q suppressed %v", f.Source, f.Method, f.Suppressed)
	}
	var ev []map[string]any
	if err := json.Unmarshal(f.Evidence, &ev); err != nil || len(ev) != 1 || ev[0]["component"] != "openssl" || ev[0]["sbom_id"] != 7.0 {
		t.Errorf("evidence round trip: %s (%v)", f.Evidence, err)
	}
	if a := get(t, s, 2, "ICSMA-23-200-01"); a.Source != store.SourceAdvisory || string(a.Evidence) != "[]" {
		t.Errorf("advisory finding: source %q evidence %s", a.Source, a.Evidence)
	}
	for _, tc := range []struct {
		q    store.FindingQuery
		want []string
	}{
		{store.FindingQuery{Source: "sbom", Sort: "id"}, []string{"1/ICSMA-23-200-01", "1/CVE-2024-0727", "2/CVE-2024-0727"}},
		{store.FindingQuery{Source: "advisory", Sort: "id"}, []string{"1/ICSMA-23-200-01", "2/ICSMA-23-200-01"}},
		{store.FindingQuery{Sort: "id"}, []string{"1/ICSMA-23-200-01", "2/ICSMA-23-200-01", "1/CVE-2024-0727", "2/CVE-2024-0727"}},
		{store.FindingQuery{CVE: "cve-2024-0727", Sort: "id"}, []string{"1/CVE-2024-0727", "2/CVE-2024-0727"}},
		{store.FindingQuery{Source: "sbom", DeviceID: 2, Sort: "id"}, []string{"2/CVE-2024-0727"}},
	} {
		if got := pairsOf(allFindings(t, s, tc.q)); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.q, got, tc.want)
		}
	}
	if _, err := s.ListFindings(ctx, store.FindingQuery{Source: "osv"}); err == nil {
		t.Error("source osv accepted")
	}
}

// testFindingsSuppressed: a VEX-suppressed pair is stored resolved by the
// system with its evidence; it reopens when the VEX goes and is resolved
// again when it comes back.
func testFindingsSuppressed(t *testing.T, s store.Store) {
	ctx := context.Background()
	dev := []int64{1}
	res, err := s.ReplaceFindings(ctx, store.FindingScope{DeviceIDs: dev}, []*store.Finding{sbomFinding(1, "CVE-2024-0727", true), sbomFinding(1, "CVE-2023-0286", false)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *res != (store.ReplaceResult{New: 1, Suppressed: 1}) {
		t.Errorf("first replace: %+v", res)
	}
	if got := pairsOf(allFindings(t, s, store.FindingQuery{Sort: "id"})); !slices.Equal(got, []string{"1/CVE-2023-0286"}) {
		t.Errorf("matching findings: %v", got)
	}
	f := get(t, s, 1, "CVE-2024-0727")
	if !f.Suppressed || f.ResolvedAt.IsZero() || f.Workflow.State != store.StateResolved || f.Workflow.UpdatedBy != store.SystemActor {
		t.Fatalf("suppressed finding: suppressed %v resolved %v workflow %+v", f.Suppressed, f.ResolvedAt, f.Workflow)
	}
	id, first := f.ID, f.FirstSeen
	// the VEX statement is withdrawn: the pair reopens, same id
	res, err = s.ReplaceFindings(ctx, store.FindingScope{DeviceIDs: dev}, []*store.Finding{sbomFinding(1, "CVE-2024-0727", false), sbomFinding(1, "CVE-2023-0286", false)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *res != (store.ReplaceResult{Updated: 1, Reopened: 1}) {
		t.Errorf("withdrawn VEX: %+v", res)
	}
	f = get(t, s, 1, "CVE-2024-0727")
	if f.ID != id || !f.FirstSeen.Equal(first) || f.Suppressed || !f.ResolvedAt.IsZero() || f.Workflow.State != store.StateOpen {
		t.Errorf("reopened: id %d/%d suppressed %v resolved %v state %s", f.ID, id, f.Suppressed, f.ResolvedAt, f.Workflow.State)
	}
	// someone works on the other one; then a VEX suppresses both
	wf := get(t, s, 1, "CVE-2023-0286").Workflow
	wf.State, wf.Owner, wf.UpdatedBy = store.StateInProgress, "biomed", "alice"
	other := get(t, s, 1, "CVE-2023-0286")
	if _, err := s.UpdateFindingWorkflow(ctx, other.ID, wf, 0); err != nil {
		t.Fatal(err)
	}
	res, err = s.ReplaceFindings(ctx, store.FindingScope{DeviceIDs: dev}, []*store.Finding{sbomFinding(1, "CVE-2024-0727", true), sbomFinding(1, "CVE-2023-0286", true)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *res != (store.ReplaceResult{Suppressed: 2}) {
		t.Errorf("both suppressed: %+v", res)
	}
	if got := allFindings(t, s, store.FindingQuery{}); len(got) != 0 {
		t.Errorf("matching after suppression: %v", pairsOf(got))
	}
	o := get(t, s, 1, "CVE-2023-0286")
	if o.Workflow.State != store.StateResolved || o.Workflow.Owner != "biomed" || !o.Suppressed {
		t.Errorf("in-progress finding suppressed: %+v", o.Workflow)
	}
	// suppressed again (a later recompute): stays resolved, same time
	at := o.ResolvedAt
	res, err = s.ReplaceFindings(ctx, store.FindingScope{All: true}, []*store.Finding{sbomFinding(1, "CVE-2024-0727", true), sbomFinding(1, "CVE-2023-0286", true)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *res != (store.ReplaceResult{Updated: 2}) {
		t.Errorf("still suppressed: %+v", res)
	}
	if o := get(t, s, 1, "CVE-2023-0286"); !o.ResolvedAt.Equal(at) || o.Workflow.State != store.StateResolved {
		t.Errorf("still suppressed: resolved %v (was %v) state %s", o.ResolvedAt, at, o.Workflow.State)
	}
	st, err := s.FindingStats(ctx, store.FindingStatsOptions{Today: "2026-05-01"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Findings != 0 || st.Active != 0 {
		t.Errorf("stats count suppressed findings: %d findings, %d active", st.Findings, st.Active)
	}
}

// testSBOMMarkAndSeverity: the SBOM mark moves on attach and re-match;
// a vulnerability's CVSS and summary are kept.
func testSBOMMarkAndSeverity(t *testing.T, s store.SBOMStore, _ store.Store) {
	ctx := context.Background()
	m0, err := s.SBOMMark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in := sampleSBOM("cc", store.SBOMComponent{Name: "openssl", Version: "1.1.1k", CPE: "cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*"})
	in.Vulns = []store.SBOMVuln{{Index: 0, ID: "CVE-2024-0727", Source: "nvd", Method: "cpe", Status: "affected", Confidence: "high",
		CVSS: 5.5, CVSSVector: "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", CVSSVersion: "3.1", Summary: "PKCS12 NULL dereference"}}
	v, _, err := s.AttachSBOM(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	m1, err := s.SBOMMark(ctx)
	if err != nil || m1 == m0 {
		t.Fatalf("mark after attach: %q (before %q), %v", m1, m0, err)
	}
	comps, err := s.SBOMComponents(ctx, v.ID)
	if err != nil || len(comps) != 1 || len(comps[0].Vulns) != 1 {
		t.Fatalf("components: %+v %v", comps, err)
	}
	if got := comps[0].Vulns[0]; got.CVSS != 5.5 || got.CVSSVector != in.Vulns[0].CVSSVector || got.CVSSVersion != "3.1" || got.Summary != "PKCS12 NULL dereference" {
		t.Errorf("severity round trip: %+v", got)
	}
	if err := s.ReplaceSBOMVulns(ctx, v.DocumentID, nil); err != nil {
		t.Fatal(err)
	}
	m2, err := s.SBOMMark(ctx)
	if err != nil || m2 == m1 {
		t.Errorf("mark after re-match: %q (before %q), %v", m2, m1, err)
	}
	if m3, _ := s.SBOMMark(ctx); m3 != m2 {
		t.Errorf("mark moved without a change: %q → %q", m2, m3)
	}
}

// testFindingWorkflowScan: ScanFindingWorkflows gives what ScanFindings
// gives for identity, history and workflow; a pair that stops matching is
// resolved with its last computed fields kept.
func testFindingWorkflowScan(t *testing.T, s store.Store) {
	ctx := context.Background()
	fs := []*store.Finding{SampleFinding(1, "ICSMA-23-200-01", 72), sbomFinding(1, "CVE-2024-0727", false), sbomFinding(2, "CVE-2024-0727", true)}
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, nil); err != nil {
		t.Fatal(err)
	}
	f := get(t, s, 1, "CVE-2024-0727")
	wf := f.Workflow
	wf.State, wf.Owner, wf.UpdatedBy, wf.AcceptJustification = store.StateInProgress, "biomed", "alice", ""
	wf.RubricAnswers = json.RawMessage(`{"AV":"N"}`)
	if _, err := s.UpdateFindingWorkflow(ctx, f.ID, wf, 0); err != nil {
		t.Fatal(err)
	}
	// the SBOM finding of device 1 stops matching (all scope)
	res, err := s.ReplaceFindings(ctx, store.FindingScope{All: true}, []*store.Finding{SampleFinding(1, "ICSMA-23-200-01", 72), sbomFinding(2, "CVE-2024-0727", true)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resolved != 1 || res.Updated != 2 {
		t.Errorf("replace: %+v", res)
	}
	gone := get(t, s, 1, "CVE-2024-0727")
	if gone.ResolvedAt.IsZero() || gone.Workflow.State != store.StateResolved || gone.Workflow.UpdatedBy != store.SystemActor ||
		gone.Workflow.Owner != "biomed" || gone.Workflow.Revision != f.Workflow.Revision+2 || gone.Score != 64 ||
		gone.Source != store.SourceSBOM || string(gone.Evidence) == "[]" || gone.ID != f.ID {
		t.Errorf("resolved in place: %+v", gone)
	}
	var full, lean []*store.Finding
	if err := s.ScanFindings(ctx, func(f *store.Finding) error { full = append(full, f); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.ScanFindingWorkflows(ctx, func(f *store.Finding) error { lean = append(lean, f); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(full) != 3 || len(lean) != len(full) {
		t.Fatalf("scans: %d full, %d lean", len(full), len(lean))
	}
	for i := range full {
		a, b := full[i], lean[i]
		if a.ID != b.ID || a.DeviceID != b.DeviceID || a.AdvisoryID != b.AdvisoryID || !a.FirstSeen.Equal(b.FirstSeen) ||
			!a.ResolvedAt.Equal(b.ResolvedAt) || a.Workflow.State != b.Workflow.State || a.Workflow.Owner != b.Workflow.Owner ||
			a.Workflow.Revision != b.Workflow.Revision || a.Workflow.UpdatedBy != b.Workflow.UpdatedBy ||
			!a.Workflow.UpdatedAt.Equal(b.Workflow.UpdatedAt) || string(a.Workflow.RubricAnswers) != string(b.Workflow.RubricAnswers) {
			t.Errorf("finding %d: full %+v\nlean %+v", a.ID, a.Workflow, b.Workflow)
		}
		if b.Score != 0 || b.Evidence != nil {
			t.Errorf("lean scan filled match/risk fields of finding %d", b.ID)
		}
	}
}

// testFindingsMergeCarry: an advisory finding that takes in SBOM findings
// of its device (MergedFrom) takes over the most advanced workflow a person
// set on them, as the system's change, in the same replace; the SBOM
// findings are resolved; a second replace carries nothing.
func testFindingsMergeCarry(t *testing.T, s store.Store) {
	ctx := context.Background()
	dev := []int64{1}
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{DeviceIDs: dev}, []*store.Finding{sbomFinding(1, "CVE-2020-12039", false),
		sbomFinding(1, "CVE-2020-12040", false), sbomFinding(1, "CVE-2024-0727", false)}, nil); err != nil {
		t.Fatal(err)
	}
	f39, f40 := get(t, s, 1, "CVE-2020-12039"), get(t, s, 1, "CVE-2020-12040")
	w := f40.Workflow
	w.State, w.Owner, w.DueDate, w.UpdatedBy, w.UpdatedAt = store.StateMitigated, "biomed", "2027-02-01", "alice", store.Now()
	if _, err := s.UpdateFindingWorkflow(ctx, f40.ID, w, f40.Workflow.Revision); err != nil {
		t.Fatal(err)
	}
	w = f39.Workflow
	w.State, w.Owner, w.UpdatedBy, w.UpdatedAt = store.StateInProgress, "bob", "bob", store.Now()
	if _, err := s.UpdateFindingWorkflow(ctx, f39.ID, w, f39.Workflow.Revision); err != nil {
		t.Fatal(err)
	}
	merged := SampleFinding(1, "ICSMA-20-170-04", 80)
	merged.Source, merged.MergedFrom = store.SourceAdvisorySBOM, []string{"CVE-2020-12039", "CVE-2020-12040"}
	res, err := s.ReplaceFindings(ctx, store.FindingScope{DeviceIDs: dev}, []*store.Finding{merged, sbomFinding(1, "CVE-2024-0727", false)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *res != (store.ReplaceResult{New: 1, Updated: 1, Resolved: 2}) {
		t.Errorf("merge: %+v", *res)
	}
	if merged.Carried == nil || merged.Carried.FromID != f40.ID || merged.Carried.FromAdvisoryID != "CVE-2020-12040" || merged.Carried.Before.State != store.StateOpen {
		t.Errorf("Carried = %+v, want from finding %d (CVE-2020-12040), open before", merged.Carried, f40.ID)
	}
	m := get(t, s, 1, "ICSMA-20-170-04")
	if wf := m.Workflow; wf.State != store.StateMitigated || wf.Owner != "biomed" || wf.DueDate != "2027-02-01" || wf.UpdatedBy != store.SystemActor ||
		wf.Revision != 2 || m.EffectiveDue() != "2027-02-01" {
		t.Errorf("merged workflow = %+v", wf)
	}
	for _, id := range []string{"CVE-2020-12039", "CVE-2020-12040"} {
		if x := get(t, s, 1, id); x.ResolvedAt.IsZero() {
			t.Errorf("%s still matching after the merge", id)
		}
	}
	if x := get(t, s, 1, "CVE-2024-0727"); x.Workflow.State != store.StateOpen || !x.ResolvedAt.IsZero() {
		t.Errorf("the SBOM finding no advisory took in changed: %+v", x.Workflow)
	}
	again := SampleFinding(1, "ICSMA-20-170-04", 80)
	again.Source, again.MergedFrom = store.SourceAdvisorySBOM, merged.MergedFrom
	if _, err := s.ReplaceFindings(ctx, store.FindingScope{DeviceIDs: dev}, []*store.Finding{again, sbomFinding(1, "CVE-2024-0727", false)}, nil); err != nil {
		t.Fatal(err)
	}
	if again.Carried != nil || get(t, s, 1, "ICSMA-20-170-04").Workflow.Revision != 2 {
		t.Errorf("second replace carried again: %+v", again.Carried)
	}
}
