package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/audit"
	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/store/sqldb"
)

func readFeedFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "feeds", "testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s does not show %q", what, w)
		}
	}
}

func TestFeedBannerWarnsWhenFeedsMissingOrStale(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	c := e.signedIn(auth.Viewer)
	for _, p := range []string{"/", "/advisories", "/feeds", "/devices/1"} {
		res := c.get(p)
		if res.Code != http.StatusOK {
			t.Fatalf("GET %s = %d", p, res.Code)
		}
		mustContain(t, p, res.Body, `class="feedbar stale"`, `role="alert"`, "Feed data is missing or out of date",
			"feed csaf is MISSING", "feed kev is MISSING", "feed epss is MISSING")
	}
	// The device list does not depend on feeds: no banner.
	if res := c.get("/devices"); strings.Contains(res.Body, "feedbar") {
		t.Error("the device list shows the feed banner")
	}
	// A KEV catalog dated 2025-08-25 is stale on 2026-11-02; the banner
	// gives its date and age.
	a := e.signedIn(auth.Analyst)
	a.get("/feeds")
	res := a.upload("/feeds", "known_exploited_vulnerabilities.json", readFeedFile(t, "kev_subset.json"), url.Values{"kind": {""}})
	if res.Code != http.StatusOK {
		t.Fatalf("upload KEV = %d:\n%s", res.Code, res.Body)
	}
	mustContain(t, "KEV import result", res.Body, "Import of known_exploited_vulnerabilities.json", "<dt>Imported</dt><dd>5</dd>",
		"kev: 2025-08-25, 433d14h old", "feed kev is STALE")
	if strings.Contains(res.Body, "feed kev is MISSING") {
		t.Error("KEV still reported missing after its import")
	}
}

func TestFeedUploadCSAFAndAdvisoryPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	a := e.signedIn(auth.ClinicalEngineer)
	a.get("/feeds")
	csafDoc := readFeedFile(t, "csaf/icsma-24-151-01.json")
	res := a.upload("/feeds", "icsma-24-151-01.json", csafDoc, url.Values{"kind": {"csaf"}})
	if res.Code != http.StatusOK {
		t.Fatalf("upload CSAF = %d:\n%s", res.Code, res.Body)
	}
	mustContain(t, "CSAF import result", res.Body, "<dt>Imported</dt><dd>1</dd>", "csaf:")
	// A second upload of the same file changes nothing and stays one feed.
	res = a.upload("/feeds", "icsma-24-151-01.json", csafDoc, url.Values{"kind": {""}})
	mustContain(t, "second CSAF import", res.Body, "<dt>Unchanged</dt><dd>1</dd>")
	list, err := e.st.ListFeeds(context.Background())
	if err != nil || len(list) != 1 {
		t.Fatalf("feeds after two uploads of one file = %+v, %v; want one", list, err)
	}

	// List, search, filter by CVE.
	v := e.signedIn(auth.Viewer)
	res = v.get("/advisories")
	mustContain(t, "advisory list", res.Body, `href="/advisories/ICSMA-24-151-01"`, "Baxter Welch Allyn Configuration Tool", "CVE-2024-5176")
	if res = v.get("/advisories?cve=CVE-2099-0001"); !strings.Contains(res.Body, "No advisory matches these filters.") {
		t.Error("a CVE filter without matches does not say so")
	}
	if res = v.get("/advisories?q=welch"); !strings.Contains(res.Body, "ICSMA-24-151-01") {
		t.Error("search by title does not find the advisory")
	}
	if res = v.get("/advisories?cursor=!!!"); res.Code != http.StatusOK || !strings.Contains(res.Body, "showing the first page") {
		t.Errorf("a broken cursor = %d, want the first page with a notice", res.Code)
	}
	// Detail: CVSS, remediations, products, feed banner.
	res = v.get("/advisories/ICSMA-24-151-01")
	if res.Code != http.StatusOK {
		t.Fatalf("advisory page = %d", res.Code)
	}
	mustContain(t, "advisory page", res.Body, "CVE-2024-5176", "9.6", "CVSS:3.1/", "vendor_fix", "mitigation",
		"Welch Allyn", "Devices this advisory affects", "No matching run has been stored yet", "feedbar")
	if res = v.get("/advisories/NOPE-1"); res.Code != http.StatusNotFound {
		t.Errorf("unknown advisory = %d, want 404", res.Code)
	}

	// Stored XSS in an advisory title and remediation URL is escaped.
	var doc map[string]any
	if err := json.Unmarshal(csafDoc, &doc); err != nil {
		t.Fatal(err)
	}
	d := doc["document"].(map[string]any)
	d["title"] = xss
	tr := d["tracking"].(map[string]any)
	tr["id"] = "XSS-2026-1"
	b, _ := json.Marshal(doc)
	res = a.upload("/feeds", "xss.json", b, url.Values{"kind": {"csaf"}})
	if res.Code != http.StatusOK {
		t.Fatalf("upload XSS CSAF = %d:\n%s", res.Code, res.Body)
	}
	for _, p := range []string{"/advisories", "/advisories/XSS-2026-1"} {
		body := v.get(p).Body
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s reflects the advisory title unescaped", p)
		}
		mustContain(t, p, body, "&lt;script&gt;alert")
	}
}

func TestFeedUploadErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0, func(d *Deps) { d.MaxFeedUploadBytes = 64 << 10 })
	a := e.signedIn(auth.Analyst)
	a.get("/feeds")
	tests := []struct {
		name, file string
		content    []byte
		kind       string
		code       int
		want       string
	}{
		{"unrecognised", "notes.txt", []byte("hello"), "", http.StatusUnprocessableEntity, "unrecognised content"},
		{"broken_kev", "kev.json", []byte(`{"catalogVersion":"1","dateReleased":"nope","count":1,"vulnerabilities":[{}]}`), "kev", http.StatusUnprocessableEntity, "Nothing was imported: import kev.json"},
		{"invalid_csaf", "bad.json", []byte(`{"document":{"category":"csaf_base"}}`), "csaf", http.StatusOK, "advisories were rejected"},
		{"bundle_without_key", "feeds.bundle", []byte("x"), "bundle", http.StatusBadRequest, "choose the publisher&#39;s public key file"},
		{"too_large", "big.json", make([]byte, 200<<10), "", http.StatusRequestEntityTooLarge, "exceeds the limit"},
	}
	for _, tt := range tests {
		res := a.upload("/feeds", tt.file, tt.content, url.Values{"kind": {tt.kind}})
		if res.Code != tt.code || !strings.Contains(res.Body, tt.want) {
			t.Errorf("%s: POST /feeds = %d, want %d with %q:\n%s", tt.name, res.Code, tt.code, tt.want, excerpt(res.Body))
		}
	}
	// A failed KEV import is recorded on the feed and shown.
	res := a.get("/feeds")
	mustContain(t, "feeds page after failures", res.Body, "failed")
}

// excerpt is the <main> of a page, for failure messages.
func excerpt(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if len(body) > 3000 {
		body = body[:3000]
	}
	return body
}

func TestAuditPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	ctx := context.Background()
	sec := e.st.(*sqldb.DB)
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := range 130 {
		actor, action, obj := "alice", "device.update", "device/"+strconv.Itoa(i%7+1)
		if i%10 == 0 {
			actor, action, obj = "bob", "user.create", "user/u"+strconv.Itoa(i)
		}
		ent, err := audit.New(audit.Actor{Name: actor, Kind: audit.KindUser, Source: "10.0.0.5"}, at.Add(time.Duration(i)*time.Minute), action, obj, nil, map[string]string{"note": xss})
		if err != nil {
			t.Fatal(err)
		}
		if err := sec.AppendAudit(ctx, ent); err != nil {
			t.Fatal(err)
		}
	}
	c := e.signedIn(auth.Auditor)
	res := c.get("/audit")
	if res.Code != http.StatusOK {
		t.Fatalf("GET /audit as auditor = %d", res.Code)
	}
	mustContain(t, "audit page", res.Body, "Hash chain intact", "All 130 entries verify", "<td>130</td>", `href="/audit?before=81"`)
	if strings.Contains(res.Body, "<td>80</td>") || strings.Contains(res.Body, "<script>alert") {
		t.Error("first page shows more than 50 entries or unescaped JSON")
	}
	res = c.get("/audit?actor=BOB")
	if n := strings.Count(res.Body, "user.create</td>"); n != 13 {
		t.Errorf("actor filter shows %d entries of bob, want 13", n)
	}
	res = c.get("/audit?action=device&object=device/3&before=50")
	if strings.Contains(res.Body, "user.create</td>") || !strings.Contains(res.Body, "device/3") || strings.Contains(res.Body, "<td>50</td>") {
		t.Error("action/object filter or before= paging is wrong")
	}
	// The nav shows the audit log to auditors and admins only.
	if !strings.Contains(res.Body, `href="/audit"`) {
		t.Error("auditor has no audit log link")
	}
	if strings.Contains(e.signedIn(auth.Analyst).get("/").Body, `href="/audit"`) {
		t.Error("analyst sees the audit log link")
	}
	// Tampering is shown loudly, naming the entry. A fresh console
	// verifies from the first entry.
	if _, err := sec.SQL.ExecContext(ctx, `UPDATE audit_log SET actor = 'mallory' WHERE seq = 42`); err != nil {
		t.Fatal(err)
	}
	h2, err := New(ctx, Deps{Store: e.st, Params: fastParams, Now: e.clock.Now, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	e.h = h2
	e.srv.Config.Handler = h2
	res = c.get("/audit")
	mustContain(t, "audit page after tampering", res.Body, "The audit log has been tampered with", "entry 42", "Entries 1–41 verify", `role="alert"`)
}

// TestAuditChainReverifiedInBackground: entries edited after they were
// verified are found by the periodic full re-verification.
func TestAuditChainReverifiedInBackground(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	ctx := context.Background()
	sec := e.st.(*sqldb.DB)
	for i := range 5 {
		ent, _ := audit.New(audit.Actor{Name: "alice", Kind: audit.KindUser, Source: "cli"}, time.Date(2026, 11, 1, 9, i, 0, 0, time.UTC), "device.update", "device/1", nil, nil)
		if err := sec.AppendAudit(ctx, ent); err != nil {
			t.Fatal(err)
		}
	}
	c := e.signedIn(auth.Admin)
	if res := c.get("/audit"); !strings.Contains(res.Body, "All 5 entries verify") {
		t.Fatal("chain not verified")
	}
	if _, err := sec.SQL.ExecContext(ctx, `UPDATE audit_log SET object = 'device/2' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(auditFullEvery + time.Minute)
	c.get("/audit") // starts the background re-verification
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(c.get("/audit").Body, "The audit log has been tampered with") {
		if time.Now().After(deadline) {
			t.Fatal("the edited entry was never found")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
