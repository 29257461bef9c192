package rubric

import (
	"fmt"
	"strings"

	"github.com/medwarden/medwarden/internal/cvss"
)

// Options adjust the evaluation.
type Options struct {
	// Version is the CVSS version of the produced vector: cvss.V31 (the
	// default when zero) or cvss.V30 (the version the rubric was written
	// for; base scores differ only by the v3.0/v3.1 rounding).
	Version cvss.Version
	// UnknownImpactHigh counts UNKNOWN answers to the C/I/A questions as
	// High, the rubric's stated intent that unknowns resolve to the more
	// severe value. By default they count as None, as the MITRE calculator
	// workbook computes it; either way the rationale says so.
	UnknownImpactHigh bool
}

// Step is one question and its answer in a metric's rationale.
type Step struct {
	Question string `json:"question"`
	Number   string `json:"number"`
	Text     string `json:"text"`
	Answer   string `json:"answer"`
	Category string `json:"category,omitempty"`
}

// MetricResult is the value of one CVSS base metric and why.
type MetricResult struct {
	Metric string `json:"metric"`
	// Value is the CVSS value letter ("N", "L", ...), empty while questions
	// needed for it are unanswered.
	Value     string   `json:"value,omitempty"`
	Rationale []Step   `json:"rationale"`
	Notes     []string `json:"notes,omitempty"`
	// Missing lists the unanswered questions needed to settle Value.
	Missing []string `json:"missing,omitempty"`
}

// Result is the outcome of evaluating a set of answers.
type Result struct {
	// Complete is true when every base metric has a value.
	Complete  bool           `json:"complete"`
	Vector    string         `json:"vector,omitempty"`
	BaseScore *float64       `json:"base_score,omitempty"`
	Severity  cvss.Severity  `json:"severity,omitempty"`
	Metrics   []MetricResult `json:"metrics"`
	// Missing lists, in rubric order, the unanswered questions needed for a
	// metric value.
	Missing []string `json:"missing,omitempty"`
	// Ignored lists answered questions that the rubric does not ask given
	// the other answers (e.g. XAVT when XAVN is NO); they do not count.
	Ignored []string `json:"ignored,omitempty"`
}

func (r *Rubric) step(id, answer string) Step {
	q := r.byID[id]
	return Step{Question: id, Number: q.Number, Text: q.Text, Answer: answer, Category: q.Category}
}

// Evaluate turns answers into CVSS base metric values with their rationale.
// Answers are normalised first (see Normalize); an unknown question id or an
// answer outside the question's answer set is an error.
func (r *Rubric) Evaluate(answers Answers, opt Options) (Result, error) {
	a, err := r.Normalize(answers)
	if err != nil {
		return Result{}, err
	}
	ver := opt.Version
	if ver == 0 {
		ver = cvss.V31
	}
	if ver != cvss.V30 && ver != cvss.V31 {
		return Result{}, fmt.Errorf("rubric: CVSS version %s not supported (want 3.0 or 3.1)", ver)
	}
	var res Result
	asked := map[string]bool{}
	for _, m := range r.metrics {
		var mr MetricResult
		if _, ok := r.trees[m]; ok {
			mr, err = r.evalTree(m, a, asked)
			if err != nil {
				return Result{}, err
			}
		} else {
			mr = r.evalImpact(m, a, asked, opt)
		}
		res.Metrics = append(res.Metrics, mr)
	}
	missing := map[string]bool{}
	for _, mr := range res.Metrics {
		for _, id := range mr.Missing {
			missing[id] = true
		}
	}
	for _, q := range r.qs {
		if missing[q.ID] {
			res.Missing = append(res.Missing, q.ID)
		}
		if _, answered := a[q.ID]; answered && !asked[q.ID] {
			res.Ignored = append(res.Ignored, q.ID)
		}
	}
	if len(res.Missing) > 0 {
		return res, nil
	}
	parts := []string{"CVSS:" + ver.String()}
	for _, mr := range res.Metrics {
		parts = append(parts, mr.Metric+":"+mr.Value)
	}
	v, err := cvss.Parse(strings.Join(parts, "/"))
	if err != nil {
		return Result{}, fmt.Errorf("rubric: built an invalid vector: %w", err)
	}
	score := v.BaseScore()
	res.Complete = true
	res.Vector = v.String()
	res.BaseScore = &score
	res.Severity = cvss.SeverityOf(score)
	return res, nil
}

