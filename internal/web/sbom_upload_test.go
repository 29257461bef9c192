package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store"
)

func pumpSBOM(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile("../sboms/testdata/pump-v2.cdx.json")
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// editSBOM returns the pump SBOM with fn applied to its JSON.
func editSBOM(t *testing.T, fn func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(pumpSBOM(t), &doc); err != nil {
		t.Fatal(err)
	}
	fn(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func storedSBOMs(t *testing.T, e *env) []store.SBOMVersion {
	t.Helper()
	page, err := e.st.ListSBOMs(context.Background(), store.SBOMQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return page.SBOMs
}

// pumpSubject is a fresh form each time (client.post adds the CSRF token to the map it gets).
func pumpSubject() url.Values {
	return url.Values{"vendor": {"Baxter"}, "model": {"Sigma Spectrum"}, "firmware_version": {"8.0"}}
}

func TestSBOMUploadAttachesAndShowsOnDevicePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	id := sbomDevice(t, e)
	c := e.signedIn(auth.ClinicalEngineer)

	// The device page links to the form with the subject prefilled.
	res := c.get(fmt.Sprintf("/devices/%d", id))
	mustContain(t, "device page", res.Body, `href="/sboms/upload?vendor=Baxter&amp;model=Sigma%20Spectrum&amp;firmware_version=8.0"`,
		`href="/sboms/upload?asset_id=`)
	res = c.get("/sboms/upload?vendor=Baxter&model=Sigma%20Spectrum&firmware_version=8.0")
	if res.Code != http.StatusOK {
		t.Fatalf("GET /sboms/upload = %d", res.Code)
	}
	mustContain(t, "prefilled form", res.Body, `name="vendor" value="Baxter"`, `name="model" value="Sigma Spectrum"`,
		`name="firmware_version" value="8.0"`, `action="/sboms/upload"`, "up to 256.0 MiB")
	if r := c.get("/imports"); !strings.Contains(r.Body, `href="/sboms/upload"`) {
		t.Error("the imports page does not link to the SBOM upload")
	}

	res = c.upload("/sboms/upload", "pump-v2.cdx.json", pumpSBOM(t), pumpSubject())
	if res.Code != http.StatusOK {
		t.Fatalf("upload = %d:\n%s", res.Code, res.Body)
	}
	mustContain(t, "upload result", res.Body, "Upload of pump-v2.cdx.json", "<dd>cyclonedx-json 1.5</dd>", `<span class="badge ok">valid</span>`,
		"SBOM #1, version 1 of Baxter Sigma Spectrum 8.0", "<dt>Components</dt><dd>7</dd>", "/100</dd>",
		"CVE-2022-2119", "not_affected", `href="/api/v1/sboms/1/export"`, `href="/devices?model=Sigma&#43;Spectrum&amp;vendor=Baxter&amp;version=8.0"`)
	if r := c.get("/devices?model=Sigma+Spectrum&vendor=Baxter&version=8.0"); !strings.Contains(r.Body, fmt.Sprintf(`href="/devices/%d"`, id)) {
		t.Error("the linked device list does not show the device")
	}
	if got := storedSBOMs(t, e); len(got) != 1 || got[0].AttachedBy != "clinical-engineer" {
		t.Fatalf("stored SBOMs = %+v, want one attached by clinical-engineer", got)
	}
	// The device page shows it to any role.
	v := e.signedIn(auth.Viewer)
	res = v.get(fmt.Sprintf("/devices/%d", id))
	mustContain(t, "device page after upload", res.Body, "SBOM of Baxter Sigma Spectrum 8.0 — version 1", "7 components", "CVE-2022-2119")
	if strings.Contains(res.Body, "/sboms/upload?") {
		t.Error("a viewer is offered the SBOM upload link")
	}
	// The same file again stores nothing new.
	res = c.upload("/sboms/upload", "pump-v2.cdx.json", pumpSBOM(t), pumpSubject())
	mustContain(t, "second upload", res.Body, "<strong>unchanged</strong>", "SBOM #1, version 1")
	if got := storedSBOMs(t, e); len(got) != 1 {
		t.Fatalf("%d SBOMs after uploading the same file twice, want 1", len(got))
	}
	// The attachment was audited once, under the user.
	sec, ok := e.st.(store.SecurityStore)
	if !ok {
		t.Fatal("the SQLite store keeps no audit log")
	}
	entries, err := sec.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, en := range entries {
		if en.Action == "sbom.attach" {
			n++
			if en.Actor != "clinical-engineer" || en.Object != "sbom/1" {
				t.Errorf("audit entry = %+v", en)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d sbom.attach audit entries, want 1", n)
	}

	// By asset id: the device's own SBOM, linked to its page.
	dev, err := e.st.GetDevice(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	res = c.upload("/sboms/upload", "own.cdx.json", editSBOM(t, func(d map[string]any) { d["serialNumber"] = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79" }),
		url.Values{"asset_id": {dev.AssetID}})
	mustContain(t, "upload by asset id", res.Body, "version 1 of device "+dev.AssetID, fmt.Sprintf(`href="/devices/%d"`, id))
}

func TestSBOMUploadBadFilesStoreNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	sbomDevice(t, e)
	c := e.signedIn(auth.Analyst)
	c.get("/sboms/upload")
	invalid := editSBOM(t, func(d map[string]any) {
		d["components"].([]any)[1].(map[string]any)["type"] = "toaster"
	})
	tests := []struct {
		name, file string
		body       []byte
		fields     url.Values
		code       int
		wants      []string
	}{
		{"not an SBOM", "notes.txt", []byte("hello, this is not an SBOM\n"), pumpSubject(), http.StatusUnprocessableEntity,
			[]string{"Nothing was stored: notes.txt"}},
		{"broken JSON", "broken.cdx.json", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[`), pumpSubject(), http.StatusUnprocessableEntity,
			[]string{"Nothing was stored: broken.cdx.json"}},
		{"schema problems", "invalid.cdx.json", invalid, pumpSubject(), http.StatusUnprocessableEntity,
			[]string{"invalid.cdx.json is not valid cyclonedx-json 1.5", "Nothing was stored", `<span class="badge bad">not valid</span>`,
				"<code>/components/1/type</code>", "Schema problems"}},
		{"no subject", "pump.cdx.json", pumpSBOM(t), nil, http.StatusBadRequest,
			[]string{"Give the manufacturer, model and firmware version"}},
		{"incomplete subject", "pump.cdx.json", pumpSBOM(t), url.Values{"vendor": {"Baxter"}, "model": {"Sigma Spectrum"}}, http.StatusBadRequest,
			[]string{"Give the manufacturer, model and firmware version"}},
		{"both subjects", "pump.cdx.json", pumpSBOM(t), url.Values{"vendor": {"Baxter"}, "model": {"X"}, "firmware_version": {"1"}, "asset_id": {"A"}}, http.StatusBadRequest,
			[]string{"not both"}},
		{"unknown asset", "pump.cdx.json", pumpSBOM(t), url.Values{"asset_id": {"NOPE-1"}}, http.StatusBadRequest,
			[]string{"No device has the asset id &#34;NOPE-1&#34;"}},
	}
	for _, tt := range tests {
		res := c.upload("/sboms/upload", tt.file, tt.body, tt.fields)
		if res.Code != tt.code {
			t.Errorf("%s: upload = %d, want %d:\n%s", tt.name, res.Code, tt.code, res.Body)
			continue
		}
		mustContain(t, tt.name, res.Body, tt.wants...)
	}
	if got := storedSBOMs(t, e); len(got) != 0 {
		t.Fatalf("bad uploads stored %d SBOMs", len(got))
	}
	// No file at all.
	if res := c.post("/sboms/upload", pumpSubject()); res.Code != http.StatusBadRequest || !strings.Contains(res.Body, "Choose an SBOM file") {
		t.Errorf("upload without a file = %d", res.Code)
	}
	// "Attach anyway" stores the invalid file with its problem count.
	f := url.Values{"allow_invalid": {"1"}}
	for k, v := range pumpSubject() {
		f[k] = v
	}
	res := c.upload("/sboms/upload", "invalid.cdx.json", invalid, f)
	if res.Code != http.StatusOK {
		t.Fatalf("attach anyway = %d:\n%s", res.Code, res.Body)
	}
	mustContain(t, "attach anyway", res.Body, `<span class="badge bad">not valid</span>`, "SBOM #1, version 1", "<code>/components/1/type</code>")
	if got := storedSBOMs(t, e); len(got) != 1 || got[0].Valid || got[0].Problems == 0 {
		t.Fatalf("stored after attach anyway = %+v, want one invalid SBOM", got)
	}
}

func TestSBOMUploadRolesAndCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	sbomDevice(t, e)
	for _, role := range []auth.Role{auth.Viewer, auth.Auditor} {
		c := e.signedIn(role)
		if res := c.get("/sboms/upload"); res.Code != http.StatusOK || strings.Contains(res.Body, `action="/sboms/upload"`) ||
			!strings.Contains(res.Body, "Your role can view SBOMs but not attach them.") {
			t.Errorf("GET /sboms/upload as %s = %d, want the page without the form", role, res.Code)
		}
		if res := c.upload("/sboms/upload", "pump-v2.cdx.json", pumpSBOM(t), pumpSubject()); res.Code != http.StatusForbidden {
			t.Errorf("upload as %s = %d, want 403", role, res.Code)
		}
	}
	c := e.signedIn(auth.Analyst)
	for name, tok := range map[string]string{"missing": "", "forged": strings.Repeat("A", len(c.csrf))} {
		f := url.Values{"csrf": {tok}}
		for k, v := range pumpSubject() {
			f[k] = v
		}
		if res := c.upload("/sboms/upload", "pump-v2.cdx.json", pumpSBOM(t), f); res.Code != http.StatusForbidden {
			t.Errorf("upload with a %s CSRF token = %d, want 403", name, res.Code)
		}
	}
	if got := storedSBOMs(t, e); len(got) != 0 {
		t.Fatalf("refused uploads stored %d SBOMs", len(got))
	}
}

func TestSBOMUploadEscapesEverything(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	c := e.signedIn(auth.Admin)
	c.get("/sboms/upload")
	doc := editSBOM(t, func(d map[string]any) {
		comps := d["components"].([]any)
		comps[1].(map[string]any)["name"] = xss
	})
	subj := url.Values{"vendor": {xss}, "model": {"M" + xss}, "firmware_version": {"1" + xss}, "note": {xss}}
	res := c.upload("/sboms/upload", `evil<script>.cdx.json`, doc, subj)
	if res.Code != http.StatusOK {
		t.Fatalf("upload = %d:\n%s", res.Code, res.Body)
	}
	for _, bad := range []string{"<script>", "<img src=x"} {
		if strings.Contains(res.Body, bad) {
			t.Errorf("the result page contains unescaped %q", bad)
		}
	}
	mustContain(t, "escaped result", res.Body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")
	// Through the invalid path too (problems and the error).
	doc = editSBOM(t, func(d map[string]any) {
		d["components"].([]any)[1].(map[string]any)["type"] = xss
	})
	res = c.upload("/sboms/upload", "bad.cdx.json", doc, subj)
	if res.Code != http.StatusUnprocessableEntity || strings.Contains(res.Body, "<script>") || strings.Contains(res.Body, "<img src=x") {
		t.Errorf("invalid upload with markup = %d, unescaped markup present: %v", res.Code, strings.Contains(res.Body, "<script>"))
	}
}
