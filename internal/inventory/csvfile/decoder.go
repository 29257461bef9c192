// Package csvfile reads and writes device inventories as CSV: the canonical
// MedWarden columns and the column names of typical CMMS and asset-register
// exports, in UTF-8 (with or without BOM) or UTF-16 (Excel "Unicode text"),
// separated by commas, semicolons or tabs. Decoding streams in constant
// memory and reports each bad record as an *inventory.InputError.
package csvfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/fileformat/fieldvalue"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Limits that keep a hostile or broken file from eating memory.
const (
	MaxLineBytes  = 1 << 20  // one physical line
	MaxFieldBytes = 64 << 10 // one field, quoted or not
)

var errLineTooLong = errors.New("line too long")

// Encoding names the text encoding a decoder detected.
type Encoding string

// Detected encodings.
const (
	UTF8    Encoding = "utf-8"
	UTF8BOM Encoding = "utf-8-bom"
	UTF16LE Encoding = "utf-16le"
	UTF16BE Encoding = "utf-16be"
)

type pendingLine struct {
	b []byte
	n int
}

// Decoder streams devices out of a CSV file. It implements
// inventory.Decoder.
type Decoder struct {
	name     string
	br       *bufio.Reader
	enc      Encoding
	delim    byte
	line     int // number of the last physical line read
	pending  []pendingLine
	header   []string
	cols     columnMap
	kinds    []fieldvalue.Kind // per column
	recStr   string            // the current record's fields, concatenated
	last     int               // first line of the last record returned
	slab     *fieldvalue.Slab  // devices are allocated 32 at a time
	long     []byte            // accumulates a line longer than the bufio buffer
	rec      []byte            // unescaped field bytes of a quoted record
	ends     []int             // field end offsets into rec
	raw      [][]byte
	fields   []string
	eof      bool
	warnings []string
}

var _ inventory.Decoder = (*Decoder)(nil)

// NewDecoder reads the header of a CSV file and returns a decoder for its
// records. name is used in errors. A header the decoder cannot use (no
// identity column, duplicate columns, empty file) is an *inventory.InputError.
func NewDecoder(r io.Reader, name string) (*Decoder, error) {
	d := &Decoder{name: name, slab: fieldvalue.NewSlab(32)}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		d.enc = UTF8BOM
		_, _ = br.Discard(3)
		d.br = br
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		d.enc = UTF16LE
		d.br = bufio.NewReaderSize(transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()), 64<<10)
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		d.enc = UTF16BE
		d.br = bufio.NewReaderSize(transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()), 64<<10)
	case len(head) >= 2 && head[0] != 0 && head[1] == 0:
		d.enc = UTF16LE
		d.br = bufio.NewReaderSize(transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()), 64<<10)
	case len(head) >= 2 && head[0] == 0 && head[1] != 0:
		d.enc = UTF16BE
		d.br = bufio.NewReaderSize(transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()), 64<<10)
	default:
		d.enc = UTF8
		d.br = br
	}
	if err := d.readHeader(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Decoder) headerErr(line int, format string, args ...any) error {
	return &inventory.InputError{File: d.name, Line: line, Reason: "csv header: " + fmt.Sprintf(format, args...)}
}

