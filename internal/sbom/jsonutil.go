package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// checkJSONDepth scans data for nesting deeper than max without decoding it.
// It returns an *InputError naming the line where the limit was crossed.
func checkJSONDepth(data []byte, max int) error {
	depth := 0
	inStr := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			if depth > max {
				return &InputError{Line: lineOf(data, int64(i)), Pointer: jsonPointerAt(data, int64(i)),
					Err: fmt.Errorf("%w: json nesting exceeds %d", ErrTooDeep, max)}
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// jsonError turns an encoding/json error into an *InputError with the line
// and JSON pointer of the failure.
func jsonError(data []byte, err error) error {
	var (
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
		off int64 = -1
	)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &ute):
		off = ute.Offset
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		off = int64(len(data))
		err = fmt.Errorf("%w: unexpected end of json input (truncated?)", ErrSyntax)
	}
	if off < 0 {
		return &InputError{Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
	}
	if se != nil {
		err = fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	return &InputError{Line: lineOf(data, off), Pointer: jsonPointerAt(data, off), Err: err}
}

type jsonFrame struct {
	array bool
	index int
	key   string
	// wantKey is true in an object when the next string token is a key.
	wantKey bool
}

// jsonPointerAt returns the JSON pointer of the value being read at byte
// offset off (or where the syntax broke, if earlier). It is slow and used
// only on error paths.
func jsonPointerAt(data []byte, off int64) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []jsonFrame
	path := func() string {
		toks := make([]string, 0, len(stack))
		for _, f := range stack {
			if f.array {
				if f.index >= 0 {
					toks = append(toks, strconv.Itoa(f.index))
				}
			} else if f.key != "" || !f.wantKey {
				toks = append(toks, f.key)
			}
		}
		return pointer(toks...)
	}
	for {
		if dec.InputOffset() >= off {
			return path()
		}
		tok, err := dec.Token()
		if err != nil {
			return path()
		}
		// A value token in an array advances its index; in an object a string
		// may be a key.
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			if !top.array && top.wantKey {
				if d, ok := tok.(json.Delim); ok && d == '}' {
					stack = stack[:len(stack)-1]
					valueDone(stack)
					continue
				}
				top.key, _ = tok.(string)
				top.wantKey = false
				continue
			}
			if top.array {
				if d, ok := tok.(json.Delim); !ok || d != ']' {
					top.index++
				}
			}
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, jsonFrame{wantKey: true})
			case '[':
				stack = append(stack, jsonFrame{array: true, index: -1})
			case '}', ']':
				if len(stack) > 0 {
					stack = stack[:len(stack)-1]
				}
				valueDone(stack)
			}
			continue
		}
		valueDone(stack)
	}
}

// valueDone marks the end of a member value in the enclosing object.
func valueDone(stack []jsonFrame) {
	if len(stack) > 0 && !stack[len(stack)-1].array {
		stack[len(stack)-1].wantKey = true
	}
}
