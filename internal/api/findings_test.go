package api_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/feeds"
	"github.com/medwarden/medwarden/internal/findings"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/risk"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/postgres"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// findingsEnv is a server over a store holding a small hospital: five
// devices, the three CISA advisories of the feeds test data (and KEV), the
// findings and device risk a recompute stores for them, and three days of
// risk snapshots.
type findingsEnv struct {
	ts      *httptest.Server
	srv     *api.Server
	token   string
	st      *recorder.Store
	dev     map[string]int64 // asset id → device id
	finding map[string]int64 // asset id + " " + advisory → finding id
	today   time.Time
}

// eachStore runs fn against SQLite and, when MEDWARDEN_TEST_POSTGRES is
// set, PostgreSQL.
func eachStore(t *testing.T, fn func(t *testing.T, open func(t *testing.T) store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, func(t *testing.T) store.Store {
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("MEDWARDEN_TEST_POSTGRES")
		if base == "" {
			t.Skip("MEDWARDEN_TEST_POSTGRES not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable): PostgreSQL run skipped")
		}
		fn(t, func(t *testing.T) store.Store {
			st, err := postgres.Open(t.Context(), storetest.PostgresSchemaDSN(t, base))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		})
	})
}

func day(t time.Time, days int) string { return t.AddDate(0, 0, days).Format(time.DateOnly) }

func factors(fs ...risk.Factor) json.RawMessage {
	b, _ := json.Marshal(fs)
	return b
}

