package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

func newServer(t *testing.T, maxImport int64) (*api.Server, *httptest.Server) {
	t.Helper()
	return newServerDeps(t, api.Deps{MaxImportBytes: maxImport})
}

// newServerDeps is newServer with d (its Store is set to the fresh one).
func newServerDeps(t *testing.T, d api.Deps) (*api.Server, *httptest.Server) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rec, err := recorder.Wrap(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Store = rec
	s := api.New(d)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	bearer.Store(ts.URL, newToken(t, rec, "admin", "admin", "*"))
	return s, ts
}

type resp struct {
	code int
	hdr  http.Header
	body map[string]any
	raw  string
}

func do(t *testing.T, method, url, body string, hdr ...string) resp {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	setBearer(req)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := resp{code: res.StatusCode, hdr: res.Header, raw: string(b)}
	json.Unmarshal(b, &r.body) //nolint:errcheck // some bodies are not objects
	return r
}

// TestOpenAPICoversEveryRoute fails when a route is registered but missing
// from openapi.json, or documented but not served.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	s, ts := newServer(t, 0)
	r := do(t, "GET", ts.URL+"/api/v1/openapi.json", "")
	if r.code != 200 {
		t.Fatalf("openapi.json: %d", r.code)
	}
	if r.body["openapi"] != "3.1.0" {
		t.Errorf("openapi version = %v, want 3.1.0", r.body["openapi"])
	}
	paths, _ := r.body["paths"].(map[string]any)
	served := map[string]bool{}
	for _, rt := range s.Routes() {
		key := strings.ToLower(rt.Method) + " " + rt.Path
		served[key] = true
		item, ok := paths[rt.Path].(map[string]any)
		if !ok {
			t.Errorf("route %s %s is not in openapi.json", rt.Method, rt.Path)
			continue
		}
		if _, ok := item[strings.ToLower(rt.Method)]; !ok {
			t.Errorf("route %s %s: method missing in openapi.json", rt.Method, rt.Path)
		}
	}
	for p, item := range paths {
		for m := range item.(map[string]any) {
			if m == "parameters" {
				continue
			}
			if !served[m+" "+p] {
				t.Errorf("openapi.json documents %s %s, which is not served", strings.ToUpper(m), p)
			}
		}
	}
}

func TestDeviceLifecycle(t *testing.T) {
	_, ts := newServer(t, 0)
	dev := `{"asset_id":"BIO-7","vendor":"Baxter","model":"Sigma Spectrum","version":"8.00.01","macs":["00-1A-2B-3C-4D-5E"],"ips":["10.1.2.3"],"criticality":"Life Supporting","site":"North"}`
	r := do(t, "POST", ts.URL+"/api/v1/devices", dev, "Content-Type", "application/json")
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.raw)
	}
	loc, etag := r.hdr.Get("Location"), r.hdr.Get("ETag")
	if etag != `"1"` || loc == "" {
		t.Fatalf("create: ETag %q Location %q", etag, loc)
	}
	if got := r.body["macs"].([]any)[0]; got != "00:1a:2b:3c:4d:5e" {
		t.Errorf("MAC not normalised: %v", got)
	}
	if got := r.body["criticality"]; got != "life-supporting" {
		t.Errorf("criticality = %v", got)
	}
	if prov := r.body["provenance"].(map[string]any)["version"].(map[string]any); prov["kind"] != "edited" {
		t.Errorf("provenance of version = %v, want kind edited", prov)
	}

	upd := strings.Replace(dev, "8.00.01", "8.01.00", 1)
	if r := do(t, "PUT", ts.URL+loc, upd, "Content-Type", "application/json"); r.code != 428 {
		t.Errorf("PUT without If-Match: %d, want 428", r.code)
	}
	if r := do(t, "PUT", ts.URL+loc, upd, "If-Match", `"1"`); r.code != 200 || r.hdr.Get("ETag") != `"2"` {
		t.Fatalf("PUT: %d ETag %q %s", r.code, r.hdr.Get("ETag"), r.raw)
	}
	if r := do(t, "PUT", ts.URL+loc, upd, "If-Match", `"1"`); r.code != 412 {
		t.Errorf("stale PUT: %d, want 412", r.code)
	}
	if r := do(t, "GET", ts.URL+loc, ""); r.body["version"] != "8.01.00" {
		t.Errorf("after PUT version = %v", r.body["version"])
	}
	if r := do(t, "POST", ts.URL+"/api/v1/devices", dev); r.code != 409 {
		t.Errorf("duplicate asset id: %d, want 409", r.code)
	}
	if r := do(t, "DELETE", ts.URL+loc, "", "If-Match", `"1"`); r.code != 412 {
		t.Errorf("stale DELETE: %d, want 412", r.code)
	}
	if r := do(t, "DELETE", ts.URL+loc, "", "If-Match", `"2"`); r.code != 204 {
		t.Errorf("DELETE: %d", r.code)
	}
	if r := do(t, "GET", ts.URL+loc, ""); r.code != 404 || r.hdr.Get("Content-Type") != "application/problem+json" {
		t.Errorf("GET deleted: %d %s", r.code, r.hdr.Get("Content-Type"))
	}
}

