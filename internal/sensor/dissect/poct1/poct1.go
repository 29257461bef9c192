// Package poct1 dissects POCT1-A (CLSI POCT1-A2) device messaging: XML
// documents over TCP between point-of-care analysers (blood gas, glucose,
// coagulation meters) and their data manager. It reads the device block
// (DEV: vendor, model, serial, software version) of HEL.R01 hello and
// DST.R01 status messages and the header's message type and version.
// Documents are bounded, and DTDs and entity declarations are refused, so
// entity-expansion ("billion laughs") documents cost nothing.
package poct1

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medwarden/medwarden/internal/sensor/dissect"
)

// Name is the dissector's stable name.
const Name = "poct1"

// maxDocument bounds one buffered XML document. POCT1-A hello and status
// messages are a few KiB; observation uploads are streamed as separate
// documents.
const maxDocument = 256 << 10

// ErrMalformed is wrapped by every decode error.
var ErrMalformed = errors.New("malformed poct1-a document")

// Dissector is the POCT1-A dissector.
type Dissector struct{}

// New returns a POCT1-A dissector.
func New() dissect.Dissector { return &Dissector{} }

var _ dissect.StreamDissector = (*Dissector)(nil)

// Name implements dissect.Dissector.
func (*Dissector) Name() string { return Name }

// Layer implements dissect.Dissector.
func (*Dissector) Layer() dissect.Layer { return dissect.LayerTCP }

// Ports implements dissect.Dissector. POCT1-A has no registered port;
// detection is by content.
func (*Dissector) Ports() []uint16 { return nil }

// Detect accepts an XML document whose root is a POCT1-A message such as
// HEL.R01, DST.R01, OBS.R01, ACK.R01, EOT.R01 (three letters, a dot, a
// letter and two digits).
func (*Dissector) Detect(_ *dissect.Flow, _ dissect.Direction, p []byte) bool {
	name, _, ok := rootName(p)
	return ok && isMessageName(name)
}

