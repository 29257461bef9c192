package findings

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/assess"
	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// sigmaAdvisory is ICSMA-20-170-04 (Baxter Sigma Spectrum 6.x:
// CVE-2020-12039 … 12047).
func sigmaAdvisory(t *testing.T) *advisory.Advisory {
	for _, a := range icsma(t) {
		if a.ID == "ICSMA-20-170-04" {
			return a
		}
	}
	t.Fatal("ICSMA-20-170-04 missing from the test advisories")
	return nil
}

// pumpSBOM is an SBOM of Sigma Spectrum 6.05 firmware: OpenSSL with two
// CVEs (one with NVD's CVSS), ThreadX matched by name only (low
// confidence), a BusyBox CVE its vendor declared not_affected in a CSAF
// VEX, and CVE-2020-12040 on the Wi-Fi module (the advisory's CVE too).
func pumpSBOM(sha string, withOpenSSL bool) *store.SBOMAttach {
	comps := []store.SBOMComponent{
		{Index: 0, Name: "Sigma Spectrum firmware", Version: "6.05"},
		{Index: 1, Name: "openssl", Version: "1.0.2k", CPE: "cpe:2.3:a:openssl:openssl:1.0.2k:*:*:*:*:*:*:*"},
		{Index: 2, Name: "ThreadX kernel for STM32", Version: "5.8"},
		{Index: 3, Name: "busybox", Version: "1.31.1", CPE: "cpe:2.3:a:busybox:busybox:1.31.1:*:*:*:*:*:*:*"},
		{Index: 4, Name: "wbm-firmware", Version: "16", CPE: "cpe:2.3:o:baxter:wireless_battery_module_firmware:16:*:*:*:*:*:*:*"},
	}
	vulns := []store.SBOMVuln{
		{Index: 2, ID: "CVE-2021-26749", Source: "nvd", Method: "name", Status: "affected", Confidence: "low", NeedsReview: true,
			Detail: `matched by name: "threadx" is an alias of cpe:2.3:o:microsoft:azure_rtos_threadx`, CVSS: 7.8,
			CVSSVector: "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", CVSSVersion: "3.1"},
		{Index: 3, ID: "CVE-2022-28391", Source: "nvd", Method: "cpe", Status: "not_affected", Suppressed: true, Confidence: "high",
			Justification: "vulnerable_code_not_in_execute_path", Detail: "CSAF VEX BAX-VEX-2026-01: netstat is not built", CVSS: 9.8,
			CVSSVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", CVSSVersion: "3.1"},
		{Index: 4, ID: "CVE-2020-12040", Source: "nvd", Method: "cpe", Status: "affected", Confidence: "high", CVSS: 9.8,
			CVSSVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", CVSSVersion: "3.1"},
	}
	if withOpenSSL {
		vulns = append(vulns,
			store.SBOMVuln{Index: 1, ID: "CVE-2022-0778", Source: "nvd", Method: "cpe", Status: "affected", Confidence: "high", CVSS: 7.5,
				CVSSVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", CVSSVersion: "3.1", Summary: "BN_mod_sqrt() infinite loop"},
			store.SBOMVuln{Index: 1, ID: "CVE-2023-0286", Source: "nvd", Method: "cpe", Status: "affected", Confidence: "high", CVSS: 7.4,
				CVSSVector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H", CVSSVersion: "3.1"})
	} else {
		comps[1].Version, comps[1].CPE = "3.0.13", "cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*"
	}
	return &store.SBOMAttach{
		Subject: store.SBOMSubject{Vendor: "Baxter", Model: "Sigma Spectrum", FirmwareVersion: "6.05"},
		Raw:     []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:` + sha + `"}`), SHA256: sha,
		Format: "cyclonedx-json", SpecVersion: "1.6", Name: "Sigma Spectrum 6.05", Valid: true, Quality: 71,
		Components: comps, Vulns: vulns, AttachedBy: "alice",
	}
}

func byPair(t *testing.T, st store.Store) map[string]*store.Finding {
	t.Helper()
	out := map[string]*store.Finding{}
	q := store.FindingQuery{IncludeResolved: true, Sort: "id", Limit: 1000}
	for {
		p, err := st.ListFindings(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range p.Findings {
			out[f.AssetID+"/"+f.AdvisoryID] = f
		}
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
}

func TestSBOMFindings(t *testing.T) {
	for name, open := range openers(t) {
		t.Run(name, func(t *testing.T) { testSBOMFindings(t, open(t)) })
	}
}

func testSBOMFindings(t *testing.T, st store.Store) {
	ctx := context.Background()
	// three pumps on 6.05 (the SBOM's firmware), one on 6.10, one monitor
	var ids []int64
	for i, ver := range []string{"6.05", "6.05", "6.05", "6.10"} {
		d := storetest.Sample(i*4 + 1)
		d.Vendor, d.Model, d.Version, d.DeviceType = "Baxter", "Sigma Spectrum", ver, "infusion pump"
		if err := st.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	putAdvisories(t, st, []*advisory.Advisory{sigmaAdvisory(t)})
	if err := st.ImportFeeds(ctx, func(tx store.FeedTx) error {
		kc := &kev.Catalog{Title: "KEV", CatalogVersion: "2026.11.27", Count: 1, Entries: []kev.Entry{{CVEID: "CVE-2022-0778",
			VendorProject: "OpenSSL", Product: "OpenSSL", DateAdded: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), DueDate: time.Date(2025, 3, 22, 0, 0, 0, 0, time.UTC)}}}
		if err := tx.ReplaceKEV(ctx, kc); err != nil {
			return err
		}
		return tx.SetFeed(ctx, store.FeedStatus{Name: "kev", Kind: store.FeedKEV, Source: "test", ImportedAt: store.Now(), Items: 1})
	}); err != nil {
		t.Fatal(err)
	}
	ss := st.(store.SBOMStore)
	if _, _, err := ss.AttachSBOM(ctx, pumpSBOM("a1", true)); err != nil {
		t.Fatal(err)
	}
	svc := New(st, Options{})
	if _, err := svc.RecomputeAll(ctx); err != nil {
		t.Fatal(err)
	}
	got := byPair(t, st)
	pump := func(i int, id string) *store.Finding { return got[storetest.Sample(i*4+1).AssetID+"/"+id] }

	// every covered pump has the open SBOM vulnerabilities; the 6.10 pump none
	for i := range 3 {
		f := pump(i, "CVE-2022-0778")
		if f == nil {
			t.Fatalf("pump %d: no CVE-2022-0778 finding; have %v", i, keys(got))
		}
		if f.Source != store.SourceSBOM || f.Method != "sbom-cpe" || f.MatchStatus != "known_affected" || f.CVSS != 7.5 ||
			!f.KEV || f.KEVDueDate != "2025-03-22" || f.Score <= 0 || f.Workflow.State != store.StateOpen || !f.ResolvedAt.IsZero() {
			t.Errorf("pump %d openssl finding: %+v", i, f)
		}
		var ev []assess.Evidence
		if err := json.Unmarshal(f.Evidence, &ev); err != nil || len(ev) != 1 || ev[0].Component != "openssl" || ev[0].Version != "1.0.2k" ||
			ev[0].CPE == "" || ev[0].Method != "cpe" || ev[0].Subject != "model" {
			t.Errorf("pump %d openssl evidence: %s (%v)", i, f.Evidence, err)
		}
		if f.AdvisoryTitle != "CVE-2022-0778 in openssl 1.0.2k: BN_mod_sqrt() infinite loop" {
			t.Errorf("title %q", f.AdvisoryTitle)
		}
		// low-confidence name match: needs review, like a fuzzy advisory match
		if tx := pump(i, "CVE-2021-26749"); tx == nil || tx.MatchStatus != "needs_review" || tx.Confidence >= 0.7 || tx.Method != "sbom-name" {
			t.Errorf("pump %d ThreadX finding: %+v", i, tx)
		}
		// VEX not_affected: stored resolved, the justification in the evidence
		bb := pump(i, "CVE-2022-28391")
		if bb == nil || !bb.Suppressed || bb.ResolvedAt.IsZero() || bb.Workflow.State != store.StateResolved {
			t.Fatalf("pump %d busybox finding (VEX not_affected): %+v", i, bb)
		}
		var bev []assess.Evidence
		if err := json.Unmarshal(bb.Evidence, &bev); err != nil || len(bev) != 1 || bev[0].Justification != "vulnerable_code_not_in_execute_path" || !bev[0].Suppressed {
			t.Errorf("busybox evidence: %s", bb.Evidence)
		}
		// the advisory's CVE: one finding (the advisory's) with the SBOM evidence
		if x := pump(i, "CVE-2020-12040"); x != nil {
			t.Errorf("pump %d: CVE-2020-12040 counted twice (SBOM finding %+v)", i, x)
		}
		a := pump(i, "ICSMA-20-170-04")
		if a == nil || a.Source != store.SourceAdvisorySBOM || !json.Valid(a.Evidence) || string(a.Evidence) == "[]" {
			t.Fatalf("pump %d advisory finding: %+v", i, a)
		}
		dr, err := st.GetDeviceRisk(ctx, a.DeviceID)
		if err != nil || dr.Findings != 4 || !dr.KEV { // advisory, 2 openssl, threadx
			t.Errorf("pump %d device risk: %+v %v", i, dr, err)
		}
	}
	other := storetest.Sample(13).AssetID // the 6.10 pump
	for k, f := range got {
		if f.AssetID == other && f.Source != store.SourceAdvisory {
			t.Errorf("the 6.10 pump has an SBOM finding: %s", k)
		}
	}
	if len(got) != 3*5+1 { // 5 per 6.05 pump; the 6.10 pump has the advisory (v6.x) only
		t.Errorf("%d findings, want 16: %v", len(got), keys(got))
	}
	src, err := st.ListFindings(ctx, store.FindingQuery{Source: "sbom", Limit: 1000})
	if err != nil || len(src.Findings) != 3*4 { // 2 openssl + threadx + the advisory with evidence, per pump
		t.Errorf("source=sbom: %d findings, %v", len(src.Findings), err)
	}

	// the vendor sends firmware 6.05 SBOM v2: OpenSSL upgraded; the
	// watcher notices (any process may have attached it) and resolves
	// those findings on every pump
	if _, _, err := ss.AttachSBOM(ctx, pumpSBOM("a2", false)); err != nil {
		t.Fatal(err)
	}
	if err := svc.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	got = byPair(t, st)
	for i := range 3 {
		if f := pump(i, "CVE-2022-0778"); f == nil || f.ResolvedAt.IsZero() || f.Workflow.State != store.StateResolved {
			t.Errorf("pump %d openssl after the upgrade: %+v", i, f)
		}
		if f := pump(i, "CVE-2021-26749"); f == nil || !f.ResolvedAt.IsZero() {
			t.Errorf("pump %d ThreadX after the upgrade: %+v", i, f)
		}
	}

	// a pump is updated to 6.10: its SBOM findings resolve, the others stay
	d, err := st.GetDevice(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	d.Version = "6.10"
	if err := st.UpdateDevice(ctx, d, d.Revision); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DevicesChanged(ctx, []int64{d.ID}); err != nil {
		t.Fatal(err)
	}
	got = byPair(t, st)
	if f := pump(0, "CVE-2021-26749"); f == nil || f.ResolvedAt.IsZero() {
		t.Errorf("updated pump keeps its SBOM finding: %+v", f)
	}
	if f := pump(1, "CVE-2021-26749"); f == nil || !f.ResolvedAt.IsZero() {
		t.Errorf("other pump lost its SBOM finding: %+v", f)
	}
	// a full recompute agrees with the incremental paths
	before := byPair(t, st)
	if _, err := svc.RecomputeAll(ctx); err != nil {
		t.Fatal(err)
	}
	after := byPair(t, st)
	for k, f := range after {
		b := before[k]
		if b == nil || b.ResolvedAt.IsZero() != f.ResolvedAt.IsZero() || b.Score != f.Score || b.Source != f.Source {
			t.Errorf("full recompute differs at %s: incremental %+v, full %+v", k, b, f)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestSBOMRemediation: an SBOM finding says what fixes it, as an advisory
// finding does: "upgrade C from V to F" (vendor_fix, the queue's patch
// item says it too), "no fix published" (none_available), or nothing when
// the match did not determine it.
func TestSBOMRemediation(t *testing.T) {
	for name, open := range openers(t) {
		t.Run(name, func(t *testing.T) { testSBOMRemediation(t, open(t)) })
	}
}

func testSBOMRemediation(t *testing.T, st store.Store) {
	ctx := context.Background()
	d := storetest.Sample(1)
	d.Vendor, d.Model, d.Version, d.DeviceType = "Baxter", "Sigma Spectrum", "6.05", "infusion pump"
	if err := st.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	in := pumpSBOM("r1", false)
	in.Components = append(in.Components,
		store.SBOMComponent{Index: 5, Name: "lodash", Version: "4.17.15", PURL: "pkg:npm/lodash@4.17.15"},
		store.SBOMComponent{Index: 6, Name: "openssl", Version: "3.0.11-1~deb12u2", PURL: "pkg:deb/debian/openssl@3.0.11-1~deb12u2"})
	in.Vulns = append(in.Vulns,
		store.SBOMVuln{Index: 5, ID: "GHSA-35jh-r3h4-6jhm", Aliases: []string{"CVE-2021-23337"}, Source: "osv", Method: "purl", Status: "affected",
			Confidence: "high", Fixed: "4.17.21"},
		store.SBOMVuln{Index: 6, ID: "MW-TEST-0001", Source: "osv", Method: "purl", Status: "affected", Confidence: "high", NoFix: true})
	if _, _, err := st.(store.SBOMStore).AttachSBOM(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := New(st, Options{}).RecomputeAll(ctx); err != nil {
		t.Fatal(err)
	}
	got := byPair(t, st)
	type rem struct{ Category, Details string }
	tests := []struct {
		id     string
		want   []rem
		action string
		reason string
	}{
		{"GHSA-35jh-r3h4-6jhm", []rem{{"vendor_fix", "upgrade lodash from 4.17.15 to 4.17.21 (osv GHSA-35jh-r3h4-6jhm)"}},
			"patch", "upgrade lodash from 4.17.15 to 4.17.21 (osv GHSA-35jh-r3h4-6jhm)"},
		{"MW-TEST-0001", []rem{{"none_available", "no fix published for openssl 3.0.11-1~deb12u2 (osv MW-TEST-0001)"}}, "segment", ""},
		{"CVE-2021-26749", []rem{}, "segment", ""}, // NVD name match: not determined, nothing said
	}
	for _, tt := range tests {
		f := got[d.AssetID+"/"+tt.id]
		if f == nil {
			t.Fatalf("no %s finding; have %v", tt.id, keys(got))
		}
		var rs []rem
		if err := json.Unmarshal(f.Remediations, &rs); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rs, tt.want) {
			t.Errorf("%s remediations = %s, want %v", tt.id, f.Remediations, tt.want)
		}
		if f.Action != tt.action {
			t.Errorf("%s action = %q, want %q", tt.id, f.Action, tt.action)
		}
		var items []struct{ Action, Rationale string }
		if err := json.Unmarshal(f.Actions, &items); err != nil || len(items) == 0 {
			t.Fatalf("%s actions %s: %v", tt.id, f.Actions, err)
		}
		if tt.reason != "" && (items[0].Action != "patch" || items[0].Rationale != tt.reason) {
			t.Errorf("%s first item = %+v, want patch with %q", tt.id, items[0], tt.reason)
		}
		var ev []assess.Evidence
		if err := json.Unmarshal(f.Evidence, &ev); err != nil || len(ev) != 1 {
			t.Fatalf("%s evidence %s: %v", tt.id, f.Evidence, err)
		}
	}
	var ev []assess.Evidence
	_ = json.Unmarshal(got[d.AssetID+"/GHSA-35jh-r3h4-6jhm"].Evidence, &ev)
	if ev[0].Fixed != "4.17.21" || ev[0].NoFix {
		t.Errorf("lodash evidence %+v, want fixed 4.17.21", ev[0])
	}
	var oev []assess.Evidence
	_ = json.Unmarshal(got[d.AssetID+"/MW-TEST-0001"].Evidence, &oev)
	if oev[0].Fixed != "" || !oev[0].NoFix {
		t.Errorf("openssl evidence %+v, want no_fix", oev[0])
	}
}

// TestMergedFindingKeepsWorkflow: when an advisory takes in SBOM findings
// of a device (same CVE: one finding, source advisory+sbom), the workflow
// a person set on them is carried to the advisory finding (the most
// advanced state, with its owner, due date and acceptance), audited as the
// system's change; in the reverse order the advisory finding keeps its own.
func TestMergedFindingKeepsWorkflow(t *testing.T) {
	for name, open := range openers(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("sbom_first", func(t *testing.T) { testMergeSBOMFirst(t, open(t)) })
			t.Run("advisory_first", func(t *testing.T) { testMergeAdvisoryFirst(t, open(t)) })
		})
	}
}

// mergePump creates a Sigma Spectrum 6.05 pump and attaches the pump SBOM
// with CVE-2020-12039 on the firmware too (both CVEs are the advisory's).
func mergePump(t *testing.T, st store.Store) *store.SBOMAttach {
	t.Helper()
	d := storetest.Sample(1)
	d.Vendor, d.Model, d.Version, d.DeviceType = "Baxter", "Sigma Spectrum", "6.05", "infusion pump"
	if err := st.CreateDevice(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	in := pumpSBOM("m1", false)
	in.Vulns = append(in.Vulns, store.SBOMVuln{Index: 0, ID: "CVE-2020-12039", Source: "nvd", Method: "cpe", Status: "affected", Confidence: "high", CVSS: 6.2})
	return in
}

func testMergeSBOMFirst(t *testing.T, st store.Store) {
	ctx := context.Background()
	if _, _, err := st.(store.SBOMStore).AttachSBOM(ctx, mergePump(t, st)); err != nil {
		t.Fatal(err)
	}
	svc := New(st, Options{})
	if _, err := svc.RecomputeAll(ctx); err != nil {
		t.Fatal(err)
	}
	asset := storetest.Sample(1).AssetID
	got := byPair(t, st)
	f39, f40 := got[asset+"/CVE-2020-12039"], got[asset+"/CVE-2020-12040"]
	if f39 == nil || f40 == nil || f40.Source != store.SourceSBOM {
		t.Fatalf("SBOM findings before the advisory: %v", keys(got))
	}
	// alice works on one, bob accepts the other (the most advanced)
	inProgress, owner, due := store.StateInProgress, "biomed-team", "2027-01-15"
	if _, err := svc.UpdateWorkflow(ctx, f40.ID, Change{State: &inProgress, Owner: &owner, DueDate: &due}, 0, "alice"); err != nil {
		t.Fatal(err)
	}
	expires := day(time.Now().UTC().AddDate(0, 0, 60))
	acc := &Acceptance{Justification: "pump on the isolated infusion VLAN", Approver: "ciso", Expires: expires}
	bobOwner := "bob"
	if _, err := svc.UpdateWorkflow(ctx, f39.ID, Change{Accept: acc, Owner: &bobOwner}, 0, "bob"); err != nil {
		t.Fatal(err)
	}
	// the advisory arrives and takes both in
	a := sigmaAdvisory(t)
	putAdvisories(t, st, []*advisory.Advisory{a})
	if _, err := svc.AdvisoriesChanged(ctx, []string{a.ID}); err != nil {
		t.Fatal(err)
	}
	got = byPair(t, st)
	m := got[asset+"/"+a.ID]
	if m == nil || m.Source != store.SourceAdvisorySBOM {
		t.Fatalf("merged finding: %+v (have %v)", m, keys(got))
	}
	wf := m.Workflow
	if wf.State != store.StateAccepted || wf.Owner != "bob" || wf.AcceptApprover != "ciso" || wf.AcceptJustification != acc.Justification ||
		!wf.AcceptExpires.Equal(expires) || wf.UpdatedBy != store.SystemActor {
		t.Errorf("merged workflow = %+v, want bob's acceptance carried by the system", wf)
	}
	if m.Action != "accept" || m.SLA != "accepted" {
		t.Errorf("merged finding action %q SLA %q, want the acceptance in force (accept, accepted)", m.Action, m.SLA)
	}
	if x := got[asset+"/CVE-2020-12040"]; x == nil || x.ResolvedAt.IsZero() {
		t.Errorf("the SBOM finding the advisory took in still matches: %+v", x)
	}
	// audited as the system's change of the merged finding
	var entries []string
	if err := st.(store.SecurityStore).ScanAudit(ctx, 0, func(e *audit.Entry) error {
		if e.Action == "finding.update" && e.Object == "finding/"+strconv.FormatInt(m.ID, 10) {
			entries = append(entries, e.Actor+" "+e.ActorKind)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(entries, []string{"system system"}) {
		t.Errorf("audit of the carried workflow: %v, want one entry by the system", entries)
	}
	// a later recompute keeps it and carries nothing again
	if _, err := svc.RecomputeAll(ctx); err != nil {
		t.Fatal(err)
	}
	if again := byPair(t, st)[asset+"/"+a.ID]; again.Workflow.Revision != wf.Revision || again.Workflow.State != store.StateAccepted {
		t.Errorf("after a recompute: %+v, want revision %d unchanged", again.Workflow, wf.Revision)
	}
}

func testMergeAdvisoryFirst(t *testing.T, st store.Store) {
	ctx := context.Background()
	in := mergePump(t, st)
	a := sigmaAdvisory(t)
	putAdvisories(t, st, []*advisory.Advisory{a})
	svc := New(st, Options{})
	if _, err := svc.RecomputeAll(ctx); err != nil {
		t.Fatal(err)
	}
	asset := storetest.Sample(1).AssetID
	f := byPair(t, st)[asset+"/"+a.ID]
	if f == nil || f.Source != store.SourceAdvisory {
		t.Fatalf("advisory finding: %+v", f)
	}
	mitigated, owner := store.StateMitigated, "carol"
	if _, err := svc.UpdateWorkflow(ctx, f.ID, Change{State: &mitigated, Owner: &owner}, 0, "carol"); err != nil {
		t.Fatal(err)
	}
	f, _ = st.GetFinding(ctx, f.ID)
	if _, _, err := st.(store.SBOMStore).AttachSBOM(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SBOMsChanged(ctx); err != nil {
		t.Fatal(err)
	}
	m := byPair(t, st)[asset+"/"+a.ID]
	if m == nil || m.Source != store.SourceAdvisorySBOM || m.ID != f.ID {
		t.Fatalf("merged finding: %+v", m)
	}
	if m.Workflow.State != store.StateMitigated || m.Workflow.Owner != "carol" || m.Workflow.UpdatedBy != "carol" || m.Workflow.Revision != f.Workflow.Revision {
		t.Errorf("merged workflow = %+v, want carol's unchanged %+v", m.Workflow, f.Workflow)
	}
}
