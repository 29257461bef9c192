package api_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/medwarden/medwarden/internal/store"
)

func TestRiskDevices(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newFindingsEnv(t, open(t), true)
		tests := []struct {
			query string
			want  []string
		}{
			{"", []string{"IT-CONNEX-01", "CARD-0001", "CARD-0002", "BIO-CFG-07"}},
			{"sort=score", []string{"BIO-CFG-07", "CARD-0002", "CARD-0001", "IT-CONNEX-01"}},
			{"site=north", []string{"IT-CONNEX-01", "CARD-0001"}},
			{"department=Cardiology&min_score=60", []string{"CARD-0001"}},
			{"kev=true", []string{"IT-CONNEX-01"}},
			{"band=low", []string{"BIO-CFG-07"}},
			{"vendor=baxter&sort=asset_id", []string{"BIO-CFG-07", "IT-CONNEX-01"}},
			{"device_type=patient%20monitor", []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				r := e.get(t, "/api/v1/risk/devices?"+tt.query)
				if r.code != 200 {
					t.Fatalf("%d %s", r.code, r.raw)
				}
				if got := assets(t, r, "devices"); !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
				if r.body["feeds"] == nil {
					t.Errorf("no feed report")
				}
			})
		}
		for _, q := range []string{"min_score=101", "sort=-risk", "band=x", "limit=abc", "site=a&site=b"} {
			if r := e.get(t, "/api/v1/risk/devices?"+q); r.code != 400 {
				t.Errorf("%s: %d, want 400", q, r.code)
			}
		}
	})
}

func TestRiskDevice(t *testing.T) {
	e := newFindingsEnv(t, sqliteStore(t), true)
	r := e.get(t, fmt.Sprintf("/api/v1/risk/devices/%d", e.dev["IT-CONNEX-01"]))
	if r.code != 200 {
		t.Fatalf("%d %s", r.code, r.raw)
	}
	if r.body["score"] != 91.0 || r.body["band"] != "critical" || r.body["device"].(map[string]any)["model"] != "Baxter Connex Health Portal" {
		t.Errorf("device risk: %s", r.raw)
	}
	if fs := r.body["active_findings"].([]any); len(fs) != 1 || fs[0].(map[string]any)["advisory_id"] != "ICSMA-24-249-01" {
		t.Errorf("active findings: %v", fs)
	}
	if fs, _ := r.body["factors"].([]any); len(fs) != 2 {
		t.Errorf("factors: %v", r.body["factors"])
	}
	// a device without findings: score 0, band info, no findings
	r = e.get(t, fmt.Sprintf("/api/v1/risk/devices/%d", e.dev["MON-0100"]))
	if r.code != 200 || r.body["score"] != 0.0 || r.body["band"] != "info" || len(r.body["active_findings"].([]any)) != 0 {
		t.Errorf("unaffected device: %d %s", r.code, r.raw)
	}
	if r := e.get(t, "/api/v1/risk/devices/424242"); r.code != 404 {
		t.Errorf("unknown device: %d", r.code)
	}
	if r := e.get(t, "/api/v1/risk/devices/x1"); r.code != 400 {
		t.Errorf("bad id: %d", r.code)
	}
}

func TestRiskRegisterAndTrend(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newFindingsEnv(t, open(t), true)
		r := e.get(t, "/api/v1/risk/register")
		if r.code != 200 {
			t.Fatalf("%d %s", r.code, r.raw)
		}
		total := r.body["total"].(map[string]any)
		if total["devices"] != 5.0 || total["affected"] != 4.0 || total["max_score"] != 91.0 || total["kev_devices"] != 1.0 {
			t.Errorf("total %v", total)
		}
		sites := r.body["by_site"].([]any)
		if len(sites) != 2 || sites[0].(map[string]any)["key"] != "North" || sites[0].(map[string]any)["devices"] != 3.0 {
			t.Errorf("by_site %v", sites)
		}
		if len(r.body["by_vendor"].([]any)) != 3 || r.body["summary"] != nil || r.body["feeds"] == nil {
			t.Errorf("register %s", r.raw)
		}
		r = e.get(t, "/api/v1/risk/register?summary=true")
		if sum, _ := r.body["summary"].(map[string]any); r.code != 200 || sum["kev_devices"] != 1.0 || sum["devices_at_risk"] != 4.0 {
			t.Errorf("register summary: %d %v", r.code, r.body["summary"])
		}
		if r := e.get(t, "/api/v1/risk/register?summary=maybe"); r.code != 400 || problemField(r) != "summary" {
			t.Errorf("summary=maybe: %d %s", r.code, r.raw)
		}

		r = e.get(t, "/api/v1/risk/trend")
		days, _ := r.body["days"].([]any)
		if r.code != 200 || len(days) != 3 {
			t.Fatalf("trend: %d %s", r.code, r.raw)
		}
		var affected []float64
		for _, d := range days {
			affected = append(affected, d.(map[string]any)["total"].(map[string]any)["affected"].(float64))
		}
		if !slices.Equal(affected, []float64{2, 3, 4}) {
			t.Errorf("affected per day %v, want [2 3 4]", affected)
		}
		r = e.get(t, "/api/v1/risk/trend?group=site&from="+day(e.today, -1)+"&to="+day(e.today, 0))
		days, _ = r.body["days"].([]any)
		if r.code != 200 || len(days) != 2 || len(days[0].(map[string]any)["groups"].([]any)) != 2 {
			t.Errorf("trend from/to/group: %d %s", r.code, r.raw)
		}
		for _, q := range []string{"from=yesterday", "from=" + day(e.today, 0) + "&to=" + day(e.today, -3), "group=ward"} {
			if r := e.get(t, "/api/v1/risk/trend?"+q); r.code != 400 {
				t.Errorf("%s: %d, want 400", q, r.code)
			}
		}
	})
}
