package remediation

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/medwarden/medwarden/internal/risk"
)

var now = time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDueDate(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	tests := []struct {
		name     string
		f        risk.Finding
		band     risk.Band
		wantDue  string
		wantRule string
	}{
		{"critical_from_detection", risk.Finding{Detected: date("2026-05-20")}, risk.BandCritical, "2026-06-04", "critical band: 15 days from detection (2026-05-20)"},
		{"high_detected_now", risk.Finding{}, risk.BandHigh, "2026-07-01", "high band: 30 days from detection (2026-06-01)"},
		{"medium", risk.Finding{}, risk.BandMedium, "2026-08-30", "medium band: 90 days from detection (2026-06-01)"},
		{"low", risk.Finding{}, risk.BandLow, "2026-11-28", "low band: 180 days from detection (2026-06-01)"},
		{"info_no_deadline", risk.Finding{}, risk.BandInfo, "", "info band: no deadline"},
		{"kev_catalog_due_date_earlier", risk.Finding{KEV: true, KEVDueDate: date("2026-06-10")}, risk.BandHigh, "2026-06-10", "CISA KEV due date (BOD 22-01)"},
		{"kev_catalog_due_date_later_than_band", risk.Finding{KEV: true, KEVDueDate: date("2026-09-10")}, risk.BandCritical, "2026-06-16", "critical band: 15 days from detection (2026-06-01)"},
		{"kev_recent_cve_no_due", risk.Finding{KEV: true, KEVCVE: "CVE-2023-1234", KEVDateAdded: date("2026-05-25")}, risk.BandLow, "2026-06-08", "BOD 22-01: 14 days from added to KEV"},
		{"kev_old_cve_six_months", risk.Finding{KEV: true, CVEs: []string{"CVE-2019-10964"}, KEVDateAdded: date("2026-05-25")}, risk.BandLow, "2026-11-25", "BOD 22-01: 6 months from added to KEV for a CVE before 2021"},
		{"kev_date_added_unknown", risk.Finding{KEV: true, KEVCVE: "CVE-2024-1"}, risk.BandLow, "2026-06-15", "BOD 22-01: 14 days from detection (KEV date added unknown)"},
		{"kev_info_band", risk.Finding{KEV: true, KEVDueDate: date("2026-07-01")}, risk.BandInfo, "2026-07-01", "CISA KEV due date (BOD 22-01)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, rule := p.DueDate(&tt.f, tt.band, now)
			got := ""
			if !due.IsZero() {
				got = due.Format(time.DateOnly)
			}
			if got != tt.wantDue || rule != tt.wantRule {
				t.Errorf("DueDate = %q %q, want %q %q", got, rule, tt.wantDue, tt.wantRule)
			}
		})
	}
}

func TestSLA(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	for due, want := range map[string]SLA{"2026-05-31": SLAOverdue, "2026-06-01": SLADueSoon, "2026-06-08": SLADueSoon, "2026-06-09": SLAOnTrack, "": SLANone} {
		var d time.Time
		if due != "" {
			d = date(due)
		}
		if got, _ := p.sla(d, now); got != want {
			t.Errorf("sla(%q) = %s, want %s", due, got, want)
		}
	}
}

func fleet() []DeviceInfo {
	return []DeviceInfo{
		{AssetID: "ICU-VENT-07", Vendor: "Hamilton", Model: "C6", Version: "2.1", DeviceType: "Ventilator", Site: "Main", Department: "ICU", Exposure: risk.ExposureIT},
		{AssetID: "RAD-CT-02", Vendor: "Siemens", Model: "SOMATOM", Version: "VA20", Site: "Main", Department: "Radiology",
			Exposure: risk.ExposureClinical, Controls: []string{"segmented"}, EndOfSupport: date("2023-12-31")},
		{AssetID: "RAD-CT-05", Vendor: "siemens", Model: "SOMATOM ", Version: "VA20", Site: "North", Department: "Radiology", EndOfSupport: date("2023-12-31")},
		{AssetID: "RAD-CT-09", Vendor: "Siemens", Model: "SOMATOM", Version: "VA30", Site: "North", Department: "Radiology"},
		{AssetID: "LAB-01", Vendor: "Acme", Model: "Analyzer", Site: "Main", Department: "Lab", Exposure: risk.ExposureIsolated},
	}
}

