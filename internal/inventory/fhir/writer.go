package fhir

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/medwarden/medwarden/internal/inventory"
)

// ToResource returns the FHIR R4 Device for an inventory device.
func ToResource(d *inventory.Device) *Device { return fromInventory(d) }

// Writer streams devices as a FHIR R4 Bundle of type "collection", one
// entry per line, or as NDJSON (one Device per line) when made with
// NewNDJSONWriter.
type Writer struct {
	w      *bufio.Writer
	ndjson bool
	n      int
	closed bool
}

// NewWriter returns a Bundle writer; call Close to finish the Bundle.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w)} }

// NewNDJSONWriter returns a writer of one Device resource per line.
func NewNDJSONWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w), ndjson: true} }

const bundleHead = `{"resourceType":"Bundle","type":"collection","entry":[`

// Write writes one device.
func (w *Writer) Write(d *inventory.Device) error {
	b, err := json.Marshal(fromInventory(d))
	if err != nil {
		return fmt.Errorf("encode FHIR device %q: %w", d.AssetID, err)
	}
	var pre, post string
	switch {
	case w.ndjson:
		post = "\n"
	case w.n == 0:
		pre = bundleHead + "\n" + `{"resource":`
		post = "}"
	default:
		pre = ",\n" + `{"resource":`
		post = "}"
	}
	w.n++
	if _, err := w.w.WriteString(pre); err != nil {
		return fmt.Errorf("write fhir: %w", err)
	}
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("write fhir: %w", err)
	}
	if _, err := w.w.WriteString(post); err != nil {
		return fmt.Errorf("write fhir: %w", err)
	}
	return nil
}

// Close finishes the Bundle and flushes; it does not close the underlying
// writer.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if !w.ndjson {
		end := "\n]}\n"
		if w.n == 0 {
			end = `{"resourceType":"Bundle","type":"collection"}` + "\n"
		}
		if _, err := w.w.WriteString(end); err != nil {
			return fmt.Errorf("write fhir: %w", err)
		}
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("write fhir: %w", err)
	}
	return nil
}
