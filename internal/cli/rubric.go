package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/medwarden/medwarden/internal/cvss"
	"github.com/medwarden/medwarden/internal/rubric"
)

const rubricHelp = `
Applies the MITRE "Rubric for Applying CVSS to Medical Devices" (FDA-qualified
MDDT): the rubric's questions decide the CVSS base metrics of a medical-device
vulnerability, and every metric is printed with the questions and answers that
set it.

Without --answers the questionnaire runs interactively: each question is shown
with numbered choices; answer with the number or the word (YES, NO, UNKNOWN,
HIGH, LOW, NONE). At the end the answers are printed as JSON so they can be
saved and replayed with --answers.

With --answers FILE.json ("-" for standard input) the answers are read from a
JSON object of question id to answer, e.g. {"XAVN": "YES", "XAVT": "NO", ...}
(or the same object under an "answers" key). Missing answers are listed and
the exit status is 3.

The vector is CVSS v3.1 by default (--cvss-version 3.0 gives the rubric's own
v3.0). UNKNOWN answers to the C/I/A questions count as None, as the MITRE
calculator does; --unknown-impact high counts them as High. See docs/CVSS.md.`

func rubricVerb() *Verb {
	return &Verb{
		Name:    "rubric",
		Summary: "score a medical-device vulnerability with the MITRE CVSS rubric",
		Usage:   "[--answers FILE.json] [--format table|json] [--cvss-version 3.1|3.0] [--unknown-impact none|high]",
		Help:    rubricHelp,
		Run:     runRubric,
	}
}

// rubricOutput is the JSON document printed by the rubric verb.
type rubricOutput struct {
	rubric.Result
	Answers rubric.Answers `json:"answers"`
}

func runRubric(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	answersPath := fs.String("answers", "", "JSON file of answers (question id -> answer); - reads standard input; without it the questionnaire is interactive")
	format := fs.String("format", "table", "output format: table or json")
	version := fs.String("cvss-version", "3.1", "CVSS version of the vector: 3.1 or 3.0")
	unknown := fs.String("unknown-impact", "none", "how UNKNOWN C/I/A answers count: none (as the MITRE calculator) or high")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("unexpected argument %q", pos[0])
	}
	if *format != "table" && *format != "json" {
		return usageErr("unknown --format %q (want table or json)", *format)
	}
	var opt rubric.Options
	switch *version {
	case "3.1":
		opt.Version = cvss.V31
	case "3.0":
		opt.Version = cvss.V30
	default:
		return usageErr("unknown --cvss-version %q (want 3.1 or 3.0)", *version)
	}
	switch *unknown {
	case "none":
	case "high":
		opt.UnknownImpactHigh = true
	default:
		return usageErr("unknown --unknown-impact %q (want none or high)", *unknown)
	}
	rb, err := rubric.Default()
	if err != nil {
		return err
	}
	var answers rubric.Answers
	if *answersPath != "" {
		answers, err = readAnswers(env, *answersPath)
		if err != nil {
			return err
		}
	} else {
		answers, err = askRubric(ctx, env, rb)
		if err != nil {
			return err
		}
	}
	res, err := rb.Evaluate(answers, opt)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	norm, _ := rb.Normalize(answers) // Evaluate succeeded, so this does too
	if *format == "json" {
		b, err := json.MarshalIndent(rubricOutput{Result: res, Answers: norm}, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s\n", b)
	} else {
		printRubricTable(env.Stdout, rb, res)
		if *answersPath == "" {
			b, _ := json.Marshal(norm)
			fmt.Fprintf(env.Stdout, "\nanswers (save to a file and replay with --answers):\n%s\n", b)
		}
	}
	if !res.Complete {
		return fmt.Errorf("%w: answers incomplete: %d questions needed: %s", ErrBadInput, len(res.Missing), strings.Join(res.Missing, ", "))
	}
	return nil
}

func readAnswers(env *Env, path string) (rubric.Answers, error) {
	if path == "-" {
		a, err := rubric.ParseAnswers(env.Stdin, "standard input")
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
		}
		return a, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open answers: %w", err)
	}
	defer f.Close()
	a, err := rubric.ParseAnswers(f, path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	return a, nil
}

