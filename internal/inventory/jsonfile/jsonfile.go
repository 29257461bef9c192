// Package jsonfile reads and writes device inventories as JSON: an array of
// device objects (the JSON form of inventory.Device) or an object
// {"devices": [...]}. Decoding streams one device at a time, so a large
// file is read in constant memory, and validates every value exactly like
// the CSV reader.
package jsonfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/fileformat/fieldvalue"
	"github.com/medwarden/medwarden/internal/inventory/fileformat/linecount"
)

// stringFields are read as text (a JSON number is taken as its literal).
var stringFields = []string{"asset_id", "vendor", "model", "version", "serial", "hostname", "site",
	"location", "department", "device_type", "criticality", "os", "udi_di", "zone",
	"end_of_support", "end_of_life"}

// Decoder streams devices out of a JSON file. It implements
// inventory.Decoder.
type Decoder struct {
	name     string
	dec      *json.Decoder
	prefix   string // "devices" or "" for a bare array
	index    int
	done     bool
	warnings []string
	unknown  map[string]bool
	lines    *linecount.Reader
	members  []member // of the current device, reused
	line     int      // line where the last device starts
}

// Line returns the line where the last device returned by Next (or
// reported as an error) starts.
func (d *Decoder) Line() int { return d.line }

var _ inventory.Decoder = (*Decoder)(nil)

// NewDecoder reads up to the first device. The input must be a JSON array
// or an object with a "devices" array; anything else is an error.
func NewDecoder(r io.Reader, name string) (*Decoder, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	lc := linecount.New(br)
	d := &Decoder{name: name, dec: json.NewDecoder(lc), lines: lc, unknown: map[string]bool{}}
	d.dec.UseNumber()
	tok, err := d.dec.Token()
	if err == io.EOF {
		return nil, &inventory.InputError{File: name, Reason: "file is empty: want a JSON array of devices or {\"devices\": [...]}"}
	}
	if err != nil {
		return nil, d.syntax(err)
	}
	switch tok {
	case json.Delim('['):
		return d, nil
	case json.Delim('{'):
	default:
		return nil, &inventory.InputError{File: name, Reason: fmt.Sprintf("want a JSON array of devices or {\"devices\": [...]}, found %v", tok)}
	}
	d.prefix = "devices"
	for {
		tok, err := d.dec.Token()
		if err != nil {
			return nil, d.syntax(err)
		}
		if tok == json.Delim('}') {
			return nil, &inventory.InputError{File: name, Column: "devices", Reason: "object has no \"devices\" array"}
		}
		key, _ := tok.(string)
		if key == "devices" {
			tok, err := d.dec.Token()
			if err != nil {
				return nil, d.syntax(err)
			}
			if tok != json.Delim('[') {
				return nil, &inventory.InputError{File: name, Column: "devices", Reason: "\"devices\" is not an array"}
			}
			return d, nil
		}
		if key == "resourceType" {
			return nil, &inventory.InputError{File: name, Column: key, Reason: "this is a FHIR resource, not a MedWarden device list; read it as FHIR"}
		}
		var skip json.RawMessage
		if err := d.dec.Decode(&skip); err != nil {
			return nil, d.syntax(err)
		}
		d.warnings = append(d.warnings, fmt.Sprintf("top-level field %q is not used; ignored", key))
	}
}

func (d *Decoder) syntax(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("read %s line %d: invalid JSON at byte %d: %w", d.name, d.lines.LineAt(se.Offset), se.Offset, err)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read %s: JSON ends early (truncated file?): %w", d.name, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("read %s: %w", d.name, err)
}

// Warnings returns what was ignored: unknown fields (each once, with the
// first place it occurred) and unused top-level fields.
func (d *Decoder) Warnings() []string { return d.warnings }

func (d *Decoder) path(i int, field string) string {
	p := d.prefix + "[" + strconv.Itoa(i) + "]"
	if field != "" {
		p += "." + field
	}
	return p
}

// Next returns the next device. See inventory.Decoder for the contract.
func (d *Decoder) Next() (*inventory.Device, error) {
	if d.done {
		return nil, io.EOF
	}
	if !d.dec.More() {
		if _, err := d.dec.Token(); err != nil { // the closing ']'
			return nil, d.syntax(err)
		}
		if d.prefix != "" {
			if err := d.finishObject(); err != nil {
				return nil, err
			}
		}
		if _, err := d.dec.Token(); err != io.EOF {
			if err != nil {
				return nil, d.syntax(err)
			}
			return nil, fmt.Errorf("read %s: unexpected data after the device list", d.name)
		}
		d.done = true
		return nil, io.EOF
	}
	i := d.index
	d.index++
	var raw json.RawMessage
	if err := d.dec.Decode(&raw); err != nil {
		return nil, d.syntax(err)
	}
	d.line = d.lines.LineAt(d.dec.InputOffset() - int64(len(raw)))
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, &inventory.InputError{File: d.name, Line: d.line, Column: d.path(i, ""), Reason: "device is null"}
	}
	var ok bool
	d.members, ok = objectMembers(raw, d.members[:0])
	if !ok {
		return nil, &inventory.InputError{File: d.name, Line: d.line, Column: d.path(i, ""), Reason: "device is not a JSON object"}
	}
	return d.device(i)
}

