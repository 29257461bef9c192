package linecount

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestLineAt(t *testing.T) {
	const text = "ab\ncd\n\nef\ng"
	for _, name := range []string{"whole", "byte-wise"} {
		t.Run(name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(text)
			if name == "byte-wise" {
				r = iotest.OneByteReader(r)
			}
			c := New(r)
			if _, err := io.ReadAll(c); err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				off  int64
				want int
			}{{0, 1}, {2, 1}, {3, 2}, {6, 3}, {7, 4}, {10, 5}, {11, 5}} {
				if got := c.LineAt(tt.off); got != tt.want {
					t.Errorf("LineAt(%d) = %d, want %d", tt.off, got, tt.want)
				}
			}
		})
	}
}
