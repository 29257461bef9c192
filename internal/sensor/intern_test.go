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

// TestMACString: macString gives formatMAC's text for every MAC, through
// the direct-mapped cache and the map, with MACs that share cache slots
// (a slot holds the last one), and one copy per MAC while the map has
// room.
func TestMACString(t *testing.T) {
	s := New(Config{})
	macs := make([][6]byte, 0, 5000)
	for i := range 5000 {
		macs = append(macs, [6]byte{0, 0x1b, byte(i >> 16), byte(i >> 8), byte(i), byte(i * 7)})
	}
	first := map[[6]byte]string{}
	for round := range 3 {
		for _, m := range macs {
			got := s.macString(m)
			if want := formatMAC(m); got != want {
				t.Fatalf("round %d: macString(%x) = %q, want %q", round, m, got, want)
			}
			if f, ok := first[m]; ok && unsafe.StringData(f) != unsafe.StringData(got) {
				t.Fatalf("round %d: %x: two copies of its text", round, m)
			}
			first[m] = got
		}
	}
	hits := 0
	for i := range s.macCache {
		if s.macCache[i].id != 0 {
			hits++
		}
	}
	if hits < len(s.macCache)/2 {
		t.Errorf("only %d of %d cache slots used: the index spreads MACs badly", hits, len(s.macCache))
	}
}