func (d *Decoder) readHeader() error {
	var first []byte
	for {
		l, err := d.readLine()
		if errors.Is(err, errLineTooLong) {
			return d.headerErr(d.line, "line is longer than %d bytes", MaxLineBytes)
		}
		if err == io.EOF {
			return d.headerErr(0, "file is empty: no header line")
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", d.name, err)
		}
		l = bytes.TrimPrefix(l, []byte("\uFEFF"))
		if len(bytes.TrimSpace(l)) == 0 {
			continue // blank lines before the header
		}
		// Excel's "sep=;" hint line.
		if s := bytes.TrimSpace(l); len(s) == 5 && bytes.EqualFold(s[:4], []byte("sep=")) && d.delim == 0 {
			d.delim = s[4]
			continue
		}
		first = append([]byte(nil), l...)
		break
	}
	if d.delim == 0 {
		d.delim = detectDelim(first)
	}
	hline := d.line
	d.pending = append(d.pending, pendingLine{b: first, n: hline})
	fields, _, err := d.readRecord()
	if err != nil {
		if ie, ok := inventory.AsInputError(err); ok {
			ie.Reason = "csv header: " + ie.Reason
			return ie
		}
		return err
	}
	if !utf8.ValidString(strings.Join(fields, "")) {
		return d.headerErr(hline, "invalid UTF-8 (save the file as UTF-8 or UTF-16)")
	}
	d.header = make([]string, len(fields))
	for i, f := range fields {
		d.header[i] = strings.TrimSpace(f)
	}
	cm, err := mapHeader(d.header)
	if err != nil {
		return d.headerErr(hline, "%v", err)
	}
	d.cols = cm
	d.kinds = make([]fieldvalue.Kind, len(cm.fields))
	for i, f := range cm.fields {
		if f != "" {
			d.kinds[i], _ = fieldvalue.KindOf(f)
		}
	}
	d.warnings = append(d.warnings, cm.warnings...)
	return nil
}

// detectDelim picks ',', ';' or TAB: whichever occurs most often outside
// quotes in the header line (comma on a tie or when none occurs).
func detectDelim(line []byte) byte {
	var n [3]int
	inq := false
	for _, c := range line {
		switch c {
		case '"':
			inq = !inq
		case ',':
			if !inq {
				n[0]++
			}
		case ';':
			if !inq {
				n[1]++
			}
		case '\t':
			if !inq {
				n[2]++
			}
		}
	}
	switch {
	case n[2] > n[0] && n[2] >= n[1]:
		return '\t'
	case n[1] > n[0]:
		return ';'
	}
	return ','
}

// Line returns the physical line where the last record returned by Next
// starts (also for a record returned as an error).
func (d *Decoder) Line() int { return d.last }

// Encoding returns the text encoding found at the start of the file.
func (d *Decoder) Encoding() Encoding { return d.enc }

// Delimiter returns the field separator found in the header.
func (d *Decoder) Delimiter() byte { return d.delim }

// Header returns the column names as written in the file.
func (d *Decoder) Header() []string { return d.header }

// Fields returns, per column, the canonical field it feeds ("" when the
// column is ignored).
func (d *Decoder) Fields() []string { return d.cols.fields }

// Warnings returns the problems that did not stop decoding: ignored unknown
// columns and columns that lost to a better alias for the same field.
func (d *Decoder) Warnings() []string { return d.warnings }

// readLine returns the next physical line without its line ending. The
// slice is valid until the next call. A line longer than MaxLineBytes is
// skipped up to its end and reported as errLineTooLong.
func (d *Decoder) readLine() ([]byte, error) {
	if len(d.pending) > 0 {
		p := d.pending[0]
		d.pending = d.pending[1:]
		d.line = p.n
		return p.b, nil
	}
	if d.eof {
		return nil, io.EOF
	}
	l, err := d.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		d.long = append(d.long[:0], l...)
		for err == bufio.ErrBufferFull {
			l, err = d.br.ReadSlice('\n')
			if len(d.long)+len(l) > MaxLineBytes+2 {
				// Skip to the end of the line without keeping it.
				for err == bufio.ErrBufferFull {
					_, err = d.br.ReadSlice('\n')
				}
				d.line++
				if err == io.EOF {
					d.eof = true
				} else if err != nil {
					return nil, err
				}
				return nil, errLineTooLong
			}
			d.long = append(d.long, l...)
		}
		l = d.long
	}
	if err == io.EOF {
		d.eof = true
		if len(l) == 0 {
			return nil, io.EOF
		}
	} else if err != nil {
		return nil, err
	}
	d.line++
	l = bytes.TrimSuffix(l, []byte{'\n'})
	l = bytes.TrimSuffix(l, []byte{'\r'})
	if len(l) > MaxLineBytes {
		return nil, errLineTooLong
	}
	return l, nil
}

