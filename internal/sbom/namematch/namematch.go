// Package namematch maps firmware, OS, RTOS and embedded-library components
// that an SBOM lists by name and version only (no CPE) to the CPE names NVD
// uses for them (ThreadX, VxWorks, FreeRTOS, Nucleus, QNX, INTEGRITY,
// Windows Embedded, Linux kernels, OpenSSL, BusyBox…), from a data file of
// aliases (aliases.tsv), so they can be evaluated against NVD CVE
// configurations. Such a match is never as certain as a CPE the producer
// wrote: an exact alias is "medium" confidence, an alias found inside a
// longer name is "low" and needs review.
package namematch

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode"

	"github.com/medwarden/medwarden/internal/sbom"
)

// Confidence levels of a name match.
const (
	Medium = "medium" // the component name equals an alias
	Low    = "low"    // the component name contains an alias as whole words
)

//go:embed aliases.tsv
var aliasesTSV string

// Target is one CPE part:vendor:product.
type Target struct{ Part, Vendor, Product string }

// Table maps normalised aliases to CPE targets.
type Table struct {
	exact map[string][]Target
	// words holds aliases of two or more characters for whole-word search,
	// longest first.
	words []alias
}

type alias struct {
	norm    string
	targets []Target
}

// Default is the embedded alias table.
var Default = mustParse(aliasesTSV)

func mustParse(s string) *Table {
	t, err := Parse(s, "aliases.tsv")
	if err != nil {
		panic(err) // the embedded file is checked by TestDefaultTable
	}
	return t
}

// Parse reads an alias table in the aliases.tsv format.
func Parse(s, name string) (*Table, error) {
	t := &Table{exact: map[string][]Target{}}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		tgts, names, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("%s line %d: want CPE targets TAB aliases", name, i+1)
		}
		var targets []Target
		for _, tg := range strings.Split(tgts, ",") {
			p := strings.SplitN(strings.TrimSpace(tg), ":", 3)
			if len(p) != 3 || (p[0] != "a" && p[0] != "o" && p[0] != "h") || p[1] == "" || p[2] == "" {
				return nil, fmt.Errorf("%s line %d: target %q is not part:vendor:product", name, i+1, tg)
			}
			targets = append(targets, Target{p[0], p[1], p[2]})
		}
		for _, a := range strings.Split(names, "|") {
			n := Normalize(a)
			if n == "" {
				return nil, fmt.Errorf("%s line %d: empty alias", name, i+1)
			}
			if _, dup := t.exact[n]; dup {
				return nil, fmt.Errorf("%s line %d: alias %q is listed twice", name, i+1, a)
			}
			t.exact[n] = targets
			t.words = append(t.words, alias{n, targets})
		}
	}
	// Longest alias first, so "windows embedded standard 7" wins over "windows 7".
	for i := 1; i < len(t.words); i++ {
		for j := i; j > 0 && len(t.words[j].norm) > len(t.words[j-1].norm); j-- {
			t.words[j], t.words[j-1] = t.words[j-1], t.words[j]
		}
	}
	return t, nil
}

// Normalize lower-cases s, drops ®, ™ and ©, and turns every run of
// separators (space - _ . , / ( ) + :) into one space.
func Normalize(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '®' || r == '™' || r == '©':
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// Match is a component name mapped to CPE targets.
type Match struct {
	Alias      string   // the normalised alias that matched
	Targets    []Target // the CPE products it maps to
	Confidence string   // Medium or Low
}

// Lookup maps a component (by name, and by group + name) to CPE targets.
func (t *Table) Lookup(c *sbom.Component) (Match, bool) {
	names := []string{Normalize(c.Name)}
	if c.Group != "" {
		names = append(names, Normalize(c.Group+" "+c.Name))
	}
	if c.Supplier != "" {
		names = append(names, Normalize(c.Supplier+" "+c.Name))
	}
	for _, n := range names {
		if tg, ok := t.exact[n]; ok {
			return Match{Alias: n, Targets: tg, Confidence: Medium}, true
		}
	}
	n := " " + names[0] + " "
	for _, a := range t.words {
		if len(a.norm) < 4 { // "xpe", "qnx"… too short to find inside a name
			continue
		}
		if strings.Contains(n, " "+a.norm+" ") {
			return Match{Alias: a.norm, Targets: a.targets, Confidence: Low}, true
		}
	}
	return Match{}, false
}

// CPEs returns the CPE 2.3 names of m's targets with version (escaped);
// "*" when version is empty.
func (m Match) CPEs(version string) []string {
	v := escape(strings.TrimSpace(version))
	if v == "" {
		v = "*"
	}
	out := make([]string, 0, len(m.Targets))
	for _, t := range m.Targets {
		out = append(out, "cpe:2.3:"+t.Part+":"+t.Vendor+":"+t.Product+":"+v+":*:*:*:*:*:*:*")
	}
	return out
}

// escape quotes a value for the CPE 2.3 formatted string binding.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
			b.WriteByte(c)
		case c == ' ':
			b.WriteString(`\ `)
		case c < 0x20 || c > 0x7e:
			// non-ASCII cannot appear in a CPE value; drop it
		default:
			b.WriteByte('\\')
			b.WriteByte(c)
		}
	}
	return b.String()
}
