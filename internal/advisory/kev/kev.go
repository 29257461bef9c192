// Package kev parses CISA's Known Exploited Vulnerabilities (KEV) catalog
// (JSON feed, schema known_exploited_vulnerabilities_schema.json).
package kev

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// DefaultMaxSize bounds the catalog size read by Parse (the real catalog is ~1.5 MB).
const DefaultMaxSize = 64 << 20

// Catalog is a KEV catalog.
type Catalog struct {
	Title          string    `json:"title"`
	CatalogVersion string    `json:"catalog_version"`
	DateReleased   time.Time `json:"date_released"`
	// Count is the count field as published; Parse checks it equals len(Entries).
	Count   int     `json:"count"`
	Entries []Entry `json:"entries"`
}

// Entry is one known exploited vulnerability.
type Entry struct {
	CVEID             string    `json:"cve_id"`
	VendorProject     string    `json:"vendor_project"`
	Product           string    `json:"product"`
	VulnerabilityName string    `json:"vulnerability_name"`
	DateAdded         time.Time `json:"date_added"`
	ShortDescription  string    `json:"short_description"`
	RequiredAction    string    `json:"required_action"`
	DueDate           time.Time `json:"due_date"`
	// KnownRansomwareCampaignUse is "Known" or "Unknown" as published.
	KnownRansomwareCampaignUse string `json:"known_ransomware_campaign_use"`
	// Ransomware is true when KnownRansomwareCampaignUse is "Known".
	Ransomware bool     `json:"ransomware"`
	Notes      string   `json:"notes,omitempty"`
	CWEs       []string `json:"cwes,omitempty"`
}

// Problem is one defect in the catalog: Index is the entry index (-1 for
// the catalog header), Field the JSON member, Pointer its JSON pointer.
type Problem struct {
	Index   int    `json:"index"`
	Pointer string `json:"path"`
	Field   string `json:"field"`
	Value   string `json:"value,omitempty"`
	Reason  string `json:"reason"`
}

func (p Problem) String() string {
	if p.Value != "" {
		return fmt.Sprintf("%s: %s (value %q)", p.Pointer, p.Reason, p.Value)
	}
	return fmt.Sprintf("%s: %s", p.Pointer, p.Reason)
}

// Error lists the problems of one catalog.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kev %s: %d problem(s)", e.File, len(e.Problems))
	for i, p := range e.Problems {
		if i == 5 {
			fmt.Fprintf(&b, "; …")
			break
		}
		b.WriteString("; ")
		b.WriteString(p.String())
	}
	return b.String()
}

// ErrInvalid is wrapped by every content error.
var ErrInvalid = errors.New("invalid KEV catalog")

func (e *Error) Unwrap() error { return ErrInvalid }