func newFindingsEnv(t testing.TB, raw store.Store, withFeeds bool) *findingsEnv {
	t.Helper()
	ctx := t.Context()
	st, err := recorder.Wrap(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if withFeeds {
		im, err := feeds.NewImporter(raw, feeds.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"csaf", "kev_subset.json"} {
			if _, err := im.Import(ctx, filepath.Join(feedsTestdata, p), feeds.KindAuto); err != nil {
				t.Fatal(err)
			}
		}
	}
	e := &findingsEnv{st: st, dev: map[string]int64{}, finding: map[string]int64{}, today: time.Now().UTC().Truncate(24 * time.Hour)}
	yes := true
	devices := []*inventory.Device{
		{AssetID: "CARD-0001", Vendor: "St. Jude Medical", Model: "RF models EX1150", Version: "8.2.1", DeviceType: "cardiac monitor transmitter",
			Site: "North", Department: "Cardiology", Criticality: inventory.LifeSupporting, PatientConnected: &yes, Zone: "clinical"},
		{AssetID: "CARD-0002", Vendor: "St. Jude Medical", Model: "Inductive models EX1100", Version: "8.1.0", DeviceType: "cardiac monitor transmitter",
			Site: "South", Department: "Cardiology", Criticality: inventory.LifeSupporting, PatientConnected: &yes},
		{AssetID: "IT-CONNEX-01", Vendor: "Baxter", Model: "Baxter Connex Health Portal", Version: "2024-06-01", DeviceType: "clinical portal",
			Site: "North", Department: "Clinical IT", Criticality: inventory.Diagnostic},
		{AssetID: "BIO-CFG-07", Vendor: "Baxter", Model: "Welch Allyn Product Configuration Tool", Version: "1.9.4.1", DeviceType: "configuration workstation",
			Site: "South", Department: "Biomedical Engineering", Criticality: inventory.NonClinical},
		{AssetID: "MON-0100", Vendor: "GE Healthcare", Model: "CARESCAPE B450", Version: "3.1", DeviceType: "patient monitor",
			Site: "North", Department: "ICU", Criticality: inventory.LifeSupporting, PatientConnected: &yes},
	}
	for _, d := range devices {
		if err := st.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		e.dev[d.AssetID] = d.ID
	}
	acts := func(action, due, rule string) json.RawMessage {
		b, _ := json.Marshal([]map[string]string{{"action": action, "due": due, "due_rule": rule}})
		return b
	}
	fs := []*store.Finding{
		{DeviceID: e.dev["CARD-0001"], AssetID: "CARD-0001", AdvisoryID: "ICSMA-17-009-01A", AdvisoryTitle: "St. Jude Merlin@home Transmitter Vulnerability (Update A)",
			ProductID: "CSAFPID-0003", ProductName: "St. Jude Medical RF models EX1150 < 8.2.2", BranchPath: []string{"St. Jude Medical", "RF models EX1150", "< 8.2.2"},
			Method: "vendor_model_version", Confidence: 0.95, MatchStatus: "known_affected", Reasons: []string{"vendor, model and version 8.2.1 < 8.2.2"},
			CVEs: []string{"CVE-2017-5149"}, CVSS: 7.5, CVSSVector: "CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", CVSSVersion: "3.0", EPSS: 0.012, EPSSPercentile: 0.78,
			Remediations: json.RawMessage(`[{"category":"vendor_fix","details":"update to 8.2.2"}]`),
			Score:        72, Band: "high", Factors: factors(risk.Factor{Name: risk.FactorSeverity, Value: "CVSS 7.5", Contribution: 45}, risk.Factor{Name: risk.FactorClinical, Value: "life-supporting", Contribution: 27}),
			Action: "patch", Due: day(e.today, -5), DueRule: "high band: 30 days from detection", SLA: "overdue", Actions: acts("patch", day(e.today, -5), "high band")},
		{DeviceID: e.dev["CARD-0002"], AssetID: "CARD-0002", AdvisoryID: "ICSMA-17-009-01A", AdvisoryTitle: "St. Jude Merlin@home Transmitter Vulnerability (Update A)",
			ProductID: "CSAFPID-0001", ProductName: "St. Jude Medical Inductive models EX1100 < 8.2.2", Method: "vendor_model_version", Confidence: 0.6, MatchStatus: "needs_review",
			Reasons: []string{"model name matched partially"}, CVEs: []string{"CVE-2017-5149"}, CVSS: 7.5, EPSS: -1,
			Score: 55, Band: "medium", Factors: factors(risk.Factor{Name: risk.FactorSeverity, Value: "CVSS 7.5", Contribution: 55}),
			Action: "patch", Due: day(e.today, 3), DueRule: "medium band: 90 days from detection", SLA: "due_soon", Actions: acts("patch", day(e.today, 3), "medium band")},
		{DeviceID: e.dev["IT-CONNEX-01"], AssetID: "IT-CONNEX-01", AdvisoryID: "ICSMA-24-249-01", AdvisoryTitle: "Baxter Connex Health Portal",
			ProductID: "CSAFPID-0001", ProductName: "Baxter Connex Health Portal <8/30/2024", Method: "vendor_model", Confidence: 0.9, MatchStatus: "known_affected",
			CVEs: []string{"CVE-2024-6795", "CVE-2024-6796"}, CVSS: 10, CVSSVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", CVSSVersion: "3.1", KEV: true, KEVDueDate: day(e.today, 10), EPSS: 0.4,
			Score: 91, Band: "critical", Factors: factors(risk.Factor{Name: risk.FactorSeverity, Value: "CVSS 10", Contribution: 60}, risk.Factor{Name: risk.FactorExploitation, Value: "KEV", Contribution: 31}),
			Action: "configure", Due: day(e.today, 10), DueRule: "KEV catalog due date", SLA: "on_track", Actions: acts("configure", day(e.today, 10), "KEV")},
		{DeviceID: e.dev["BIO-CFG-07"], AssetID: "BIO-CFG-07", AdvisoryID: "ICSMA-24-151-01", AdvisoryTitle: "Baxter Welch Allyn Configuration Tool",
			ProductID: "CSAFPID-0001", ProductName: "Baxter Welch Allyn Product Configuration Tool <=1.9.4.1", Method: "vendor_model_version", Confidence: 0.99, MatchStatus: "known_affected",
			CVEs: []string{"CVE-2024-5176"}, CVSS: 6.8, EPSS: 0.001,
			Score: 30, Band: "low", Factors: factors(risk.Factor{Name: risk.FactorSeverity, Value: "CVSS 6.8", Contribution: 30}),
			Action: "mitigate", Due: day(e.today, 150), DueRule: "low band: 180 days from detection", SLA: "on_track", Actions: acts("mitigate", day(e.today, 150), "low band")},
	}
	var risks []*store.DeviceRisk
	for _, f := range fs {
		d, _ := st.GetDevice(ctx, f.DeviceID)
		risks = append(risks, &store.DeviceRisk{DeviceID: f.DeviceID, AssetID: f.AssetID, Score: f.Score, Band: f.Band, Factors: f.Factors, Findings: 1, KEV: f.KEV,
			Actions: json.RawMessage("[]"), Site: d.Site, Department: d.Department, DeviceType: d.DeviceType, Vendor: d.Vendor})
	}
	// CARD-0002 is out of support and its finding has no fix: the
	// recompute plans its replacement (a device-level action)
	risks[1].Actions = json.RawMessage(`[{"asset_id":"CARD-0002","action":"replace","score":55,"band":"medium","due":"` + day(e.today, -2) +
		`","due_rule":"plan by: medium band: 90 days from detection","sla":"overdue","rationale":"end of support 2023-06-30 and no vendor fix",` +
		`"replacement":{"vendor":"St. Jude Medical","model":"Inductive models EX1100","rationale":"same model elsewhere","fleet_devices":1,` +
		`"asset_ids":["CARD-0002"],"sites":["South"],"care_areas":["South / Cardiology"]}}]`)
	if _, err := st.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, risks); err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		e.finding[f.AssetID+" "+f.AdvisoryID] = f.ID
	}
	for i, n := range []int{2, 3, 4} { // affected devices on each of the last three days
		var items []risk.Assessed
		for j, d := range devices {
			a := risk.Assessed{AssetID: d.AssetID, Site: d.Site, Department: d.Department, DeviceType: d.DeviceType, Vendor: d.Vendor, Band: risk.BandInfo}
			if j < n {
				a.Score, a.Band, a.Findings = fs[j].Score, risk.Band(fs[j].Band), 1
			}
			items = append(items, a)
		}
		reg, _ := json.Marshal(risk.BuildRegister(items))
		if err := st.PutRiskSnapshot(ctx, day(e.today, i-2), reg); err != nil {
			t.Fatal(err)
		}
	}
	e.srv = api.New(api.Deps{Store: st, RateLimit: api.RateLimit{PerClient: -1, PerAccount: -1}})
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(e.ts.Close)
	e.token = newToken(t, st, "ana", auth.Analyst, "findings:read,findings:write")
	bearer.Store(e.ts.URL, e.token)
	return e
}

