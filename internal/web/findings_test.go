package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/findings"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// seedFindings stores three findings on the env's first three devices:
// a critical overdue one, a medium one due in 3 days and a low one due
// in 60 days (the test clock is 2026-11-02).
func seedFindings(t *testing.T, e *env) []*store.Finding {
	t.Helper()
	ctx := context.Background()
	var fs []*store.Finding
	var risks []*store.DeviceRisk
	for i, sc := range []float64{85, 45, 20} {
		d, err := e.st.GetDevice(ctx, int64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		f := storetest.SampleFinding(d.ID, "ICSMA-24-151-01", sc)
		f.AssetID = d.AssetID
		f.KEV = i == 0
		f.Due = []string{"2026-06-16", "2026-11-05", "2027-01-01"}[i]
		fs = append(fs, f)
		risks = append(risks, &store.DeviceRisk{DeviceID: d.ID, AssetID: d.AssetID, Score: sc, Band: f.Band, Findings: 1, KEV: f.KEV,
			Factors: f.Factors, Actions: []byte("[]"), Site: d.Site, DeviceType: d.DeviceType, Vendor: d.Vendor})
	}
	if _, err := e.st.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, risks); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestFindingsListAndQueue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	fs := seedFindings(t, e)
	c := e.signedIn(auth.Viewer)
	res := c.get("/findings")
	if res.Code != http.StatusOK {
		t.Fatalf("GET /findings = %d", res.Code)
	}
	// riskiest first
	i85, i45 := strings.Index(res.Body, fmt.Sprintf(`href="/findings/%d"`, fs[0].ID)), strings.Index(res.Body, fmt.Sprintf(`href="/findings/%d"`, fs[1].ID))
	if i85 < 0 || i45 < 0 || i85 > i45 {
		t.Error("findings are not listed riskiest first")
	}
	mustContain(t, "findings list", res.Body, "badge band-critical", "KEV</span>", "Overdue", "feedbar")
	if res := c.get("/findings?band=low"); strings.Contains(res.Body, fmt.Sprintf(`href="/findings/%d"`, fs[0].ID)) || !strings.Contains(res.Body, fmt.Sprintf(`href="/findings/%d"`, fs[2].ID)) {
		t.Error("band filter does not select the low finding only")
	}
	// the site filter: the findings of the devices of one site, any case
	d0, err := e.st.GetDevice(context.Background(), fs[0].DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	res = c.get("/findings?site=" + url.QueryEscape(strings.ToUpper(d0.Site)))
	if !strings.Contains(res.Body, fmt.Sprintf(`href="/findings/%d"`, fs[0].ID)) || !strings.Contains(res.Body, `name="site" value="`+html.EscapeString(strings.ToUpper(d0.Site))+`"`) {
		t.Errorf("site filter %q does not list finding %d or keep the value", d0.Site, fs[0].ID)
	}
	for _, f := range fs[1:] {
		d, _ := e.st.GetDevice(context.Background(), f.DeviceID)
		if listed := strings.Contains(res.Body, fmt.Sprintf(`href="/findings/%d"`, f.ID)); listed != strings.EqualFold(d.Site, d0.Site) {
			t.Errorf("site filter %q: finding %d of site %q listed=%v", d0.Site, f.ID, d.Site, listed)
		}
	}
	if res := c.get("/findings?kev=yes"); strings.Count(res.Body, `<a href="/findings/`) != 1 {
		t.Error("KEV filter does not select one finding")
	}
	if res := c.get("/findings?state=bogus"); res.Code != http.StatusBadRequest || !strings.Contains(res.Body, "Unknown state") {
		t.Errorf("bad state filter = %d", res.Code)
	}
	res = c.get("/remediations")
	mustContain(t, "queue", res.Body, "Remediation queue", "sla-overdue", "sla-due_soon", "sla-on_track")
	if strings.Index(res.Body, "sla-overdue") > strings.Index(res.Body, "sla-due_soon") {
		t.Error("queue does not list overdue before due soon")
	}
	// the finding page explains the score; a viewer gets no forms
	res = c.get(fmt.Sprintf("/findings/%d", fs[0].ID))
	mustContain(t, "finding page", res.Body, "severity", "CVSS 8.2", "Update to 12.3.0", "Your role can view findings but not change them")
	if strings.Contains(res.Body, `name="justification"`) {
		t.Error("viewer sees the acceptance form")
	}
	if res := c.get("/findings/99999"); res.Code != http.StatusNotFound {
		t.Errorf("unknown finding = %d", res.Code)
	}
}

func TestFindingWorkflowForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	fs := seedFindings(t, e)
	ctx := context.Background()
	path := fmt.Sprintf("/findings/%d", fs[0].ID)
	f0, err := e.st.GetFinding(ctx, fs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	r0 := f0.Workflow.Revision
	rev := func(d int64) string { return fmt.Sprint(r0 + d) }
	a := e.signedIn(auth.Analyst)
	a.get(path)
	res := a.post(path, url.Values{"action": {"update"}, "revision": {rev(0)}, "state": {"in_progress"}, "owner": {xss}, "note": {"vendor ticket 4711"}})
	if res.Code != http.StatusSeeOther {
		t.Fatalf("update = %d:\n%s", res.Code, excerpt(res.Body))
	}
	f, err := e.st.GetFinding(ctx, fs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if f.Workflow.State != store.StateInProgress || f.Workflow.UpdatedBy != "analyst" || f.Workflow.Revision != r0+1 {
		t.Errorf("workflow after update = %+v", f.Workflow)
	}
	res = a.get(path + "?flash=finding")
	mustContain(t, "finding after update", res.Body, "Status: In progress", "Finding updated", "&lt;script&gt;alert")
	if strings.Contains(res.Body, "<script>alert") {
		t.Error("owner is not escaped")
	}
	// A form rendered before that change is refused, not applied.
	res = a.post(path, url.Values{"action": {"update"}, "revision": {rev(0)}, "state": {"resolved"}})
	if res.Code != http.StatusConflict || !strings.Contains(res.Body, "changed this finding since you opened it") {
		t.Errorf("stale revision = %d", res.Code)
	}
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"accepted_via_update", url.Values{"action": {"update"}, "state": {"accepted"}}, "use “Accept the risk”"},
		{"no_justification", url.Values{"action": {"accept"}, "expires": {"2027-01-01"}}, "Say why the risk is accepted"},
		{"past_expiry", url.Values{"action": {"accept"}, "justification": {"x"}, "expires": {"2026-11-01"}}, "already have ended"},
		{"too_long", url.Values{"action": {"accept"}, "justification": {"x"}, "expires": {"2029-01-01"}}, "at most"},
		{"bad_due", url.Values{"action": {"update"}, "state": {"open"}, "due_date": {"soon"}}, "must be a date"},
	}
	for _, tt := range tests {
		tt.form.Set("revision", rev(1))
		res := a.post(path, tt.form)
		if res.Code != http.StatusUnprocessableEntity || !strings.Contains(res.Body, tt.want) {
			t.Errorf("%s: = %d, want 422 with %q", tt.name, res.Code, tt.want)
		}
	}
	res = a.post(path, url.Values{"action": {"accept"}, "revision": {rev(1)}, "justification": {"isolated VLAN, replacement ordered"}, "expires": {"2027-02-01"}})
	if res.Code != http.StatusSeeOther {
		t.Fatalf("accept = %d:\n%s", res.Code, excerpt(res.Body))
	}
	f, _ = e.st.GetFinding(ctx, fs[0].ID)
	if f.Workflow.State != store.StateAccepted || f.Workflow.AcceptApprover != "analyst" || f.Workflow.AcceptExpires.Format("2006-01-02") != "2027-02-01" {
		t.Errorf("workflow after accept = %+v", f.Workflow)
	}
	// both changes are audited with the user and before/after
	var n int
	e.st.(store.SecurityStore).ScanAudit(ctx, 0, func(en *audit.Entry) error { //nolint:errcheck // counted below
		if en.Action == "finding.update" && en.Object == fmt.Sprintf("finding/%d", f.ID) {
			n++
		}
		return nil
	})
	if n != 2 {
		t.Errorf("%d finding.update audit entries, want 2", n)
	}
	// read-only roles are refused
	v := e.signedIn(auth.Auditor)
	v.get(path)
	if res := v.post(path, url.Values{"action": {"update"}, "revision": {rev(2)}, "state": {"open"}}); res.Code != http.StatusForbidden {
		t.Errorf("auditor POST = %d, want 403", res.Code)
	}
}

