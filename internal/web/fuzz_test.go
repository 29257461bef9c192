package web

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzCleanFileName: whatever name a client sends, the result is one
// path element without separators, control or bidi characters.
func FuzzCleanFileName(f *testing.F) {
	for _, s := range []string{"../../etc/passwd", `C:\x\y.csv`, "inventory.csv", "..", "", "a\u202eb", "\x00.csv", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := cleanFileName(in)
		if got == "" || strings.ContainsAny(got, "/\\") || got == "." || got == ".." || strings.HasPrefix(got, ".") {
			t.Fatalf("cleanFileName(%q) = %q", in, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
				t.Fatalf("cleanFileName(%q) = %q keeps %U", in, got, r)
			}
		}
		if utf8.RuneCountInString(got) > 120 {
			t.Fatalf("cleanFileName(%q) is %d runes", in, utf8.RuneCountInString(got))
		}
	})
}

// FuzzSafeNext: a post-login redirect never leaves the site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/devices?site=A", "//evil", "/\\evil", "https://evil", "/login", "/%0d%0a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := safeNext(in)
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\r\n\\") {
			t.Fatalf("safeNext(%q) = %q leaves the site", in, got)
		}
	})
}

// FuzzListQuery: any device-list URL query maps to a store query without
// panicking, and keep() only passes known parameters.
func FuzzListQuery(f *testing.F) {
	for _, s := range []string{"site=North&sort=-criticality&limit=100", "q=%3Cscript%3E&cursor=abc&back=-.x", "limit=-1&eos_before=2026-01-01", "criticality=unknown", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, _ := listQuery(v)
		if q.Limit < 1 || q.Limit > 200 {
			t.Fatalf("listQuery(%q) limit %d", raw, q.Limit)
		}
		for k := range keep(v) {
			if k == "cursor" || k == "back" || k == "flash" {
				t.Fatalf("keep(%q) passes paging parameter %q", raw, k)
			}
		}
		if len(splitBack(v.Get("back"))) > maxBack {
			t.Fatalf("splitBack keeps more than %d cursors", maxBack)
		}
	})
}