func (d *Decoder) colName(i int) string {
	if i < len(d.header) {
		return d.header[i]
	}
	return fmt.Sprintf("#%d", i+1)
}

func (d *Decoder) rowErr(line, col int, value, format string, args ...any) *inventory.InputError {
	e := &inventory.InputError{File: d.name, Line: line, Value: value, Reason: fmt.Sprintf(format, args...)}
	if col >= 0 {
		e.Column = d.colName(col)
	}
	return e
}

// readRecord splits the next record into fields, reading more physical
// lines while a quoted field is open. It returns the physical line where
// the record starts. Field strings share one allocation per record.
func (d *Decoder) readRecord() ([]string, int, error) {
	var line []byte
	var err error
	for {
		line, err = d.readLine()
		if errors.Is(err, errLineTooLong) {
			return nil, d.line, d.rowErr(d.line, -1, "", "line is longer than %d bytes; skipped", MaxLineBytes)
		}
		if err != nil {
			return nil, d.line, err
		}
		if len(line) > 0 {
			break
		}
	}
	start := d.line
	d.fields = d.fields[:0]
	if bytes.IndexByte(line, '"') < 0 {
		s := string(line)
		d.recStr = s
		for {
			i := strings.IndexByte(s, d.delim)
			f := s
			if i >= 0 {
				f = s[:i]
			}
			if len(f) > MaxFieldBytes {
				return nil, start, d.rowErr(start, len(d.fields), "", "field is longer than %d bytes", MaxFieldBytes)
			}
			d.fields = append(d.fields, f)
			if i < 0 {
				break
			}
			s = s[i+1:]
		}
		return d.fields, start, nil
	}
	return d.readQuoted(line, start)
}

// readQuoted is the slow path for records with quotes. On an unclosed quote
// the lines after the record's first line are handed back to be read again,
// so one stray quote costs one record, not the rest of the file.
func (d *Decoder) readQuoted(line []byte, start int) ([]string, int, error) {
	d.rec = d.rec[:0]
	d.ends = d.ends[:0]
	d.raw = d.raw[:0]
	d.raw = append(d.raw, line) // copied before the next read; see below
	copied := false
	rewind := func() {
		if len(d.raw) > 1 {
			p := make([]pendingLine, 0, len(d.raw)-1+len(d.pending))
			for k, b := range d.raw[1:] {
				p = append(p, pendingLine{b: b, n: start + 1 + k})
			}
			d.pending = append(p, d.pending...)
		}
	}
	i := 0
	for {
		col := len(d.ends)
		fstart := len(d.rec)
		k := i
		for k < len(line) && line[k] == ' ' {
			k++
		}
		if k < len(line) && line[k] == '"' {
			i = k + 1
			for {
				j := bytes.IndexByte(line[i:], '"')
				if j < 0 {
					d.rec = append(d.rec, line[i:]...)
					if len(d.rec)-fstart > MaxFieldBytes {
						rewind()
						return nil, start, d.rowErr(start, col, "", "quoted field is longer than %d bytes: is a closing quote missing?", MaxFieldBytes)
					}
					if !copied {
						d.raw[0] = append([]byte(nil), d.raw[0]...)
						copied = true
					}
					next, err := d.readLine()
					if err == io.EOF {
						rewind()
						return nil, start, d.rowErr(start, col, "", "quoted field is not closed before the end of the file (truncated file or missing quote)")
					}
					if errors.Is(err, errLineTooLong) {
						rewind()
						return nil, start, d.rowErr(start, col, "", "quoted field runs into a line longer than %d bytes at line %d: is a closing quote missing?", MaxLineBytes, d.line)
					}
					if err != nil {
						return nil, start, err
					}
					d.raw = append(d.raw, append([]byte(nil), next...))
					d.rec = append(d.rec, '\n')
					line = d.raw[len(d.raw)-1]
					i = 0
					continue
				}
				d.rec = append(d.rec, line[i:i+j]...)
				i += j + 1
				if i < len(line) && line[i] == '"' {
					d.rec = append(d.rec, '"')
					i++
					continue
				}
				break
			}
			if len(d.rec)-fstart > MaxFieldBytes {
				return nil, start, d.rowErr(start, col, "", "field is longer than %d bytes", MaxFieldBytes)
			}
			// After the closing quote: optional spaces, then a delimiter or the end.
			for i < len(line) && (line[i] == ' ' || line[i] == '\t') && line[i] != d.delim {
				i++
			}
			if i < len(line) && line[i] != d.delim {
				rest := line[i:]
				if len(rest) > 40 {
					rest = rest[:40]
				}
				return nil, start, d.rowErr(start, col, string(rest), "text after the closing quote of a quoted field (a quote inside a field must be doubled: \"\")")
			}
		} else {
			j := bytes.IndexByte(line[i:], d.delim)
			f := line[i:]
			if j >= 0 {
				f = line[i : i+j]
			}
			if q := bytes.IndexByte(f, '"'); q >= 0 {
				return nil, start, d.rowErr(start, col, string(f), "bare quote in an unquoted field (quote the field and double the quote: \"12\"\" screen\")")
			}
			if len(f) > MaxFieldBytes {
				return nil, start, d.rowErr(start, col, "", "field is longer than %d bytes", MaxFieldBytes)
			}
			d.rec = append(d.rec, f...)
			i += len(f)
		}
		d.ends = append(d.ends, len(d.rec))
		if i >= len(line) {
			break
		}
		i++ // the delimiter
		if i == len(line) {
			d.ends = append(d.ends, len(d.rec)) // trailing empty field
			break
		}
	}
	s := string(d.rec)
	d.recStr = s
	d.fields = d.fields[:0]
	prev := 0
	for _, e := range d.ends {
		d.fields = append(d.fields, s[prev:e])
		prev = e
	}
	return d.fields, start, nil
}

