package fhir

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"

	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/inventory/fileformat/linecount"
)

// MaxNDJSONLine is the longest NDJSON line (one resource) read; longer
// lines are reported and skipped.
const MaxNDJSONLine = 8 << 20

type mode int

const (
	modeSingle mode = iota
	modeBundle
	modeNDJSON
	modeStream // concatenated resources read with the JSON decoder
)

// Decoder streams inventory devices out of FHIR R4 JSON. It implements
// inventory.Decoder.
type Decoder struct {
	name     string
	mode     mode
	dec      *json.Decoder
	br       *bufio.Reader
	single   json.RawMessage
	index    int // next bundle entry
	line     int // NDJSON line number
	done     bool
	long     []byte
	lines    *linecount.Reader // Bundle: line numbers of entries
	last     int               // line of the last resource returned
	skipped  map[string]int
	warnings []string
}

var _ inventory.Decoder = (*Decoder)(nil)

// NewDecoder reads a FHIR JSON document: a Device resource or a Bundle.
// Bundle entries are streamed one at a time.
func NewDecoder(r io.Reader, name string) (*Decoder, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	lc := linecount.New(br)
	d := &Decoder{name: name, dec: json.NewDecoder(lc), lines: lc, skipped: map[string]int{}}
	tok, err := d.dec.Token()
	if err == io.EOF {
		return nil, &inventory.InputError{File: name, Reason: "file is empty: want a FHIR Device or Bundle"}
	}
	if err != nil {
		return nil, d.syntax(err)
	}
	if tok != json.Delim('{') {
		return nil, &inventory.InputError{File: name, Reason: fmt.Sprintf("want a FHIR resource (a JSON object), found %v", tok)}
	}
	// Collect members until "entry" (then stream) or the end of the object.
	members := map[string]json.RawMessage{}
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return nil, d.syntax(err)
		}
		key, _ := tok.(string)
		if key == "entry" {
			if rt := resourceType(members); rt != "" && rt != "Bundle" {
				return nil, &inventory.InputError{File: name, Column: "entry", Reason: fmt.Sprintf("a %s resource has no entry element", rt)}
			}
			tok, err := d.dec.Token()
			if err != nil {
				return nil, d.syntax(err)
			}
			if tok != json.Delim('[') {
				return nil, &inventory.InputError{File: name, Column: "Bundle.entry", Reason: "entry is not an array"}
			}
			d.mode = modeBundle
			return d, nil
		}
		var v json.RawMessage
		if err := d.dec.Decode(&v); err != nil {
			return nil, d.syntax(err)
		}
		members[key] = v
	}
	if _, err := d.dec.Token(); err != nil {
		return nil, d.syntax(err)
	}
	rt := resourceType(members)
	if d.dec.More() && rt != "" {
		// Another value follows: this is NDJSON (or concatenated JSON)
		// whose first line was too long for the format sniffer. Read the
		// rest one resource at a time.
		b, err := json.Marshal(members)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		d.mode, d.single = modeStream, b
		return d, nil
	}
	switch rt {
	case "Device":
		b, err := json.Marshal(members)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		d.mode, d.single = modeSingle, b
	case "Bundle":
		d.mode, d.done = modeBundle, true // a Bundle without entries
	case "":
		return nil, &inventory.InputError{File: name, Column: "resourceType", Reason: "not a FHIR resource: resourceType is missing"}
	default:
		return nil, &inventory.InputError{File: name, Column: "resourceType", Value: rt, Reason: fmt.Sprintf("FHIR %s resource holds no devices: want a Device or a Bundle of Devices", rt)}
	}
	return d, nil
}

// Line returns the line where the last resource returned by Next (or
// reported as an error) starts: the NDJSON line, or for a Bundle the line
// of the entry; 0 for a single Device.
func (d *Decoder) Line() int {
	if d.mode == modeNDJSON {
		return d.line
	}
	return d.last
}

// NDJSONDecoder is the Decoder NewNDJSONDecoder returns.
type NDJSONDecoder struct{ *Decoder }

// NewNDJSONDecoder reads FHIR NDJSON (bulk data): one resource per line.
// Device resources are returned, other types are skipped and counted.
func NewNDJSONDecoder(r io.Reader, name string) NDJSONDecoder {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	return NDJSONDecoder{&Decoder{name: name, mode: modeNDJSON, br: br, skipped: map[string]int{}}}
}