func TestProblemsNameTheField(t *testing.T) {
	_, ts := newServer(t, 0)
	tests := []struct {
		name, method, path, body string
		code                     int
		column                   string
	}{
		{"bad_mac", "POST", "/api/v1/devices", `{"asset_id":"X","macs":["00:11:22:33:44:zz"]}`, 400, "macs"},
		{"bad_criticality", "POST", "/api/v1/devices", `{"asset_id":"X","criticality":"very"}`, 400, "criticality"},
		{"bad_date", "POST", "/api/v1/devices", `{"asset_id":"X","end_of_support":"31/12/2026"}`, 400, "end_of_support"},
		{"not_json", "POST", "/api/v1/devices", `asset_id=X`, 400, ""},
		{"bad_filter", "GET", "/api/v1/devices?colour=red", "", 400, "colour"},
		{"bad_sort", "GET", "/api/v1/devices?sort=provenance", "", 400, "sort"},
		{"bad_limit", "GET", "/api/v1/devices?limit=0", "", 400, "limit"},
		{"bad_id", "GET", "/api/v1/devices/abc", "", 400, "id"},
		{"unknown_route", "GET", "/api/v1/nothing", "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, ts.URL+tt.path, tt.body)
			if r.code != tt.code {
				t.Fatalf("%s %s: %d, want %d (%s)", tt.method, tt.path, r.code, tt.code, r.raw)
			}
			if ct := r.hdr.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if tt.column == "" {
				return
			}
			errs, _ := r.body["errors"].([]any)
			if len(errs) == 0 {
				t.Fatalf("no field errors in %s", r.raw)
			}
			if col := errs[0].(map[string]any)["column"]; !strings.HasPrefix(fmt.Sprint(col), tt.column) {
				t.Errorf("error column = %v, want %s", col, tt.column)
			}
		})
	}
}

const header = "asset_id,vendor,model,version,serial,mac,ip,hostname,site,location,department,device_type,criticality,patient_connected,phi,os,end_of_support\n"

func csvRows(n int) string {
	var b strings.Builder
	b.WriteString(header)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "BIO-%04d,Baxter,Sigma Spectrum,8.00.01,SN%04d,00:1a:2b:3c:%02x:%02x,10.0.%d.%d,pump-%d,%s,ICU,ICU,infusion pump,life-supporting,yes,no,VxWorks,2027-01-31\n",
			i, i, i/256, i%256, i/256, i%256, i, []string{"North", "South"}[i%2])
	}
	return b.String()
}