func TestBuild(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/policy.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ParsePolicy(f, "policy.json")
	if err != nil {
		t.Fatal(err)
	}
	devs := fleet()
	vent, ct, lab := &devs[0], &devs[1], &devs[4]
	inputs := []Input{
		{vent, &risk.Finding{AdvisoryID: "ICSMA-24-100-01", CVEs: []string{"CVE-2024-1"}, Remediations: []string{"vendor_fix"}}, 84.5, risk.BandCritical},
		{vent, &risk.Finding{AdvisoryID: "ICSMA-25-001-01", CVEs: []string{"CVE-2025-2"}, KEV: true, KEVDueDate: date("2026-05-30"),
			Remediations: []string{"vendor_fix", "mitigation"}}, 80, risk.BandCritical},
		{ct, &risk.Finding{AdvisoryID: "ICSMA-23-200-01", Remediations: []string{"none_available", "workaround"}, Detected: date("2026-01-10")}, 44.8, risk.BandMedium},
		{lab, &risk.Finding{AdvisoryID: "ICSMA-22-001-01"}, 10, risk.BandInfo},
	}
	q, err := Build(&p, now, devs, inputs)
	if err != nil {
		t.Fatal(err)
	}
	acc := &p.Acceptances[0]
	want := []Item{
		{AssetID: "ICU-VENT-07", AdvisoryID: "ICSMA-25-001-01", CVEs: []string{"CVE-2025-2"}, Action: ActionMitigate, Score: 80, Band: risk.BandCritical,
			Due: "2026-05-30", DueRule: "CISA KEV due date (BOD 22-01)", SLA: SLAOverdue, DaysLeft: ptr(-2), Rationale: "the vendor publishes mitigations"},
		{AssetID: "ICU-VENT-07", AdvisoryID: "ICSMA-25-001-01", CVEs: []string{"CVE-2025-2"}, Action: ActionPatch, Score: 80, Band: risk.BandCritical,
			Due: "2026-05-30", DueRule: "CISA KEV due date (BOD 22-01)", SLA: SLAOverdue, DaysLeft: ptr(-2), Rationale: "the vendor publishes a fix for this product"},
		{AssetID: "RAD-CT-02", Action: ActionReplace, Score: 44.8, Band: risk.BandMedium,
			Due: "2026-03-11", DueRule: "plan by: medium band: 60 days from detection (2026-01-10)", SLA: SLAOverdue, DaysLeft: ptr(-82),
			Rationale: "Siemens SOMATOM VA20 is past its end of support (2023-12-31) and the vendor has no fix for ICSMA-23-200-01; compensating controls only reduce the risk, replacement removes it. Same model and version: 2 device(s) in Main / Radiology; North / Radiology",
			Replacement: &Replacement{Vendor: "Siemens", Model: "SOMATOM", Version: "VA20", FleetDevices: 2, AssetIDs: []string{"RAD-CT-02", "RAD-CT-05"},
				Sites: []string{"Main", "North"}, CareAreas: []string{"Main / Radiology", "North / Radiology"},
				Rationale: "Siemens SOMATOM VA20 is past its end of support (2023-12-31) and the vendor has no fix for ICSMA-23-200-01; compensating controls only reduce the risk, replacement removes it. Same model and version: 2 device(s) in Main / Radiology; North / Radiology"}},
		{AssetID: "RAD-CT-02", AdvisoryID: "ICSMA-23-200-01", Action: ActionConfigure, Score: 44.8, Band: risk.BandMedium,
			Due: "2026-03-11", DueRule: "medium band: 60 days from detection (2026-01-10)", SLA: SLAOverdue, DaysLeft: ptr(-82),
			Rationale: "the vendor publishes a workaround (configuration change)"},
		{AssetID: "ICU-VENT-07", AdvisoryID: "ICSMA-24-100-01", CVEs: []string{"CVE-2024-1"}, Action: ActionAccept, Score: 84.5, Band: risk.BandCritical,
			Due: "2026-08-01", DueRule: "risk acceptance expires", SLA: SLAAccepted, DaysLeft: ptr(61),
			Rationale: "accepted by J. Doe, CISO on 2026-05-01: Device on an isolated ward network; vendor patch scheduled with the next service visit", Acceptance: acc},
		{AssetID: "LAB-01", AdvisoryID: "ICSMA-22-001-01", Action: ActionMitigate, Score: 10, Band: risk.BandInfo,
			Due: "2027-06-01", DueRule: "info band: 365 days from detection (2026-06-01)", SLA: SLAOnTrack, DaysLeft: ptr(365),
			Rationale: "no vendor fix and the device is already segmented: review compensating controls and ask the vendor"},
	}
	if diff := cmp.Diff(want, q.Items, cmpopts.IgnoreUnexported(Item{})); diff != "" {
		t.Errorf("Build (-want +got):\n%s", diff)
	}

	// the acceptance expires: the finding reopens with its normal action
	later := date("2026-08-02")
	q2, err := Build(&p, later, devs, inputs[:1])
	if err != nil {
		t.Fatal(err)
	}
	if len(q2.Items) != 1 || q2.Items[0].Action != ActionPatch || !q2.Items[0].Reopened || q2.Items[0].Due != "2026-08-08" ||
		q2.Items[0].DueRule != "critical band: 7 days from detection (2026-08-01)" ||
		!strings.Contains(q2.Items[0].Rationale, "expired on 2026-08-01: reopened") {
		t.Errorf("after expiry: %+v", q2.Items)
	}
	if by := q.ByDevice(); len(by["ICU-VENT-07"]) != 3 || len(by["RAD-CT-02"]) != 2 {
		t.Errorf("ByDevice: %d vent items, %d CT items", len(by["ICU-VENT-07"]), len(by["RAD-CT-02"]))
	}
}