func TestDevicePageFindingsAndRisk(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	c := e.signedIn(auth.Viewer)
	if res := c.get("/devices/1"); !strings.Contains(res.Body, "no matching run has been stored yet, so this is not a clean result") {
		t.Error("device page before any matching run does not say the result is not clean")
	}
	fs := seedFindings(t, e)
	res := c.get("/devices/1")
	mustContain(t, "device page", res.Body, "Findings and risk", "badge band-critical", "85.0", "each factor's contribution",
		fmt.Sprintf(`href="/findings/%d"`, fs[0].ID), "severity CVSS 8.2 (+30.0)", "Overdue")
	if strings.Contains(res.Body, "Not available yet: vulnerability findings") {
		t.Error("device page still shows the findings placeholder")
	}
	// the advisory page lists the devices it affects (no advisory stored
	// is needed for the findings, but the page needs the advisory)
	a := e.signedIn(auth.Analyst)
	a.get("/feeds")
	a.upload("/feeds", "icsma-24-151-01.json", readFeedFile(t, "csaf/icsma-24-151-01.json"), url.Values{"kind": {"csaf"}})
	res = c.get("/advisories/ICSMA-24-151-01")
	mustContain(t, "advisory page", res.Body, `href="/devices/1"`, `href="/devices/3"`, "BD Alaris PC Unit 12.1.2", fmt.Sprintf("finding #%d", fs[2].ID))
}

