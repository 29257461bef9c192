package cpe

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/medwarden/medwarden/internal/versions"
)

// Truth is a three-valued result: an NVD configuration can be definitely
// matched, definitely not matched, or undecidable (for example a device
// whose version is unknown against a version range).
type Truth uint8

// Truth values.
const (
	False Truth = iota
	Unknown
	True
)

func (t Truth) String() string { return [...]string{"false", "unknown", "true"}[t] }

func and(a, b Truth) Truth { return min(a, b) }
func or(a, b Truth) Truth  { return max(a, b) }
func not(a Truth) Truth    { return True - a }

// CPEMatch is one NVD cpeMatch entry.
type CPEMatch struct {
	Vulnerable            bool   `json:"vulnerable"`
	Criteria              string `json:"criteria"`
	MatchCriteriaID       string `json:"matchCriteriaId,omitempty"`
	VersionStartIncluding string `json:"versionStartIncluding,omitempty"`
	VersionStartExcluding string `json:"versionStartExcluding,omitempty"`
	VersionEndIncluding   string `json:"versionEndIncluding,omitempty"`
	VersionEndExcluding   string `json:"versionEndExcluding,omitempty"`

	name Name
	rng  *versions.Range // nil when no version range is given
}

// Node is an NVD configuration node: cpeMatch entries joined by Operator.
type Node struct {
	Operator string     `json:"operator"`
	Negate   bool       `json:"negate"`
	CPEMatch []CPEMatch `json:"cpeMatch"`
}

// Configuration is one NVD configuration: nodes joined by Operator (OR
// when absent). A CVE applies when any of its configurations matches.
type Configuration struct {
	Operator string `json:"operator,omitempty"`
	Negate   bool   `json:"negate,omitempty"`
	Nodes    []Node `json:"nodes"`
}

// ParseConfigurations reads the "configurations" of an NVD CVE record (CVE
// API 2.0 JSON, as published by NVD and the fkie-cad feeds) or a bare JSON
// array of configurations. name is used in errors. Every criteria CPE and
// version range is parsed here, so evaluation cannot fail later.
func ParseConfigurations(r io.Reader, name string) ([]Configuration, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", name, err)
	}
	var cfgs []Configuration
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "[") {
		err = json.Unmarshal(data, &cfgs)
	} else {
		var rec struct {
			Configurations []Configuration `json:"configurations"`
		}
		err = json.Unmarshal(data, &rec)
		cfgs = rec.Configurations
	}
	if err != nil {
		return nil, fmt.Errorf("%s: decode: %w", name, err)
	}
	for i := range cfgs {
		if err := cfgs[i].prepare(); err != nil {
			return nil, fmt.Errorf("%s: /configurations/%d%w", name, i, err)
		}
	}
	return cfgs, nil
}

var errOperator = errors.New("operator must be AND or OR")

func checkOp(op string) error {
	switch op {
	case "", "OR", "AND":
		return nil
	}
	return fmt.Errorf("%q: %w", op, errOperator)
}

func (c *Configuration) prepare() error {
	if err := checkOp(c.Operator); err != nil {
		return fmt.Errorf("/operator: %w: %w", err, ErrInvalid)
	}
	for j := range c.Nodes {
		n := &c.Nodes[j]
		if err := checkOp(n.Operator); err != nil {
			return fmt.Errorf("/nodes/%d/operator: %w: %w", j, err, ErrInvalid)
		}
		for k := range n.CPEMatch {
			if err := n.CPEMatch[k].prepare(); err != nil {
				return fmt.Errorf("/nodes/%d/cpeMatch/%d%w", j, k, err)
			}
		}
	}
	return nil
}

