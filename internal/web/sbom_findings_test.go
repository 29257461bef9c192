package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// TestFindingPageSBOMEvidence: a finding from an SBOM component shows the
// component table (escaped), a VEX-suppressed one says so.
func TestFindingPageSBOMEvidence(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	ctx := context.Background()
	var fs []*store.Finding
	for i, sup := range []bool{false, true} {
		d, err := e.st.GetDevice(ctx, int64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		f := storetest.SampleFinding(d.ID, "CVE-2024-0727", 55)
		f.AssetID, f.Source, f.Suppressed, f.Method = d.AssetID, store.SourceSBOM, sup, "sbom-cpe"
		f.AdvisoryTitle = "CVE-2024-0727 in openssl 1.1.1k: PKCS12 NULL dereference"
		status := "affected"
		if sup {
			status = "not_affected"
		}
		ev, _ := json.Marshal([]map[string]any{{"sbom_id": 7, "sbom_version": 2, "subject": "model", "component": "openssl" + xss, "version": "1.1.1k",
			"cpe": "cpe:2.3:a:openssl:openssl:1.1.1k:*:*:*:*:*:*:*", "vulnerability": "CVE-2024-0727", "source": "nvd", "method": "cpe",
			"confidence": "high", "status": status, "justification": "code_not_present", "suppressed": sup, "fixed": "1.1.1w", "no_fix": false}})
		if sup { // the record publishes no fix for this version
			ev, _ = json.Marshal([]map[string]any{{"sbom_id": 7, "sbom_version": 2, "subject": "model", "component": "openssl", "version": "1.1.1k",
				"vulnerability": "CVE-2024-0727", "source": "osv", "method": "purl", "confidence": "high", "status": status,
				"justification": "code_not_present", "suppressed": sup, "no_fix": true}})
		} else {
			f.Remediations = json.RawMessage(`[{"category":"vendor_fix","details":"upgrade openssl from 1.1.1k to 1.1.1w (nvd CVE-2024-0727)"}]`)
		}
		f.Evidence = ev
		fs = append(fs, f)
	}
	if _, err := e.st.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, nil); err != nil {
		t.Fatal(err)
	}
	c := e.signedIn(auth.Viewer)
	res := c.get(fmt.Sprintf("/findings/%d", fs[0].ID))
	if res.Code != http.StatusOK {
		t.Fatalf("GET finding = %d", res.Code)
	}
	mustContain(t, "SBOM finding page", res.Body, "SBOM components behind this finding", "SBOM 7</a> v2 (model and firmware)",
		"cpe:2.3:a:openssl:openssl:1.1.1k", "cpe against nvd, high confidence", "SBOM component", "&lt;script&gt;alert",
		"Fixed in</th>", "<td>1.1.1w</td>", "upgrade openssl from 1.1.1k to 1.1.1w (nvd CVE-2024-0727)")
	if strings.Contains(res.Body, "<script>alert") || strings.Contains(res.Body, "not affected</span>") {
		t.Error("component name not escaped, or an open finding shown as suppressed")
	}
	res = c.get(fmt.Sprintf("/findings/%d", fs[1].ID))
	mustContain(t, "suppressed finding page", res.Body, "not affected</span>", "not_affected (suppressed): code_not_present", "<td>no fix published</td>")
}
