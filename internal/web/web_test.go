package web

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/importer"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
)

// TestRoutesByRole sends every console route as every role and checks
// the role check allows exactly what auth.Role.Can says.
func TestRoutesByRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 3)
	dev, err := e.st.GetDeviceByAssetID(context.Background(), "BIO-000001")
	if err != nil {
		t.Fatal(err)
	}
	target := e.users[auth.Viewer].ID
	pathFor := func(rt Route) string {
		p := strings.ReplaceAll(rt.Path, "{$}", "")
		switch {
		case strings.HasPrefix(p, "/devices/{id}"):
			p = strings.Replace(p, "{id}", fmt.Sprint(dev.ID), 1)
		case strings.HasPrefix(p, "/settings/users/{id}"):
			p = strings.Replace(p, "{id}", fmt.Sprint(target), 1)
		default:
			p = strings.Replace(p, "{id}", "999", 1)
		}
		return p
	}
	var checked int
	for _, rt := range e.h.Routes() {
		if rt.Public {
			continue
		}
		for _, role := range auth.Roles {
			name := fmt.Sprintf("%s_%s_as_%s", rt.Method, rt.Path, role)
			c := e.signedIn(role)
			var res resp
			form := url.Values{}
			if rt.Path == "/settings/users/{id}" {
				form.Set("action", "enable") // harmless when allowed
			}
			if rt.Method == "GET" {
				res = c.get(pathFor(rt))
			} else {
				res = c.post(pathFor(rt), form)
			}
			allowed := role.Can(rt.Perm)
			switch {
			case !allowed && res.Code != http.StatusForbidden:
				t.Errorf("%s: got %d, want 403", name, res.Code)
			case allowed && (res.Code == http.StatusForbidden || res.Code == http.StatusUnauthorized || (res.Location == "/login" && rt.Path != "/logout")):
				t.Errorf("%s: got %d (location %q), want it allowed", name, res.Code, res.Location)
			}
			checked++
		}
	}
	public := 0
	for _, rt := range e.h.Routes() {
		if rt.Public {
			public++
		}
	}
	if want := (len(e.h.Routes()) - public) * len(auth.Roles); checked != want {
		t.Errorf("checked %d route×role pairs, want %d", checked, want)
	}
	// Without a session every page sends the browser to sign in, and every
	// action is refused.
	anon := e.client()
	for _, rt := range e.h.Routes() {
		if rt.Public {
			continue
		}
		if rt.Method == "GET" {
			res := anon.get(pathFor(rt))
			if strings.HasSuffix(rt.Path, "/events") {
				if res.Code != http.StatusUnauthorized {
					t.Errorf("anonymous GET %s = %d, want 401", rt.Path, res.Code)
				}
				continue
			}
			if res.Code != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/login?next=") {
				t.Errorf("anonymous GET %s = %d → %q, want 303 to /login", rt.Path, res.Code, res.Location)
			}
		} else if res := anon.post(pathFor(rt), url.Values{"csrf": {"x"}}); res.Code != http.StatusUnauthorized {
			t.Errorf("anonymous POST %s = %d, want 401", rt.Path, res.Code)
		}
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	c := e.signedIn(auth.Analyst)
	good := c.csrf
	other := e.signedIn(auth.Admin).csrf // a real token of another session
	tests := []struct {
		name   string
		csrf   []string // nil: no field
		origin string
		want   int
	}{
		{"missing_token", nil, "", http.StatusForbidden},
		{"empty_token", []string{""}, "", http.StatusForbidden},
		{"forged_token", []string{strings.Repeat("A", len(good))}, "", http.StatusForbidden},
		{"token_of_another_session", []string{other}, "", http.StatusForbidden},
		{"truncated_token", []string{good[:len(good)-1]}, "", http.StatusForbidden},
		{"cross_site_origin", []string{good}, "https://evil.example", http.StatusForbidden},
		{"valid", []string{good}, "", http.StatusSeeOther},
	}
	for _, tt := range tests {
		form := url.Values{"name": {"view " + tt.name}, "query": {"site=North+Campus"}}
		if tt.csrf != nil {
			form["csrf"] = tt.csrf
		}
		req, _ := http.NewRequest("POST", e.srv.URL+"/views", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		res := c.do(req)
		if res.Code != tt.want {
			t.Errorf("%s: POST /views = %d, want %d", tt.name, res.Code, tt.want)
		}
	}
	views, err := e.st.ListViews(context.Background(), e.users[auth.Analyst].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(views) != 1 || views[0].Name != "view valid" {
		t.Errorf("saved views after the CSRF attempts = %+v, want only the valid one", views)
	}
	// The login form has its own token (double-submit cookie).
	anon := e.client()
	anon.get("/login")
	res := anon.post("/login", url.Values{"csrf": {"forged"}, "username": {"admin"}, "password": {testPassword}})
	if res.Code != http.StatusForbidden {
		t.Errorf("login with a forged token = %d, want 403", res.Code)
	}
}

// xss is put in every text field of a device.
const xss = `<script>alert("x")</script><img src=x onerror=alert(1)>"'&`

func TestStoredXSSIsEscaped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	d := &inventory.Device{AssetID: xss, Vendor: xss, Model: xss, DeviceType: xss, Version: xss, Serial: xss, UDIDI: xss,
		Hostname: xss, Site: xss, Location: xss, Department: xss, Zone: xss, OS: xss,
		Provenance: map[string]inventory.Provenance{"vendor": {Kind: inventory.SourceImported, Source: xss, At: at}},
		Observed:   map[string]inventory.Observation{"model": {Value: xss + "2", Source: xss, At: at}}}
	if err := e.st.CreateDevice(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SaveView(ctx, &store.SavedView{UserID: e.users[auth.Admin].ID, Name: xss, Query: "q=" + url.QueryEscape(xss)}); err != nil {
		t.Fatal(err)
	}
	c := e.signedIn(auth.Admin)
	for _, p := range []string{"/", "/devices", fmt.Sprintf("/devices/%d", d.ID), "/devices?q=" + url.QueryEscape(xss), "/devices?site=" + url.QueryEscape(xss)} {
		res := c.get(p)
		if res.Code != http.StatusOK {
			t.Fatalf("GET %s = %d", p, res.Code)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", `"'&`} {
			if strings.Contains(res.Body, bad) {
				t.Errorf("GET %s: page contains unescaped %q", p, bad)
			}
		}
		if !strings.Contains(res.Body, "&lt;script&gt;alert(") {
			t.Errorf("GET %s: escaped device text not found", p)
		}
	}
	// a user name cannot carry markup at all
	res := c.post("/settings/users", url.Values{"username": {"<b>x</b>"}, "role": {"viewer"}})
	if res.Code != http.StatusBadRequest || strings.Contains(res.Body, "<b>x</b>") {
		t.Errorf("creating a user named <b>x</b> = %d (raw markup echoed: %v)", res.Code, strings.Contains(res.Body, "<b>x</b>"))
	}
}

// inlineScript finds <script> elements without src and inline handlers or styles.
var (
	inlineScript = regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`)
	inlineAttr   = regexp.MustCompile(`\s(?:on[a-z]+|style)=`)
)

func TestSecurityHeadersAndNoInlineCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 5)
	c := e.signedIn(auth.Admin)
	dev, _ := e.st.GetDeviceByAssetID(context.Background(), "BIO-000002")
	for _, p := range []string{"/login", "/", "/devices", fmt.Sprintf("/devices/%d", dev.ID), "/imports", "/settings/users", "/account/password", "/nope",
		"/advisories", "/advisories/X", "/feeds", "/audit"} {
		res := c.get(p)
		if got := res.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") || strings.Contains(got, "unsafe") {
			t.Errorf("GET %s: CSP %q", p, got)
		}
		if res.Header.Get("X-Frame-Options") != "DENY" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: missing frame/nosniff headers: %v", p, res.Header)
		}
		if m := inlineScript.FindString(res.Body); m != "" {
			t.Errorf("GET %s: inline script %q", p, m)
		}
		if m := inlineAttr.FindString(res.Body); m != "" {
			t.Errorf("GET %s: inline handler or style attribute %q", p, m)
		}
	}
	if res := c.get("/static/"); res.Code != http.StatusNotFound {
		t.Errorf("GET /static/ = %d, want 404 (no listing)", res.Code)
	}
	if res := c.get("/nope"); res.Code != http.StatusNotFound {
		t.Errorf("GET /nope = %d, want 404", res.Code)
	}
	for _, p := range []string{"/static/app.css", "/static/app.js", "/static/logo.svg"} {
		if res := e.client().get(p); res.Code != http.StatusOK || len(res.Body) < 100 {
			t.Errorf("GET %s = %d, %d bytes", p, res.Code, len(res.Body))
		}
	}
}

func TestSessionCookieAndExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 1)
	c := e.client()
	c.get("/login")
	req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(url.Values{"username": {"viewer"}, "password": {testPassword}, "csrf": {c.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res := c.do(req)
	var sc string
	for _, v := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, sessionCookie+"=") {
			sc = v
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("session cookie over plain HTTP is Secure: %q", sc)
	}
	tok := strings.TrimPrefix(strings.SplitN(sc, ";", 2)[0], sessionCookie+"=")
	if len(tok) != 43 {
		t.Errorf("session token %q is not 256 bits of base64url", tok)
	}
	if _, err := e.st.GetSession(context.Background(), tok); err == nil {
		t.Error("the raw session token is stored; only its hash may be")
	}
	if r := c.get("/devices"); r.Code != http.StatusOK {
		t.Fatalf("signed in: GET /devices = %d", r.Code)
	}
	e.clock.Add(DefaultIdleTimeout - time.Minute)
	if r := c.get("/devices"); r.Code != http.StatusOK {
		t.Fatalf("before idle expiry: GET /devices = %d", r.Code)
	}
	e.clock.Add(DefaultIdleTimeout + time.Second)
	if r := c.get("/devices"); r.Code != http.StatusSeeOther {
		t.Errorf("after idle expiry: GET /devices = %d, want 303 to sign in", r.Code)
	}
	// absolute expiry, even when active
	c2 := e.signedIn(auth.Viewer)
	for i := 0; i < 26; i++ {
		e.clock.Add(29 * time.Minute)
		c2.get("/devices")
	}
	if r := c2.get("/devices"); r.Code != http.StatusSeeOther {
		t.Errorf("after absolute expiry: GET /devices = %d, want 303", r.Code)
	}
	// logout ends the session server-side
	c3 := e.signedIn(auth.Viewer)
	if r := c3.post("/logout", nil); r.Code != http.StatusSeeOther || r.Location != "/login" {
		t.Errorf("logout = %d → %q", r.Code, r.Location)
	}
	if r := c3.get("/devices"); r.Code != http.StatusSeeOther {
		t.Errorf("after logout: GET /devices = %d, want 303", r.Code)
	}
}

func TestLoginFailuresAndThrottle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	c := e.client()
	for _, tt := range []struct{ user, pw string }{{"admin", "wrong password!"}, {"nobody", testPassword}, {"", ""}} {
		res := c.login(tt.user, tt.pw)
		if res.Code != http.StatusUnauthorized || !strings.Contains(res.Body, "Wrong user name or password") {
			t.Errorf("login %q/%q = %d", tt.user, tt.pw, res.Code)
		}
	}
	for i := 0; i < 5; i++ {
		c.login("analyst", "wrong password!")
	}
	res := c.login("analyst", testPassword) // right password, but locked
	if res.Code != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("login after 5 failures = %d (Retry-After %q), want 429", res.Code, res.Header.Get("Retry-After"))
	}
	e.clock.Add(2 * time.Minute)
	if res := c.login("analyst", testPassword); res.Code != http.StatusSeeOther {
		t.Errorf("login after the lock = %d, want 303", res.Code)
	}
	// a disabled account cannot sign in
	u := e.users[auth.Auditor]
	u.Disabled = true
	if err := e.st.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if res := e.client().login("auditor", testPassword); res.Code != http.StatusUnauthorized {
		t.Errorf("disabled user login = %d, want 401", res.Code)
	}
	// open redirects are refused
	c2 := e.client()
	c2.get("/login")
	res = c2.post("/login", url.Values{"username": {"viewer"}, "password": {testPassword}, "next": {"//evil.example/x"}})
	if res.Location != "/" {
		t.Errorf("login with next=//evil.example → %q, want /", res.Location)
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/devices?site=A": "/devices?site=A", "": "/", "https://evil.example": "/", "//evil.example": "/",
		"/\\evil.example": "/", "/login?next=/": "/", "/x\r\nSet-Cookie: a=b": "/", "devices": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOneTimePasswordMustBeChanged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	admin := e.signedIn(auth.Admin)
	res := admin.post("/settings/users", url.Values{"username": {"nurse.kim"}, "role": {"clinical-engineer"}})
	if res.Code != http.StatusCreated {
		t.Fatalf("create user = %d:\n%s", res.Code, res.Body)
	}
	m := regexp.MustCompile(`<code id="otp">([^<]+)</code>`).FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatal("one-time password not shown")
	}
	otp := m[1]
	c := e.client()
	if res := c.login("nurse.kim", otp); res.Location != "/account/password" {
		t.Fatalf("first login → %q, want /account/password", res.Location)
	}
	if res := c.get("/devices"); res.Location != "/account/password" {
		t.Errorf("before changing the password GET /devices → %d %q", res.Code, res.Location)
	}
	c.get("/account/password")
	for _, tt := range []struct {
		name, cur, nw, conf string
		want                int
	}{
		{"wrong_current", "nope", "a much better passphrase", "a much better passphrase", http.StatusBadRequest},
		{"mismatch", otp, "a much better passphrase", "a much better passphrasE", http.StatusBadRequest},
		{"too_short", otp, "short", "short", http.StatusBadRequest},
		{"ok", otp, "a much better passphrase", "a much better passphrase", http.StatusSeeOther},
	} {
		if res := c.post("/account/password", url.Values{"current": {tt.cur}, "new": {tt.nw}, "confirm": {tt.conf}}); res.Code != tt.want {
			t.Errorf("%s: change password = %d, want %d", tt.name, res.Code, tt.want)
		}
	}
	if res := c.get("/devices"); res.Code != http.StatusOK {
		t.Errorf("after changing the password GET /devices = %d", res.Code)
	}
	if res := e.client().login("nurse.kim", otp); res.Code != http.StatusUnauthorized {
		t.Errorf("the one-time password still works: %d", res.Code)
	}
}

func TestAdminCannotLockThemselvesOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	c := e.signedIn(auth.Admin)
	self := fmt.Sprint(e.users[auth.Admin].ID)
	for _, form := range []url.Values{{"action": {"disable"}}, {"action": {"role"}, "role": {"viewer"}}} {
		if res := c.post("/settings/users/"+self, form); res.Code != http.StatusBadRequest {
			t.Errorf("admin %v on self = %d, want 400", form, res.Code)
		}
	}
	// disabling someone ends their session at once
	victim := e.signedIn(auth.Analyst)
	if res := c.post("/settings/users/"+fmt.Sprint(e.users[auth.Analyst].ID), url.Values{"action": {"disable"}}); res.Code != http.StatusSeeOther {
		t.Fatalf("disable analyst = %d", res.Code)
	}
	if res := victim.get("/devices"); res.Code != http.StatusSeeOther {
		t.Errorf("disabled user's session still works: %d", res.Code)
	}
}

func TestDevicesListFiltersSortAndPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 60)
	c := e.signedIn(auth.Viewer)
	rowRE := regexp.MustCompile(`<td><a href="/devices/\d+">(BIO-\d+)</a></td>`)
	assets := func(body string) []string {
		var out []string
		for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	res := c.get("/devices?site=north+campus&department=ICU&sort=-asset_id&limit=25")
	if res.Code != http.StatusOK {
		t.Fatalf("GET filtered list = %d", res.Code)
	}
	// Sample(i): site i%3 == 0 is North Campus, department i%4 == 0 is ICU → i ≡ 0 mod 12
	want := []string{"BIO-000048", "BIO-000036", "BIO-000024", "BIO-000012", "BIO-000000"}
	if diff := cmp.Diff(want, assets(res.Body)); diff != "" {
		t.Errorf("filtered list (-want +got):\n%s", diff)
	}
	if !strings.Contains(res.Body, `aria-sort="descending"`) {
		t.Error("sorted column not marked aria-sort")
	}
	// paging forward and back
	p1 := c.get("/devices?sort=asset_id&limit=25")
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(p1.Body)
	if next == nil {
		t.Fatal("no next link on page 1")
	}
	p2 := c.get(htmlUnescape(next[1]))
	if got := assets(p2.Body); len(got) != 25 || got[0] != "BIO-000025" {
		t.Errorf("page 2 = %v", got)
	}
	next2 := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(p2.Body)
	p3 := c.get(htmlUnescape(next2[1]))
	if got := assets(p3.Body); len(got) != 10 || got[0] != "BIO-000050" {
		t.Errorf("page 3 = %v", got)
	}
	prev := regexp.MustCompile(`href="([^"]+)" rel="prev"`).FindStringSubmatch(p3.Body)
	if prev == nil {
		t.Fatal("no previous link on page 3")
	}
	if got := assets(c.get(htmlUnescape(prev[1])).Body); len(got) == 0 || got[0] != "BIO-000025" {
		t.Errorf("previous from page 3 = %v, want page 2", got)
	}
	// bad input is explained, not a 500
	if res := c.get("/devices?mac=zz"); res.Code != http.StatusBadRequest || !strings.Contains(res.Body, "MAC addresses") {
		t.Errorf("bad MAC filter = %d", res.Code)
	}
	if res := c.get("/devices?cursor=bm9wZQ"); res.Code != http.StatusBadRequest {
		t.Errorf("bad cursor = %d", res.Code)
	}
	// criticality "unknown" and search
	if res := c.get("/devices?criticality=unknown"); res.Code != http.StatusOK || !strings.Contains(res.Body, "No devices match") {
		t.Errorf("criticality=unknown = %d", res.Code)
	}
	if got := assets(c.get("/devices?q=dev-17").Body); !cmp.Equal(got, []string{"BIO-000017"}) {
		t.Errorf("search dev-17 = %v", got)
	}
}

