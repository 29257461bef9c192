package classify

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"
)

// The built-in fingerprint rules: every *.json under rules/ (default.json,
// and per-domain files such as medical/medical.json). Users add their own
// files with the same format (see docs/SENSOR.md); their rules are applied
// alongside these.
//
//go:embed rules
var builtinRules embed.FS

// Attributes a rule may set.
const (
	AttrVendor   = "vendor"
	AttrModel    = "model"
	AttrType     = "type"
	AttrOS       = "os"
	AttrSoftware = "software"
)

var validAttrs = map[string]bool{AttrVendor: true, AttrModel: true, AttrType: true, AttrOS: true, AttrSoftware: true}

// ErrInvalidRule marks a rule file that cannot be used.
var ErrInvalidRule = errors.New("invalid rule")

// Rule says: when an observation of Field matches Match, the device has
// the attribute values in Set, with Confidence. Values may use $1, ${name}
// to insert regexp groups.
type Rule struct {
	ID         string            `json:"id"`
	Field      string            `json:"field"`
	Match      string            `json:"match"`
	Set        map[string]string `json:"set"`
	Confidence float64           `json:"confidence"`
	Comment    string            `json:"comment,omitempty"`

	re *regexp.Regexp
}

// RuleFile is the on-disk format.
type RuleFile struct {
	Rules []Rule `json:"rules"`
}

// Rules is a compiled rule set, indexed by field.
type Rules struct {
	byField map[string][]*Rule
	n       int
}

// DefaultRules returns the embedded rule set, files in lexical path order.
func DefaultRules() (*Rules, error) {
	r := &Rules{byField: map[string][]*Rule{}}
	err := fs.WalkDir(builtinRules, "rules", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		b, err := builtinRules.ReadFile(path)
		if err != nil {
			return err
		}
		return r.Add(bytes.NewReader(b), "embedded "+path)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Len is the number of rules.
func (r *Rules) Len() int { return r.n }

// Add parses a rule file (strict JSON: unknown keys are errors) and adds its
// rules. name is used in errors, which point at the rule by index and id.
func (r *Rules) Add(in io.Reader, name string) error {
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	var f RuleFile
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("%s: %w: %w", name, ErrInvalidRule, err)
	}
	for i := range f.Rules {
		rule := f.Rules[i]
		where := fmt.Sprintf("%s: /rules/%d (id %q)", name, i, rule.ID)
		switch {
		case rule.ID == "":
			return fmt.Errorf("%s: %w: 'id' is missing", where, ErrInvalidRule)
		case rule.Field == "":
			return fmt.Errorf("%s: %w: 'field' is missing", where, ErrInvalidRule)
		case rule.Confidence <= 0 || rule.Confidence > 1:
			return fmt.Errorf("%s: %w: 'confidence' must be in (0, 1], got %v", where, ErrInvalidRule, rule.Confidence)
		case len(rule.Set) == 0:
			return fmt.Errorf("%s: %w: 'set' is empty", where, ErrInvalidRule)
		}
		for k := range rule.Set {
			if !validAttrs[k] {
				return fmt.Errorf("%s: %w: 'set' key %q is not one of vendor, model, type, os, software", where, ErrInvalidRule, k)
			}
		}
		re, err := regexp.Compile(rule.Match)
		if err != nil {
			return fmt.Errorf("%s: %w: 'match': %w", where, ErrInvalidRule, err)
		}
		rule.re = re
		r.byField[rule.Field] = append(r.byField[rule.Field], &rule)
		r.n++
	}
	return nil
}

// hit is one rule matching one observation.
type hit struct {
	rule  *Rule
	attr  string
	value string
	field string
	obs   string
}

// apply returns the hits of every rule for field=value.
func (r *Rules) apply(field, value string, out []hit) []hit {
	for _, rule := range r.byField[field] {
		m := rule.re.FindStringSubmatchIndex(value)
		if m == nil {
			continue
		}
		for attr, tmpl := range rule.Set {
			v := string(rule.re.ExpandString(nil, tmpl, value, m))
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			out = append(out, hit{rule: rule, attr: attr, value: v, field: field, obs: value})
		}
	}
	return out
}