func TestDashboardRiskPanels(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	seedFindings(t, e)
	ctx := context.Background()
	for i, crit := range []int{1, 2, 1} {
		reg := fmt.Sprintf(`{"total":{"key":"all","devices":3,"affected":3,"findings":3,"bands":{"critical":%d,"high":0,"medium":1,"low":1,"info":0},"max_score":85,"mean_score":50,"kev_devices":1},"by_site":[],"by_department":[],"by_device_type":[],"by_vendor":[]}`, crit)
		if err := e.st.PutRiskSnapshot(ctx, fmt.Sprintf("2026-10-%02d", 30+i%2)+"", []byte(reg)); err != nil && i < 2 {
			t.Fatal(err)
		}
	}
	e.h.dropStats()
	res := e.signedIn(auth.Viewer).get("/")
	mustContain(t, "dashboard", res.Body, "Devices by risk band", `href="/findings?band=critical"`, "devices with a known exploited (KEV) vulnerability",
		"Top-risk devices", "Open remediations by due status", "<polyline", "Findings trend", "feedbar")
	if strings.Contains(res.Body, "No matching run has been stored yet") {
		t.Error("dashboard still shows the empty risk state")
	}
}

// TestFindingWorkflowThroughService: with a findings service, the form's
// change goes through findings.Service.UpdateWorkflow (audited as
// finding.update by the signed-in user, device rescored).
func TestFindingWorkflowThroughService(t *testing.T) {
	t.Parallel()
	var svc *findings.Service
	e := newEnv(t, 3, func(d *Deps) {
		svc = findings.New(d.Store, findings.Options{})
		d.Findings = svc
	})
	fs := seedFindings(t, e)
	ctx := context.Background()
	f0, _ := e.st.GetFinding(ctx, fs[1].ID)
	path := fmt.Sprintf("/findings/%d", fs[1].ID)
	a := e.signedIn(auth.ClinicalEngineer)
	a.get(path)
	res := a.post(path, url.Values{"action": {"update"}, "revision": {fmt.Sprint(f0.Workflow.Revision)}, "state": {"mitigated"}, "owner": {"Biomed"}})
	if res.Code != http.StatusSeeOther {
		t.Fatalf("update through the service = %d:\n%s", res.Code, excerpt(res.Body))
	}
	var by string
	e.st.(store.SecurityStore).ScanAudit(ctx, 0, func(en *audit.Entry) error { //nolint:errcheck // checked below
		if en.Action == "finding.update" && en.Object == fmt.Sprintf("finding/%d", fs[1].ID) {
			by = string(en.After)
		}
		return nil
	})
	if !strings.Contains(by, `"updated_by":"clinical-engineer"`) || !strings.Contains(by, `"state":"mitigated"`) {
		t.Errorf("audit of the service's change = %s", by)
	}
}