func htmlUnescape(s string) string { return strings.ReplaceAll(s, "&amp;", "&") }

func TestSavedViews(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10)
	c := e.signedIn(auth.Viewer)
	c.get("/devices")
	res := c.post("/views", url.Values{"name": {"ICU monitors"}, "query": {"department=ICU&sort=-criticality&cursor=abc&evil=1"}})
	if res.Code != http.StatusSeeOther || res.Location != "/devices?department=ICU&sort=-criticality&flash=saved" {
		t.Fatalf("save view = %d → %q", res.Code, res.Location)
	}
	page := c.get("/devices")
	if !strings.Contains(page.Body, `<a href="/devices?department=ICU&amp;sort=-criticality">ICU monitors</a>`) {
		t.Errorf("saved view not listed:\n%s", page.Body)
	}
	if res := c.post("/views", url.Values{"name": {"ICU monitors"}, "query": {"site=x"}}); !strings.Contains(res.Location, "flash=view-taken") {
		t.Errorf("duplicate name → %q", res.Location)
	}
	views, _ := e.st.ListViews(context.Background(), e.users[auth.Viewer].ID)
	other := e.signedIn(auth.Analyst)
	if res := other.post(fmt.Sprintf("/views/%d/delete", views[0].ID), nil); res.Code != http.StatusNotFound {
		t.Errorf("deleting another user's view = %d, want 404", res.Code)
	}
	if res := c.post(fmt.Sprintf("/views/%d/delete", views[0].ID), nil); res.Code != http.StatusSeeOther {
		t.Errorf("delete own view = %d", res.Code)
	}
}