func (m *CPEMatch) prepare() error {
	name, err := Parse(m.Criteria)
	if err != nil {
		return fmt.Errorf("/criteria: %w", err)
	}
	m.name = name
	var cs []versions.Constraint
	add := func(op versions.Op, v, field string) error {
		if v == "" {
			return nil
		}
		pv, err := versions.Firmware.Parse(v)
		if err != nil {
			return fmt.Errorf("/%s: %w", field, err)
		}
		cs = append(cs, versions.Constraint{Op: op, Version: pv})
		return nil
	}
	if m.VersionStartIncluding != "" && m.VersionStartExcluding != "" || m.VersionEndIncluding != "" && m.VersionEndExcluding != "" {
		return fmt.Errorf(": both including and excluding bounds on one side: %w", ErrInvalid)
	}
	for _, e := range []error{
		add(versions.OpGE, m.VersionStartIncluding, "versionStartIncluding"),
		add(versions.OpGT, m.VersionStartExcluding, "versionStartExcluding"),
		add(versions.OpLE, m.VersionEndIncluding, "versionEndIncluding"),
		add(versions.OpLT, m.VersionEndExcluding, "versionEndExcluding"),
	} {
		if e != nil {
			return e
		}
	}
	if len(cs) == 0 {
		return nil
	}
	if len(cs) == 2 && cs[0].Version.Compare(cs[1].Version) > 0 {
		return fmt.Errorf(": version range start %q is after end %q: %w", cs[0].Version, cs[1].Version, ErrInvalid)
	}
	if m.rng, err = versions.NewRange(versions.Firmware, cs); err != nil {
		return fmt.Errorf(": %w", err)
	}
	return nil
}

// Eval reports whether one of the device CPEs satisfies the entry. A
// device CPE with an ANY or NA version tested against a version range
// yields Unknown.
func (m *CPEMatch) Eval(device []Name) Truth {
	res := False
	for i := range device {
		d := &device[i]
		if m.rng == nil {
			if Match(m.name, *d) {
				return True
			}
			continue
		}
		if !matchExceptVersion(&m.name, d) {
			continue
		}
		if d.ver.IsZero() {
			// ANY, NA, wildcarded or unparsable version: cannot decide.
			res = or(res, Unknown)
			continue
		}
		if m.rng.ContainsVersion(d.ver) {
			return True
		}
	}
	return res
}

// Result is the outcome of evaluating a CVE's configurations for a device.
type Result struct {
	// Affected is True when a configuration matched through a vulnerable
	// cpeMatch, Unknown when that depends on something the device CPEs do
	// not say (typically an unknown version).
	Affected Truth
	// Matched lists the criteria of the vulnerable entries that matched.
	Matched []string
}

// Evaluate evaluates a configuration for the device CPEs (for example the
// firmware CPE and the hardware CPE of one device). The configuration is
// Affected when its node logic holds and at least one vulnerable entry is
// satisfied; entries with "vulnerable": false only describe the platform.
func (c *Configuration) Evaluate(device []Name) Result {
	var res Result
	cfg := False
	vul := False
	if c.Operator == "AND" {
		cfg = True
	}
	for j := range c.Nodes {
		n := &c.Nodes[j]
		nt := False
		if n.Operator == "AND" {
			nt = True
		}
		nodeVul := False
		for k := range n.CPEMatch {
			m := &n.CPEMatch[k]
			t := m.Eval(device)
			if n.Operator == "AND" {
				nt = and(nt, t)
			} else {
				nt = or(nt, t)
			}
			if m.Vulnerable && t != False {
				nodeVul = or(nodeVul, t)
				if t == True {
					res.Matched = append(res.Matched, m.Criteria)
				}
			}
		}
		if n.Negate {
			nt = not(nt)
			nodeVul = False // a negated node never makes the device vulnerable
		}
		if c.Operator == "AND" {
			cfg = and(cfg, nt)
		} else {
			cfg = or(cfg, nt)
		}
		vul = or(vul, nodeVul)
	}
	if c.Negate {
		cfg = not(cfg)
	}
	res.Affected = and(cfg, vul)
	if res.Affected == False {
		res.Matched = nil
	}
	return res
}

// Matches reports whether the configuration definitely applies to the
// device CPEs (Evaluate(...).Affected == True).
func (c *Configuration) Matches(device []Name) bool {
	return c.Evaluate(device).Affected == True
}

// EvaluateAll evaluates all configurations of a CVE: the CVE applies when
// any configuration does.
func EvaluateAll(cfgs []Configuration, device []Name) Result {
	var res Result
	for i := range cfgs {
		r := cfgs[i].Evaluate(device)
		if r.Affected > res.Affected {
			res.Affected = r.Affected
		}
		res.Matched = append(res.Matched, r.Matched...)
	}
	if res.Affected == False {
		res.Matched = nil
	}
	return res
}