func TestImportAndList(t *testing.T) {
	_, ts := newServer(t, 0)
	r := do(t, "POST", ts.URL+"/api/v1/imports?name=cmms.csv", csvRows(120), "Content-Type", "text/csv")
	if r.code != 200 || r.body["created"] != float64(120) {
		t.Fatalf("import: %d %s", r.code, r.raw)
	}
	// idempotent
	r = do(t, "POST", ts.URL+"/api/v1/imports?name=cmms.csv", csvRows(120))
	if r.body["created"] != float64(0) || r.body["unchanged"] != float64(120) {
		t.Errorf("re-import: %s", r.raw)
	}
	// walk all pages of a filtered, sorted list by following Link headers
	next := "/api/v1/devices?site=north&sort=-asset_id&limit=25"
	var got []string
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		r := do(t, "GET", ts.URL+next, "")
		if r.code != 200 {
			t.Fatalf("list: %d %s", r.code, r.raw)
		}
		for _, d := range r.body["devices"].([]any) {
			got = append(got, d.(map[string]any)["asset_id"].(string))
		}
		next = ""
		if l := r.hdr.Get("Link"); l != "" {
			next = l[1:strings.Index(l, ">")]
		}
	}
	var want []string
	for i := 118; i >= 0; i -= 2 {
		want = append(want, fmt.Sprintf("BIO-%04d", i))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("north devices, descending (-want +got):\n%s", diff)
	}
	if r := do(t, "GET", ts.URL+"/api/v1/devices?mac=00-1A-2B-3C-00-05", ""); len(r.body["devices"].([]any)) != 1 {
		t.Errorf("mac filter: %s", r.raw)
	}
}

func TestImportRejectsBadFileAndWritesNothing(t *testing.T) {
	_, ts := newServer(t, 0)
	bad := header +
		"BIO-1,Baxter,Sigma Spectrum,8.00.01,SN1,00:1a:2b:3c:00:01,10.0.0.1,p1,North,,ICU,infusion pump,life-supporting,yes,no,VxWorks,2027-01-31\n" +
		"BIO-2,Baxter,Sigma Spectrum,8.00.01,SN2,00:1a:2b:3c:00:02,10.0.0.999,p2,North,,ICU,infusion pump,life-supporting,yes,no,VxWorks,2027-01-31\n" +
		"BIO-3,Baxter,Sigma Spectrum,8.00.01,SN3,00:1a:2b:3c:00:03,10.0.0.3,p3,North,,ICU,infusion pump,mostly,yes,no,VxWorks,2027-01-31\n"
	r := do(t, "POST", ts.URL+"/api/v1/imports?name=bad.csv", bad)
	if r.code != 422 {
		t.Fatalf("bad import: %d %s", r.code, r.raw)
	}
	errs := r.body["errors"].([]any)
	if len(errs) != 2 {
		t.Fatalf("errors = %v, want 2", errs)
	}
	first := errs[0].(map[string]any)
	if first["file"] != "bad.csv" || first["line"] != float64(3) || first["column"] != "ip" {
		t.Errorf("first error = %v, want bad.csv line 3 column ip", first)
	}
	if r := do(t, "GET", ts.URL+"/api/v1/devices", ""); len(r.body["devices"].([]any)) != 0 {
		t.Errorf("rejected import wrote %d devices", len(r.body["devices"].([]any)))
	}
	r = do(t, "POST", ts.URL+"/api/v1/imports?name=bad.csv&skip_invalid=true", bad)
	if r.code != 200 || r.body["created"] != float64(1) || r.body["invalid"] != float64(2) {
		t.Errorf("skip_invalid: %d %s", r.code, r.raw)
	}
}

func TestImportTooLargeWritesNothing(t *testing.T) {
	_, ts := newServer(t, 4096)
	r := do(t, "POST", ts.URL+"/api/v1/imports?name=big.csv", csvRows(200))
	if r.code != 413 {
		t.Fatalf("oversized upload: %d %s", r.code, r.raw)
	}
	if r := do(t, "GET", ts.URL+"/api/v1/devices", ""); len(r.body["devices"].([]any)) != 0 {
		t.Errorf("oversized import wrote devices")
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	_, ts := newServer(t, 0)
	if r := do(t, "GET", ts.URL+"/healthz", ""); r.code != 200 {
		t.Errorf("healthz: %d", r.code)
	}
	if r := do(t, "GET", ts.URL+"/readyz", ""); r.code != 200 || r.body["store"] != "sqlite" {
		t.Errorf("readyz: %d %s", r.code, r.raw)
	}
	do(t, "GET", ts.URL+"/api/v1/devices", "")
	r := do(t, "GET", ts.URL+"/metrics", "")
	for _, want := range []string{`medwarden_http_requests_total{code="200",method="GET",route="/api/v1/devices"} 1`, "medwarden_devices 0"} {
		if !strings.Contains(r.raw, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
