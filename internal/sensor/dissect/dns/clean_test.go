package dns

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzClean: the fast path of clean (printable ASCII kept as it is) gives
// what the full cleaning gives.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "host.local", "a\x00b", "ünï", "\xff\xfe", strings.Repeat("x", maxValue+3), "tab\there", "del\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ToValidUTF8(s, "")
		want = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, want)
		if len(want) > maxValue {
			want = want[:maxValue]
			for len(want) > 0 && !utf8.ValidString(want) {
				want = want[:len(want)-1]
			}
		}
		if got := clean(s); got != want {
			t.Errorf("clean(%q) = %q, want %q", s, got, want)
		}
	})
}
