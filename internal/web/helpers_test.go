package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medwarden/medwarden/internal/auth"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/store/sqlite"
	"github.com/medwarden/medwarden/internal/store/storetest"
)

// fastParams keep tests quick; production uses auth.DefaultParams.
var fastParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testPassword is every test account's password.
const testPassword = "correct horse battery staple"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     testing.TB
	st    store.Store
	h     *Handler
	srv   *httptest.Server
	clock *clock
	users map[auth.Role]*store.User
}

type envOpt func(*Deps)

// newEnv starts a console on a fresh SQLite store with n sample devices and
// one user per role (named after the role).
func newEnv(t testing.TB, n int, opts ...envOpt) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if n > 0 {
		ds := make([]*inventory.Device, n)
		for i := range ds {
			ds[i] = storetest.Sample(i)
		}
		if err := st.Import(ctx, func(tx store.ImportTx) error { return tx.Insert(ctx, ds) }); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, st: st, clock: &clock{t: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)}, users: map[auth.Role]*store.User{}}
	hash, err := auth.HashPassword(testPassword, fastParams)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range auth.Roles {
		u := &store.User{Username: string(r), Role: string(r), PasswordHash: hash}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		e.users[r] = u
	}
	d := Deps{Store: st, Params: fastParams, Now: e.clock.Now, TempDir: t.TempDir()}
	for _, o := range opts {
		o(&d)
	}
	h, err := New(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	e.h = h
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// client is a browser-like HTTP client with a cookie jar that does not
// follow redirects.
type client struct {
	e    *env
	http *http.Client
	csrf string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

type resp struct {
	Code     int
	Body     string
	Header   http.Header
	Location string
}

func (c *client) do(req *http.Request) resp {
	c.e.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := resp{Code: res.StatusCode, Body: string(b), Header: res.Header, Location: res.Header.Get("Location")}
	if m := csrfRE.FindStringSubmatch(r.Body); m != nil {
		c.csrf = m[1]
	}
	return r
}

func (c *client) get(path string) resp {
	req, _ := http.NewRequest("GET", c.e.srv.URL+path, nil)
	return c.do(req)
}

// post sends a form; the session's CSRF token is added unless the form has one.
func (c *client) post(path string, form url.Values) resp {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf)
	}
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) upload(path, filename string, content []byte, fields url.Values) resp {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if _, ok := fields["csrf"]; !ok {
		mw.WriteField("csrf", c.csrf)
	}
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, _ := mw.CreateFormFile("file", filename)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

func (c *client) login(user, password string) resp {
	c.e.t.Helper()
	if r := c.get("/login"); r.Code != http.StatusOK {
		c.e.t.Fatalf("GET /login = %d", r.Code)
	}
	return c.post("/login", url.Values{"username": {user}, "password": {password}})
}

// signedIn returns a client signed in as the user of role r, holding a
// session CSRF token.
func (e *env) signedIn(r auth.Role) *client {
	e.t.Helper()
	c := e.client()
	if res := c.login(string(r), testPassword); res.Code != http.StatusSeeOther {
		e.t.Fatalf("login as %s = %d:\n%s", r, res.Code, res.Body)
	}
	if res := c.get("/account/password"); res.Code != http.StatusOK {
		e.t.Fatalf("GET /account/password as %s = %d", r, res.Code)
	}
	return c
}

// waitJob waits until the import job id finishes.
func (e *env) waitJob(id string) {
	e.t.Helper()
	j := e.h.jobs.get(id)
	if j == nil {
		e.t.Fatalf("no import job %q", id)
	}
	select {
	case <-j.done:
	case <-time.After(30 * time.Second):
		e.t.Fatalf("import %s did not finish", id)
	}
}
