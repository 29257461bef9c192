package cli

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/medwarden/medwarden/internal/advisory/nvd"
	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/sbom/cpematch"
	"github.com/medwarden/medwarden/internal/sbom/osv"
	"github.com/medwarden/medwarden/internal/sbom/quality"
	"github.com/medwarden/medwarden/internal/sboms"
)

const sbomHelp = `
Reads software bills of materials and reports, per file: the format and spec
version, whether it is valid against the official schema (with each error's
JSON pointer or line), the number of components, a 0-100 quality score with
the missing NTIA / CISA 2025 / FDA elements, and vulnerabilities.

Formats: CycloneDX 1.2-1.7 (JSON, XML), SPDX 2.2/2.3 (JSON, tag-value),
SPDX 3.0 (JSON-LD). The format is detected from the content. "-" reads
standard input.

With --osv, components with a Package URL are matched against OSV records
(source "osv"), versions compared in their ecosystem's scheme; VEX
statements in the SBOM (not_affected, fixed) are applied with their
justification. With --nvd, components with a CPE (firmware, operating
systems, RTOSes, hardware) are evaluated against NVD CVE configurations
(source "nvd"); the SBOM's hardware and OS CPEs satisfy "running on" nodes;
components with neither CPE nor ecosystem PURL whose name is a known
firmware/OS/RTOS alias (ThreadX, VxWorks, FreeRTOS, OpenSSL, BusyBox...)
are matched by name and version through the alias table, with lower
confidence (method "name"; low confidence needs review). With --csaf, the
VEX statements of CSAF VEX documents (category csaf_vex) apply:
not_affected/fixed suppress a row and say why. This is the matching
"attach" does, offline. Without --osv, --nvd or --csaf, vulnerabilities are
the vulnerability/VEX statements the SBOM itself carries (source "sbom"),
and the output says when no vulnerability data was given.

The other subcommands keep SBOMs in the store (--data DIR or --db URL).
"attach" stores an SBOM for every device of a vendor, model and firmware
version, or for one device (--asset), as that subject's next version
(identical uploads are not stored twice), and matches its components: by
PURL against OSV records (--osv), by CPE against the stored NVD records,
and firmware/OS/RTOS components listed by name only (ThreadX, VxWorks,
FreeRTOS, Nucleus, QNX, INTEGRITY, Windows Embedded, Linux, OpenSSL,
BusyBox...) through a table of name aliases, with lower confidence (low
confidence needs review). The SBOM's own VEX and stored CSAF VEX documents
suppress findings and say why. "list" and "show" print versions and
components, "diff" what changed between two versions, "export" a version
as CycloneDX 1.6 with VEX, "rematch" matches stored SBOMs again after a
feed update. Per-subcommand flags: medwarden sbom SUBCOMMAND -h.

Exit status: 0 when every file was read (valid or not), 1 when a file could
not be read (the others are still reported), 2 on usage errors, 3 when an
--osv or --nvd record or --csaf document is invalid (nothing is checked
against partial data).
See docs/SBOM.md.

examples:
  medwarden sbom check pump-fw-4.2.cdx.json
  medwarden sbom check --format json *.spdx.json | jq '.[] | {file, valid, score: .quality.score}'
  medwarden sbom attach --vendor Baxter --model "Sigma Spectrum" --version 8.0 --osv osv.zip spectrum-8.0.cdx.json
  medwarden sbom diff 3 7
  medwarden sbom export --out spectrum-vex.cdx.json 7`

func sbomVerb() *Verb {
	return &Verb{
		Name:    "sbom",
		Summary: "check SBOMs (validity, quality, vulnerabilities); attach them to device models or devices, list, diff, export with VEX",
		Usage: "check [--format table|json] [--osv DIR|FILE.zip|FILE.json] [--nvd DIR|FILE.json] [--csaf DIR|FILE] [--per-component] [--max-size BYTES] [--max-depth N] FILE...\n" +
			"       medwarden sbom attach (--vendor V --model M --version X | --asset ID) [--note TEXT] [--osv PATH] [--allow-invalid] FILE\n" +
			"       medwarden sbom list [--vendor V] [--model M] [--version X] [--asset ID] [--latest] [--format table|json]\n" +
			"       medwarden sbom show [--format table|json] ID\n" +
			"       medwarden sbom diff [--format table|json] OLDER-ID NEWER-ID\n" +
			"       medwarden sbom export [--format cyclonedx|original] [--out FILE] ID\n" +
			"       medwarden sbom rematch [--osv PATH] (ID... | --all)",
		Help: sbomHelp,
		Run:  runSBOM,
	}
}