// Next returns the next device. See inventory.Decoder for the contract.
func (d *Decoder) Next() (*inventory.Device, error) {
	for {
		fields, start, err := d.readRecord()
		if err != nil {
			d.last = start
			if _, ok := inventory.AsInputError(err); ok || err == io.EOF {
				return nil, err
			}
			return nil, fmt.Errorf("read %s near line %d: %w", d.name, d.line, err)
		}
		if blank(fields) {
			continue
		}
		d.last = start
		return d.device(fields, start)
	}
}

func blank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func (d *Decoder) device(fields []string, line int) (*inventory.Device, error) {
	if len(fields) != len(d.header) {
		extra := len(fields) > len(d.header) && blank(fields[len(d.header):])
		if !extra {
			return nil, d.rowErr(line, -1, "", "record has %d fields, the header has %d", len(fields), len(d.header))
		}
	}
	valid := utf8.ValidString(d.recStr)
	blk := d.slab.Next()
	dev := &blk.Dev
	for i, k := range d.kinds {
		if k == fieldvalue.KindNone {
			continue
		}
		v := fields[i]
		if !valid && !utf8.ValidString(v) {
			return nil, d.rowErr(line, i, strings.ToValidUTF8(v, "\uFFFD"), "invalid UTF-8 (save the file as UTF-8 or UTF-16)")
		}
		v = fieldvalue.Trim(v)
		if v == "" {
			continue
		}
		if k == fieldvalue.KindLocation && dev.Location != "" {
			if dev.Location != v && !strings.HasSuffix(dev.Location, ", "+v) {
				dev.Location += ", " + v
			}
			continue
		}
		if err := blk.SetKind(k, v); err != nil {
			return nil, d.rowErr(line, i, v, "%v", err)
		}
	}
	dev = blk.Finish()
	if err := fieldvalue.CheckIdentity(dev); err != nil {
		return nil, d.rowErr(line, -1, "", "%v", err)
	}
	return dev, nil
}