// evalTree walks the decision tree of metric m as far as the answers go.
func (r *Rubric) evalTree(m string, a Answers, asked map[string]bool) (MetricResult, error) {
	t := r.trees[m]
	mr := MetricResult{Metric: m, Rationale: []Step{}}
	id := t.Start
	for range len(t.Nodes) + 1 {
		asked[id] = true
		ans, ok := a[id]
		if !ok {
			mr.Missing = []string{id}
			// Answers further down this tree are pending, not ignored.
			for other := range t.Nodes {
				asked[other] = true
			}
			return mr, nil
		}
		n := t.Nodes[id]
		mr.Rationale = append(mr.Rationale, r.step(id, ans))
		if n.Note != "" {
			mr.Notes = append(mr.Notes, id+": "+n.Note)
		}
		e := n.On[ans]
		if e.Value != "" {
			mr.Value = e.Value
			if ans == Unknown {
				mr.Notes = append(mr.Notes, fmt.Sprintf("%s answered UNKNOWN: resolved to the more severe value %s:%s", id, m, e.Value))
			}
			return mr, nil
		}
		id = e.Next
	}
	return mr, fmt.Errorf("rubric: decision tree for %s does not end", m)
}

// impact levels, ordered.
const (
	lvNone = iota
	lvLow
	lvHigh
)

// evalImpact applies the C/I/A rule: the metric is the highest impact over
// the six categories (for C, XCP = YES counts as High).
func (r *Rubric) evalImpact(m string, a Answers, asked map[string]bool, opt Options) MetricResult {
	mr := MetricResult{Metric: m, Rationale: []Step{}}
	var byLevel [3][]Step
	var missing []string
	for _, c := range r.categories {
		id := c.questionOf[m]
		asked[id] = true
		ans, ok := a[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		lv := lvNone
		switch ans {
		case High, Yes:
			lv = lvHigh
		case Low:
			lv = lvLow
		case Unknown:
			if opt.UnknownImpactHigh {
				lv = lvHigh
				mr.Notes = append(mr.Notes, id+" answered UNKNOWN: counted as High (unknown resolves to the more severe value)")
			} else {
				mr.Notes = append(mr.Notes, id+" answered UNKNOWN: counted as None, as the MITRE calculator does (use the unknown-impact-high option for the conservative reading)")
			}
		}
		byLevel[lv] = append(byLevel[lv], r.step(id, ans))
		if m == "C" && c.CFollowup != "" && ans == Yes {
			asked[c.CFollowup] = true
			if f, ok := a[c.CFollowup]; ok {
				byLevel[lv] = append(byLevel[lv], r.step(c.CFollowup, f))
				mr.Notes = append(mr.Notes, c.CFollowup+" (500 or more patients) is recorded but, as in the MITRE calculator, does not change C: readable PHI/PII gives C:H")
			}
		}
	}
	switch {
	case len(byLevel[lvHigh]) > 0:
		mr.Value, mr.Rationale = "H", byLevel[lvHigh]
	case len(missing) > 0:
		mr.Missing = missing
		mr.Rationale = append(append(mr.Rationale, byLevel[lvLow]...), byLevel[lvNone]...)
	case len(byLevel[lvLow]) > 0:
		mr.Value, mr.Rationale = "L", byLevel[lvLow]
	default:
		mr.Value, mr.Rationale = "N", byLevel[lvNone]
	}
	return mr
}

// Next returns the next question of the guided questionnaire, or false when
// every question the rubric asks given these answers is answered. The order
// is the rubric's: the AV, AC, PR, UI and S decision trees, then the C/I/A
// questions category by category (XCPM right after XCP when XCP is YES).
// Answers that are not valid for their question count as unanswered.
func (r *Rubric) Next(answers Answers) (Question, bool) {
	a := Answers{}
	for id, ans := range answers {
		id = strings.ToUpper(strings.TrimSpace(id))
		if q, ok := r.byID[id]; ok {
			ans = strings.ToUpper(strings.TrimSpace(ans))
			for _, x := range q.Answers {
				if x == ans {
					a[id] = ans
				}
			}
		}
	}
	for _, m := range r.metrics {
		t, ok := r.trees[m]
		if !ok {
			continue
		}
		id := t.Start
		for range len(t.Nodes) + 1 {
			ans, ok := a[id]
			if !ok {
				return *r.byID[id], true
			}
			e := t.Nodes[id].On[ans]
			if e.Value != "" {
				break
			}
			id = e.Next
		}
	}
	for _, c := range r.categories {
		for _, id := range []string{c.C, c.CFollowup, c.I, c.A} {
			if id == "" || (id == c.CFollowup && a[c.C] != Yes) {
				continue
			}
			if _, ok := a[id]; !ok {
				return *r.byID[id], true
			}
		}
	}
	return Question{}, false
}