func TestSegmentWhenNoFix(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	d := &DeviceInfo{AssetID: "P1", Exposure: risk.ExposureIT}
	q, err := Build(&p, now, nil, []Input{
		{d, &risk.Finding{AdvisoryID: "A", Remediations: []string{"no_fix_planned"}}, 60, risk.BandHigh},
		{d, &risk.Finding{AdvisoryID: "B"}, 20, risk.BandLow},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range q.Items {
		got = append(got, it.AdvisoryID+" "+string(it.Action)+" "+it.Rationale)
	}
	want := []string{
		"A segment the vendor has no fix and plans none: restrict the device to the flows it needs",
		"B segment no remediation published: restrict the device to the flows it needs and ask the vendor",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func ptr[T any](v T) *T { return &v }

func TestAcceptanceWildcard(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	p.Acceptances = []Acceptance{
		{AssetID: "P1", AdvisoryID: "*", Justification: "decommissioned next month", Approver: "CMIO",
			Accepted: Date{date("2026-05-01")}, Expires: Date{date("2026-07-01")}},
		{AssetID: "P1", AdvisoryID: "B", Justification: "future", Approver: "CMIO",
			Accepted: Date{date("2026-07-01")}, Expires: Date{date("2026-09-01")}},
	}
	d := &DeviceInfo{AssetID: "P1", Exposure: risk.ExposureIsolated}
	q, err := Build(&p, now, nil, []Input{
		{d, &risk.Finding{AdvisoryID: "A", Remediations: []string{"vendor_fix"}}, 60, risk.BandHigh},
		{d, &risk.Finding{AdvisoryID: "B", Remediations: []string{"vendor_fix"}}, 30, risk.BandLow},
		{&DeviceInfo{AssetID: "P2"}, &risk.Finding{AdvisoryID: "A", Remediations: []string{"vendor_fix"}}, 60, risk.BandHigh},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range q.Items {
		got = append(got, it.AssetID+" "+it.AdvisoryID+" "+string(it.Action)+" "+it.Due+" "+string(it.SLA))
	}
	want := []string{
		"P1 A accept 2026-07-01 accepted",
		"P2 A patch 2026-07-01 on_track", // same due date: higher score first
		"P1 B accept 2026-07-01 accepted",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParsePolicyErrors(t *testing.T) {
	t.Parallel()
	acc := func(extra string) string {
		return `{"acceptances": [{"asset_id": "A", "advisory_id": "X", "justification": "j", "approver": "a", "accepted": "2026-01-01", "expires": "2026-03-01"` + extra + `}]}`
	}
	tests := []struct{ name, in, want string }{
		{"empty", ``, "empty document"},
		{"syntax", "{\n\"days\": {\"high\": 3,}}", "line 2"},
		{"unknown", `{"dayz": {}}`, `unknown field "dayz"`},
		{"negative", `{"days": {"high": -1}}`, "/days/high: -1 is not in [0,3650]"},
		{"inverted", `{"days": {"critical": 60}}`, "/days/critical: 60 days is more than high's 30"},
		{"gap", `{"days": {"high": 0}}`, "/days/high: no deadline for high while medium has 90"},
		{"type", `{"due_soon_days": "7"}`, "/due_soon_days: string is not a int"},
		{"no_approver", `{"acceptances": [{"asset_id": "A", "advisory_id": "X", "justification": "j", "accepted": "2026-01-01", "expires": "2026-03-01"}]}`, "/acceptances/0/approver: missing"},
		{"no_expiry", `{"acceptances": [{"asset_id": "A", "advisory_id": "X", "justification": "j", "approver": "a", "accepted": "2026-01-01"}]}`, "/acceptances/0/expires: missing"},
		{"too_long", `{"max_acceptance_days": 30, ` + acc("")[1:], "/acceptances/0/expires: acceptance lasts longer than max_acceptance_days (30)"},
		{"bad_date", `{"acceptances": [{"accepted": "1 May 2026"}]}`, `date "1 May 2026" is not YYYY-MM-DD`},
		{"trailing", `{}x`, "data after the JSON object"},
		{"cutoff", `{"kev": {"cutoff_year": 20}}`, "/kev/cutoff_year: 20 is not a CVE year"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy(strings.NewReader(tt.in), "p.json")
			if err == nil || !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "policy p.json: ") {
				t.Errorf("ParsePolicy(%s) error = %v, want ErrInvalidPolicy containing %q", tt.in, err, tt.want)
			}
		})
	}
	if _, err := ParsePolicy(strings.NewReader(acc("")), "ok.json"); err != nil {
		t.Errorf("valid acceptance rejected: %v", err)
	}
	p, err := ParsePolicy(strings.NewReader(`{"kev": {"recent_days": 10}}`), "partial.json")
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultPolicy()
	want.KEV.RecentDays = 10
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("partial policy keeps defaults (-want +got):\n%s", diff)
	}
}

func FuzzParsePolicy(f *testing.F) {
	seed, err := os.ReadFile("testdata/policy.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"days": {"critical": 1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(strings.NewReader(string(data)), "fuzz.json")
		if err != nil {
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("error %v does not wrap ErrInvalidPolicy", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed policy does not validate: %v", err)
		}
		d := &DeviceInfo{AssetID: "A"}
		for _, b := range risk.Bands {
			if _, err := Build(&p, now, nil, []Input{{d, &risk.Finding{AdvisoryID: "X", KEV: true, KEVCVE: "CVE-2019-1"}, 50, b}}); err != nil {
				t.Fatalf("Build: %v", err)
			}
		}
	})
}
