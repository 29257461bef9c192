package web

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/sboms"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

func TestDevicePageShowsSBOM(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	d := sbomDevice(t, e)
	c := e.signedIn(auth.Viewer)
	if res := c.get(fmt.Sprintf("/devices/%d", d)); res.Code != 200 || !strings.Contains(res.Body, "No SBOM is attached") {
		t.Fatalf("device page without SBOM: %d, missing the empty-state text", res.Code)
	}
	raw, err := os.ReadFile("../sboms/testdata/pump-v2.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	in, _, err := sboms.Analyze(raw, "pump-v2.cdx.json", sbom.Options{}, sboms.Matchers{})
	if err != nil {
		t.Fatal(err)
	}
	in.Subject = store.SBOMSubject{Vendor: "baxter", Model: "SIGMA SPECTRUM", FirmwareVersion: "8.0"}
	in.AttachedBy = "ce"
	if _, _, err := e.st.AttachSBOM(ctx, in); err != nil {
		t.Fatal(err)
	}
	res := c.get(fmt.Sprintf("/devices/%d", d))
	for _, want := range []string{"Software (SBOM)", "SBOM of baxter SIGMA SPECTRUM 8.0 — version 1", "7 components",
		"CVE-2022-2119", "not_affected", "code_not_reachable", "no storage SCP", "Eclipse ThreadX", "/api/v1/sboms/1/export"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("device page lacks %q", want)
		}
	}
}

// sbomDevice creates the Baxter Sigma Spectrum 8.0 device the test SBOM covers.
func sbomDevice(t *testing.T, e *env) int64 {
	t.Helper()
	dev := storetest.Sample(1)
	dev.Vendor, dev.Model, dev.Version = "Baxter", "Sigma Spectrum", "8.0"
	if err := e.st.CreateDevice(context.Background(), dev); err != nil {
		t.Fatal(err)
	}
	return dev.ID
}