func resourceType(m map[string]json.RawMessage) string {
	var s string
	if raw, ok := m["resourceType"]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

func (d *Decoder) syntax(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		if d.lines != nil {
			return fmt.Errorf("read %s line %d: invalid JSON at byte %d: %w", d.name, d.lines.LineAt(se.Offset), se.Offset, err)
		}
		return fmt.Errorf("read %s: invalid JSON at byte %d: %w", d.name, se.Offset, err)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("read %s: JSON ends early (truncated file?): %w", d.name, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("read %s: %w", d.name, err)
}

// noResource counts Bundle entries that carry no resource.
const noResource = "(entry without resource)"

// Skipped returns how many resources of each other type were skipped
// (entered-in-error Devices count as "Device (entered-in-error)").
func (d *Decoder) Skipped() map[string]int { return maps.Clone(d.skipped) }

// Warnings summarises what was skipped, one line per resource type.
func (d *Decoder) Warnings() []string {
	out := slices.Clone(d.warnings)
	for _, k := range slices.Sorted(maps.Keys(d.skipped)) {
		if k == noResource {
			out = append(out, fmt.Sprintf("skipped %d Bundle entr(y/ies) without a resource", d.skipped[k]))
			continue
		}
		out = append(out, fmt.Sprintf("skipped %d %s resource(s)", d.skipped[k], k))
	}
	return out
}

// Next returns the next device. See inventory.Decoder for the contract.
func (d *Decoder) Next() (*inventory.Device, error) {
	for {
		if d.done {
			return nil, io.EOF
		}
		var dev *inventory.Device
		var err error
		switch d.mode {
		case modeSingle:
			d.done = true
			dev, err = d.resource(d.single, "Device", 0)
		case modeBundle:
			dev, err = d.nextEntry()
		case modeNDJSON:
			dev, err = d.nextLine()
		case modeStream:
			dev, err = d.nextStream()
		}
		if dev == nil && err == nil {
			continue // skipped resource
		}
		return dev, err
	}
}

func (d *Decoder) nextEntry() (*inventory.Device, error) {
	if !d.dec.More() {
		if _, err := d.dec.Token(); err != nil { // ']'
			return nil, d.syntax(err)
		}
		for d.dec.More() { // members after entry
			if _, err := d.dec.Token(); err != nil {
				return nil, d.syntax(err)
			}
			var v json.RawMessage
			if err := d.dec.Decode(&v); err != nil {
				return nil, d.syntax(err)
			}
		}
		if _, err := d.dec.Token(); err != nil { // '}'
			return nil, d.syntax(err)
		}
		if _, err := d.dec.Token(); err != io.EOF {
			if err != nil {
				return nil, d.syntax(err)
			}
			return nil, fmt.Errorf("read %s: unexpected data after the Bundle", d.name)
		}
		d.done = true
		return nil, io.EOF
	}
	i := d.index
	d.index++
	var raw json.RawMessage
	path := "entry[" + strconv.Itoa(i) + "]"
	if err := d.dec.Decode(&raw); err != nil {
		return nil, d.syntax(err)
	}
	d.last = d.lines.LineAt(d.dec.InputOffset() - int64(len(raw)))
	var e struct {
		Resource json.RawMessage `json:"resource"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, &inventory.InputError{File: d.name, Line: d.last, Column: path, Reason: "entry is not a JSON object"}
	}
	if len(e.Resource) == 0 || string(e.Resource) == "null" {
		d.skipped[noResource]++
		return nil, nil
	}
	return d.resource(e.Resource, path+".resource", d.last)
}

// nextStream returns the next of several top-level resources.
func (d *Decoder) nextStream() (*inventory.Device, error) {
	if d.single != nil {
		first := d.single
		d.single = nil
		d.last = 1
		return d.resource(first, "", 1)
	}
	if !d.dec.More() {
		if _, err := d.dec.Token(); err != io.EOF {
			if err != nil {
				return nil, d.syntax(err)
			}
			return nil, fmt.Errorf("read %s: unexpected data after the resources", d.name)
		}
		d.done = true
		return nil, io.EOF
	}
	var raw json.RawMessage
	if err := d.dec.Decode(&raw); err != nil {
		return nil, d.syntax(err)
	}
	d.last = d.lines.LineAt(d.dec.InputOffset() - int64(len(raw)))
	return d.resource(raw, "", d.last)
}

func (d *Decoder) nextLine() (*inventory.Device, error) {
	for {
		l, err := d.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			d.long = append(d.long[:0], l...)
			tooLong := false
			for err == bufio.ErrBufferFull {
				l, err = d.br.ReadSlice('\n')
				if !tooLong && len(d.long)+len(l) > MaxNDJSONLine {
					tooLong = true
				}
				if !tooLong {
					d.long = append(d.long, l...)
				}
			}
			if tooLong {
				d.line++
				if err == io.EOF {
					d.done = true
				} else if err != nil {
					return nil, fmt.Errorf("read %s: %w", d.name, err)
				}
				return nil, &inventory.InputError{File: d.name, Line: d.line, Reason: fmt.Sprintf("line is longer than %d bytes; skipped", MaxNDJSONLine)}
			}
			l = d.long
		}
		if err == io.EOF {
			d.done = true
			if len(bytes.TrimSpace(l)) == 0 {
				return nil, io.EOF
			}
		} else if err != nil {
			return nil, fmt.Errorf("read %s: %w", d.name, err)
		}
		d.line++
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if !json.Valid(l) {
			return nil, &inventory.InputError{File: d.name, Line: d.line, Reason: "line is not valid JSON"}
		}
		return d.resource(l, "", d.line)
	}
}

// resource maps one resource; it returns (nil, nil) for a skipped one.
func (d *Decoder) resource(raw []byte, path string, line int) (*inventory.Device, error) {
	var head struct {
		ResourceType string `json:"resourceType"`
		Status       string `json:"status"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.ResourceType == "" {
		if path == "" {
			path = "resourceType"
		} else {
			path += ".resourceType"
		}
		return nil, &inventory.InputError{File: d.name, Line: line, Column: path, Reason: "not a FHIR resource: resourceType is missing"}
	}
	if path == "" {
		path = head.ResourceType
	}
	if head.ResourceType != "Device" {
		d.skipped[head.ResourceType]++
		return nil, nil
	}
	if head.Status == "entered-in-error" {
		d.skipped["Device (entered-in-error)"]++
		return nil, nil
	}
	var f Device
	if err := json.Unmarshal(raw, &f); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &inventory.InputError{File: d.name, Line: line, Column: path + "." + te.Field,
				Reason: fmt.Sprintf("element has the wrong JSON type: want %s, found %s", jsonKind(te.Type), te.Value)}
		}
		return nil, &inventory.InputError{File: d.name, Line: line, Column: path, Reason: "invalid Device: " + err.Error()}
	}
	dev, err := toInventory(&f, path)
	if err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			return nil, &inventory.InputError{File: d.name, Line: line, Column: fe.path, Value: fe.value, Reason: fe.reason}
		}
		return nil, err
	}
	return dev, nil
}

// jsonKind names the JSON shape a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a number"
}
