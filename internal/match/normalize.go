package match

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/medwarden/medwarden/internal/inventory"
)

//go:embed data/vendor_aliases.txt
var defaultAliasesText string

// Aliases maps vendor spellings to one canonical vendor key. Build it with
// DefaultAliases or ParseAliases; it is read-only once built and safe for
// concurrent use.
type Aliases struct {
	// canon maps a normalised spelling to its group's canonical key.
	canon map[string]string
	// words maps a canonical key to the name words of every spelling of
	// the group (removed from model strings: "Philips IntelliVue" → "intellivue").
	words map[string]map[string]bool
}

// DefaultAliases returns the embedded alias table (data/vendor_aliases.txt).
func DefaultAliases() *Aliases {
	a, err := ParseAliases(strings.NewReader(defaultAliasesText), "data/vendor_aliases.txt", nil)
	if err != nil {
		// The embedded table is tested; an error here is a build defect.
		return &Aliases{canon: map[string]string{}, words: map[string]map[string]bool{}}
	}
	return a
}

// ParseAliases reads an alias table: one vendor per line, spellings
// separated by " = ", the canonical one first; '#' starts a comment line.
// The groups are added to base (which is not modified; nil: empty). A
// spelling that already belongs to another group is an error naming the
// line, so two vendors are never merged by accident.
func ParseAliases(r io.Reader, name string, base *Aliases) (*Aliases, error) {
	a := &Aliases{canon: map[string]string{}, words: map[string]map[string]bool{}}
	if base != nil {
		for k, v := range base.canon {
			a.canon[k] = v
		}
		for k, ws := range base.words {
			m := make(map[string]bool, len(ws))
			for w := range ws {
				m[w] = true
			}
			a.words[k] = m
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		parts := strings.Split(text, "=")
		var keys []string
		for _, p := range parts {
			k := vendorNorm(p)
			if k == "" {
				return nil, fmt.Errorf("%s line %d: empty vendor spelling in %q", name, line, text)
			}
			keys = append(keys, k)
		}
		// A line extends an existing group when its first spelling is known.
		group := keys[0]
		if g, ok := a.canon[keys[0]]; ok {
			group = g
		}
		for i, k := range keys {
			if g, ok := a.canon[k]; ok && g != group {
				return nil, fmt.Errorf("%s line %d: vendor spelling %q already belongs to group %q", name, line, strings.TrimSpace(parts[i]), g)
			}
			a.canon[k] = group
			if a.words[group] == nil {
				a.words[group] = map[string]bool{}
			}
			for _, w := range splitWords(parts[i]) {
				if !stopWords[w] {
					a.words[group][w] = true
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return a, nil
}

// vendorRef is one vendor an advisory product or device names.
type vendorRef struct {
	key    string // canonical key (alias group or normalised spelling)
	direct string // normalised spelling before aliasing
}

// vendorSuffixes are trailing words that do not change who the vendor is.
var vendorSuffixes = map[string]bool{
	"medical": true, "healthcare": true, "health": true, "systems": true, "system": true,
	"international": true, "company": true, "group": true, "technologies": true,
	"technology": true, "solutions": true, "diagnostics": true, "holdings": true,
	"the": true, "kgaa": true, "se": true, "kg": true, "ev": true,
}

// vendorNorm is inventory.VendorKey on accent-folded text, with the
// parenthesised abbreviation dropped ("Natus Medical, Inc. (Natus)").
func vendorNorm(s string) string {
	s = fold(s)
	if i := strings.IndexByte(s, '('); i > 0 {
		if j := strings.IndexByte(s[i:], ')'); j > 0 {
			s = s[:i] + " " + s[i+j+1:]
		}
	}
	return inventory.VendorKey(s)
}

// vendorBase strips trailing generic words: "B. Braun Medical" → "bbraun".
func vendorBase(s string) string {
	ws := splitWords(fold(s))
	for len(ws) > 1 && vendorSuffixes[ws[len(ws)-1]] {
		ws = ws[:len(ws)-1]
	}
	return inventory.VendorKey(strings.Join(ws, " "))
}

// Resolve returns the vendor refs of a vendor string: one normally, several
// for multi-vendor strings ("ENEA, Green Hills Software, and Wind River").
func (a *Aliases) Resolve(vendor string) []vendorRef {
	if strings.TrimSpace(vendor) == "" {
		return nil
	}
	if r, ok := a.one(vendor); ok {
		return []vendorRef{r}
	}
	parts := splitVendors(vendor)
	if len(parts) < 2 {
		r, _ := a.one(vendor)
		if r.key == "" {
			return nil
		}
		return []vendorRef{r}
	}
	var out []vendorRef
	seen := map[string]bool{}
	for _, p := range parts {
		r, _ := a.one(p)
		if r.key != "" && !seen[r.key] {
			seen[r.key] = true
			out = append(out, r)
		}
	}
	return out
}

// one resolves a single vendor spelling; ok reports an alias-table hit.
func (a *Aliases) one(v string) (vendorRef, bool) {
	n := vendorNorm(v)
	if g, ok := a.canon[n]; ok {
		return vendorRef{key: g, direct: n}, true
	}
	b := vendorBase(v)
	if g, ok := a.canon[b]; ok {
		return vendorRef{key: g, direct: b}, true
	}
	return vendorRef{key: b, direct: b}, false
}

// Key returns the canonical key of a single vendor spelling.
func (a *Aliases) Key(vendor string) string {
	r, _ := a.one(vendor)
	return r.key
}

// Same reports whether two vendor spellings name the same vendor, and
// whether that needed the alias table.
func (a *Aliases) Same(x, y string) (same, viaAlias bool) {
	for _, rx := range a.Resolve(x) {
		for _, ry := range a.Resolve(y) {
			if rx.key == ry.key {
				return true, rx.direct != ry.direct
			}
		}
	}
	return false, false
}

func splitVendors(v string) []string {
	f := strings.NewReplacer(" and ", ",", " & ", ",", ";", ",", "/", ",").Replace(v)
	var out []string
	for _, p := range strings.Split(f, ",") {
		p = strings.TrimSpace(p)
		if vendorNorm(p) != "" && !legalOnly(p) {
			out = append(out, p)
		}
	}
	return out
}

// legalOnly reports parts like "Inc." or "Ltd." left by splitting on commas.
func legalOnly(p string) bool {
	return inventory.VendorKey(p) == ""
}

var mojibake = strings.NewReplacer("ÃƒÂ¤", "ä", "Ã¤", "ä", "Ã¶", "ö", "Ã¼", "ü", "ÃŸ", "ss", "ß", "ss")

// fold lower-cases and removes accents ("Dräger" → "drager"), and repairs
// the common UTF-8-read-as-Latin-1 spelling of "ä" ("YhtymÃ¤").
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	s = mojibake.Replace(s)
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// splitWords splits folded text into alphanumeric words.
func splitWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)))
	})
}

