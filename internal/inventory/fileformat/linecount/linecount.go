// Package linecount tells which line a byte offset of a stream is on, for
// decoders (encoding/json) that only report byte offsets. It keeps only the
// newline positions not yet asked about, so memory stays bounded by the
// decoder's read-ahead.
package linecount

import "io"

// Reader counts newlines in what is read through it.
type Reader struct {
	r      io.Reader
	off    int64   // bytes read so far
	nls    []int64 // offsets of newlines not yet passed
	passed int     // newlines before nls[0]
}

// New wraps r.
func New(r io.Reader) *Reader { return &Reader{r: r} }

func (c *Reader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			c.nls = append(c.nls, c.off+int64(i))
		}
	}
	c.off += int64(n)
	return n, err
}

// LineAt returns the 1-based line of byte offset off. Offsets must not go
// backwards between calls; an earlier offset gets the line of the latest.
func (c *Reader) LineAt(off int64) int {
	k := 0
	for k < len(c.nls) && c.nls[k] < off {
		k++
	}
	c.passed += k
	c.nls = c.nls[k:]
	if len(c.nls) == 0 {
		c.nls = nil // let the backing array go
	}
	return c.passed + 1
}