// sbomError is one validation error or the reason a file was not read.
type sbomError struct {
	Pointer string `json:"pointer,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

type sbomQuality struct {
	Score        int                       `json:"score"`
	Missing      []quality.Missing         `json:"missing"`
	PerComponent []quality.ComponentResult `json:"per_component,omitempty"`
}

type sbomVuln struct {
	Component     string   `json:"component"`
	ID            string   `json:"id"`
	Source        string   `json:"source"`
	Database      string   `json:"database,omitempty"`
	Status        string   `json:"status"`
	Justification string   `json:"justification,omitempty"`
	Detail        string   `json:"detail,omitempty"`
	Aliases       []string `json:"aliases,omitempty"`
	PURL          string   `json:"purl,omitempty"`
	CPE           string   `json:"cpe,omitempty"`
	// Method (purl, cpe, name, statement), Confidence (high, medium, low)
	// and NeedsReview as attach stores them (with --osv, --nvd or --csaf).
	Method      string `json:"method,omitempty"`
	Confidence  string `json:"confidence,omitempty"`
	NeedsReview bool   `json:"needs_review,omitempty"`
}

// sbomResult is the stable per-file record of `sbom check`.
type sbomResult struct {
	File            string       `json:"file"`
	Format          sbom.Format  `json:"format"`
	SpecVersion     string       `json:"spec_version"`
	Valid           bool         `json:"valid"`
	Read            bool         `json:"read"`
	Errors          []sbomError  `json:"errors"`
	Components      int          `json:"components"`
	Primary         string       `json:"primary,omitempty"`
	Quality         *sbomQuality `json:"quality"`
	Vulnerabilities []sbomVuln   `json:"vulnerabilities"`
	VulnNote        string       `json:"vulnerability_note"`
}

const (
	noVulnData  = "no vulnerability data was given: the SBOM carries no vulnerability or VEX statements and no OSV records were given (--osv)"
	sbomVulnSrc = "vulnerabilities are the SBOM's own vulnerability/VEX statements; no external vulnerability data was given (--osv)"
)

func runSBOM(ctx context.Context, env *Env, fs *flag.FlagSet, args []string) error {
	if len(args) > 0 {
		if sub, ok := sbomSubcommands[args[0]]; ok {
			return sub(ctx, env, fs, args[1:])
		}
	}
	format := fs.String("format", "table", "output format: table or json")
	perComp := fs.Bool("per-component", false, "include each component's quality score and missing elements (json)")
	maxSize := fs.Int64("max-size", sbom.DefaultMaxBytes, "largest SBOM accepted, in bytes")
	maxDepth := fs.Int("max-depth", sbom.DefaultMaxDepth, "deepest component nesting accepted")
	nvdPath := fs.String("nvd", "", "NVD CVE records (API 2.0 JSON: single records or feeds) to match component CPEs against: a directory of *.json or one file")
	osvPath := fs.String("osv", "", "OSV records to match components against by PURL: a directory of *.json, a .zip of them (as osv.dev exports), or one .json file")
	csafPath := fs.String("csaf", "", "CSAF VEX documents (category csaf_vex) whose statements apply: a directory of *.json or one file")
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fs.Usage()
			return flag.ErrHelp
		}
		return usageErr("want a subcommand: check, attach, list, show, diff, export or rematch")
	}
	files, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return usageErr("--format must be table or json, not %q", *format)
	}
	if len(files) == 0 {
		return usageErr("no SBOM files given")
	}
	if *maxSize <= 0 || *maxDepth <= 0 {
		return usageErr("--max-size and --max-depth must be positive")
	}
	opts := sbom.Options{MaxBytes: *maxSize, MaxDepth: *maxDepth}
	var ix *osv.Index
	if *osvPath != "" {
		recs, err := loadOSV(ctx, *osvPath)
		if err != nil {
			return err
		}
		ix = osv.NewIndex(recs)
	}
	var cves []*nvd.CVE
	if *nvdPath != "" {
		cves, err = loadNVD(ctx, *nvdPath)
		if err != nil {
			return err
		}
	}
	m := vulnSources{osv: ix}
	if *nvdPath != "" {
		m.nvd = cpematch.NewIndex(cves)
	}
	if *csafPath != "" {
		advs, err := readAdvisories(ctx, env, []string{*csafPath})
		if err != nil {
			return fmt.Errorf("--csaf: %w", err)
		}
		for _, a := range advs {
			if a.Category == "csaf_vex" {
				m.csafDocs++
				m.vex = append(m.vex, sboms.VEXFromAdvisory(a)...)
			}
		}
		m.csaf = true
	}
	results := make([]sbomResult, 0, len(files))
	unread := 0
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := checkSBOMFile(env, f, opts, *perComp, m)
		if !r.Read {
			unread++
		}
		results = append(results, r)
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	default:
		writeSBOMTable(env.Stdout, results)
	}
	if unread > 0 {
		return fmt.Errorf("%d of %d files could not be read", unread, len(files))
	}
	return nil
}

// vulnSources are the vulnerability data given on the command line.
type vulnSources struct {
	osv *osv.Index
	nvd *cpematch.Index
	// csaf: --csaf was given (csafDocs CSAF VEX documents, vex their
	// statements)
	csaf     bool
	csafDocs int
	vex      []sboms.VEX
}

func checkSBOMFile(env *Env, name string, opts sbom.Options, perComp bool, m vulnSources) sbomResult {
	r := sbomResult{File: name, Format: sbom.FormatUnknown, Errors: []sbomError{}, Vulnerabilities: []sbomVuln{}}
	var in io.Reader
	if name == "-" {
		in = env.Stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			r.Errors = append(r.Errors, sbomError{Message: fmt.Sprintf("cannot read: %v", err)})
			r.VulnNote = noVulnData
			return r
		}
		defer f.Close()
		in = f
	}
	doc, err := sbom.Parse(in, name, opts)
	var ie *sbom.InputError
	switch {
	case errors.As(err, &ie):
		// Read, but not an SBOM we can use: report why, exit 0.
		r.Read = true
		r.Format = ie.Format
		r.Errors = append(r.Errors, sbomError{Pointer: ie.Pointer, Line: ie.Line, Message: ie.Err.Error()})
		r.VulnNote = noVulnData
		return r
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe // already names the file
		}
		r.Errors = append(r.Errors, sbomError{Message: fmt.Sprintf("cannot read: %v", err)})
		r.VulnNote = noVulnData
		return r
	}
	r.Read = true
	r.Format = doc.Format
	r.SpecVersion = doc.SpecVersion
	r.Valid = doc.Valid()
	for _, p := range doc.Problems {
		r.Errors = append(r.Errors, sbomError{Pointer: p.Pointer, Line: p.Line, Message: p.Message})
	}
	r.Components = len(doc.Components)
	if doc.Primary != nil {
		r.Primary = componentLabel(doc.Primary)
	}
	q := quality.Evaluate(doc)
	r.Quality = &sbomQuality{Score: q.Score, Missing: q.Missing}
	if perComp {
		r.Quality.PerComponent = q.PerComp
	}
	if m.osv != nil || m.nvd != nil || m.csaf {
		// the matching attach does (sboms.Match), offline
		var notes []string
		if m.osv != nil {
			notes = append(notes, fmt.Sprintf("components with a PURL matched against %d OSV records", m.osv.Len()))
		}
		if m.nvd != nil {
			notes = append(notes, fmt.Sprintf("components with a CPE matched against the configurations of %d NVD CVE records", m.nvd.Len()),
				"firmware/OS/RTOS components without CPE or ecosystem PURL matched by name and version through the alias table (method name)")
		} else {
			notes = append(notes, "components without a CPE are not matched by name without NVD records (--nvd)")
		}
		if m.csaf {
			notes = append(notes, fmt.Sprintf("VEX statements of %d CSAF VEX documents applied", m.csafDocs))
		}
		r.Vulnerabilities = matchedVulns(doc, sboms.Matchers{OSV: m.osv, NVD: m.nvd, VEX: m.vex})
		r.VulnNote = strings.Join(notes, "; ") + "; not_affected/fixed VEX statements (the SBOM's and CSAF's) are shown with their justification"
		return r
	}
	r.Vulnerabilities = sbomVulns(doc)
	if len(r.Vulnerabilities) == 0 {
		r.VulnNote = noVulnData
	} else {
		r.VulnNote = sbomVulnSrc
	}
	return r
}

// matchedVulns are the rows of sboms.Match (what attach stores), in
// component order (the described device first).
func matchedVulns(doc *sbom.Document, m sboms.Matchers) []sbomVuln {
	comps, vulns := sboms.Match(doc, m)
	out := []sbomVuln{}
	for _, v := range vulns {
		c := &comps[v.Index]
		label := c.Name
		if c.Version != "" {
			label += "@" + c.Version
		}
		row := sbomVuln{Component: label, ID: v.ID, Source: v.Source, Status: v.Status, Justification: v.Justification,
			Detail: v.Detail, Aliases: v.Aliases, Method: v.Method, Confidence: v.Confidence, NeedsReview: v.NeedsReview}
		switch v.Method {
		case "purl":
			row.PURL = c.PURL
		case "cpe":
			row.CPE = c.CPE
		}
		out = append(out, row)
	}
	return out
}

// loadNVD reads NVD CVE records (single records or API responses) from a
// directory (recursively, *.json) or one file.
func loadNVD(ctx context.Context, path string) ([]*nvd.CVE, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--nvd: %w", err)
	}
	var out []*nvd.CVE
	read := func(p string) error {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("--nvd: %w", err)
		}
		defer f.Close()
		feed, err := nvd.Parse(f, p, 0)
		if err != nil {
			return fmt.Errorf("--nvd: %w: %w", ErrBadInput, err)
		}
		out = append(out, feed.CVEs...)
		return nil
	}
	if !st.IsDir() {
		return out, read(path)
	}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return read(p)
	})
	return out, err
}

// loadOSV reads OSV records from a directory (recursively, *.json), a zip
// archive of *.json entries, or one JSON file.
func loadOSV(ctx context.Context, path string) ([]*osv.Record, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--osv: %w", err)
	}
	var recs []*osv.Record
	add := func(r io.Reader, name string) error {
		rec, err := osv.Parse(r, name)
		if err != nil {
			return fmt.Errorf("--osv: %w: %w", ErrBadInput, err)
		}
		recs = append(recs, rec)
		return nil
	}
	switch {
	case st.IsDir():
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(p, ".json") {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return add(f, p)
		})
	case strings.HasSuffix(strings.ToLower(path), ".zip"):
		var zr *zip.ReadCloser
		zr, err = zip.OpenReader(path)
		if err != nil {
			return nil, fmt.Errorf("--osv %s: %w", path, err)
		}
		defer zr.Close()
		for _, zf := range zr.File {
			if zf.FileInfo().IsDir() || !strings.HasSuffix(zf.Name, ".json") {
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			rc, err := zf.Open()
			if err != nil {
				return nil, fmt.Errorf("--osv %s: %s: %w", path, zf.Name, err)
			}
			err = add(rc, path+":"+zf.Name)
			rc.Close()
			if err != nil {
				return nil, err
			}
		}
	default:
		var f *os.File
		f, err = os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--osv: %w", err)
		}
		defer f.Close()
		err = add(f, path)
	}
	if err != nil {
		return nil, err
	}
	return recs, nil
}

func componentLabel(c *sbom.Component) string {
	if c.Version != "" {
		return c.Name + "@" + c.Version
	}
	return c.Name
}

// sbomVulns lists the SBOM's own statements, one row per affected component
// (refs resolved to name@version where the SBOM lists the component).
func sbomVulns(doc *sbom.Document) []sbomVuln {
	byRef := make(map[string]string, len(doc.Components)+1)
	if doc.Primary != nil && doc.Primary.Ref != "" {
		byRef[doc.Primary.Ref] = componentLabel(doc.Primary)
	}
	for i := range doc.Components {
		if c := &doc.Components[i]; c.Ref != "" {
			byRef[c.Ref] = componentLabel(c)
		}
	}
	out := []sbomVuln{}
	for _, v := range doc.VEX {
		status := v.Status
		if status == "" {
			status = "unknown"
		}
		affects := v.Affects
		if len(affects) == 0 {
			affects = []string{""}
		}
		for _, a := range affects {
			comp := a
			if l, ok := byRef[a]; ok {
				comp = l
			}
			out = append(out, sbomVuln{
				Component: comp, ID: v.ID, Source: "sbom", Database: v.Source, Status: status,
				Justification: v.Justification, Detail: v.Detail,
			})
		}
	}
	return out
}

func writeSBOMTable(w io.Writer, results []sbomResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tFORMAT\tSPEC\tVALID\tCOMPONENTS\tQUALITY\tVULNS")
	for _, r := range results {
		valid := "no"
		if r.Valid {
			valid = "yes"
		}
		if !r.Read {
			valid = "UNREAD"
		}
		score := "-"
		if r.Quality != nil {
			score = fmt.Sprintf("%d/100", r.Quality.Score)
		}
		spec := r.SpecVersion
		if spec == "" {
			spec = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d\n", r.File, r.Format, spec, valid, r.Components, score, len(r.Vulnerabilities))
	}
	tw.Flush()
	const maxListed = 10
	for _, r := range results {
		fmt.Fprintf(w, "\n%s:\n", r.File)
		if r.Primary != "" {
			fmt.Fprintf(w, "  describes: %s\n", r.Primary)
		}
		if len(r.Errors) > 0 {
			fmt.Fprintf(w, "  errors (%d):\n", len(r.Errors))
			for i, e := range r.Errors {
				if i == maxListed {
					fmt.Fprintf(w, "    … %d more (use --format json)\n", len(r.Errors)-maxListed)
					break
				}
				fmt.Fprintf(w, "    %s\n", sbomErrorText(e))
			}
		}
		if r.Quality != nil && len(r.Quality.Missing) > 0 {
			fmt.Fprintf(w, "  missing (quality %d/100):\n", r.Quality.Score)
			for _, m := range r.Quality.Missing {
				line := fmt.Sprintf("    %-20s %s: ", m.ID, m.Source)
				if m.Total == 1 && len(m.Examples) == 0 {
					line += "absent"
				} else if m.Total == 0 {
					line += "no components listed"
				} else {
					line += fmt.Sprintf("%d of %d components", m.Missing, m.Total)
				}
				if len(m.Examples) > 0 {
					line += " (e.g. " + strings.Join(m.Examples, ", ") + ")"
				}
				fmt.Fprintln(w, line)
			}
		}
		if len(r.Vulnerabilities) > 0 {
			fmt.Fprintf(w, "  vulnerabilities (%d):\n", len(r.Vulnerabilities))
			for _, v := range r.Vulnerabilities {
				id := v.ID
				if len(v.Aliases) > 0 {
					id += " (" + strings.Join(v.Aliases, ", ") + ")"
				}
				line := fmt.Sprintf("    %s  %s  %s  %s", v.Component, id, v.Source, v.Status)
				if v.Justification != "" {
					line += ": " + v.Justification
				}
				fmt.Fprintln(w, line)
			}
		}
		fmt.Fprintf(w, "  note: %s\n", r.VulnNote)
	}
}

func sbomErrorText(e sbomError) string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Pointer != "" {
		fmt.Fprintf(&b, "%s: ", e.Pointer)
	}
	b.WriteString(e.Message)
	return b.String()
}
