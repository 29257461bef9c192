package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/medwarden/medwarden/internal/cvss"
	"github.com/medwarden/medwarden/internal/inventory"
)

// MaxCVSSVectors bounds the vectors one POST /api/v1/cvss may score.
const MaxCVSSVectors = 10000

// maxVectorLen bounds one vector (the longest valid v4.0 vector with every
// metric is under 300 characters).
const maxVectorLen = 1024

// cvssResult is one scored vector (the CLI contract's fields, cvss.Report).
type cvssResult = cvss.Report

func scoreVector(in string) cvssResult {
	if len(in) > maxVectorLen {
		return cvssResult{Vector: in[:64] + "…", Error: fmt.Sprintf("cvss: vector longer than %d characters", maxVectorLen)}
	}
	return cvss.ReportOf(in)
}

// getCVSS scores one vector: GET /api/v1/cvss?vector=CVSS:3.1/AV:N/...
// An invalid vector is a 400 whose error names the metric.
func (s *Server) getCVSS(w http.ResponseWriter, r *http.Request) {
	qv := r.URL.Query()
	for k, vs := range qv {
		if k != "vector" {
			badRequest(w, r, fmt.Sprintf("unknown query parameter %q (only vector)", k), &inventory.InputError{Column: k, Reason: "unknown parameter"})
			return
		}
		if len(vs) != 1 {
			badRequest(w, r, "give one vector (POST a list to score several)", &inventory.InputError{Column: "vector", Reason: "given more than once"})
			return
		}
	}
	v := strings.TrimSpace(qv.Get("vector"))
	if v == "" {
		badRequest(w, r, "query parameter vector is required, e.g. ?vector=CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			&inventory.InputError{Column: "vector", Reason: "missing"})
		return
	}
	res := scoreVector(v)
	if res.Error != "" {
		field := "vector"
		if res.Metric != "" {
			field = "vector." + res.Metric
		}
		badRequest(w, r, "invalid CVSS vector: "+res.Error, &inventory.InputError{Column: field, Value: truncate(v, 200), Reason: res.Error})
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// cvssRequest is the body of POST /api/v1/cvss: {"vectors": [...]} (a bare
// JSON array of strings is accepted too).
type cvssRequest struct {
	Vectors []string `json:"vectors"`
}

// postCVSS scores a list of vectors; every vector gets a result, valid or
// not, in the order given (as the CLI prints them).
func (s *Server) postCVSS(w http.ResponseWriter, r *http.Request) {
	body, ok := readJSONBody(w, r, MaxJSONBody)
	if !ok {
		return
	}
	var req cvssRequest
	switch body[0] {
	case '[':
		err := json.Unmarshal(body, &req.Vectors)
		if err != nil {
			jsonError(w, r, err, "vectors")
			return
		}
	case '{':
		if err := decodeStrict(body, &req); err != nil {
			jsonError(w, r, err, "")
			return
		}
	default:
		badRequest(w, r, `the body must be {"vectors": ["CVSS:3.1/…", …]} or a JSON array of vector strings`)
		return
	}
	if req.Vectors == nil {
		badRequest(w, r, `"vectors" is required: a list of CVSS vector strings`, &inventory.InputError{Column: "vectors", Reason: "missing"})
		return
	}
	if len(req.Vectors) > MaxCVSSVectors {
		badRequest(w, r, fmt.Sprintf("at most %d vectors per request (got %d)", MaxCVSSVectors, len(req.Vectors)),
			&inventory.InputError{Column: "vectors", Value: fmt.Sprint(len(req.Vectors)), Reason: "too many vectors"})
		return
	}
	out := make([]cvssResult, len(req.Vectors))
	invalid := 0
	for i, v := range req.Vectors {
		out[i] = scoreVector(strings.TrimSpace(v))
		if out[i].Error != "" {
			invalid++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out, "invalid": invalid})
}

// readJSONBody reads a JSON request body of at most max bytes, answering
// 415, 413 or 400 itself. The body returned is trimmed and not empty.
func readJSONBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeProblem(w, r, Problem{Type: typeValidation, Title: "unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: "send the body as application/json (got " + truncate(ct, 100) + ")"})
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			writeProblem(w, r, Problem{Type: typeTooLarge, Title: "request too large", Status: http.StatusRequestEntityTooLarge,
				Detail: fmt.Sprintf("the body may be at most %d bytes", max)})
			return nil, false
		}
		badRequest(w, r, "could not read the request body: "+err.Error())
		return nil, false
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		badRequest(w, r, "the request body is empty; send a JSON object")
		return nil, false
	}
	return body, true
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON object")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

// jsonError answers 400 for a body that is not valid JSON of the expected
// shape, naming the field when encoding/json knows it.
func jsonError(w http.ResponseWriter, r *http.Request, err error, field string) {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	ie := &inventory.InputError{Column: field, Reason: err.Error()}
	detail := "invalid JSON body: " + err.Error()
	switch {
	case errors.As(err, &te):
		if te.Field != "" {
			ie.Column = te.Field
			if field != "" {
				ie.Column = field + "." + te.Field
			}
		}
		ie.Reason = fmt.Sprintf("want %s, got JSON %s", te.Type, te.Value)
		detail = fmt.Sprintf("field %q: %s", ie.Column, ie.Reason)
	case errors.As(err, &se):
		ie.Reason = fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		ie.Column = name
		ie.Reason = "unknown field"
		detail = fmt.Sprintf("unknown field %q", name)
	}
	badRequest(w, r, detail, ie)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