func TestCSVExport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 30)
	ctx := context.Background()
	d, _ := e.st.GetDeviceByAssetID(ctx, "BIO-000003")
	d.Model = "=HYPERLINK(\"http://evil.example\")"
	d.Version = "-1.2"
	if err := e.st.UpdateDevice(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	c := e.signedIn(auth.Viewer)
	res := c.get("/devices.csv?department=lab")
	if res.Code != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("GET /devices.csv = %d %q", res.Code, res.Header.Get("Content-Type"))
	}
	lines := strings.Split(strings.TrimSpace(res.Body), "\n")
	if len(lines) != 1+7 { // Sample(i) with i%4 == 3, i < 30
		t.Errorf("export has %d lines, want header + 7", len(lines))
	}
	if !strings.HasPrefix(lines[0], "asset_id,vendor,model,") {
		t.Errorf("header = %q", lines[0])
	}
	if !strings.Contains(res.Body, `'=HYPERLINK(`) || strings.Contains(res.Body, `,=HYPERLINK`) {
		t.Errorf("formula not neutralised:\n%s", lines[1])
	}
	if !strings.Contains(res.Body, ",-1.2,") {
		t.Error("a negative-looking number was altered")
	}
	for in, want := range map[string]string{"=1+1": "'=1+1", "+x": "'+x", "@SUM": "'@SUM", "-x": "'-x", "-3": "-3", "plain": "plain", "": ""} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolveConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	ctx := context.Background()
	d, _ := e.st.GetDeviceByAssetID(ctx, "BIO-000001")
	seen := time.Date(2026, 11, 1, 22, 0, 0, 0, time.UTC)
	d.Observed = map[string]inventory.Observation{
		"version":  {Value: "9.1.4", Source: "sensor-icu-1", At: seen},
		"hostname": {Value: "pump-icu-7", Source: "sensor-icu-1", At: seen},
	}
	if err := e.st.UpdateDevice(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	viewer := e.signedIn(auth.Viewer)
	if list := viewer.get("/devices?conflicts=open"); !strings.Contains(list.Body, `href="/devices/`+fmt.Sprint(d.ID)+`">BIO-000001</a>`) {
		t.Error("conflict list does not show the device")
	}
	page := viewer.get(fmt.Sprintf("/devices/%d", d.ID))
	if !strings.Contains(page.Body, "9.1.4") || strings.Contains(page.Body, "Accept observed") {
		t.Errorf("viewer: conflict not shown, or resolve buttons offered")
	}
	c := e.signedIn(auth.ClinicalEngineer)
	path := fmt.Sprintf("/devices/%d/conflicts", d.ID)
	if res := c.post(path, url.Values{"field": {"version"}, "action": {"accept"}, "revision": {fmt.Sprint(d.Revision - 1)}}); res.Code != http.StatusConflict {
		t.Errorf("stale revision = %d, want 409", res.Code)
	}
	if res := c.post(path, url.Values{"field": {"version"}, "action": {"accept"}, "revision": {fmt.Sprint(d.Revision)}}); res.Code != http.StatusSeeOther {
		t.Fatalf("accept observed = %d", res.Code)
	}
	got, _ := e.st.GetDevice(ctx, d.ID)
	wantProv := inventory.Provenance{Kind: inventory.SourceEdited, Source: "user:clinical-engineer", At: e.clock.Now()}
	if got.Version != "9.1.4" || !cmp.Equal(got.Provenance["version"], wantProv) {
		t.Errorf("after accept: version %q, provenance %+v; want 9.1.4, %+v", got.Version, got.Provenance["version"], wantProv)
	}
	if res := c.post(path, url.Values{"field": {"hostname"}, "action": {"keep"}, "revision": {fmt.Sprint(got.Revision)}}); res.Code != http.StatusSeeOther {
		t.Fatalf("keep intended = %d", res.Code)
	}
	got, _ = e.st.GetDevice(ctx, d.ID)
	if got.Hostname != "dev-1" || got.Provenance["hostname"].Kind != inventory.SourceEdited {
		t.Errorf("after keep: hostname %q, provenance %+v", got.Hostname, got.Provenance["hostname"])
	}
	if n := len(openConflicts(got)); n != 0 {
		t.Errorf("open conflicts after both decisions: %d", n)
	}
	if list := c.get("/devices?conflicts=open"); !strings.Contains(list.Body, "No devices match") {
		t.Error("conflict list still shows the device after both decisions")
	}
	page = c.get(fmt.Sprintf("/devices/%d?flash=resolved", d.ID))
	if !strings.Contains(page.Body, "No open conflicts") || !strings.Contains(page.Body, "user:clinical-engineer") {
		t.Error("device page does not show the resolution")
	}
	// a newer observation reopens the kept field
	got.Observed["hostname"] = inventory.Observation{Value: "pump-icu-7", Source: "sensor-icu-1", At: e.clock.Now().Add(time.Hour)}
	if n := len(openConflicts(got)); n != 1 {
		t.Errorf("newer observation: %d open conflicts, want 1", n)
	}
	if res := c.post(path, url.Values{"field": {"version"}, "action": {"accept"}, "revision": {fmt.Sprint(got.Revision)}}); res.Code != http.StatusConflict {
		t.Errorf("resolving a closed conflict = %d, want 409", res.Code)
	}
}

func TestImportWithErrorsShowsReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	c := e.signedIn(auth.Analyst)
	c.get("/imports")
	broken, err := os.ReadFile("testdata/broken.csv")
	if err != nil {
		t.Fatal(err)
	}
	res := c.upload("/imports", "broken.csv", broken, nil)
	if res.Code != http.StatusSeeOther || !strings.HasPrefix(res.Location, "/imports/") {
		t.Fatalf("upload = %d → %q", res.Code, res.Location)
	}
	id := strings.TrimPrefix(res.Location, "/imports/")
	e.waitJob(id)
	page := c.get(res.Location)
	for _, want := range []string{"Rejected — nothing was written", "Problems to fix", "<td>3</td>", "00:09:fb:00:00:0G", "errors.csv"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("import report lacks %q", want)
		}
	}
	if n, _ := e.st.CountDevices(context.Background()); n != 0 {
		t.Errorf("a rejected import wrote %d devices", n)
	}
	rep := c.get(res.Location + "/errors.csv")
	if !strings.HasPrefix(rep.Body, "file,line,column,value,reason\n") || strings.Count(rep.Body, "\n") < 5 {
		t.Errorf("errors.csv:\n%s", rep.Body)
	}
	// SSE stream of a finished job ends with a done event
	ev := c.get(res.Location + "/events")
	if ev.Header.Get("Content-Type") != "text/event-stream" || !strings.Contains(ev.Body, "event: done\ndata: {\"done\":true") {
		t.Errorf("events = %q", ev.Body)
	}
	// the good CMMS export imports
	cmms, _ := os.ReadFile("testdata/cmms_export.csv")
	res = c.upload("/imports", "cmms_export.csv", cmms, nil)
	e.waitJob(strings.TrimPrefix(res.Location, "/imports/"))
	if page := c.get(res.Location); !strings.Contains(page.Body, "Imported") {
		t.Errorf("good import page:\n%s", page.Body)
	}
	if n, _ := e.st.CountDevices(context.Background()); n != 4 {
		t.Errorf("after the CMMS import: %d devices, want 4", n)
	}
	if list := c.get("/imports"); !strings.Contains(list.Body, "cmms_export.csv") || !strings.Contains(list.Body, "rejected") {
		t.Error("imports page does not list both imports")
	}
}

func TestUploadTooLargeWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0, func(d *Deps) { d.MaxUploadBytes = 4 << 10 })
	c := e.signedIn(auth.Admin)
	c.get("/imports")
	big := []byte("asset_id,vendor\n" + strings.Repeat("A-1,Philips\n", 1000))
	res := c.upload("/imports", "big.csv", big, nil)
	if res.Code != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body, "Nothing was written") {
		t.Errorf("oversized upload = %d", res.Code)
	}
	if n, _ := e.st.CountDevices(context.Background()); n != 0 || len(e.h.jobs.recent()) != 0 {
		t.Errorf("oversized upload left %d devices and %d jobs", n, len(e.h.jobs.recent()))
	}
	// any other form is bounded too
	if res := c.post("/views", url.Values{"name": {strings.Repeat("x", 70<<10)}}); res.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB form = %d, want 413", res.Code)
	}
}

func TestUploadFileNameTricks(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"../../etc/passwd":              "passwd",
		`C:\Users\bio\inventory.csv`:    "inventory.csv",
		"/abs/path/fleet.json":          "fleet.json",
		"..":                            "upload",
		"":                              "upload",
		".hidden.csv":                   "hidden.csv",
		"evil\u202egpj.csv":             "evilgpj.csv",
		"new\nline.csv":                 "newline.csv",
		"inventory 2026-11 (final).csv": "inventory 2026-11 (final).csv",
	}
	for in, want := range tests {
		if got := cleanFileName(in); got != want {
			t.Errorf("cleanFileName(%q) = %q, want %q", in, got, want)
		}
	}
	e := newEnv(t, 0)
	c := e.signedIn(auth.Analyst)
	c.get("/imports")
	cmms, _ := os.ReadFile("testdata/cmms_export.csv")
	res := c.upload("/imports", "../../../../tmp/x/../cmms.csv", cmms, nil)
	id := strings.TrimPrefix(res.Location, "/imports/")
	e.waitJob(id)
	if v := e.h.jobs.get(id).view(); v.Name != "cmms.csv" || v.Error != "" {
		t.Errorf("job name %q, error %q", v.Name, v.Error)
	}
	d, err := e.st.GetDeviceByAssetID(context.Background(), "40012")
	if err != nil {
		t.Fatal(err)
	}
	if src := d.Provenance["vendor"].Source; src != "cmms.csv" {
		t.Errorf("provenance source %q, want the cleaned name", src)
	}
	if left, _ := os.ReadDir(e.h.tempDir); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 12)
	c := e.signedIn(auth.Viewer)
	res := c.get("/")
	if res.Code != http.StatusOK {
		t.Fatalf("GET / = %d", res.Code)
	}
	for _, want := range []string{
		`<span class="big">12</span><span>devices in the inventory</span>`,
		`href="/devices?criticality=diagnostic"`, // every bar is a link to its devices
		`href="/devices?site=North+Campus"`,
		"No matching run has been stored yet", // risk, KEV, findings: empty state, no invented numbers
		"<svg class=\"chart\"",
	} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	// EOS of Sample is 2027-03-31: after it every device is past support
	e.clock.Add(200 * 24 * time.Hour)
	c = e.signedIn(auth.Viewer)
	if res := c.get("/"); !strings.Contains(res.Body, `<span class="big">12</span><span>past end of support`) {
		t.Error("past end of support tile does not count 12")
	}
}

func TestEnsureAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pw, err := EnsureAdmin(ctx, st, fastParams)
	if err != nil || auth.ValidatePassword(pw, FirstAdmin) != nil {
		t.Fatalf("first start: password %q, %v", pw, err)
	}
	u, err := st.GetUserByName(ctx, FirstAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := auth.VerifyPassword(u.PasswordHash, pw, fastParams); !ok || u.Role != "admin" || !u.MustChangePassword {
		t.Errorf("first admin %+v: password ok=%v; want admin role and must-change", u, ok)
	}
	if again, err := EnsureAdmin(ctx, st, fastParams); err != nil || again != "" {
		t.Errorf("second start: %q, %v; want nothing done", again, err)
	}
	if n, _ := st.CountUsers(ctx); n != 1 {
		t.Errorf("%d users after two starts, want 1", n)
	}
}

// TestImportProgressEvents follows a running import over server-sent
// events: progress events while it runs, then one done event.
func TestImportProgressEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	c := e.signedIn(auth.Viewer)
	j := &job{ID: "0123456789abcdef", Name: "fleet.csv", User: "analyst", Size: 1000, Started: e.clock.Now(), done: make(chan struct{})}
	j.read.Store(250)
	j.progress = importer.Result{Records: 500, Created: 480, Updated: 15, Unchanged: 5}
	e.h.jobs.add(j)
	page := c.get("/imports/" + j.ID)
	for _, want := range []string{`data-events="/imports/0123456789abcdef/events"`, `<progress id="import-bar" max="100" value="25">`, `http-equiv="refresh"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("running import page lacks %q", want)
		}
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/imports/"+j.ID+"/events", nil)
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	readEvent := func() (string, string) {
		var name, data string
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("read event stream: %v", err)
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "":
				return name, data
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			}
		}
	}
	name, data := readEvent()
	if name != "progress" || data != `{"done":false,"percent":25,"records":500,"created":480,"updated":15,"unchanged":5,"invalid":0}` {
		t.Errorf("first event %s %s", name, data)
	}
	j.mu.Lock()
	j.result = &importer.Result{File: "fleet.csv", Records: 900, Created: 880, Updated: 15, Unchanged: 5, Written: true}
	j.progress = *j.result
	j.mu.Unlock()
	close(j.done)
	for i := 0; i < 5; i++ {
		if name, data = readEvent(); name == "done" {
			break
		}
	}
	if name != "done" || data != `{"done":true,"percent":100,"records":900,"created":880,"updated":15,"unchanged":5,"invalid":0}` {
		t.Errorf("last event %s %s", name, data)
	}
}
