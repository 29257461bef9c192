// Package nvd parses NVD CVE API 2.0 JSON: either an API response page
// ({"vulnerabilities": [{"cve": {…}}, …]}), one {"cve": {…}} item, or a bare
// CVE record as the fkie-cad/nvd-json-data-feeds repository stores them.
// Each record keeps its CPE configurations (parsed and checked with
// internal/versions/cpe) and its exact JSON, so a store can keep the
// record as published.
package nvd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/versions/cpe"
)

// DefaultMaxSize bounds what Parse reads (an API page of 2,000 CVEs is ~30 MB).
const DefaultMaxSize = 128 << 20

// ErrInvalid is wrapped by every content error.
var ErrInvalid = errors.New("invalid NVD CVE record")

// Feed is what one input held.
type Feed struct {
	// Timestamp is the API response timestamp; zero for bare records.
	Timestamp time.Time `json:"timestamp,omitzero"`
	CVEs      []*CVE    `json:"cves"`
}

// CVE is one NVD CVE record.
type CVE struct {
	ID               string    `json:"id"`
	SourceIdentifier string    `json:"source_identifier,omitempty"`
	Published        time.Time `json:"published"`
	LastModified     time.Time `json:"last_modified"`
	Status           string    `json:"vuln_status,omitempty"`
	// Description is the English description.
	Description string `json:"description,omitempty"`
	// CWEs are the weakness ids ("CWE-22"), deduplicated, in order.
	CWEs   []string `json:"cwes,omitempty"`
	Scores []Score  `json:"scores,omitempty"`
	// Configurations are the CPE applicability statements, checked.
	Configurations []cpe.Configuration `json:"configurations,omitempty"`
	References     []string            `json:"references,omitempty"`
	// Raw is the record exactly as read.
	Raw json.RawMessage `json:"-"`
}

// Score is one CVSS metric of the record.
type Score struct {
	Source    string  `json:"source"`
	Type      string  `json:"type"` // Primary or Secondary
	Version   string  `json:"version"`
	Vector    string  `json:"vector"`
	BaseScore float64 `json:"base_score"`
}

// Error is a content problem at a JSON pointer of one input.
type Error struct {
	File    string
	Pointer string
	Reason  string
}

func (e *Error) Error() string {
	p := e.Pointer
	if p == "" {
		p = "/"
	}
	return fmt.Sprintf("nvd %s at %s: %s", e.File, p, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *Error) Unwrap() error { return ErrInvalid }

var cveID = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)

type rawRecord struct {
	ID               *string `json:"id"`
	SourceIdentifier string  `json:"sourceIdentifier"`
	Published        *string `json:"published"`
	LastModified     *string `json:"lastModified"`
	VulnStatus       string  `json:"vulnStatus"`
	Descriptions     []struct {
		Lang  string `json:"lang"`
		Value string `json:"value"`
	} `json:"descriptions"`
	Metrics    map[string][]rawMetric `json:"metrics"`
	Weaknesses []struct {
		Description []struct {
			Value string `json:"value"`
		} `json:"description"`
	} `json:"weaknesses"`
	Configurations json.RawMessage `json:"configurations"`
	References     []struct {
		URL string `json:"url"`
	} `json:"references"`
}

type rawMetric struct {
	Source   string `json:"source"`
	Type     string `json:"type"`
	CVSSData struct {
		Version      string  `json:"version"`
		VectorString string  `json:"vectorString"`
		BaseScore    float64 `json:"baseScore"`
	} `json:"cvssData"`
}