// finishObject reads the fields after "devices" up to the closing brace.
func (d *Decoder) finishObject() error {
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return d.syntax(err)
		}
		var skip json.RawMessage
		if err := d.dec.Decode(&skip); err != nil {
			return d.syntax(err)
		}
		d.warnings = append(d.warnings, fmt.Sprintf("top-level field %q is not used; ignored", tok))
	}
	if _, err := d.dec.Token(); err != nil {
		return d.syntax(err)
	}
	return nil
}

// known reports whether key is a field this reader uses or knows to
// ignore: the output-only fields of inventory.Device that our own exports
// carry (id, revision, provenance…) are ignored without a warning.
func known(key []byte) bool {
	switch string(key) {
	case "asset_id", "vendor", "model", "version", "serial", "hostname", "site",
		"location", "department", "device_type", "criticality", "os", "udi_di", "zone",
		"end_of_support", "end_of_life", "patient_connected", "phi", "macs", "mac", "ips", "ip",
		"id", "first_seen", "last_seen", "provenance", "observed", "revision",
		"created_at", "updated_at", "conflicts":
		return true
	}
	return false
}

// get returns the value of key in the current device (the last one when a
// key repeats, as encoding/json does).
func (d *Decoder) get(key string) (json.RawMessage, bool) {
	for k := len(d.members) - 1; k >= 0; k-- {
		if string(d.members[k].key) == key {
			return d.members[k].val, true
		}
	}
	return nil, false
}

func (d *Decoder) device(i int) (*inventory.Device, error) {
	dev := &inventory.Device{}
	bad := func(field string, raw json.RawMessage, reason string) error {
		return &inventory.InputError{File: d.name, Line: d.line, Column: d.path(i, field), Value: string(raw), Reason: reason}
	}
	for _, f := range stringFields {
		raw, ok := d.get(f)
		if !ok {
			continue
		}
		s, err := text(raw)
		if err != nil {
			return nil, bad(f, raw, err.Error())
		}
		if err := fieldvalue.Set(dev, f, s); err != nil {
			return nil, bad(f, json.RawMessage(s), err.Error())
		}
	}
	for _, f := range []string{"patient_connected", "phi"} {
		raw, ok := d.get(f)
		if !ok {
			continue
		}
		var b *bool
		switch string(bytes.TrimSpace(raw)) {
		case "true":
			v := true
			b = &v
		case "false":
			v := false
			b = &v
		case "null":
		default:
			s, err := text(raw)
			if err != nil {
				return nil, bad(f, raw, "want true, false or a yes/no string")
			}
			if b, err = fieldvalue.Bool(s); err != nil {
				return nil, bad(f, json.RawMessage(s), err.Error())
			}
		}
		if f == "phi" {
			dev.PHI = b
		} else {
			dev.PatientConnected = b
		}
	}
	for _, f := range []struct{ key, field string }{{"macs", "mac"}, {"mac", "mac"}, {"ips", "ip"}, {"ip", "ip"}} {
		raw, ok := d.get(f.key)
		if !ok {
			continue
		}
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			list = []json.RawMessage{raw}
		}
		for k, item := range list {
			p := f.key
			if len(list) > 1 || raw[0] == '[' {
				p += "[" + strconv.Itoa(k) + "]"
			}
			s, err := text(item)
			if err != nil {
				return nil, bad(p, item, err.Error())
			}
			if err := fieldvalue.Set(dev, f.field, s); err != nil {
				return nil, bad(p, json.RawMessage(s), err.Error())
			}
		}
	}
	for _, mb := range d.members {
		if known(mb.key) || d.unknown[string(mb.key)] {
			continue
		}
		k := string(mb.key)
		d.unknown[k] = true
		d.warnings = append(d.warnings, fmt.Sprintf("field %q is not a MedWarden field; ignored (first seen at %s)", k, d.path(i, "")))
	}
	if err := fieldvalue.CheckIdentity(dev); err != nil {
		return nil, &inventory.InputError{File: d.name, Line: d.line, Column: d.path(i, ""), Reason: err.Error()}
	}
	return dev, nil
}

// text returns a JSON string's value, a number's literal, or "" for null.
func text(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		if s, ok := plainString(raw); ok {
			return s, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("invalid string: %w", err)
		}
		return s, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(raw), nil
	}
	return "", errors.New("want a string")
}

// Writer streams devices as {"devices": [...]}, one device per line.
type Writer struct {
	w     *bufio.Writer
	n     int
	close bool
}

// NewWriter returns a writer; call Close to finish the document.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w)} }

// Write writes one device.
func (w *Writer) Write(d *inventory.Device) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode device %q: %w", d.AssetID, err)
	}
	sep := ",\n"
	if w.n == 0 {
		sep = "{\"devices\": [\n"
	}
	w.n++
	if _, err := w.w.WriteString(sep); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// Close ends the document and flushes it; it does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.close {
		return nil
	}
	w.close = true
	end := "\n]}\n"
	if w.n == 0 {
		end = "{\"devices\": []}\n"
	}
	if _, err := w.w.WriteString(end); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// plainString returns the value of a JSON string without escapes or control
// characters, the usual case, without running the full JSON decoder.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[len(raw)-1] != '"' {
		return "", false
	}
	in := raw[1 : len(raw)-1]
	for _, c := range in {
		if c < 0x20 || c == '\\' || c == '"' || c >= utf8.RuneSelf {
			return "", false
		}
	}
	return string(in), true
}
