package csvfile

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/medwarden/medwarden/internal/inventory"
)

// Writer writes devices as canonical CSV: Header then ExtraHeader, UTF-8
// without BOM, comma-separated, several MACs or IPs joined with ';',
// booleans as yes/no, dates as YYYY-MM-DD. What it writes, Decoder reads
// back to the same devices.
type Writer struct {
	w       *csv.Writer
	started bool
	row     []string
}

// NewWriter returns a writer; the header is written with the first device
// (or by Flush when there is none).
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: csv.NewWriter(w), row: make([]string, 0, len(Header)+len(ExtraHeader))}
}

func (w *Writer) header() error {
	if w.started {
		return nil
	}
	w.started = true
	h := append(append([]string(nil), Header...), ExtraHeader...)
	if err := w.w.Write(h); err != nil {
		return fmt.Errorf("write csv header: %w", err)
	}
	return nil
}

// Write writes one device.
func (w *Writer) Write(d *inventory.Device) error {
	if err := w.header(); err != nil {
		return err
	}
	w.row = w.row[:0]
	for _, f := range Header {
		w.row = append(w.row, cell(d, f))
	}
	for _, f := range ExtraHeader {
		w.row = append(w.row, cell(d, f))
	}
	if err := w.w.Write(w.row); err != nil {
		return fmt.Errorf("write csv device %q: %w", d.AssetID, err)
	}
	return nil
}

func cell(d *inventory.Device, f string) string {
	switch f {
	case "patient_connected":
		return yesNo(d.PatientConnected)
	case "phi":
		return yesNo(d.PHI)
	}
	return d.Get(f)
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	}
	return "no"
}

// Flush writes the header if nothing was written yet and flushes buffered
// output.
func (w *Writer) Flush() error {
	if err := w.header(); err != nil {
		return err
	}
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