var (
	cveRe = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,19}$`)
	cweRe = regexp.MustCompile(`^CWE-[0-9]+$`)
)

const maxProblems = 100

type rawCatalog struct {
	Title           string            `json:"title"`
	CatalogVersion  *string           `json:"catalogVersion"`
	DateReleased    *string           `json:"dateReleased"`
	Count           *int              `json:"count"`
	Vulnerabilities []json.RawMessage `json:"vulnerabilities"`
}

type rawEntry struct {
	CVEID                      *string  `json:"cveID"`
	VendorProject              *string  `json:"vendorProject"`
	Product                    *string  `json:"product"`
	VulnerabilityName          *string  `json:"vulnerabilityName"`
	DateAdded                  *string  `json:"dateAdded"`
	ShortDescription           *string  `json:"shortDescription"`
	RequiredAction             *string  `json:"requiredAction"`
	DueDate                    *string  `json:"dueDate"`
	KnownRansomwareCampaignUse *string  `json:"knownRansomwareCampaignUse"`
	Notes                      string   `json:"notes"`
	CWEs                       []string `json:"cwes"`
}

// Parse reads a KEV catalog from r (at most maxSize bytes; 0 means
// DefaultMaxSize). name is used in errors. When some entries are invalid,
// Parse returns the catalog with the valid entries and an *Error listing
// every problem (entry index and field); when the catalog cannot be used
// at all, the catalog is nil.
func Parse(r io.Reader, name string, maxSize int64) (*Catalog, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	data, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("kev %s: read: %w", name, err)
	}
	if int64(len(data)) > maxSize {
		return nil, &Error{File: name, Problems: []Problem{{Index: -1, Reason: fmt.Sprintf("catalog is larger than the %d byte limit", maxSize)}}}
	}
	var raw rawCatalog
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, &Error{File: name, Problems: []Problem{{Index: -1, Reason: describeJSONError(data, err)}}}
	}
	e := &Error{File: name}
	add := func(p Problem) {
		if len(e.Problems) < maxProblems {
			e.Problems = append(e.Problems, p)
		}
	}
	c := &Catalog{Title: raw.Title, Entries: make([]Entry, 0, len(raw.Vulnerabilities))}
	if raw.CatalogVersion == nil || *raw.CatalogVersion == "" {
		add(Problem{Index: -1, Pointer: "/catalogVersion", Field: "catalogVersion", Reason: "missing"})
	} else {
		c.CatalogVersion = *raw.CatalogVersion
	}
	if raw.DateReleased == nil {
		add(Problem{Index: -1, Pointer: "/dateReleased", Field: "dateReleased", Reason: "missing"})
	} else if t, err := time.Parse(time.RFC3339Nano, *raw.DateReleased); err != nil {
		add(Problem{Index: -1, Pointer: "/dateReleased", Field: "dateReleased", Value: *raw.DateReleased, Reason: "not an RFC 3339 date-time"})
	} else {
		c.DateReleased = t.UTC()
	}
	if raw.Vulnerabilities == nil {
		add(Problem{Index: -1, Pointer: "/vulnerabilities", Field: "vulnerabilities", Reason: "missing"})
	}
	seen := map[string]int{}
	for i, msg := range raw.Vulnerabilities {
		ent, probs := parseEntry(i, msg)
		for _, p := range probs {
			add(p)
		}
		if len(probs) > 0 {
			continue
		}
		if first, dup := seen[ent.CVEID]; dup {
			add(Problem{Index: i, Pointer: fmt.Sprintf("/vulnerabilities/%d/cveID", i), Field: "cveID", Value: ent.CVEID, Reason: fmt.Sprintf("duplicate of entry %d", first)})
			continue
		}
		seen[ent.CVEID] = i
		c.Entries = append(c.Entries, ent)
	}
	if raw.Count == nil {
		add(Problem{Index: -1, Pointer: "/count", Field: "count", Reason: "missing"})
	} else {
		c.Count = *raw.Count
		if *raw.Count != len(raw.Vulnerabilities) {
			add(Problem{Index: -1, Pointer: "/count", Field: "count", Value: fmt.Sprint(*raw.Count), Reason: fmt.Sprintf("count does not match the %d entries", len(raw.Vulnerabilities))})
		}
	}
	if len(e.Problems) > 0 {
		return c, e
	}
	return c, nil
}

func parseEntry(i int, msg json.RawMessage) (Entry, []Problem) {
	var probs []Problem
	p := func(field, value, reason string) {
		probs = append(probs, Problem{Index: i, Pointer: fmt.Sprintf("/vulnerabilities/%d/%s", i, field), Field: field, Value: value, Reason: reason})
	}
	var r rawEntry
	if err := json.Unmarshal(msg, &r); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			p(te.Field, "", fmt.Sprintf("wrong type: got JSON %s, want %s", te.Value, te.Type))
		} else {
			p("", "", err.Error())
		}
		return Entry{}, probs
	}
	req := func(field string, v *string) string {
		if v == nil || strings.TrimSpace(*v) == "" {
			p(field, "", "missing or empty")
			return ""
		}
		return *v
	}
	date := func(field string, v *string) time.Time {
		s := req(field, v)
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			p(field, s, "not a YYYY-MM-DD date")
		}
		return t
	}
	e := Entry{
		CVEID:             req("cveID", r.CVEID),
		VendorProject:     req("vendorProject", r.VendorProject),
		Product:           req("product", r.Product),
		VulnerabilityName: req("vulnerabilityName", r.VulnerabilityName),
		DateAdded:         date("dateAdded", r.DateAdded),
		ShortDescription:  req("shortDescription", r.ShortDescription),
		RequiredAction:    req("requiredAction", r.RequiredAction),
		DueDate:           date("dueDate", r.DueDate),
		Notes:             r.Notes,
		CWEs:              r.CWEs,
	}
	if e.CVEID != "" && !cveRe.MatchString(e.CVEID) {
		p("cveID", e.CVEID, "not a CVE id (CVE-YYYY-NNNN)")
	}
	e.KnownRansomwareCampaignUse = req("knownRansomwareCampaignUse", r.KnownRansomwareCampaignUse)
	switch e.KnownRansomwareCampaignUse {
	case "Known":
		e.Ransomware = true
	case "Unknown", "":
	default:
		p("knownRansomwareCampaignUse", e.KnownRansomwareCampaignUse, `want "Known" or "Unknown"`)
	}
	for j, c := range r.CWEs {
		if !cweRe.MatchString(c) {
			probs = append(probs, Problem{Index: i, Pointer: fmt.Sprintf("/vulnerabilities/%d/cwes/%d", i, j), Field: "cwes", Value: c, Reason: "not a CWE id (CWE-N)"})
		}
	}
	return e, probs
}

func describeJSONError(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("not well-formed JSON at line %d: %v", line, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("wrong type at %q: got JSON %s, want %s", te.Field, te.Value, te.Type)
	}
	return "not a KEV catalog: " + err.Error()
}

// ByCVE indexes the entries by CVE id.
func (c *Catalog) ByCVE() map[string]*Entry {
	m := make(map[string]*Entry, len(c.Entries))
	for i := range c.Entries {
		m[c.Entries[i].CVEID] = &c.Entries[i]
	}
	return m
}