// stopWords never identify a model: they are removed from model strings
// on both sides. Register rows add them freely ("Alaris 8015 infusion
// pump"), advisories too ("Patient Worn Monitor (WLAN only)").
var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "with": true, "w": true, "for": true,
	"of": true, "on": true, "in": true, "to": true, "by": true, "only": true, "all": true,
	"system": true, "systems": true, "software": true, "device": true, "devices": true,
	"pump": true, "pumps": true, "monitor": true, "monitors": true, "monitoring": true,
	"series": true, "model": true, "models": true, "unit": true, "units": true, "family": true,
	"product": true, "products": true, "medical": true, "patient": true, "infusion": true,
	"version": true, "versions": true, "firmware": true, "application": true, "platform": true,
	"inc": true, "ltd": true, "llc": true, "corp": true, "gmbh": true, "ag": true, "co": true,
	"number": true, "no": true, "nr": true, "type": true, "equipment": true, "solution": true,
	"including": true, "integrated": true, "part": true, "as": true, "installed": true,
	"cardiograph": true, "cardiographs": true, "ultrasound": true, "new": true,
	"workstation": true, "machine": true, "ventilator": true, "ventilators": true,
}

// hasDigit reports whether a token is a model number ("tc30", "8015", "mx40").
func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

// modelText is a normalised model string: its significant tokens in order
// (vendor names and stop words removed) and the slash groups they form.
type modelText struct {
	toks  []string
	group []int // parallel to toks: tokens of one "a/b/c" run share a group
}

