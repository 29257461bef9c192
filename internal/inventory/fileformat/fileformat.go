// Package fileformat recognises an inventory file by its content (not its
// name) and returns the matching decoder: CSV (UTF-8, UTF-8 with BOM,
// UTF-16), MedWarden JSON, a FHIR R4 Device or Bundle, or FHIR NDJSON. It
// also builds the writer for an output format.
package fileformat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/csvfile"
	"github.com/medwarden/medwarden/internal/inventory/fhir"
	"github.com/medwarden/medwarden/internal/inventory/jsonfile"
)

// Format names an inventory file format.
type Format string

// The formats.
const (
	CSV    Format = "csv"    // canonical or CMMS-style columns
	JSON   Format = "json"   // [device…] or {"devices": [device…]}
	FHIR   Format = "fhir"   // FHIR R4 Device or Bundle (JSON)
	NDJSON Format = "ndjson" // FHIR bulk data: one resource per line
)

// Formats lists every format, for help texts.
var Formats = []Format{CSV, JSON, FHIR, NDJSON}

// ParseFormat accepts a format name as given on a command line.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case CSV, JSON, FHIR, NDJSON:
		return f, nil
	case "fhir-ndjson":
		return NDJSON, nil
	}
	return "", fmt.Errorf("unknown inventory format %q (want csv, json, fhir or ndjson)", s)
}

// sniffSize is how much of the file Open looks at.
const sniffSize = 64 << 10

// Warner is implemented by decoders that collect non-fatal warnings
// (ignored columns, skipped resources).
type Warner interface {
	Warnings() []string
}

// Open looks at the start of r and returns a decoder for it and the format
// found. name is used in errors only. Files that are clearly something
// else (an Excel workbook, FHIR XML, a PDF) get an error that says so.
func Open(r io.Reader, name string) (inventory.Decoder, Format, error) {
	br := bufio.NewReaderSize(r, sniffSize)
	head, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, "", fmt.Errorf("read %s: %w", name, err)
	}
	f, err := Sniff(head, name)
	if err != nil {
		return nil, "", err
	}
	var dec inventory.Decoder
	switch f {
	case CSV:
		dec, err = csvfile.NewDecoder(br, name)
	case JSON:
		dec, err = jsonfile.NewDecoder(br, name)
	case FHIR:
		dec, err = fhir.NewDecoder(br, name)
	case NDJSON:
		dec, err = fhir.NewNDJSONDecoder(br, name), nil
	}
	if err != nil {
		return nil, f, err
	}
	return dec, f, nil
}

// Sniff decides the format from the first bytes of a file.
func Sniff(head []byte, name string) (Format, error) {
	if len(head) == 0 {
		return "", &inventory.InputError{File: name, Reason: "file is empty"}
	}
	if bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
		return CSV, nil // Excel "Unicode text"
	}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "", &inventory.InputError{File: name, Reason: "this is a zip archive, probably an Excel workbook (.xlsx): save it as CSV UTF-8 or Unicode text and import that"}
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return "", &inventory.InputError{File: name, Reason: "this is an old Excel workbook (.xls): save it as CSV UTF-8 or Unicode text and import that"}
	case bytes.HasPrefix(head, []byte("%PDF")):
		return "", &inventory.InputError{File: name, Reason: "this is a PDF, not an inventory file"}
	}
	t := bytes.TrimPrefix(head, []byte{0xEF, 0xBB, 0xBF})
	if len(t) >= 2 && (t[0] == 0 || t[1] == 0) {
		return CSV, nil // UTF-16 without BOM; the CSV decoder detects it
	}
	t = bytes.TrimLeft(t, " \t\r\n")
	if len(t) == 0 {
		return "", &inventory.InputError{File: name, Reason: "file has only white space"}
	}
	switch t[0] {
	case '<':
		return "", &inventory.InputError{File: name, Reason: "this is XML (FHIR XML or a spreadsheet): MedWarden reads FHIR as JSON; export the resources as JSON"}
	case '[':
		return JSON, nil
	case '{':
		return sniffObject(t), nil
	}
	return CSV, nil
}

// sniffObject tells FHIR from MedWarden JSON and a single document from
// NDJSON by the keys of the first object.
func sniffObject(t []byte) Format {
	// NDJSON: a complete JSON object on the first line, and another line
	// starting with '{' (or nothing else at all and a resourceType).
	if nl := bytes.IndexByte(t, '\n'); nl > 0 {
		first := bytes.TrimSpace(t[:nl])
		rest := bytes.TrimLeft(t[nl+1:], " \t\r\n")
		if json.Valid(first) && (len(rest) == 0 || rest[0] == '{') && len(rest) > 0 {
			return NDJSON
		}
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return JSON
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tok {
		case "resourceType", "entry":
			return FHIR
		case "devices":
			return JSON
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			break
		}
	}
	if bytes.Contains(t, []byte(`"resourceType"`)) {
		return FHIR
	}
	return JSON
}

// Writer writes devices in one format.
type Writer interface {
	Write(*inventory.Device) error
	// Close finishes the document and flushes; it does not close the
	// underlying io.Writer.
	Close() error
}

// NewWriter returns a writer for format f (csv, json, fhir or ndjson).
func NewWriter(w io.Writer, f Format) (Writer, error) {
	switch f {
	case CSV:
		return csvWriter{csvfile.NewWriter(w)}, nil
	case JSON:
		return jsonfile.NewWriter(w), nil
	case FHIR:
		return fhir.NewWriter(w), nil
	case NDJSON:
		return fhir.NewNDJSONWriter(w), nil
	}
	return nil, fmt.Errorf("no writer for inventory format %q (want csv, json, fhir or ndjson)", f)
}

type csvWriter struct{ *csvfile.Writer }

func (w csvWriter) Close() error { return w.Flush() }
