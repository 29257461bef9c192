package api_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/medwarden/medwarden/internal/store"
)

func TestRemediationQueue(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		e := newFindingsEnv(t, open(t), true)
		r := e.get(t, "/api/v1/remediations")
		if r.code != 200 {
			t.Fatalf("%d %s", r.code, r.raw)
		}
		if got, want := assets(t, r, "items"), []string{"CARD-0001", "CARD-0002", "IT-CONNEX-01", "BIO-CFG-07"}; !slices.Equal(got, want) {
			t.Errorf("queue order %v, want %v (overdue first)", got, want)
		}
		var slas []string
		for _, it := range r.body["items"].([]any) {
			slas = append(slas, it.(map[string]any)["sla"].(string))
		}
		if want := []string{"overdue", "due_soon", "on_track", "on_track"}; !slices.Equal(slas, want) {
			t.Errorf("SLA %v, want %v", slas, want)
		}
		first := r.body["items"].([]any)[0].(map[string]any)
		if first["days_left"] != -5.0 || first["action"] != "patch" || first["due_rule"] == "" {
			t.Errorf("first item %v", first)
		}
		filters := []struct {
			query string
			want  []string
		}{
			{"sla=overdue", []string{"CARD-0001"}},
			{"sla=on_track", []string{"IT-CONNEX-01", "BIO-CFG-07"}},
			{"action=configure", []string{"IT-CONNEX-01"}},
			{"site=South", []string{"CARD-0002", "BIO-CFG-07"}},
			{"asset_id=BIO-CFG-07", []string{"BIO-CFG-07"}},
			{"kev=true", []string{"IT-CONNEX-01"}},
			{"sla=due_soon&limit=1", []string{"CARD-0002"}},
		}
		for _, tt := range filters {
			t.Run(tt.query, func(t *testing.T) {
				r := e.get(t, "/api/v1/remediations?"+tt.query)
				if r.code != 200 {
					t.Fatalf("%d %s", r.code, r.raw)
				}
				if got := assets(t, r, "items"); !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		}
		// small pages with a post-store filter still visit every item
		var got []string
		path := "/api/v1/remediations?limit=1&sla=on_track"
		for range 10 {
			r := e.get(t, path)
			got = append(got, assets(t, r, "items")...)
			next, _ := r.body["next"].(string)
			if next == "" {
				break
			}
			path = "/api/v1/remediations?limit=1&sla=on_track&cursor=" + next
		}
		if want := []string{"IT-CONNEX-01", "BIO-CFG-07"}; !slices.Equal(got, want) {
			t.Errorf("paged on_track %v, want %v", got, want)
		}

		// an accepted risk shows as accepted until the acceptance expires;
		// a false positive leaves the queue
		id := e.finding["CARD-0001 ICSMA-17-009-01A"]
		if r := do(t, "PATCH", fmt.Sprintf("%s/api/v1/findings/%d", e.ts.URL, id),
			`{"state":"accepted","acceptance":{"justification":"isolated VLAN","approver":"CISO","expires":"`+day(e.today, 30)+`"}}`, "If-Match", `"f1"`); r.code != 200 {
			t.Fatalf("accept: %d %s", r.code, r.raw)
		}
		id2 := e.finding["CARD-0002 ICSMA-17-009-01A"]
		if r := do(t, "PATCH", fmt.Sprintf("%s/api/v1/findings/%d", e.ts.URL, id2), `{"state":"false_positive","note":"EX1100 is not networked here"}`, "If-Match", `"f1"`); r.code != 200 {
			t.Fatalf("false positive: %d %s", r.code, r.raw)
		}
		r = e.get(t, "/api/v1/remediations")
		if got, want := assets(t, r, "items"), []string{"IT-CONNEX-01", "BIO-CFG-07", "CARD-0001"}; !slices.Equal(got, want) {
			t.Errorf("queue after accept %v, want %v", got, want)
		}
		last := r.body["items"].([]any)[2].(map[string]any)
		if last["sla"] != "accepted" || last["action"] != "accept" || last["due"] != day(e.today, 30) || last["acceptance"].(map[string]any)["approver"] != "CISO" {
			t.Errorf("accepted item %v", last)
		}
		// device-level replacement plans
		r = e.get(t, "/api/v1/remediations?action=replace")
		if got := assets(t, r, "items"); !slices.Equal(got, []string{"CARD-0002"}) {
			t.Fatalf("replace items %v: %s", got, r.raw)
		}
		rep := r.body["items"].([]any)[0].(map[string]any)
		if rep["sla"] != "overdue" || rep["days_left"] != -2.0 || rep["replacement"].(map[string]any)["model"] != "Inductive models EX1100" || rep["finding_id"] != nil {
			t.Errorf("replace item %v", rep)
		}
		for q, want := range map[string][]string{"action=replace&site=North": {}, "action=replace&sla=on_track": {}, "action=replace&asset_id=card-0002": {"CARD-0002"}} {
			if r := e.get(t, "/api/v1/remediations?"+q); r.code != 200 || !slices.Equal(assets(t, r, "items"), want) {
				t.Errorf("%s: %d %s", q, r.code, r.raw)
			}
		}
		for _, q := range []string{"sla=late", "action=pray", "state=open", "action=replace&owner=x", "action=replace&due_before=2026-01-01"} {
			if r := e.get(t, "/api/v1/remediations?"+q); r.code != 400 {
				t.Errorf("%s: %d, want 400", q, r.code)
			}
		}
	})
}
