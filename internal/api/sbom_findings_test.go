package api_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// TestFindingsSourceSBOM: a finding from an SBOM component is listed by
// source=sbom (not source=advisory) and returned with its evidence.
func TestFindingsSourceSBOM(t *testing.T) {
	e := newFindingsEnv(t, sqliteStore(t), true)
	dev := e.dev["MON-0100"]
	f := storetest.SampleFinding(dev, "CVE-2024-0727", 58)
	f.AssetID, f.Source, f.Method, f.CVEs = "MON-0100", store.SourceSBOM, "sbom-cpe", []string{"CVE-2024-0727"}
	f.Evidence = json.RawMessage(`[{"sbom_id":3,"sbom_version":1,"subject":"model","component":"openssl","version":"1.1.1k","cpe":"cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*","vulnerability":"CVE-2024-0727","source":"nvd","method":"cpe","confidence":"high","status":"affected"}]`)
	if _, err := e.st.ReplaceFindings(t.Context(), store.FindingScope{DeviceIDs: []int64{dev}}, []*store.Finding{f}, nil); err != nil {
		t.Fatal(err)
	}
	if got := assets(t, e.get(t, "/api/v1/findings?source=sbom"), "findings"); !slices.Equal(got, []string{"MON-0100"}) {
		t.Errorf("source=sbom: %v", got)
	}
	if got := assets(t, e.get(t, "/api/v1/findings?source=advisory"), "findings"); slices.Contains(got, "MON-0100") || len(got) != 4 {
		t.Errorf("source=advisory: %v", got)
	}
	if got := assets(t, e.get(t, "/api/v1/findings?cve=CVE-2024-0727"), "findings"); !slices.Equal(got, []string{"MON-0100"}) {
		t.Errorf("cve of an SBOM finding: %v", got)
	}
	r := e.get(t, fmt.Sprintf("/api/v1/findings/%d", f.ID))
	if r.code != 200 {
		t.Fatalf("GET finding: %d %s", r.code, r.raw)
	}
	fb, _ := r.body["finding"].(map[string]any)
	if fb == nil {
		fb = r.body
	}
	ev, _ := fb["evidence"].([]any)
	if fb["source"] != "sbom" || len(ev) != 1 || ev[0].(map[string]any)["component"] != "openssl" {
		t.Errorf("finding JSON: source %v evidence %v", fb["source"], fb["evidence"])
	}
}