// Parse reads NVD JSON from r; name is used in errors. At most maxSize
// bytes are read (DefaultMaxSize when ≤ 0).
func Parse(r io.Reader, name string, maxSize int64) (*Feed, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	data, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("nvd %s: read: %w", name, err)
	}
	if int64(len(data)) > maxSize {
		return nil, &Error{File: name, Reason: fmt.Sprintf("larger than %d bytes", maxSize)}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, &Error{File: name, Reason: "not a JSON object: " + err.Error()}
	}
	feed := &Feed{CVEs: []*CVE{}}
	switch {
	case top["vulnerabilities"] != nil:
		if ts, ok := top["timestamp"]; ok {
			var s string
			if err := json.Unmarshal(ts, &s); err != nil {
				return nil, &Error{File: name, Pointer: "/timestamp", Reason: "not a string"}
			}
			t, err := parseTime(s)
			if err != nil {
				return nil, &Error{File: name, Pointer: "/timestamp", Reason: err.Error()}
			}
			feed.Timestamp = t
		}
		var items []map[string]json.RawMessage
		if err := json.Unmarshal(top["vulnerabilities"], &items); err != nil {
			return nil, &Error{File: name, Pointer: "/vulnerabilities", Reason: "not an array of objects"}
		}
		for i, it := range items {
			ptr := fmt.Sprintf("/vulnerabilities/%d/cve", i)
			raw, ok := it["cve"]
			if !ok {
				return nil, &Error{File: name, Pointer: ptr, Reason: "missing"}
			}
			c, err := parseRecord(raw, name, ptr)
			if err != nil {
				return nil, err
			}
			feed.CVEs = append(feed.CVEs, c)
		}
	case top["cve"] != nil:
		c, err := parseRecord(top["cve"], name, "/cve")
		if err != nil {
			return nil, err
		}
		feed.CVEs = append(feed.CVEs, c)
	case top["id"] != nil:
		c, err := parseRecord(bytes.TrimSpace(data), name, "")
		if err != nil {
			return nil, err
		}
		feed.CVEs = append(feed.CVEs, c)
	default:
		return nil, &Error{File: name, Reason: `neither an API response ("vulnerabilities") nor a CVE record ("id" or "cve")`}
	}
	return feed, nil
}

// ParseRecord parses one bare CVE record (as Raw holds it).
func ParseRecord(raw []byte, name string) (*CVE, error) {
	return parseRecord(raw, name, "")
}

func parseRecord(raw json.RawMessage, name, ptr string) (*CVE, error) {
	var rr rawRecord
	if err := json.Unmarshal(raw, &rr); err != nil {
		return nil, &Error{File: name, Pointer: ptr, Reason: "not a CVE record: " + err.Error()}
	}
	c := &CVE{SourceIdentifier: rr.SourceIdentifier, Status: rr.VulnStatus, Raw: append(json.RawMessage(nil), raw...)}
	if rr.ID == nil || !cveID.MatchString(*rr.ID) {
		v := "missing"
		if rr.ID != nil {
			v = fmt.Sprintf("%q is not a CVE id", *rr.ID)
		}
		return nil, &Error{File: name, Pointer: ptr + "/id", Reason: v}
	}
	c.ID = *rr.ID
	var err error
	for _, f := range []struct {
		field string
		in    *string
		out   *time.Time
	}{{"published", rr.Published, &c.Published}, {"lastModified", rr.LastModified, &c.LastModified}} {
		if f.in == nil {
			return nil, &Error{File: name, Pointer: ptr + "/" + f.field, Reason: "missing"}
		}
		if *f.out, err = parseTime(*f.in); err != nil {
			return nil, &Error{File: name, Pointer: ptr + "/" + f.field, Reason: err.Error()}
		}
	}
	for _, d := range rr.Descriptions {
		if d.Lang == "en" {
			c.Description = d.Value
			break
		}
	}
	seen := map[string]bool{}
	for _, w := range rr.Weaknesses {
		for _, d := range w.Description {
			if strings.HasPrefix(d.Value, "CWE-") && !seen[d.Value] {
				seen[d.Value] = true
				c.CWEs = append(c.CWEs, d.Value)
			}
		}
	}
	for _, key := range []string{"cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2"} {
		for _, m := range rr.Metrics[key] {
			c.Scores = append(c.Scores, Score{Source: m.Source, Type: m.Type, Version: m.CVSSData.Version,
				Vector: m.CVSSData.VectorString, BaseScore: m.CVSSData.BaseScore})
		}
	}
	for _, r := range rr.References {
		c.References = append(c.References, r.URL)
	}
	if len(rr.Configurations) > 0 && string(rr.Configurations) != "null" {
		cfgs, err := cpe.ParseConfigurations(bytes.NewReader(rr.Configurations), name)
		if err != nil {
			return nil, fmt.Errorf("nvd %s at %s/configurations: %w: %w", name, ptr, ErrInvalid, err)
		}
		c.Configurations = cfgs
	}
	return c, nil
}

// parseTime reads NVD times ("2022-06-24T15:15:10.687", UTC without zone).
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an NVD timestamp", s)
}
