// Package epss parses FIRST's Exploit Prediction Scoring System daily CSV
// (epss_scores-YYYY-MM-DD.csv, optionally gzip-compressed):
//
//	#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z
//	cve,epss,percentile
//	CVE-1999-0001,0.01297,0.79521
//
// The parser is a hand-written line scanner (no encoding/csv) because a
// full file has ~300 000 rows and is re-read daily.
package epss

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxSize bounds the decompressed size Parse reads (a full file is ~10 MB).
const DefaultMaxSize = 256 << 20

// File is one EPSS scores file.
type File struct {
	// ModelVersion ("v2025.03.14") and ScoreDate come from the comment line;
	// they are empty/zero when the file has none (files before 2022).
	ModelVersion string    `json:"model_version"`
	ScoreDate    time.Time `json:"score_date"`
	Scores       []Score   `json:"scores"`
}

// Score is the EPSS probability and percentile of one CVE.
type Score struct {
	CVE        string  `json:"cve"`
	EPSS       float64 `json:"epss"`       // probability of exploitation in the next 30 days, 0..1
	Percentile float64 `json:"percentile"` // 0..1
}

// ErrInvalid is wrapped by every content error.
var ErrInvalid = errors.New("invalid EPSS file")

// LineError is a problem at one line of the file.
type LineError struct {
	File   string
	Line   int
	Field  string
	Value  string
	Reason string
}

func (e *LineError) Error() string {
	s := fmt.Sprintf("epss %s line %d", e.File, e.Line)
	if e.Field != "" {
		s += " field " + e.Field
	}
	s += ": " + e.Reason
	if e.Value != "" {
		s += fmt.Sprintf(" (value %q)", e.Value)
	}
	return s
}

func (e *LineError) Unwrap() error { return ErrInvalid }

// Parse reads an EPSS CSV, plain or gzip (detected by its magic bytes), of
// at most maxSize decompressed bytes (0: DefaultMaxSize). It stops at the
// first bad line with a *LineError; read failures are returned wrapped.
func Parse(r io.Reader, name string, maxSize int64) (*File, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &LineError{File: name, Line: 0, Reason: "bad gzip stream: " + err.Error()}
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	lr := &limitReader{r: br, n: maxSize}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	f := &File{}
	// Rows are collected in fixed-size chunks and copied once into an
	// exactly sized slice at the end (append's 1.25x growth on a 300 000-row
	// slice would copy it many times). CVE ids go into one byte arena turned
	// into a single string at the end: one allocation instead of one per row.
	const chunkSize = 1 << 14
	var chunks [][]Score
	cur := make([]Score, 0, chunkSize)
	var arena []byte
	var ends []uint32
	rows := 0
	line := 0
	header := false
	tooLarge := func() error {
		return &LineError{File: name, Line: line, Reason: fmt.Sprintf("file is larger than the %d byte limit (decompressed)", maxSize)}
	}
	for sc.Scan() {
		if lr.exceeded {
			return nil, tooLarge()
		}
		line++
		b := sc.Bytes()
		if len(b) > 0 && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		if line == 1 && len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
			b = b[3:] // UTF-8 BOM
		}
		if len(b) == 0 {
			continue
		}
		if b[0] == '#' {
			if header || len(f.Scores) > 0 {
				return nil, &LineError{File: name, Line: line, Reason: "comment after the header"}
			}
			if err := f.parseComment(string(b[1:])); err != nil {
				err.File, err.Line = name, line
				return nil, err
			}
			continue
		}
		if !header {
			if h := strings.ToLower(strings.TrimSpace(string(b))); h != "cve,epss,percentile" {
				return nil, &LineError{File: name, Line: line, Value: string(b), Reason: `header must be "cve,epss,percentile"`}
			}
			header = true
			continue
		}
		cve, s, err := parseRow(b)
		if err != nil {
			err.File, err.Line = name, line
			return nil, err
		}
		arena = append(arena, cve...)
		ends = append(ends, uint32(len(arena)))
		if len(cur) == chunkSize {
			chunks = append(chunks, cur)
			cur = make([]Score, 0, chunkSize)
		}
		cur = append(cur, s)
		rows++
	}
	if lr.exceeded {
		return nil, tooLarge()
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &LineError{File: name, Line: line + 1, Reason: "line longer than 1 MiB"}
		}
		return nil, fmt.Errorf("epss %s: read after line %d: %w", name, line, err)
	}
	if !header {
		return nil, &LineError{File: name, Line: line, Reason: `no "cve,epss,percentile" header`}
	}
	f.Scores = make([]Score, 0, rows)
	for _, c := range append(chunks, cur) {
		f.Scores = append(f.Scores, c...)
	}
	all := string(arena)
	start := uint32(0)
	for i, end := range ends {
		f.Scores[i].CVE = all[start:end]
		start = end
	}
	return f, nil
}

// limitReader fails, and remembers it, once more than n bytes are read.
type limitReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

var errTooLarge = errors.New("size limit exceeded")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		l.exceeded = true
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// parseComment reads "model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z".
func (f *File) parseComment(s string) *LineError {
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), ":")
		if !ok {
			continue
		}
		switch k {
		case "model_version":
			f.ModelVersion = v
		case "score_date":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				if t, err = time.Parse(time.DateOnly, v); err != nil {
					return &LineError{Field: "score_date", Value: v, Reason: "not an RFC 3339 date-time"}
				}
			}
			f.ScoreDate = t.UTC()
		}
	}
	return nil
}

// parseRow splits "cve,epss,percentile"; the CVE is returned as bytes
// (aliasing b) and the score without its CVE.
func parseRow(b []byte) ([]byte, Score, *LineError) {
	c1 := bytes.IndexByte(b, ',')
	if c1 < 0 {
		return nil, Score{}, &LineError{Value: string(b), Reason: "want 3 comma-separated fields"}
	}
	rest := b[c1+1:]
	c2 := bytes.IndexByte(rest, ',')
	if c2 < 0 || bytes.IndexByte(rest[c2+1:], ',') >= 0 {
		return nil, Score{}, &LineError{Value: string(b), Reason: "want 3 comma-separated fields"}
	}
	cve := b[:c1]
	if !validCVE(cve) {
		return nil, Score{}, &LineError{Field: "cve", Value: string(cve), Reason: "not a CVE id"}
	}
	e, err := prob(rest[:c2])
	if err != nil {
		return nil, Score{}, &LineError{Field: "epss", Value: string(rest[:c2]), Reason: err.Error()}
	}
	p, err := prob(rest[c2+1:])
	if err != nil {
		return nil, Score{}, &LineError{Field: "percentile", Value: string(rest[c2+1:]), Reason: err.Error()}
	}
	return cve, Score{EPSS: e, Percentile: p}, nil
}

func prob(b []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(b), 64) // no allocation: the conversion is optimised away
	if err != nil {
		return 0, errors.New("not a number")
	}
	if !(f >= 0 && f <= 1) {
		return 0, errors.New("not between 0 and 1")
	}
	return f, nil
}

// validCVE checks CVE-YYYY-NNNN+ without a regexp.
func validCVE(b []byte) bool {
	if len(b) < 13 || string(b[:4]) != "CVE-" || b[8] != '-' {
		return false
	}
	for i, c := range b[4:] {
		if i == 4 {
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ByCVE indexes the scores by CVE id.
func (f *File) ByCVE() map[string]Score {
	m := make(map[string]Score, len(f.Scores))
	for _, s := range f.Scores {
		m[s.CVE] = s
	}
	return m
}