func (e *findingsEnv) get(t *testing.T, path string) resp {
	t.Helper()
	return do(t, "GET", e.ts.URL+path, "")
}

// assets lists the asset ids of a list's items, in order.
func assets(t *testing.T, r resp, member string) []string {
	t.Helper()
	list, ok := r.body[member].([]any)
	if !ok {
		t.Fatalf("no %s array in %s", member, r.raw)
	}
	out := []string{}
	for _, x := range list {
		out = append(out, x.(map[string]any)["asset_id"].(string))
	}
	return out
}

func TestFindingsList(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newFindingsEnv(t, open(t), true)
		tests := []struct {
			name  string
			query string
			want  []string
		}{
			{name: "riskiest_first", query: "", want: []string{"IT-CONNEX-01", "CARD-0001", "CARD-0002", "BIO-CFG-07"}},
			{name: "device_by_asset_id", query: "device=CARD-0002", want: []string{"CARD-0002"}},
			{name: "device_by_id", query: fmt.Sprintf("device=%d", e.dev["BIO-CFG-07"]), want: []string{"BIO-CFG-07"}},
			{name: "device_id", query: fmt.Sprintf("device_id=%d", e.dev["CARD-0001"]), want: []string{"CARD-0001"}},
			{name: "advisory", query: "advisory=ICSMA-17-009-01A", want: []string{"CARD-0001", "CARD-0002"}},
			{name: "cve_any_case", query: "cve=cve-2024-6796", want: []string{"IT-CONNEX-01"}},
			{name: "match_status", query: "status=needs_review", want: []string{"CARD-0002"}},
			{name: "kev", query: "kev=true", want: []string{"IT-CONNEX-01"}},
			{name: "not_kev", query: "kev=false&sort=asset_id", want: []string{"BIO-CFG-07", "CARD-0001", "CARD-0002"}},
			{name: "min_confidence", query: "min_confidence=0.9&sort=-confidence", want: []string{"BIO-CFG-07", "CARD-0001", "IT-CONNEX-01"}},
			{name: "band", query: "band=critical", want: []string{"IT-CONNEX-01"}},
			{name: "site_any_case", query: "site=south", want: []string{"CARD-0002", "BIO-CFG-07"}},
			{name: "site_and_band_by_due", query: "site=North&band=critical&sort=due", want: []string{"IT-CONNEX-01"}},
			{name: "site_unknown", query: "site=East", want: []string{}},
			{name: "due_before", query: "due_before=" + day(e.today, 5), want: []string{"CARD-0001", "CARD-0002"}},
			{name: "state", query: "state=open&sort=due", want: []string{"CARD-0001", "CARD-0002", "IT-CONNEX-01", "BIO-CFG-07"}},
			{name: "state_accepted_none", query: "state=accepted", want: []string{}},
			{name: "source_advisory", query: "source=advisory", want: []string{"IT-CONNEX-01", "CARD-0001", "CARD-0002", "BIO-CFG-07"}},
			{name: "source_sbom_none", query: "source=sbom", want: []string{}},
			{name: "unknown_device", query: "device=NOPE-1", want: nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.get(t, "/api/v1/findings?"+tt.query)
				if tt.want == nil {
					if r.code != 400 || problemField(r) != "device" {
						t.Fatalf("status %d field %q, want 400 device: %s", r.code, problemField(r), r.raw)
					}
					return
				}
				if r.code != 200 {
					t.Fatalf("status %d: %s", r.code, r.raw)
				}
				if got := assets(t, r, "findings"); !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
				fr, _ := r.body["feeds"].(map[string]any)
				if _, ok := fr["warnings"]; !ok {
					t.Errorf("no feed report: %s", r.raw)
				}
			})
		}
	})
}

