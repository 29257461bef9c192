package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Limits and defaults of fetching.
const (
	DefaultMaxDocument = 32 << 20  // one advisory or index
	DefaultMaxFeedFile = 512 << 20 // KEV, EPSS, NVD files
	DefaultTimeout     = 60 * time.Second
	maxRedirects       = 5
)

// ErrAbsent is returned for a location that does not exist (HTTP 404, no such file).
var ErrAbsent = errors.New("does not exist")

// ErrHostNotAllowed is returned for a URL whose host is not on the allow-list.
var ErrHostNotAllowed = errors.New("host not on the allow-list (--allow-host)")

// fetcher reads locations: http(s) URLs (allow-listed hosts only) or local
// paths. A local provider tree is a mirror: URLs under mirrorURL are read
// from files under mirrorDir.
type fetcher struct {
	client    *http.Client
	allow     map[string]bool
	mirrorURL string
	mirrorDir string
	maxDoc    int64
}

func newFetcher(client *http.Client, allowHosts []string, allowNets []netip.Prefix, maxDoc int64) *fetcher {
	f := &fetcher{allow: map[string]bool{}, maxDoc: maxDoc}
	for _, h := range allowHosts {
		f.allow[strings.ToLower(strings.TrimSpace(h))] = true
	}
	if client == nil {
		client = &http.Client{
			Timeout: DefaultTimeout,
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           (&net.Dialer{Timeout: 15 * time.Second, Control: destinationGuard(allowHosts, allowNets)}).DialContext, // ssrf.go
				TLSHandshakeTimeout:   15 * time.Second,
				ResponseHeaderTimeout: 30 * time.Second,
				MaxIdleConnsPerHost:   4,
			},
		}
	}
	c := *client
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("more than %d redirects", maxRedirects)
		}
		if !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			return fmt.Errorf("redirect from %s to another host %s refused", via[0].URL.Host, req.URL.Host)
		}
		if req.URL.Scheme != via[0].URL.Scheme && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to %s refused (downgrade)", req.URL.Scheme)
		}
		return nil
	}
	f.client = &c
	return f
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// checkURL parses u and checks it may be fetched.
func (f *fetcher) checkURL(u string) (*url.URL, error) {
	p, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("url %q: %w", u, err)
	}
	if p.Scheme != "https" && p.Scheme != "http" {
		return nil, fmt.Errorf("url %q: scheme must be http or https", u)
	}
	if p.User != nil {
		return nil, fmt.Errorf("url %q: credentials in URLs are refused", u)
	}
	if !f.allow[strings.ToLower(p.Hostname())] && !f.allow[strings.ToLower(p.Host)] {
		return nil, fmt.Errorf("url %s: %s: %w", u, p.Host, ErrHostNotAllowed)
	}
	return p, nil
}

// get reads a location, at most limit bytes (f.maxDoc when ≤ 0).
func (f *fetcher) get(ctx context.Context, loc string, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = f.maxDoc
	}
	if f.mirrorURL != "" && strings.HasPrefix(loc, f.mirrorURL) {
		rel := strings.TrimPrefix(loc, f.mirrorURL)
		if err := checkMirrorPath(rel); err != nil {
			return nil, fmt.Errorf("%s: %w", loc, err)
		}
		return readFile(filepath.Join(f.mirrorDir, filepath.FromSlash(rel)), limit)
	}
	if !isURL(loc) {
		return readFile(loc, limit)
	}
	if _, err := f.checkURL(loc); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", loc, err)
	}
	req.Header.Set("User-Agent", "medwarden-feeds")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", loc, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("get %s: %w", loc, ErrAbsent)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("get %s: HTTP %s", loc, resp.Status)
	case resp.ContentLength > limit:
		return nil, fmt.Errorf("get %s: %d bytes, more than the limit of %d", loc, resp.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", loc, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("get %s: more than the limit of %d bytes", loc, limit)
	}
	return b, nil
}

func checkMirrorPath(rel string) error {
	for _, seg := range strings.Split(rel, "/") {
		if seg == ".." {
			return fmt.Errorf("path %q leaves the mirror", rel)
		}
	}
	if strings.Contains(rel, "\\") || strings.Contains(rel, "?") || strings.Contains(rel, "#") {
		return fmt.Errorf("path %q is not a plain file path", rel)
	}
	return nil
}

func readFile(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", path, ErrAbsent)
		}
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than the limit of %d bytes", path, limit)
	}
	return b, nil
}

// resolve resolves ref against the location base.
func resolve(base, ref string) (string, error) {
	if isURL(ref) {
		return ref, nil
	}
	if isURL(base) {
		b, err := url.Parse(base)
		if err != nil {
			return "", err
		}
		r, err := url.Parse(ref)
		if err != nil {
			return "", fmt.Errorf("url %q: %w", ref, err)
		}
		return b.ResolveReference(r).String(), nil
	}
	if filepath.IsAbs(ref) {
		return ref, nil
	}
	return filepath.Join(filepath.Dir(base), filepath.FromSlash(ref)), nil
}
