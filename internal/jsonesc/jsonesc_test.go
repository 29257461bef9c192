package jsonesc

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// encodingJSON126 reports whether this toolchain's encoding/json escapes
// as Go 1.26's does (the reference the package reproduces).
func encodingJSON126() bool {
	return strings.HasPrefix(runtime.Version(), "go1.26")
}

var cases = []string{
	"", "plain ASCII", "Dräger Infinity Delta – Intensivstation", "<script>&amp;</script>",
	"\"quoted\" \\ back", "\b\f\n\r\t\x00\x01\x1f\x7f", "\u2028\u2029", "\xff\xfe bad \xc3", "😀 \U0010FFFF",
	"\xed\xa0\x80 surrogate half", "\xf4\x90\x80\x80 beyond U+10FFFF",
}

// TestAppendFixedBytes pins the bytes, whatever the toolchain.
func TestAppendFixedBytes(t *testing.T) {
	for in, want := range map[string]string{
		"a<b>&c":       `"a\u003cb\u003e\u0026c"`,
		"\xff":         `"\ufffd"`,
		"x\u2028y":     `"x\u2028y"`,
		"\b\f\x00\x1f": `"\b\f\u0000\u001f"`,
		"é\"\\":        `"é\"\\"`,
		"\x7f":         "\"\x7f\"",
	} {
		if got := string(Append(nil, in)); got != want {
			t.Errorf("Append(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestAppendMatchesEncodingJSON: on Go 1.26, the same bytes as
// encoding/json.
func TestAppendMatchesEncodingJSON(t *testing.T) {
	if !encodingJSON126() {
		t.Skipf("encoding/json of %s is not the reference (Go 1.26)", runtime.Version())
	}
	for _, s := range cases {
		checkSame(t, s)
	}
}

func checkSame(t *testing.T, s string) {
	t.Helper()
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := Append(nil, s); string(got) != string(want) {
		t.Fatalf("Append(%q) = %s, encoding/json %s", s, got, want)
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range cases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Append(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("Append(%q) = %s is not JSON: %v", s, out, err)
		}
		if encodingJSON126() {
			checkSame(t, s)
		}
	})
}