func TestFindingsPagingAndFeeds(t *testing.T) {
	e := newFindingsEnv(t, sqliteStore(t), false)
	var got []string
	path := "/api/v1/findings?limit=3"
	for range 5 {
		r := e.get(t, path)
		if r.code != 200 {
			t.Fatalf("%s: %d %s", path, r.code, r.raw)
		}
		got = append(got, assets(t, r, "findings")...)
		next, _ := r.body["next"].(string)
		if next == "" {
			break
		}
		if link := r.hdr.Get("Link"); !strings.Contains(link, `rel="next"`) {
			t.Errorf("Link header %q", link)
		}
		path = "/api/v1/findings?limit=3&cursor=" + url.QueryEscape(next)
	}
	if want := []string{"IT-CONNEX-01", "CARD-0001", "CARD-0002", "BIO-CFG-07"}; !slices.Equal(got, want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	// no feed was ever imported: every feed is missing, loudly
	r := e.get(t, "/api/v1/findings")
	ws, _ := r.body["feeds"].(map[string]any)["warnings"].([]any)
	if len(ws) == 0 || !strings.Contains(r.hdr.Get("Warning"), "feeds missing or stale") {
		t.Errorf("no loud warning without feeds: Warning %q, warnings %v", r.hdr.Get("Warning"), ws)
	}
}

func sqliteStore(t testing.TB) store.Store {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestFindingsBadQueries(t *testing.T) {
	e := newFindingsEnv(t, sqliteStore(t), true)
	tests := []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=5000", "limit"}, {"kev=maybe", "kev"}, {"min_confidence=2", "min_confidence"},
		{"min_confidence=NaN", "min_confidence"}, {"band=severe", "band"}, {"due_before=31/12/2026", "due_before"},
		{"sort=-risk", "sort"}, {"status=affected", "status"}, {"state=closed", "state"}, {"cve=2024-1", "cve"},
		{"device_id=-3", "device_id"}, {"colour=red", "colour"}, {"band=high&band=low", "band"}, {"max_feed_age=soon", "max_feed_age"},
		{"include_resolved=yes", "include_resolved"}, {"cursor=%00garbage", ""}, {"source=osv", "source"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := e.get(t, "/api/v1/findings?"+tt.query)
			if r.code != 400 || r.hdr.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d %q, want 400 problem: %s", r.code, r.hdr.Get("Content-Type"), r.raw)
			}
			if tt.field != "" && problemField(r) != tt.field {
				t.Errorf("field %q, want %q: %s", problemField(r), tt.field, r.raw)
			}
		})
	}
}

