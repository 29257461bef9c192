// Package rubric implements the MITRE "Rubric for Applying CVSS to Medical
// Devices" (an FDA-qualified Medical Device Development Tool) as data plus a
// pure evaluator: answers to the rubric's questions produce a CVSS base
// vector in which every metric carries the questions and answers that set it.
//
// The questions and decision logic are embedded from rubric.json, derived from
// the MITRE/MedSec calculator workbook (see the "source" object in that file
// and docs/CVSS.md for where this evaluator deliberately differs from the
// workbook's formulas).
package rubric

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

//go:embed rubric.json
var rubricJSON []byte

// Answer values used by the rubric's answer sets.
const (
	Yes     = "YES"
	No      = "NO"
	Unknown = "UNKNOWN"
	High    = "HIGH"
	Low     = "LOW"
	None    = "NONE"
)

// Errors returned for invalid answers.
var (
	ErrUnknownQuestion = errors.New("unknown question")
	ErrInvalidAnswer   = errors.New("invalid answer")
)

// Question is one rubric question.
type Question struct {
	ID       string   `json:"id"`     // the rubric's code, e.g. "XAVN"
	Metric   string   `json:"metric"` // the CVSS base metric it informs
	Number   string   `json:"number"` // the rubric's numbering within the metric, e.g. "Q1.C"
	Text     string   `json:"text"`
	Answers  []string `json:"answers"`
	Category string   `json:"category,omitempty"` // impact category id (C/I/A questions)
	// AskedWhen is the rubric's display condition, for people.
	AskedWhen string `json:"asked_when"`
}

type edge struct {
	Next  string `json:"next,omitempty"`
	Value string `json:"value,omitempty"`
}

type node struct {
	On   map[string]edge `json:"on"`
	Note string          `json:"note,omitempty"`
}

type tree struct {
	Start string          `json:"start"`
	Nodes map[string]node `json:"nodes"`
}

// Category is one of the rubric's six kinds of data or functionality whose
// confidentiality, integrity and availability impacts are asked about.
type Category struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	C          string `json:"C"`
	CFollowup  string `json:"C_followup,omitempty"`
	I          string `json:"I"`
	A          string `json:"A"`
	questionOf map[string]string
}

// rubricFile is the layout of rubric.json.
type rubricFile struct {
	Name       string            `json:"name"`
	Source     map[string]string `json:"source"`
	Metrics    []string          `json:"metrics"`
	Questions  []Question        `json:"questions"`
	Trees      map[string]tree   `json:"trees"`
	Categories []Category        `json:"impact_categories"`
}

// Rubric is the loaded question set and decision logic. It is immutable and
// safe for concurrent use.
type Rubric struct {
	name       string
	source     map[string]string
	metrics    []string
	qs         []Question
	trees      map[string]tree
	categories []Category
	byID       map[string]*Question
}

var loadDefault = sync.OnceValues(func() (*Rubric, error) {
	return load(rubricJSON)
})

// Default returns the embedded MITRE rubric.
func Default() (*Rubric, error) { return loadDefault() }

func load(b []byte) (*Rubric, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f rubricFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("rubric: decode rubric.json: %w", err)
	}
	r := Rubric{name: f.Name, source: f.Source, metrics: f.Metrics, qs: f.Questions, trees: f.Trees, categories: f.Categories}
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("rubric: rubric.json: %w", err)
	}
	return &r, nil
}

var metricValues = map[string]string{"AV": "NALP", "AC": "LH", "PR": "NLH", "UI": "NR", "S": "UC", "C": "HLN", "I": "HLN", "A": "HLN"}

