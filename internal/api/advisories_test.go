package api_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/feeds"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

const feedsTestdata = "../feeds/testdata"

// newFeedServer serves a store holding the feeds test data (3 CISA
// advisories, KEV; no EPSS), as a viewer.
func newFeedServer(t *testing.T, withData bool) *httptest.Server {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if withData {
		im, err := feeds.NewImporter(st, feeds.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"csaf", "kev_subset.json"} {
			if _, err := im.Import(context.Background(), filepath.Join(feedsTestdata, p), feeds.KindAuto); err != nil {
				t.Fatal(err)
			}
		}
	}
	ts := httptest.NewServer(api.New(api.Deps{Store: st}))
	t.Cleanup(ts.Close)
	bearer.Store(ts.URL, newToken(t, st, "viewer", auth.Viewer, "advisories:read,feeds:read"))
	return ts
}

func ids(v any) []string {
	out := []string{}
	for _, a := range v.([]any) {
		out = append(out, a.(map[string]any)["id"].(string))
	}
	return out
}

func TestAdvisoriesAPI(t *testing.T) {
	ts := newFeedServer(t, true)
	tests := []struct {
		name     string
		query    string
		wantCode int
		wantIDs  []string
	}{
		{"all", "", 200, []string{"ICSMA-17-009-01A", "ICSMA-24-151-01", "ICSMA-24-249-01"}},
		{"by_cve_lowercase", "?cve=cve-2024-5176", 200, []string{"ICSMA-24-151-01"}},
		{"by_publisher", "?publisher=cisa", 200, []string{"ICSMA-17-009-01A", "ICSMA-24-151-01", "ICSMA-24-249-01"}},
		{"by_text", "?q=24-249", 200, []string{"ICSMA-24-249-01"}},
		{"unknown_publisher", "?publisher=nobody", 200, []string{}},
		{"bad_cve", "?cve=2024-5176", 400, nil},
		{"bad_limit", "?limit=0", 400, nil},
		{"unknown_param", "?vendor=x", 400, nil},
		{"bad_cursor", "?cursor=%21%21", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, "GET", ts.URL+"/api/v1/advisories"+tt.query, "")
			if r.code != tt.wantCode {
				t.Fatalf("GET %s: %d %s", tt.query, r.code, r.raw)
			}
			if tt.wantCode != 200 {
				return
			}
			if diff := cmp.Diff(tt.wantIDs, ids(r.body["advisories"])); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			// EPSS was never imported: every answer says so.
			warns := r.body["feeds"].(map[string]any)["warnings"].([]any)
			if len(warns) == 0 || r.hdr.Get("Warning") == "" {
				t.Errorf("no feed warning in %v / header %q", warns, r.hdr.Get("Warning"))
			}
		})
	}
	// Cursor pagination walks every advisory once.
	var got []string
	next := "/api/v1/advisories?limit=2"
	for range 5 {
		r := do(t, "GET", ts.URL+next, "")
		if r.code != 200 {
			t.Fatalf("page: %d %s", r.code, r.raw)
		}
		got = append(got, ids(r.body["advisories"])...)
		c, ok := r.body["next"].(string)
		if !ok {
			break
		}
		next = "/api/v1/advisories?limit=2&cursor=" + c
	}
	if diff := cmp.Diff([]string{"ICSMA-17-009-01A", "ICSMA-24-151-01", "ICSMA-24-249-01"}, got); diff != "" {
		t.Errorf("paged ids (-want +got):\n%s", diff)
	}

	r := do(t, "GET", ts.URL+"/api/v1/advisories/ICSMA-24-151-01", "")
	if r.code != 200 || r.body["id"] != "ICSMA-24-151-01" || r.body["publisher"].(map[string]any)["name"] == "" {
		t.Errorf("GET advisory: %d %.300s", r.code, r.raw)
	}
	if vulns, _ := r.body["vulnerabilities"].([]any); len(vulns) == 0 {
		t.Errorf("advisory without vulnerabilities: %.300s", r.raw)
	}
	if r := do(t, "GET", ts.URL+"/api/v1/advisories/NOPE-1", ""); r.code != 404 {
		t.Errorf("GET missing advisory: %d", r.code)
	}
}

func TestFeedsAPI(t *testing.T) {
	tests := []struct {
		name       string
		data       bool
		query      string
		wantCode   int
		wantStates map[string]string
	}{
		{"empty_store_all_missing", false, "", 200, map[string]string{"csaf": "missing", "kev": "missing", "epss": "missing"}},
		{"old_data_is_stale_epss_missing", true, "", 200, map[string]string{"kev": "stale", "epss": "missing"}},
		{"generous_age", true, "?max_feed_age=100000d", 200, map[string]string{"kev": "ok", "epss": "missing"}},
		{"bad_age", true, "?max_feed_age=soon", 400, nil},
		{"unknown_param", true, "?x=1", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newFeedServer(t, tt.data)
			r := do(t, "GET", ts.URL+"/api/v1/feeds"+tt.query, "")
			if r.code != tt.wantCode {
				t.Fatalf("%d %s", r.code, r.raw)
			}
			if tt.wantCode != 200 {
				return
			}
			got := map[string]string{}
			for _, f := range r.body["feeds"].([]any) {
				m := f.(map[string]any)
				if _, ok := tt.wantStates[m["name"].(string)]; ok {
					got[m["name"].(string)] = m["state"].(string)
				}
			}
			if diff := cmp.Diff(tt.wantStates, got); diff != "" {
				t.Errorf("states (-want +got):\n%s", diff)
			}
			if len(r.body["warnings"].([]any)) == 0 || r.hdr.Get("Warning") == "" {
				t.Errorf("missing EPSS not warned: %s", r.raw)
			}
		})
	}
}