// askRubric runs the guided questionnaire on env.Stdin/env.Stdout.
func askRubric(ctx context.Context, env *Env, rb *rubric.Rubric) (rubric.Answers, error) {
	in := bufio.NewReader(env.Stdin)
	out := env.Stdout
	answers := rubric.Answers{}
	fmt.Fprintf(out, "MITRE Rubric for Applying CVSS to Medical Devices: answer each question with its number or word.\n")
	category := ""
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q, ok := rb.Next(answers)
		if !ok {
			fmt.Fprintln(out)
			return answers, nil
		}
		if q.Category != "" && q.Category != category {
			category = q.Category
			for _, c := range rb.Categories() {
				if c.ID == category {
					fmt.Fprintf(out, "\nImpact on: %s\n", c.Name)
				}
			}
		}
		fmt.Fprintf(out, "\n%d. [%s %s, %s] %s\n", n, q.Metric, q.Number, q.ID, q.Text)
		for i, a := range q.Answers {
			fmt.Fprintf(out, "   %d) %s\n", i+1, a)
		}
		for {
			fmt.Fprintf(out, "> ")
			line, err := in.ReadString('\n')
			if ans, ok := choice(q, line); ok {
				answers[q.ID] = ans
				break
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil, fmt.Errorf("input ended before the questionnaire was complete (%d questions answered)", len(answers))
				}
				return nil, fmt.Errorf("read answer: %w", err)
			}
			fmt.Fprintf(out, "   please answer 1-%d or one of %s\n", len(q.Answers), strings.Join(q.Answers, ", "))
		}
	}
}

// choice maps a typed answer (number, word, or a word's first letter when
// unambiguous) to one of the question's answers.
func choice(q rubric.Question, line string) (string, bool) {
	s := strings.ToUpper(strings.TrimSpace(line))
	if s == "" {
		return "", false
	}
	if i, err := strconv.Atoi(s); err == nil {
		if i >= 1 && i <= len(q.Answers) {
			return q.Answers[i-1], true
		}
		return "", false
	}
	var hit string
	n := 0
	for _, a := range q.Answers {
		if a == s {
			return a, true
		}
		if len(s) == 1 && strings.HasPrefix(a, s) {
			hit = a
			n++
		}
	}
	return hit, n == 1
}

func printRubricTable(w io.Writer, rb *rubric.Rubric, res rubric.Result) {
	if res.Complete {
		fmt.Fprintf(w, "vector: %s\nscore:  %.1f (%s)\n\n", res.Vector, *res.BaseScore, res.Severity)
	} else {
		fmt.Fprintf(w, "vector: incomplete (%d questions unanswered)\n\n", len(res.Missing))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "METRIC\tVALUE\tRATIONALE")
	var notes []string
	for _, m := range res.Metrics {
		var steps []string
		for _, s := range m.Rationale {
			steps = append(steps, fmt.Sprintf("%s=%s", s.Question, s.Answer))
		}
		val := m.Value
		if val == "" {
			val = "?"
			steps = append(steps, "needs "+strings.Join(m.Missing, ", "))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Metric, val, strings.Join(steps, "; "))
		for _, n := range m.Notes {
			notes = append(notes, m.Metric+": "+n)
		}
	}
	tw.Flush()
	if len(notes) > 0 {
		fmt.Fprintf(w, "\nnotes:\n")
		for _, n := range notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	if len(res.Missing) > 0 {
		fmt.Fprintf(w, "\nunanswered questions needed:\n")
		for _, id := range res.Missing {
			q, _ := rb.Question(id)
			fmt.Fprintf(w, "  %s (%s %s): %s\n", id, q.Metric, q.Number, q.Text)
		}
	}
	if len(res.Ignored) > 0 {
		fmt.Fprintf(w, "\nignored (not asked given the other answers): %s\n", strings.Join(res.Ignored, ", "))
	}
}