// validate checks the embedded data's internal consistency.
func (r *Rubric) validate() error {
	r.byID = map[string]*Question{}
	for i := range r.qs {
		q := &r.qs[i]
		if _, dup := r.byID[q.ID]; dup {
			return fmt.Errorf("question %q defined twice", q.ID)
		}
		if _, ok := metricValues[q.Metric]; !ok {
			return fmt.Errorf("question %q: unknown metric %q", q.ID, q.Metric)
		}
		r.byID[q.ID] = q
	}
	for _, m := range []string{"AV", "AC", "PR", "UI", "S"} {
		t, ok := r.trees[m]
		if !ok {
			return fmt.Errorf("no decision tree for metric %q", m)
		}
		if _, ok := t.Nodes[t.Start]; !ok {
			return fmt.Errorf("trees/%s: start %q has no node", m, t.Start)
		}
		for id, n := range t.Nodes {
			q, ok := r.byID[id]
			if !ok || q.Metric != m {
				return fmt.Errorf("trees/%s: node %q is not a %s question", m, id, m)
			}
			for _, a := range q.Answers {
				e, ok := n.On[a]
				if !ok {
					return fmt.Errorf("trees/%s/nodes/%s: no branch for answer %q", m, id, a)
				}
				if (e.Next == "") == (e.Value == "") {
					return fmt.Errorf("trees/%s/nodes/%s/on/%s: want exactly one of next and value", m, id, a)
				}
				if e.Next != "" {
					if _, ok := t.Nodes[e.Next]; !ok {
						return fmt.Errorf("trees/%s/nodes/%s/on/%s: next %q has no node", m, id, a, e.Next)
					}
				}
				if e.Value != "" && (len(e.Value) != 1 || !strings.Contains(metricValues[m], e.Value)) {
					return fmt.Errorf("trees/%s/nodes/%s/on/%s: invalid %s value %q", m, id, a, m, e.Value)
				}
			}
		}
	}
	for i := range r.categories {
		c := &r.categories[i]
		c.questionOf = map[string]string{"C": c.C, "I": c.I, "A": c.A}
		for _, id := range []string{c.C, c.I, c.A, c.CFollowup} {
			if id == "" {
				continue
			}
			if q, ok := r.byID[id]; !ok || q.Category != c.ID {
				return fmt.Errorf("impact_categories/%s: %q is not a question of this category", c.ID, id)
			}
		}
	}
	return nil
}

// Name is the rubric's title.
func (r *Rubric) Name() string { return r.name }

// Source describes where the embedded data comes from (file, upstream,
// licence).
func (r *Rubric) Source() map[string]string { return r.source }

// Questions returns all questions in the rubric's order.
func (r *Rubric) Questions() []Question { return append([]Question(nil), r.qs...) }

// Categories returns the six impact categories in the rubric's order.
func (r *Rubric) Categories() []Category { return append([]Category(nil), r.categories...) }

// Question returns the question with the given id.
func (r *Rubric) Question(id string) (Question, bool) {
	q, ok := r.byID[id]
	if !ok {
		return Question{}, false
	}
	return *q, true
}

// Answers maps question ids to answers ("YES", "NO", "UNKNOWN", "HIGH", "LOW",
// "NONE", depending on the question).
type Answers map[string]string

// Normalize returns a copy with ids and answers trimmed and upper-cased, and
// an error naming the first unknown question or invalid answer (in id order).
func (r *Rubric) Normalize(a Answers) (Answers, error) {
	out := make(Answers, len(a))
	ids := make([]string, 0, len(a))
	for id := range a {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, raw := range ids {
		id := strings.ToUpper(strings.TrimSpace(raw))
		q, ok := r.byID[id]
		if !ok {
			return nil, fmt.Errorf("rubric: question %q: %w", raw, ErrUnknownQuestion)
		}
		ans := strings.ToUpper(strings.TrimSpace(a[raw]))
		valid := false
		for _, x := range q.Answers {
			valid = valid || x == ans
		}
		if !valid {
			return nil, fmt.Errorf("rubric: question %q: %w %q (want one of %s)", id, ErrInvalidAnswer, a[raw], strings.Join(q.Answers, ", "))
		}
		if prev, dup := out[id]; dup && prev != ans {
			return nil, fmt.Errorf("rubric: question %q answered twice (%q and %q)", id, prev, ans)
		}
		out[id] = ans
	}
	return out, nil
}

// ParseAnswers reads an answers file: a JSON object mapping question ids to
// answers, either bare ({"XAVN": "YES", ...}) or under an "answers" key. name
// is used in errors.
func ParseAnswers(rd io.Reader, name string) (Answers, error) {
	b, err := io.ReadAll(io.LimitReader(rd, 1<<20+1))
	if err != nil {
		return nil, fmt.Errorf("rubric: read %s: %w", name, err)
	}
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("rubric: %s: larger than 1 MiB", name)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("rubric: %s: want a JSON object of question id to answer: %w", name, err)
	}
	if inner, ok := probe["answers"]; ok {
		b = inner
	}
	var a Answers
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("rubric: %s: answers must be strings keyed by question id: %w", name, err)
	}
	return a, nil
}