func TestFindingGet(t *testing.T) {
	e := newFindingsEnv(t, sqliteStore(t), true)
	id := e.finding["IT-CONNEX-01 ICSMA-24-249-01"]
	r := e.get(t, fmt.Sprintf("/api/v1/findings/%d", id))
	if r.code != 200 || r.hdr.Get("ETag") != `"f1"` {
		t.Fatalf("get: %d ETag %q %s", r.code, r.hdr.Get("ETag"), r.raw)
	}
	if r.body["kev"] != true || r.body["band"] != "critical" || r.body["feeds"] == nil {
		t.Errorf("finding: %s", r.raw)
	}
	if fs, _ := r.body["factors"].([]any); len(fs) != 2 {
		t.Errorf("factors: %v", r.body["factors"])
	}
	if r := e.get(t, "/api/v1/findings/999999"); r.code != 404 {
		t.Errorf("unknown finding: %d", r.code)
	}
	if r := e.get(t, "/api/v1/findings/abc"); r.code != 400 || problemField(r) != "id" {
		t.Errorf("bad id: %d %s", r.code, r.raw)
	}
}

func TestFindingWorkflow(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newFindingsEnv(t, open(t), true)
		id := e.finding["CARD-0001 ICSMA-17-009-01A"]
		u := fmt.Sprintf("%s/api/v1/findings/%d", e.ts.URL, id)
		patch := func(body, etag string) resp {
			t.Helper()
			if etag == "" {
				return do(t, "PATCH", u, body, "Content-Type", "application/merge-patch+json")
			}
			return do(t, "PATCH", u, body, "Content-Type", "application/merge-patch+json", "If-Match", etag)
		}
		if r := patch(`{"state":"in_progress"}`, ""); r.code != 428 {
			t.Fatalf("without If-Match: %d %s", r.code, r.raw)
		}
		r := patch(`{"state":"in_progress","owner":"biomed-north","note":"vendor contacted, patch scheduled"}`, `"f1"`)
		if r.code != 200 || r.hdr.Get("ETag") != `"f2"` {
			t.Fatalf("in_progress: %d ETag %q %s", r.code, r.hdr.Get("ETag"), r.raw)
		}
		wf := r.body["workflow"].(map[string]any)
		if wf["state"] != "in_progress" || wf["owner"] != "biomed-north" || wf["updated_by"] != "ana/token:1" {
			t.Errorf("workflow %v", wf)
		}
		if r := patch(`{"state":"mitigated"}`, `"f1"`); r.code != 412 {
			t.Errorf("stale ETag: %d %s", r.code, r.raw)
		}
		// owner filter sees the change
		if r := e.get(t, "/api/v1/findings?owner=BIOMED-NORTH"); r.code != 200 || !slices.Equal(assets(t, r, "findings"), []string{"CARD-0001"}) {
			t.Errorf("owner filter: %d %s", r.code, r.raw)
		}

		exp := day(e.today, 90)
		bad := []struct{ name, body, field string }{
			{"unknown_state", `{"state":"closed"}`, "state"},
			{"accepted_without_acceptance", `{"state":"accepted"}`, "acceptance"},
			{"acceptance_without_state", `{"acceptance":{"justification":"x","approver":"y","expires":"` + exp + `"}}`, "acceptance"},
			{"no_justification", `{"state":"accepted","acceptance":{"justification":" ","approver":"Dr. Okafor (CMIO)","expires":"` + exp + `"}}`, "acceptance.justification"},
			{"no_approver", `{"state":"accepted","acceptance":{"justification":"isolated VLAN","expires":"` + exp + `"}}`, "acceptance.approver"},
			{"expiry_past", `{"state":"accepted","acceptance":{"justification":"j","approver":"a","expires":"` + day(e.today, -1) + `"}}`, "acceptance.expires"},
			{"expiry_beyond_policy", `{"state":"accepted","acceptance":{"justification":"j","approver":"a","expires":"` + day(e.today, 400) + `"}}`, "acceptance.expires"},
			{"expiry_not_a_date", `{"state":"accepted","acceptance":{"justification":"j","approver":"a","expires":"next spring"}}`, "acceptance.expires"},
			{"due_date", `{"due_date":"soon"}`, "due_date"},
			{"owner_too_long", `{"owner":"` + strings.Repeat("x", 201) + `"}`, "owner"},
			{"wrong_type", `{"owner": 42}`, "owner"},
			{"unknown_field", `{"status":"resolved"}`, "status"},
			{"empty_patch", `{}`, ""},
			{"rubric_bad_answer", `{"rubric":{"answers":{"XAVN":"PERHAPS"}}}`, "rubric.answers.XAVN"},
			{"rubric_incomplete", `{"rubric":{"answers":{"XAVN":"YES"}}}`, "rubric.answers.XAVT"},
			{"rubric_v30", `{"rubric":{"answers":{"XAVN":"YES"},"cvss_version":"3.0"}}`, "rubric.cvss_version"},
		}
		for _, tt := range bad {
			t.Run(tt.name, func(t *testing.T) {
				r := patch(tt.body, `"f2"`)
				if r.code != 400 || problemField(r) != tt.field {
					t.Errorf("status %d field %q, want 400 %q: %s", r.code, problemField(r), tt.field, r.raw)
				}
			})
		}

		// a risk acceptance within the policy's 365 days
		r = patch(`{"state":"accepted","acceptance":{"justification":"device on isolated telemetry VLAN; vendor patch needs a clinic visit","approver":"Dr. Okafor (CMIO)","expires":"`+exp+`"}}`, `"f2"`)
		if r.code != 200 {
			t.Fatalf("accept: %d %s", r.code, r.raw)
		}
		wf = r.body["workflow"].(map[string]any)
		if wf["accept_approver"] != "Dr. Okafor (CMIO)" || !strings.HasPrefix(wf["accept_expires"].(string), exp) {
			t.Errorf("acceptance %v", wf)
		}
		// the MITRE rubric's answers give the device-specific vector, kept
		// with its rationale
		b, _ := os.ReadFile("../rubric/testdata/workbook-test.json")
		var ex struct {
			Vector  string            `json:"expected_vector"`
			Answers map[string]string `json:"answers"`
		}
		json.Unmarshal(b, &ex) //nolint:errcheck // checked by the rubric tests
		body, _ := json.Marshal(map[string]any{"rubric": map[string]any{"answers": ex.Answers}})
		ex.Vector = strings.Replace(ex.Vector, "CVSS:3.0/", "CVSS:3.1/", 1) // findings keep v3.1 vectors
		r = patch(string(body), r.hdr.Get("ETag"))
		if r.code != 200 {
			t.Fatalf("rubric: %d %s", r.code, r.raw)
		}
		wf = r.body["workflow"].(map[string]any)
		if wf["rubric_vector"] != ex.Vector || wf["rubric_answers"].(map[string]any)["XAVN"] != "YES" || len(wf["rubric_rationale"].([]any)) != 8 {
			t.Errorf("rubric kept: %v", wf)
		}
		if wf["state"] != "accepted" {
			t.Errorf("rubric patch changed the state: %v", wf["state"])
		}
		// removing it
		r = patch(`{"rubric": null}`, r.hdr.Get("ETag"))
		if wf := r.body["workflow"].(map[string]any); r.code != 200 || wf["rubric_vector"] != nil {
			t.Errorf("rubric null: %d %v", r.code, r.raw)
		}
		// every change is in the audit log with before and after
		es, err := e.st.ListAudit(t.Context(), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, en := range es {
			if en.Action == "finding.update" && en.Object == fmt.Sprintf("finding/%d", id) {
				n++
			}
		}
		if n != 4 {
			t.Errorf("%d finding.update audit entries, want 4", n)
		}
	})
}