func isMessageName(n string) bool {
	if len(n) != 7 || n[3] != '.' {
		return false
	}
	for i, c := range []byte(n) {
		switch {
		case i < 3 && c >= 'A' && c <= 'Z', i == 3, i == 4 && c >= 'A' && c <= 'Z', i > 4 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// rootName finds the first element name of a document, skipping the XML
// declaration, processing instructions, comments and white space. It
// returns the offset of the root's '<'. ok is false when the bytes cannot
// start a document.
func rootName(p []byte) (name string, at int, ok bool) {
	i := 0
	if bytes.HasPrefix(p, []byte("\xef\xbb\xbf")) {
		i = 3
	}
	for i < len(p) {
		switch c := p[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '<' && i+1 < len(p) && p[i+1] == '?':
			j := bytes.Index(p[i:], []byte("?>"))
			if j < 0 {
				return "", 0, false
			}
			i += j + 2
		case c == '<' && bytes.HasPrefix(p[i:], []byte("<!--")):
			j := bytes.Index(p[i:], []byte("-->"))
			if j < 0 {
				return "", 0, false
			}
			i += j + 3
		case c == '<' && i+1 < len(p) && p[i+1] != '!' && p[i+1] != '/':
			j := i + 1
			for j < len(p) && p[j] != '>' && p[j] != ' ' && p[j] != '/' && p[j] != '\t' && p[j] != '\r' && p[j] != '\n' {
				j++
			}
			if j == len(p) {
				return "", 0, false
			}
			return string(p[i+1 : j]), i, true
		default:
			return "", 0, false
		}
	}
	return "", 0, false
}

// NewStream implements dissect.StreamDissector.
func (*Dissector) NewStream(f *dissect.Flow) dissect.Stream { return &stream{flow: f} }

type stream struct {
	flow   *dissect.Flow
	buf    [2][]byte
	dead   [2]bool
	resync [2]bool // after a gap: skip to the next XML declaration
}

// Feed implements dissect.Stream: documents follow one another on the
// stream; each complete one is decoded.
func (s *stream) Feed(dir dissect.Direction, data []byte, t time.Time, out dissect.Emitter) error {
	d := dir & 1
	if s.dead[d] {
		return nil
	}
	s.buf[d] = append(s.buf[d], data...)
	if s.resync[d] {
		i := bytes.Index(s.buf[d], []byte("<?xml"))
		if i < 0 {
			s.buf[d] = append(s.buf[d][:0], s.buf[d][max(0, len(s.buf[d])-4):]...)
			return nil
		}
		s.buf[d], s.resync[d] = s.buf[d][i:], false
	}
	var errs []error
	for {
		b := s.buf[d]
		if bytes.Contains(b, []byte("<!DOCTYPE")) || bytes.Contains(b, []byte("<!ENTITY")) {
			s.dead[d], s.buf[d] = true, nil
			return errors.Join(append(errs, fmt.Errorf("poct1 %s: document type declaration refused (POCT1-A uses none): %w", dir, ErrMalformed))...)
		}
		name, at, ok := rootName(b)
		if !ok {
			if len(bytes.TrimSpace(b)) > 0 && !bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n\xef\xbb\xbf"), []byte("<")) {
				s.dead[d], s.buf[d] = true, nil
				return errors.Join(append(errs, fmt.Errorf("poct1 %s: data outside an xml document: %w", dir, ErrMalformed))...)
			}
			break
		}
		var end int
		if k := bytes.IndexByte(b[at:], '>'); k > 0 && b[at+k-1] == '/' {
			end = k + 1 // <ROOT .../> is the whole document
		} else if end = bytes.Index(b[at:], []byte("</"+name+">")); end >= 0 {
			end += len("</" + name + ">")
		} else {
			break
		}
		doc := b[at : at+end]
		if err := s.document(dir, name, doc, t, out); err != nil {
			errs = append(errs, err)
		}
		s.buf[d] = b[at+end:]
	}
	if len(s.buf[d]) > maxDocument {
		s.dead[d], s.buf[d] = true, nil
		errs = append(errs, fmt.Errorf("poct1 %s: document over %d bytes: %w", dir, maxDocument, ErrMalformed))
	}
	if len(s.buf[d]) == 0 {
		s.buf[d] = nil
	}
	return errors.Join(errs...)
}

// Device is what a POCT1-A DEV block says about the analyser.
type Device struct {
	MessageType, Version, DeviceID, Vendor, Manufacturer, Model, Serial, SWVersion, HWVersion, Name string
}

// ParseDocument decodes one POCT1-A document. DTDs are refused.
func ParseDocument(r io.Reader, name string) (Device, error) {
	var dev Device
	dec := xml.NewDecoder(io.LimitReader(r, maxDocument+1))
	dec.Strict = true
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return dev, nil
		}
		if err != nil {
			return dev, fmt.Errorf("%s: line %d: %w: %w", name, lineOf(dec), err, ErrMalformed)
		}
		switch tk := tok.(type) {
		case xml.Directive:
			return dev, fmt.Errorf("%s: line %d: xml directive refused: %w", name, lineOf(dec), ErrMalformed)
		case xml.StartElement:
			v := ""
			for _, a := range tk.Attr {
				if a.Name.Local == "V" {
					v = clean(a.Value)
				}
			}
			switch tk.Name.Local {
			case "HDR.message_type":
				dev.MessageType = v
			case "HDR.version_id":
				dev.Version = v
			case "DEV.device_id":
				dev.DeviceID = v
			case "DEV.vendor_id":
				dev.Vendor = v
			case "DEV.manufacturer_name":
				dev.Manufacturer = v
			case "DEV.model_id":
				dev.Model = v
			case "DEV.serial_id":
				dev.Serial = v
			case "DEV.sw_version":
				dev.SWVersion = v
			case "DEV.hw_version":
				dev.HWVersion = v
			case "DEV.device_name":
				dev.Name = v
			}
		}
	}
}

func lineOf(d *xml.Decoder) int {
	line, _ := d.InputPos()
	return line
}

func (s *stream) document(dir dissect.Direction, root string, doc []byte, t time.Time, out dissect.Emitter) error {
	dev, err := ParseDocument(bytes.NewReader(doc), "poct1 "+dir.String()+" "+clean(root))
	if err != nil {
		return err
	}
	ep := s.flow.Sender(dir)
	emit := func(field, value string) {
		if value != "" {
			out.Observe(dissect.Observation{Time: t, Protocol: Name, Field: field, Value: value, MAC: ep.MAC, IP: ep.Addr.Addr()})
		}
	}
	mt := dev.MessageType
	if mt == "" {
		mt = clean(root)
	}
	emit("poct1.message_type", mt)
	emit("poct1.version", dev.Version)
	vendor := dev.Manufacturer
	if vendor == "" {
		vendor = dev.Vendor
	}
	emit("poct1.vendor", vendor)
	emit("poct1.vendor_id", dev.Vendor)
	emit("poct1.model", dev.Model)
	emit("poct1.serial", dev.Serial)
	emit("poct1.sw_version", dev.SWVersion)
	emit("poct1.hw_version", dev.HWVersion)
	emit("poct1.device_id", dev.DeviceID)
	emit("poct1.device_name", dev.Name)
	return nil
}

// Gap implements dissect.Stream: the document being read is lost.
func (s *stream) Gap(dir dissect.Direction) { s.buf[dir&1], s.resync[dir&1] = nil, true }

// End implements dissect.Stream.
func (s *stream) End(dissect.Emitter) {}

func clean(s string) string {
	if len(s) > 256 {
		s = s[:256]
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "")))
}
