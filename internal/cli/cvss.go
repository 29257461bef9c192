package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/medwarden/medwarden/internal/cvss"
)

const cvssHelp = `
Scores CVSS v2.0, v3.0, v3.1 and v4.0 vectors. Give vectors as arguments, or
"-" to read one vector per line from standard input (blank lines and lines
starting with "#" are skipped). v3.x/v4.0 vectors need their "CVSS:3.1/"
(or 3.0, 4.0) prefix; v2.0 vectors have none and may be in parentheses.

For each vector it prints the version, the base, temporal (v4.0: CVSS-BT,
base+threat) and environmental (v4.0: CVSS-BTE) scores, the score that
applies (v4.0: CVSS-BTE; v2/v3: environmental if environmental metrics are
set, else temporal if temporal metrics are set, else base) and its severity
(v2.0: NVD's Low/Medium/High). Temporal and environmental scores are always
computed, unset metrics counting as "not defined", as the FIRST calculators do.
The vector column is the normalised vector (canonical metric order, X dropped).

Every vector is printed, valid or not; the exit status is 3 when any vector
was invalid. See docs/CVSS.md.

examples:
  medwarden cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
  medwarden cvss --format json 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U'
  cut -d, -f3 vectors.csv | medwarden cvss --format csv -`

func cvssVerb() *Verb {
	return &Verb{
		Name:    "cvss",
		Summary: "score CVSS v2.0/v3.0/v3.1/v4.0 vectors",
		Usage:   "[--format table|json|csv] VECTOR... | -",
		Help:    cvssHelp,
		Run:     runCVSS,
	}
}

// cvssRow is one output record; score fields are pointers so that a 0.0
// score of a valid vector is printed while an invalid vector has none.
type cvssRow = cvss.Report

// scoreRow scores one vector. The CLI's JSON contract for an invalid vector
// is vector and error only (the error text names the metric), so the API's
// separate metric field is left out here.
func scoreRow(in string) cvssRow {
	r := cvss.ReportOf(in)
	r.Metric = ""
	return r
}

// cvssWriter prints rows in one format as they come.
type cvssWriter interface {
	row(cvssRow) error
	close() error
}

func runCVSS(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	format := fs.String("format", "table", "output format: table, json or csv")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("no vector given (pass vectors as arguments, or - to read them from standard input)")
	}
	var w cvssWriter
	switch *format {
	case "table":
		w = newCVSSTable(env.Stdout)
	case "json":
		w = &cvssJSON{w: bufio.NewWriter(env.Stdout)}
	case "csv":
		w = newCVSSCSV(env.Stdout)
	default:
		return usageErr("unknown --format %q (want table, json or csv)", *format)
	}
	stdinUsed := false
	var total, bad int
	emit := func(in string) error {
		row := scoreRow(in)
		total++
		if row.Error != "" {
			bad++
		}
		return w.row(row)
	}
	for _, a := range pos {
		if a != "-" {
			if err := emit(strings.TrimSpace(a)); err != nil {
				return err
			}
			continue
		}
		if stdinUsed {
			return usageErr(`"-" given more than once`)
		}
		stdinUsed = true
		sc := bufio.NewScanner(env.Stdin)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for line := 1; sc.Scan(); line++ {
			if line%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			s := strings.TrimSpace(sc.Text())
			if s == "" || strings.HasPrefix(s, "#") {
				continue
			}
			if err := emit(s); err != nil {
				return err
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("read standard input: %w", err)
		}
	}
	if err := w.close(); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("%w: %d of %d vectors invalid", ErrBadInput, bad, total)
	}
	return nil
}

func fmtScore(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64)
}

type cvssTable struct {
	tw     *tabwriter.Writer
	errors []string
	out    io.Writer
}

func newCVSSTable(out io.Writer) *cvssTable {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tBASE\tTEMPORAL\tENVIRONMENTAL\tSCORE\tSEVERITY\tVECTOR")
	return &cvssTable{tw: tw, out: out}
}

func (t *cvssTable) row(r cvssRow) error {
	if r.Error != "" {
		t.errors = append(t.errors, r.Vector+": "+r.Error)
		_, err := fmt.Fprintf(t.tw, "-\t-\t-\t-\t-\tINVALID\t%s\n", r.Vector)
		return err
	}
	_, err := fmt.Fprintf(t.tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Version, fmtScore(r.BaseScore), fmtScore(r.TemporalScore),
		fmtScore(r.EnvironmentalScore), fmtScore(r.Score), r.Severity, r.Vector)
	return err
}

func (t *cvssTable) close() error {
	if err := t.tw.Flush(); err != nil {
		return err
	}
	if len(t.errors) > 0 {
		fmt.Fprintf(t.out, "\ninvalid vectors:\n")
		for _, e := range t.errors {
			fmt.Fprintf(t.out, "  %s\n", e)
		}
	}
	return nil
}

type cvssJSON struct {
	w *bufio.Writer
	n int
}

func (j *cvssJSON) row(r cvssRow) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	sep := ",\n  "
	if j.n == 0 {
		sep = "[\n  "
	}
	j.n++
	j.w.WriteString(sep)
	_, err = j.w.Write(b)
	return err
}

func (j *cvssJSON) close() error {
	if j.n == 0 {
		j.w.WriteString("[")
	}
	j.w.WriteString("\n]\n")
	return j.w.Flush()
}

type cvssCSV struct{ w *csv.Writer }

func newCVSSCSV(out io.Writer) *cvssCSV {
	w := csv.NewWriter(out)
	w.Write([]string{"vector", "version", "base_score", "temporal_score", "environmental_score", "score", "severity", "nomenclature", "error"})
	return &cvssCSV{w: w}
}

func (c *cvssCSV) row(r cvssRow) error {
	f := func(p *float64) string {
		if p == nil {
			return ""
		}
		return fmtScore(p)
	}
	return c.w.Write([]string{r.Vector, r.Version, f(r.BaseScore), f(r.TemporalScore), f(r.EnvironmentalScore), f(r.Score), r.Severity, r.Nomenclature, r.Error})
}

func (c *cvssCSV) close() error {
	c.w.Flush()
	return c.w.Error()
}