// TestFindingsFromRecompute runs the whole chain: devices and the CISA
// advisories of the feeds test data in the store, a recompute by the
// findings service, then the API with the service handling workflow
// changes (rescored at once).
func TestFindingsFromRecompute(t *testing.T) {
	ctx := t.Context()
	raw := sqliteStore(t)
	st, err := recorder.Wrap(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	im, err := feeds.NewImporter(raw, feeds.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"csaf", "kev_subset.json"} {
		if _, err := im.Import(ctx, filepath.Join(feedsTestdata, p), feeds.KindAuto); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []*inventory.Device{
		{AssetID: "BIO-CFG-07", Vendor: "Baxter", Model: "Welch Allyn Product Configuration Tool", Version: "1.9.4.1", DeviceType: "configuration workstation",
			Site: "South", Department: "Biomedical Engineering", Criticality: inventory.NonClinical},
		{AssetID: "BIO-CFG-08", Vendor: "Baxter", Model: "Welch Allyn Product Configuration Tool", Version: "1.9.5", DeviceType: "configuration workstation",
			Site: "South", Department: "Biomedical Engineering"},
		{AssetID: "CARD-0001", Vendor: "St. Jude Medical", Model: "RF models EX1150", Version: "8.2.1", DeviceType: "cardiac monitor transmitter",
			Site: "North", Department: "Cardiology", Criticality: inventory.LifeSupporting},
	} {
		if err := st.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	svc := findings.New(st, findings.Options{})
	if _, err := svc.RecomputeAll(ctx); err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Deps{Store: st})
	srv.EnableFindingsService(svc)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	bearer.Store(ts.URL, newToken(t, st, "cle", auth.ClinicalEngineer, "findings:read,findings:write"))

	// the register from the service's memory equals the one read from
	// the store (inventory + stored device risk)
	plain := httptest.NewServer(api.New(api.Deps{Store: st}))
	t.Cleanup(plain.Close)
	bearer.Store(plain.URL, newToken(t, st, "viewer", auth.Viewer, "findings:read"))
	fromSvc, fromStore := do(t, "GET", ts.URL+"/api/v1/risk/register", ""), do(t, "GET", plain.URL+"/api/v1/risk/register", "")
	if fromSvc.code != 200 || fromStore.code != 200 {
		t.Fatalf("register: %d %d", fromSvc.code, fromStore.code)
	}
	for _, k := range []string{"total", "by_site", "by_department", "by_device_type", "by_vendor"} {
		if diff := cmp.Diff(fromStore.body[k], fromSvc.body[k]); diff != "" {
			t.Errorf("register %s: store (-) vs service (+):\n%s", k, diff)
		}
	}

	r := do(t, "GET", ts.URL+"/api/v1/findings?cve=CVE-2024-5176", "")
	if r.code != 200 {
		t.Fatalf("list: %d %s", r.code, r.raw)
	}
	got := assets(t, r, "findings")
	if !slices.Contains(got, "BIO-CFG-07") || slices.Contains(got, "BIO-CFG-08") {
		t.Fatalf("CVE-2024-5176 findings %v: want BIO-CFG-07 (1.9.4.1 ≤ 1.9.4.1) and not BIO-CFG-08 (1.9.5)", got)
	}
	f := r.body["findings"].([]any)[slices.Index(got, "BIO-CFG-07")].(map[string]any)
	if f["advisory_id"] != "ICSMA-24-151-01" || f["band"] == "" || len(f["factors"].([]any)) == 0 {
		t.Errorf("finding %v", f)
	}
	if ws := r.body["feeds"].(map[string]any)["warnings"].([]any); len(ws) == 0 {
		t.Errorf("no EPSS feed imported, yet no warning")
	}
	id := int64(f["id"].(float64))

	// rubric answers: stored, and the finding is rescored with the vector
	b, _ := os.ReadFile("../rubric/testdata/workbook-test.json")
	var ex struct {
		Answers map[string]string `json:"answers"`
	}
	json.Unmarshal(b, &ex) //nolint:errcheck // checked by the rubric tests
	body, _ := json.Marshal(map[string]any{"rubric": map[string]any{"answers": ex.Answers}, "owner": "biomed-south"})
	u := fmt.Sprintf("%s/api/v1/findings/%d", ts.URL, id)
	r = do(t, "PATCH", u, string(body), "If-Match", `"f1"`)
	if r.code != 200 {
		t.Fatalf("rubric: %d %s", r.code, r.raw)
	}
	wf := r.body["workflow"].(map[string]any)
	want := "CVSS:3.1/AV:N/AC:L/PR:H/UI:R/S:C/C:H/I:H/A:L"
	if sv, _ := r.body["score_vector"].(string); wf["rubric_vector"] != want || !strings.HasPrefix(sv, want) || wf["owner"] != "biomed-south" {
		t.Errorf("rubric vector %v, score vector %v (want both %s), owner %v", wf["rubric_vector"], r.body["score_vector"], want, wf["owner"])
	}
	// the service's field errors keep the API's names
	r = do(t, "PATCH", u, `{"state":"accepted","acceptance":{"justification":"j","approver":"a","expires":"`+day(time.Now().UTC(), 500)+`"}}`, "If-Match", `"f2"`)
	if r.code != 400 || problemField(r) != "acceptance.expires" {
		t.Errorf("acceptance beyond policy: %d %s", r.code, r.raw)
	}
	r = do(t, "PATCH", u, `{"state":"accepted","acceptance":{"justification":"workstation offline except for configuration sessions","approver":"Head of Biomed","expires":"`+day(time.Now().UTC(), 60)+`"}}`, "If-Match", `"f2"`)
	if r.code != 200 || r.hdr.Get("ETag") != `"f3"` {
		t.Fatalf("accept: %d %s", r.code, r.raw)
	}
	r = do(t, "GET", ts.URL+"/api/v1/remediations?asset_id=BIO-CFG-07", "")
	items, _ := r.body["items"].([]any)
	if len(items) == 0 || items[0].(map[string]any)["sla"] != "accepted" {
		t.Errorf("queue after acceptance: %s", r.raw)
	}
	es, err := st.ListAudit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, en := range es {
		if en.Object == fmt.Sprintf("finding/%d", id) {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d audit entries for the finding, want 2", n)
	}
}
