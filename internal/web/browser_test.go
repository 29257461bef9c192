package web

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/medwarden/medwarden/internal/feeds"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the browser test's screenshots to docs/screenshots")

// chromium finds Debian's chromium (or $MEDWARDEN_CHROMIUM).
func chromium() string {
	if p := os.Getenv("MEDWARDEN_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowser drives headless Chromium through what a person does: sign
// in, read the dashboard, filter devices, open one, resolve a conflict and
// import a CSV that has errors. It asserts on visible text.
func TestBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium binary found (apt-get install -y chromium, or set MEDWARDEN_CHROMIUM): skipping the real-browser test")
	}
	if testing.Short() {
		t.Skip("-short: skipping the real-browser test")
	}
	e := newEnv(t, 0)
	e.clock.Set(time.Now().UTC()) // provenance times in screenshots look current
	storetest.LoadDemo(t, e.st, 600)
	ctx := context.Background()
	// One device gets sensor observations that disagree with the inventory.
	page, err := e.st.ListDevices(ctx, store.DeviceQuery{Filters: map[string]string{"criticality": "life-sustaining"}, Limit: 1})
	if err != nil || len(page.Devices) == 0 {
		t.Fatalf("no life-sustaining demo device: %v", err)
	}
	dev := page.Devices[0]
	seen := e.clock.Now().Add(-2 * time.Hour)
	dev.Observed = map[string]inventory.Observation{
		"version":  {Value: "9.9.1", Source: "sensor-icu-span-1", At: seen, Confidence: 0.9},
		"hostname": {Value: "icu-vent-07", Source: "sensor-icu-span-1", At: seen},
	}
	if dev.Hostname == "" {
		dev.Hostname = "vent-icu-7"
	}
	if err := e.st.UpdateDevice(ctx, dev, 0); err != nil {
		t.Fatal(err)
	}

	fid := seedBrowserRisk(t, e, dev.ID)

	shots := t.TempDir()
	if *updateScreenshots {
		shots = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	actx, cancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	var (
		consoleMu sync.Mutex
		console   []string
	)
	cctx, stopConsole := context.WithCancel(bctx)
	defer stopConsole()
	msgs := chromedp.Console(cctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || strings.Contains(m.Text, "Content Security Policy") {
				consoleMu.Lock()
				console = append(console, m.String())
				consoleMu.Unlock()
			}
		}
	}()

	base := e.srv.URL
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(step, sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: read %s: %v", step, sel, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		b, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantText := func(step, sel string, wants ...string) {
		t.Helper()
		got := text(step, sel)
		for _, w := range wants {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %s shows %q, want it to contain %q", step, sel, got, w)
			}
		}
	}

	// 1. Signing in: a wrong password is refused, the right one opens the dashboard.
	do("open login", chromedp.Navigate(base+"/devices"), chromedp.WaitVisible(chromedp.CSS("#username")))
	do("wrong password", chromedp.SendKeys(chromedp.CSS("#username"), "analyst"), chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("#login-error")))
	wantText("wrong password", "#login-error", "Wrong user name or password")
	shot("login")
	do("sign in", chromedp.SetValue(chromedp.CSS("#username"), "analyst"), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Submit(chromedp.CSS("#password")),
		// The sign-in page has an h1 too: wait until it is gone, or a slow
		// answer (a loaded CI machine) lets the next step navigate away and
		// cancel the login POST.
		chromedp.WaitNotPresent(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS("h1")))
	// the login remembered where we were going
	wantText("after sign in", "h1", "Devices")

	// 2. Dashboard.
	do("dashboard", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(".tiles")))
	wantText("dashboard", ".tiles", "600", "devices in the inventory", "past end of support", "1", "open provenance conflicts")
	wantText("dashboard", "#h-band", "Devices by risk band")
	wantText("dashboard", "#h-top + table", dev.AssetID)
	wantText("dashboard", ".feedbar", "feed epss", "STALE")
	shot("dashboard")
	// Keyboard: the first Tab reaches the skip link, with a visible focus
	// ring, and Enter moves focus to the main content.
	do("tab to skip link", chromedp.KeyEvent(kb.Tab))
	focus, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.activeElement.className + "|" + getComputedStyle(document.activeElement).outlineStyle`))
	if err != nil || focus != "skip|solid" {
		t.Errorf("after Tab: focused %q (%v), want the skip link with a solid outline", focus, err)
	}
	do("skip to content", chromedp.KeyEvent(kb.Enter))
	if id, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.activeElement.id`)); id != "main" {
		t.Errorf("after Enter on the skip link: focus on %q, want main", id)
	}

	// 3. Filter the device list by site and criticality.
	site := dev.Site
	do("devices", chromedp.Navigate(base+"/devices"), chromedp.WaitVisible(chromedp.CSS("#f-site")),
		chromedp.SendKeys(chromedp.CSS("#f-site"), site),
		chromedp.SetValue(chromedp.CSS("#f-criticality"), "life-sustaining"),
		chromedp.Click(chromedp.CSS("form.filters button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".active-filters")))
	wantText("filtered list", ".active-filters", "Site: "+site, "Clinical criticality: life-sustaining")
	rows, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.list tbody tr")).map(r => r.cells[5].textContent + "|" + r.cells[7].textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("filtered list is empty")
	}
	for _, r := range rows {
		if r != site+"|Life sustaining" {
			t.Errorf("filtered row shows %q, want %q", r, site+"|Life sustaining")
		}
	}
	shot("devices")

	// 4. Open the device with the conflict and accept the observed version.
	do("open device", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/devices/%d"]`, dev.ID))), chromedp.WaitVisible(chromedp.CSS("#conflicts")))
	wantText("device", "#conflicts", "Software version", "9.9.1", "sensor-icu-span-1", "Accept observed")
	shot("device")
	do("accept observed version", chromedp.Click(chromedp.CSS(`#conflicts tbody tr:first-child button[value=accept]`)), chromedp.WaitVisible(chromedp.CSS(".flash")))
	wantText("resolved", ".flash", "Conflict resolved")
	wantText("resolved", "table.fields", "9.9.1", "edited user:analyst")

	// 5. Findings: open the device's critical finding and take it on.
	do("findings", chromedp.Navigate(base+"/findings?kev=yes"), chromedp.WaitVisible(chromedp.CSS("table.list")))
	wantText("findings", "table.list tbody", dev.AssetID, "critical", "KEV", "Overdue")
	shot("findings")
	do("open finding", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/findings/%d"]`, fid))), chromedp.WaitVisible(chromedp.CSS("#h-wf")))
	wantText("finding", "#h-wf", "Status: Open")
	wantText("finding", "#h-risk + table", "severity", "CVSS 8.2")
	do("change status", chromedp.SetValue(chromedp.CSS("#wf-state"), "in_progress"),
		chromedp.SendKeys(chromedp.CSS("#wf-owner"), "Biomed team North"),
		chromedp.Click(chromedp.CSS(`form[aria-labelledby="h-upd"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	wantText("status changed", ".flash", "Finding updated")
	wantText("status changed", "#h-wf", "Status: In progress")
	wantText("status changed", "#workflow dl", "Biomed team North", "analyst")
	shot("finding")
	do("queue", chromedp.Navigate(base+"/remediations"), chromedp.WaitVisible(chromedp.CSS("table.list")))
	wantText("queue", "table.list tbody tr:first-child", "Overdue")
	do("advisory", chromedp.Navigate(base+"/advisories/ICSMA-24-151-01"), chromedp.WaitVisible(chromedp.CSS("#h-aff")))
	wantText("advisory", "#h-vulns + article", "CVE-2024-5176", "9.6")
	shot("advisory")
	do("feeds", chromedp.Navigate(base+"/feeds"), chromedp.WaitVisible(chromedp.CSS("#h-feeds")))
	wantText("feeds", "table.list", "kev", "2025-08-25", "stale")
	shot("feeds")

	// 6. Import a CSV with errors: the report names line, column and reason.
	broken, err := filepath.Abs("testdata/broken.csv")
	if err != nil {
		t.Fatal(err)
	}
	do("upload", chromedp.Navigate(base+"/imports"), chromedp.WaitVisible(chromedp.CSS("#file")),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{broken}),
		chromedp.Click(chromedp.CSS("form.upload button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#h-err")))
	wantText("import report", "h1", "broken.csv")
	wantText("import report", "#h-res", "Rejected — nothing was written")
	wantText("import report", "table.errors", "00:09:fb:00:00:0G", "mac")
	shot("import-errors")

	// 7. Tablet width: the device list stays usable.
	do("tablet", chromedp.EmulateViewport(820, 1180), chromedp.Navigate(base+"/devices?sort=-criticality&limit=25"), chromedp.WaitVisible(chromedp.CSS("table.list")))
	shot("devices-tablet")

	// 8. An auditor reads the audit log: the chain is intact and the
	// finding change of step 5 is there, attributed to the analyst.
	do("sign out", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(".who button")),
		chromedp.Click(chromedp.CSS(".who button")), chromedp.WaitVisible(chromedp.CSS("#username")))
	do("sign in as auditor", chromedp.SendKeys(chromedp.CSS("#username"), "auditor"), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Submit(chromedp.CSS("#password")), chromedp.WaitVisible(chromedp.CSS(".tiles")))
	do("audit log", chromedp.Navigate(base+"/audit?action=finding"), chromedp.WaitVisible(chromedp.CSS("#h-chain")))
	wantText("audit log", "#h-chain", "Hash chain intact")
	wantText("audit log", "table.list tbody", "finding.update", "analyst", fmt.Sprintf("finding/%d", fid))
	shot("audit")

	stopConsole()
	consoleMu.Lock()
	defer consoleMu.Unlock()
	for _, m := range console {
		if strings.Contains(m, "status of 401") {
			continue // the wrong password of step 1 is answered 401 Unauthorized, as it should be
		}
		t.Errorf("browser console: %s", m)
	}
}

// seedBrowserRisk imports the feeds of internal/feeds/testdata and stores
// findings: a critical KEV finding on dev (returned) and lower ones on
// the first 40 demo devices, with daily risk snapshots.
func seedBrowserRisk(t *testing.T, e *env, dev int64) int64 {
	t.Helper()
	ctx := context.Background()
	im, err := feeds.NewImporter(e.st, feeds.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"csaf", "kev_subset.json", "epss_scores-2025-08-25.csv"} {
		if _, err := im.Import(ctx, filepath.Join("..", "feeds", "testdata", p), ""); err != nil {
			t.Fatalf("import %s: %v", p, err)
		}
	}
	var fs []*store.Finding
	var risks []*store.DeviceRisk
	ids := []int64{dev}
	for id := int64(1); id <= 40; id++ {
		if id != dev {
			ids = append(ids, id)
		}
	}
	for i, id := range ids {
		d, err := e.st.GetDevice(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		sc := 88.0 - float64(i)*2
		f := storetest.SampleFinding(id, "ICSMA-24-151-01", sc)
		f.AssetID, f.KEV = d.AssetID, i == 0
		f.ProductName = d.Vendor + " " + d.Model + " " + d.Version
		fs = append(fs, f)
		risks = append(risks, &store.DeviceRisk{DeviceID: id, AssetID: d.AssetID, Score: sc, Band: f.Band, Findings: 1, KEV: f.KEV,
			Factors: f.Factors, Actions: []byte("[]"), Site: d.Site, Department: d.Department, DeviceType: d.DeviceType, Vendor: d.Vendor})
	}
	if _, err := e.st.ReplaceFindings(ctx, store.FindingScope{All: true}, fs, risks); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		day := e.clock.Now().UTC().AddDate(0, 0, i-29).Format(time.DateOnly)
		reg := fmt.Sprintf(`{"total":{"key":"all","devices":600,"affected":40,"findings":40,"bands":{"critical":%d,"high":%d,"medium":%d,"low":%d,"info":0}},"by_site":[],"by_department":[],"by_device_type":[],"by_vendor":[]}`,
			5+i/6, 12-i/5, 15, 8+i%3)
		if err := e.st.PutRiskSnapshot(ctx, day, []byte(reg)); err != nil {
			t.Fatal(err)
		}
	}
	e.h.dropStats() // the console did not make these writes itself
	return fs[0].ID
}
