package api_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/api"
	"github.com/medwarden/medwarden/internal/audit/recorder"
	"github.com/medwarden/medwarden/internal/feeds"
	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

const sbomsTestdata = "../sboms/testdata"

func TestSBOMsAPI(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	im, err := feeds.NewImporter(st, feeds.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Import(context.Background(), filepath.Join(sbomsTestdata, "nvd"), feeds.KindNVD); err != nil {
		t.Fatal(err)
	}
	rec, err := recorder.Wrap(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := storetest.Sample(1)
	d.Vendor, d.Model, d.Version = "Baxter", "Sigma Spectrum", "8.0"
	if err := st.CreateDevice(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api.New(api.Deps{Store: rec}))
	t.Cleanup(ts.Close)
	bearer.Store(ts.URL, newToken(t, rec, "ce", "clinical-engineer", "devices:read,devices:write"))
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(sbomsTestdata, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	base := ts.URL + "/api/v1/sboms?vendor=Baxter&model=Sigma+Spectrum&firmware_version=8.0"
	r := do(t, "POST", base+"&note=portal", read("pump-v1.cdx.json"))
	if r.code != 201 || r.hdr.Get("Location") != "/api/v1/sboms/1" {
		t.Fatalf("attach v1: %d %s", r.code, r.raw)
	}
	v := r.body["sbom"].(map[string]any)
	if v["version"] != 1.0 || v["open_vulnerabilities"] != 3.0 || v["attached_by"] != "ce/token:1" {
		t.Errorf("v1 = %v (3 open: firmware and dcmtk by CPE, ThreadX by name; no OSV data in the store)", v)
	}
	if r := do(t, "POST", base, read("pump-v1.cdx.json")); r.code != 200 || r.body["existing"] != true {
		t.Errorf("re-attach: %d %s", r.code, r.raw)
	}
	if r := do(t, "POST", base, read("pump-v2.cdx.json")); r.code != 201 {
		t.Fatalf("attach v2: %d %s", r.code, r.raw)
	}
	if r := do(t, "POST", fmt.Sprintf("%s/api/v1/sboms?device_id=%d", ts.URL, d.ID), read("pump-v2.cdx.json")); r.code != 201 {
		t.Fatalf("attach to the device: %d %s", r.code, r.raw)
	}
	r = do(t, "GET", ts.URL+"/api/v1/sboms?latest=true&limit=1", "")
	if r.code != 200 || len(r.body["sboms"].([]any)) != 1 || r.body["next"] == nil || !strings.Contains(r.hdr.Get("Link"), "rel=\"next\"") {
		t.Errorf("list page: %d %s", r.code, r.raw)
	}
	r = do(t, "GET", ts.URL+"/api/v1/sboms/1", "")
	comps, _ := r.body["components"].([]any)
	if r.code != 200 || len(comps) != 7 {
		t.Fatalf("get: %d %s", r.code, r.raw)
	}
	r = do(t, "GET", ts.URL+"/api/v1/sboms/2/diff?from=1", "")
	if r.code != 200 || len(r.body["added"].([]any)) != 1 || len(r.body["changed"].([]any)) != 2 {
		t.Errorf("diff: %d %s", r.code, r.raw)
	}
	r = do(t, "GET", ts.URL+"/api/v1/sboms/2/export", "")
	if r.code != 200 || !strings.HasPrefix(r.hdr.Get("Content-Type"), "application/vnd.cyclonedx+json") {
		t.Fatalf("export: %d %s", r.code, r.raw)
	}
	doc, err := sbom.ParseBytes([]byte(r.raw), "export", sbom.Options{})
	if err != nil || !doc.Valid() || len(doc.VEX) == 0 {
		t.Errorf("export is not valid CycloneDX with VEX: %v", err)
	}
	r = do(t, "GET", ts.URL+"/api/v1/components?name=dcmtk&vulnerable=true", "")
	if r.code != 200 || len(r.body["components"].([]any)) != 1 { // v1's dcmtk; v2's is suppressed by VEX
		t.Errorf("components: %d %s", r.code, r.raw)
	}
	r = do(t, "GET", fmt.Sprintf("%s/api/v1/devices/%d/sboms", ts.URL, d.ID), "")
	if r.code != 200 || len(r.body["sboms"].([]any)) != 2 {
		t.Errorf("device sboms (its own and its model's): %d %s", r.code, r.raw)
	}
	// Audited.
	if r := do(t, "GET", ts.URL+"/api/v1/audit", ""); r.code == 200 && !strings.Contains(r.raw, "sbom.attach") {
		t.Errorf("audit log lacks sbom.attach: %s", r.raw)
	}
	for _, tc := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"POST", "/api/v1/sboms?vendor=Baxter", "{}", 400, "firmware_version"},
		{"POST", "/api/v1/sboms?device_id=1&vendor=B", "{}", 400, "either device_id"},
		{"POST", "/api/v1/sboms?device_id=999", read("pump-v1.cdx.json"), 404, "device 999"},
		{"POST", "/api/v1/sboms?vendor=B&model=M&firmware_version=1", "not an sbom", 422, "unknown sbom format"},
		{"POST", "/api/v1/sboms?vendor=B&model=M&firmware_version=1", `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"x"}]}`, 422, "/components/0"},
		{"POST", "/api/v1/sboms?vendor=B&model=M&firmware_version=1", `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[`, 422, "request body"},
		{"GET", "/api/v1/sboms/99", "", 404, "sbom 99"},
		{"GET", "/api/v1/sboms/x", "", 400, "positive whole number"},
		{"GET", "/api/v1/sboms/2/diff", "", 400, "from"},
		{"GET", "/api/v1/sboms/2/export?format=spdx", "", 400, "cyclonedx or original"},
		{"GET", "/api/v1/sboms?bogus=1", "", 400, "unknown query parameter"},
		{"GET", "/api/v1/sboms?cursor=zz", "", 400, "cursor"},
		{"GET", "/api/v1/components?limit=0", "", 400, "limit"},
	} {
		r := do(t, tc.method, ts.URL+tc.path, tc.body)
		if r.code != tc.code || !strings.Contains(r.raw, tc.want) {
			t.Errorf("%s %s: %d %s, want %d mentioning %q", tc.method, tc.path, r.code, r.raw, tc.code, tc.want)
		}
	}
}