// parseModel tokenises a model string. vendorWords are removed (the
// vendor's own name inside the model: "BD Alaris", "GE Aespire").
// Tokens joined by '/' without spaces ("Assurity/Allure", "FM20/FM30")
// form one group: any one of them names the product.
func parseModel(s string, vendorWords map[string]bool) modelText {
	var mt modelText
	s = fold(s)
	g := -1
	prevSlash := false
	i := 0
	for i < len(s) {
		// read one word
		j := i
		for j < len(s) && isWordByte(s, j) {
			_, n := utf8.DecodeRuneInString(s[j:])
			j += n
		}
		if j == i {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			continue
		}
		w := s[i:j]
		slash := j < len(s) && s[j] == '/' && j+1 < len(s) && isWordByte(s, j+1)
		if !prevSlash {
			g++
		}
		prevSlash = slash
		i = j
		if stopWords[w] || vendorWords[w] {
			continue
		}
		if rest, ok := strings.CutPrefix(w, "including"); ok && rest != "" {
			w = rest // "includingMP2" in CISA text
		}
		// "MX700/800": the bare number shares the prefix of the model before it
		if n := len(mt.toks); n > 0 && mt.group[n-1] == g && isDigits(w) {
			if p := alphaPrefix(mt.toks[n-1]); p != "" {
				w = p + w
			}
		}
		mt.toks = append(mt.toks, w)
		mt.group = append(mt.group, g)
	}
	return mt
}

// alphaPrefix returns the letters before the digits of a model number
// ("mx" of "mx700"), or "".
func alphaPrefix(t string) string {
	i := 0
	for i < len(t) && t[i] >= 'a' && t[i] <= 'z' {
		i++
	}
	if i == 0 || i == len(t) || !isDigits(t[i:]) {
		return ""
	}
	return t[:i]
}

func isWordByte(s string, i int) bool {
	c := s[i]
	if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
		return true
	}
	if c < utf8.RuneSelf {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// NormalizeModel returns the significant tokens of a model string, space
// separated, with the vendor's own words removed (for display and keys).
func (a *Aliases) NormalizeModel(vendor, model string) string {
	return strings.Join(parseModel(model, a.vendorWords(vendor)).toks, " ")
}

// vendorWords returns the name words of every spelling of the vendor's
// alias groups, plus the words of the given spelling itself.
func (a *Aliases) vendorWords(vendor string) map[string]bool {
	out := map[string]bool{}
	for _, w := range splitWords(fold(vendor)) {
		if !stopWords[w] {
			out[w] = true
		}
	}
	for _, r := range a.Resolve(vendor) {
		for w := range a.words[r.key] {
			out[w] = true
		}
	}
	return out
}

// vendorInModel finds a known vendor (alias table only) in the first one to
// four words of a model string. The ref's direct spelling is marked so that
// a match through it counts as an alias match (lower confidence).
func (a *Aliases) vendorInModel(model string) (vendorRef, bool) {
	ws := splitWords(fold(model))
	for n := min(4, len(ws)); n >= 1; n-- {
		k := inventory.VendorKey(strings.Join(ws[:n], " "))
		if g, ok := a.canon[k]; ok {
			return vendorRef{key: g, direct: "\x00model:" + k}, true
		}
	}
	return vendorRef{}, false
}
