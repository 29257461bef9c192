package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/medwarden/medwarden/internal/cvss"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/rubric"
)

// The MITRE rubric as a guided questionnaire: GET returns the questions,
// POST evaluates answers (possibly partial) into a CVSS v3 base vector with
// the rationale of every metric, plus the next question to ask.

// maxRubricAnswers bounds the answers of one request (the rubric has fewer
// than 40 questions).
const maxRubricAnswers = 200

// rubricDoc is GET /api/v1/rubric.
type rubricDoc struct {
	Name       string            `json:"name"`
	Source     map[string]string `json:"source"`
	Questions  []rubric.Question `json:"questions"`
	Categories []rubric.Category `json:"impact_categories"`
	// First is the question to start with.
	First *rubric.Question `json:"first"`
}

func (s *Server) getRubric(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Query()) > 0 {
		for k := range r.URL.Query() {
			badRequest(w, r, fmt.Sprintf("unknown query parameter %q (GET /api/v1/rubric takes none)", k), &inventory.InputError{Column: k, Reason: "unknown parameter"})
			return
		}
	}
	rb, err := rubric.Default()
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	doc := rubricDoc{Name: rb.Name(), Source: rb.Source(), Questions: rb.Questions(), Categories: rb.Categories()}
	if q, ok := rb.Next(rubric.Answers{}); ok {
		doc.First = &q
	}
	writeJSON(w, http.StatusOK, doc)
}

// RubricRequest is the body of POST /api/v1/rubric and the "rubric" member
// of a finding PATCH.
type RubricRequest struct {
	Answers rubric.Answers `json:"answers"`
	// CVSSVersion is "3.1" (default) or "3.0".
	CVSSVersion string `json:"cvss_version,omitempty"`
	// UnknownImpact is "none" (default, as the MITRE calculator) or "high".
	UnknownImpact string `json:"unknown_impact,omitempty"`
}

// RubricResponse is the evaluated questionnaire.
type RubricResponse struct {
	rubric.Result
	// Answers are the normalised answers (the rationale to keep).
	Answers rubric.Answers `json:"answers"`
	// Next is the next question to ask; absent when the questionnaire is
	// complete.
	Next          *rubric.Question `json:"next,omitempty"`
	CVSSVersion   string           `json:"cvss_version"`
	UnknownImpact string           `json:"unknown_impact"`
}

// evalRubric validates and evaluates a rubric request; the InputError names
// the field ("answers.XAVN", "cvss_version", ...) when the request is bad.
func evalRubric(req RubricRequest, prefix string) (*RubricResponse, *inventory.InputError) {
	var opt rubric.Options
	if req.CVSSVersion == "" {
		req.CVSSVersion = "3.1"
	}
	switch req.CVSSVersion {
	case "3.1":
		opt.Version = cvss.V31
	case "3.0":
		opt.Version = cvss.V30
	default:
		return nil, &inventory.InputError{Column: prefix + "cvss_version", Value: truncate(req.CVSSVersion, 20), Reason: "want 3.1 or 3.0"}
	}
	if req.UnknownImpact == "" {
		req.UnknownImpact = "none"
	}
	switch req.UnknownImpact {
	case "none":
	case "high":
		opt.UnknownImpactHigh = true
	default:
		return nil, &inventory.InputError{Column: prefix + "unknown_impact", Value: truncate(req.UnknownImpact, 20), Reason: "want none or high"}
	}
	if req.Answers == nil {
		return nil, &inventory.InputError{Column: prefix + "answers", Reason: `required: an object of question id to answer, e.g. {"XAVN": "YES"} ({} to start)`}
	}
	if len(req.Answers) > maxRubricAnswers {
		return nil, &inventory.InputError{Column: prefix + "answers", Value: fmt.Sprint(len(req.Answers)), Reason: "too many answers"}
	}
	rb, err := rubric.Default()
	if err != nil {
		return nil, &inventory.InputError{Column: prefix + "answers", Reason: err.Error()}
	}
	norm, err := rb.Normalize(req.Answers)
	if err != nil {
		return nil, rubricInputError(prefix, req.Answers, err)
	}
	res, err := rb.Evaluate(norm, opt)
	if err != nil {
		return nil, rubricInputError(prefix, req.Answers, err)
	}
	out := &RubricResponse{Result: res, Answers: norm, CVSSVersion: req.CVSSVersion, UnknownImpact: req.UnknownImpact}
	if q, ok := rb.Next(norm); ok {
		out.Next = &q
	}
	if out.Metrics == nil {
		out.Metrics = []rubric.MetricResult{}
	}
	return out, nil
}

// rubricInputError names the question an answer error is about.
func rubricInputError(prefix string, a rubric.Answers, err error) *inventory.InputError {
	ie := &inventory.InputError{Column: prefix + "answers", Reason: strings.TrimPrefix(err.Error(), "rubric: ")}
	if errors.Is(err, rubric.ErrUnknownQuestion) || errors.Is(err, rubric.ErrInvalidAnswer) {
		// the message is: rubric: question "ID": ...
		if _, rest, ok := strings.Cut(err.Error(), `question "`); ok {
			if id, _, ok := strings.Cut(rest, `"`); ok {
				ie.Column = prefix + "answers." + id
				for k, v := range a {
					if strings.EqualFold(strings.TrimSpace(k), id) {
						ie.Value = truncate(v, 40)
					}
				}
			}
		}
	}
	return ie
}

func (s *Server) postRubric(w http.ResponseWriter, r *http.Request) {
	body, ok := readJSONBody(w, r, MaxJSONBody)
	if !ok {
		return
	}
	var req RubricRequest
	if err := decodeStrict(body, &req); err != nil {
		jsonError(w, r, err, "")
		return
	}
	res, ie := evalRubric(req, "")
	if ie != nil {
		badRequest(w, r, fmt.Sprintf("%s: %s", ie.Column, ie.Reason), ie)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
