package sensor

import (
	"fmt"
	"testing"
	"unsafe"
)

// TestInternText: text returns a copy equal to its argument that does not
// share the caller's bytes, and one canonical copy per text, below the
// bound of byText (its own copies) and beyond it (unique.Make's).
func TestInternText(t *testing.T) {
	var c internCache
	buf := []byte("printer-3.local")
	v := unsafe.String(&buf[0], len(buf))
	a := c.text(v)
	if a != "printer-3.local" || unsafe.StringData(a) == &buf[0] {
		t.Fatalf("text = %q sharing the caller's bytes: %v", a, unsafe.StringData(a) == &buf[0])
	}
	buf[0] = 'X'
	if a != "printer-3.local" {
		t.Fatalf("the interned text changed with the caller's bytes: %q", a)
	}
	if b := c.text("printer-3.local"); unsafe.StringData(b) != unsafe.StringData(a) {
		t.Fatal("two copies of one text below the bound")
	}
	for i := len(c.byText); i < maxInternText+10; i++ {
		c.text(fmt.Sprint("v", i))
	}
	if len(c.byText) != maxInternText {
		t.Fatalf("byText holds %d strings, bound %d", len(c.byText), maxInternText)
	}
	x, y := c.text(fmt.Sprint("beyond", 1)), c.text(fmt.Sprint("beyond", 1))
	if x != "beyond1" || unsafe.StringData(x) != unsafe.StringData(y) {
		t.Fatalf("beyond the bound: %q and %q are not one copy", x, y)
	}
	if c.text("") != "" || c.intern("") != "" {
		t.Fatal("empty text")
	}
}
