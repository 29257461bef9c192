package inventory

import (
	"errors"
	"fmt"
	"io"
)

// InputError is one problem in an input file, precise enough for a person
// to fix it: file, line (1-based, 0 when not line-oriented), column or field
// name, the offending value and why it was refused.
type InputError struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Column string `json:"column,omitempty"` // CSV column header or JSON/FHIR field path
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
}

func (e *InputError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += fmt.Sprintf(":%d", e.Line)
	}
	if e.Column != "" {
		loc += " column " + e.Column
	}
	return loc + ": " + e.Reason
}

// AsInputError reports whether err is (or wraps) an *InputError.
func AsInputError(err error) (*InputError, bool) {
	var ie *InputError
	ok := errors.As(err, &ie)
	return ie, ok
}

// Decoder streams devices out of an input file.
//
// Next returns (device, nil) for a good record; (nil, err) with err an
// *InputError for a bad record, after which the caller may call Next again
// to continue with the following record; (nil, io.EOF) at the end; and any
// other error when the input cannot be read further (the caller stops).
// Returned devices carry intended values only; the importer sets provenance.
type Decoder interface {
	Next() (*Device, error)
}

// SliceDecoder is a Decoder over devices already in memory (generated
// fleets, tests).
type SliceDecoder struct {
	Devices []*Device
	next    int
}

var _ Decoder = (*SliceDecoder)(nil)

// Next returns the next device, or io.EOF after the last.
func (s *SliceDecoder) Next() (*Device, error) {
	if s.next >= len(s.Devices) {
		return nil, io.EOF
	}
	s.next++
	return s.Devices[s.next-1], nil
}
