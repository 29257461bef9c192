// Package match maps a device fleet onto security advisories: for every
// device and advisory it decides whether one of the advisory's products is
// that device and whether the device's version is affected, and returns
// findings with the matched product, the method, a confidence and the
// advisory's CVEs, scores, KEV and EPSS data and remediations.
//
// The package is pure: advisories, devices and feeds come in as values.
// Matching works on distinct (vendor, model, version, UDI) combinations of
// the fleet, never on single devices, so a fleet of a million devices costs
// as much as its few thousand distinct combinations. Advisory products are
// compiled once into an inverted index (vendor key → model token →
// products).
//
// Fuzzy matches are never silent: a pair whose identity or version cannot be
// decided is a finding with status needs_review.
package match

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medwarden/medwarden/internal/advisory"
	"github.com/medwarden/medwarden/internal/advisory/epss"
	"github.com/medwarden/medwarden/internal/advisory/kev"
	"github.com/medwarden/medwarden/internal/inventory"
	"github.com/medwarden/medwarden/internal/versions"
)

// StatusNeedsReview is the status of a finding that a person must confirm.
const StatusNeedsReview = "needs_review"

// Methods recorded on findings.
const (
	MethodModelVersion = "model+version" // model matched, device version equals a listed version
	MethodModelRange   = "model+range"   // model matched, device version inside the affected range
	MethodModel        = "model"         // model matched, the product has no version limit
	MethodUDI          = "udi"           // device UDI-DI equals a product identification helper
	MethodCPE          = "cpe"           // device CPE names the product's CPE vendor and product
	MethodAlias        = "alias"         // as model*, but the vendor only matched through the alias table
)

// Default thresholds (see docs/MATCHING.md).
const (
	// DefaultReviewThreshold: identity confidence below it gives needs_review.
	DefaultReviewThreshold = 0.7
	// DefaultMinConfidence: identity confidence below it gives no finding.
	DefaultMinConfidence = 0.4
)

// ErrNoAdvisory is returned for a nil advisory or one without an id.
var ErrNoAdvisory = errors.New("advisory without tracking id")

// Options tune Compile.
type Options struct {
	// Aliases is the vendor alias table (nil: DefaultAliases()).
	Aliases *Aliases
	// ReviewThreshold and MinConfidence (0: the defaults).
	ReviewThreshold float64
	MinConfidence   float64
	// KEV and EPSS enrich findings; nil means the feed was not given (the
	// caller must say so: kev=false then means unknown).
	KEV  map[string]*kev.Entry
	EPSS map[string]epss.Score
	// Workers bounds parallelism (0: GOMAXPROCS).
	Workers int
}

// Finding is one (device, advisory) pair: the best-matching product.
type Finding struct {
	AssetID       string   `json:"asset_id"`
	DeviceVendor  string   `json:"device_vendor,omitempty"`
	DeviceModel   string   `json:"device_model,omitempty"`
	DeviceVersion string   `json:"device_version,omitempty"`
	AdvisoryID    string   `json:"advisory_id"`
	AdvisoryTitle string   `json:"advisory_title"`
	CVEs          []string `json:"cves"`
	// Status is known_affected, first_affected, last_affected or needs_review.
	Status       string        `json:"status"`
	ProductID    string        `json:"product_id"`
	ProductName  string        `json:"product_name"`
	BranchPath   []string      `json:"branch_path"`
	Method       string        `json:"method"`
	Confidence   float64       `json:"confidence"`
	Reasons      []string      `json:"reasons"`
	CVSS         *CVSS         `json:"cvss"`
	KEV          bool          `json:"kev"`
	KEVDueDate   *string       `json:"kev_due_date"`
	EPSS         *EPSS         `json:"epss"`
	Remediations []Remediation `json:"remediations"`
}

// CVSS is the highest published base score for the product.
type CVSS struct {
	BaseScore float64 `json:"base_score"`
	Vector    string  `json:"vector"`
	Version   string  `json:"version"`
	CVE       string  `json:"cve,omitempty"`
}

// EPSS is the highest EPSS probability among the finding's CVEs.
type EPSS struct {
	CVE        string  `json:"cve"`
	Score      float64 `json:"score"`
	Percentile float64 `json:"percentile"`
}

// Remediation is one remediation for the matched product.
type Remediation struct {
	Category string `json:"category"`
	Details  string `json:"details"`
	URL      string `json:"url,omitempty"`
	Date     string `json:"date,omitempty"`
}

// form is one way a product can be named: its model tokens and its version.
type form struct {
	req     modelText       // tokens that name the product
	nums    []string        // model-number tokens (any one identifies)
	all     map[string]bool // every token a device may use (req, optional, joined pairs)
	short   bool            // very short name: only an exact token set matches
	rng     *versions.Range // nil when allVer or not understood
	allVer  bool
	rngText string
	rngErr  error
	alt     bool // version text read as model text
	ranges  []modelRange
	optNums []string // model numbers in parentheses or the family: identify when present
}

// modelRange is a range of model numbers written "MX400-550" or "MX400-MX550".
type modelRange struct {
	prefix string
	lo, hi int
}

var reModelRange = regexp.MustCompile(`\b([a-z]{1,4})(\d{2,6})\s*(?:-|to|through)\s*(?:[a-z]{1,4})?(\d{2,6})\b`)

func modelRanges(s string) []modelRange {
	var out []modelRange
	for _, m := range reModelRange.FindAllStringSubmatch(fold(s), -1) {
		lo, err1 := strconv.Atoi(m[2])
		hi, err2 := strconv.Atoi(m[3])
		if err1 == nil && err2 == nil && lo < hi && hi-lo <= 10000 {
			out = append(out, modelRange{prefix: m[1], lo: lo, hi: hi})
		}
	}
	return out
}

// inRange reports whether a device token ("mx450") is in a model range;
// it returns the range's prefix.
func (f *form) inRange(t string) (string, bool) {
	for _, r := range f.ranges {
		if !strings.HasPrefix(t, r.prefix) {
			continue
		}
		n, err := strconv.Atoi(t[len(r.prefix):])
		if err == nil && n >= r.lo && n <= r.hi {
			return r.prefix, true
		}
	}
	return "", false
}

type cproduct struct {
	adv     *cadv
	p       *advisory.Product
	vendors []vendorRef
	forms   []form
	status  string // affected status, "" when not affected
	neg     bool   // fixed / known_not_affected (and not affected)
	udis    []string
	cpeVP   string // "vendor:product" of the product CPE
	tmpl    *Finding
	tmplMu  sync.Once
}

type cadv struct {
	a        *advisory.Advisory
	products []*cproduct
	dead     bool
	idx      int
}

// Index is the compiled set of advisories. It is safe for concurrent
// matching; Add must not run concurrently with matching.
type Index struct {
	opts     Options
	advs     []*cadv
	byID     map[string]*cadv
	byVendor map[string]map[string][]*cproduct // vendor key → token → products
	byUDI    map[string][]*cproduct
	byCPE    map[string][]*cproduct
	// compile caches: many products share vendor strings and range texts
	vendorCache map[string]vendorInfo
	rangeCache  map[string]rangeResult
}

type vendorInfo struct {
	refs  []vendorRef
	words map[string]bool
}

type rangeResult struct {
	r   *versions.Range
	err error
}

func (ix *Index) vendor(v string) vendorInfo {
	vi, ok := ix.vendorCache[v]
	if !ok {
		vi = vendorInfo{refs: ix.opts.Aliases.Resolve(v), words: ix.opts.Aliases.vendorWords(v)}
		ix.vendorCache[v] = vi
	}
	return vi
}

func (ix *Index) parseRange(text string) (*versions.Range, error) {
	rr, ok := ix.rangeCache[text]
	if !ok {
		rr.r, rr.err = versions.ParseCSAFRange(text)
		ix.rangeCache[text] = rr
	}
	return rr.r, rr.err
}

// Compile builds the index of advisories.
func Compile(advs []*advisory.Advisory, opts Options) (*Index, error) {
	if opts.Aliases == nil {
		opts.Aliases = DefaultAliases()
	}
	if opts.ReviewThreshold <= 0 {
		opts.ReviewThreshold = DefaultReviewThreshold
	}
	if opts.MinConfidence <= 0 {
		opts.MinConfidence = DefaultMinConfidence
	}
	ix := &Index{opts: opts, byID: map[string]*cadv{}, byVendor: map[string]map[string][]*cproduct{},
		byUDI: map[string][]*cproduct{}, byCPE: map[string][]*cproduct{},
		vendorCache: map[string]vendorInfo{}, rangeCache: map[string]rangeResult{}}
	for i, a := range advs {
		if _, err := ix.add(a); err != nil {
			return nil, fmt.Errorf("advisory %d (%s): %w", i, sourceOf(a), err)
		}
	}
	return ix, nil
}

func sourceOf(a *advisory.Advisory) string {
	if a == nil {
		return "nil"
	}
	if a.Source != "" {
		return a.Source
	}
	return a.ID
}

// Add compiles one more advisory into the index. An advisory with the same
// tracking id replaces the earlier one (a new revision).
func (ix *Index) Add(a *advisory.Advisory) error {
	_, err := ix.add(a)
	return err
}

// Len returns the number of advisories in the index.
func (ix *Index) Len() int { return len(ix.byID) }

func (ix *Index) add(a *advisory.Advisory) (*cadv, error) {
	if a == nil || strings.TrimSpace(a.ID) == "" {
		return nil, ErrNoAdvisory
	}
	if old, ok := ix.byID[a.ID]; ok {
		old.dead = true
	}
	ca := &cadv{a: a, idx: len(ix.advs)}
	ix.advs = append(ix.advs, ca)
	ix.byID[a.ID] = ca
	affected, negative := productStatuses(a)
	for i := range a.Products {
		p := &a.Products[i]
		cp := ix.compileProduct(ca, p)
		if cp == nil {
			continue
		}
		cp.status = affected[p.ID]
		cp.neg = cp.status == "" && negative[p.ID]
		if cp.status == "" && !cp.neg {
			continue // under investigation, recommended or unused: never a finding
		}
		ca.products = append(ca.products, cp)
		for _, v := range cp.vendors {
			m := ix.byVendor[v.key]
			if m == nil {
				m = map[string][]*cproduct{}
				ix.byVendor[v.key] = m
			}
			seen := map[string]bool{}
			for _, f := range cp.forms {
				for t := range f.all {
					if !seen[t] {
						seen[t] = true
						m[t] = append(m[t], cp)
					}
				}
			}
		}
		for _, u := range cp.udis {
			ix.byUDI[u] = append(ix.byUDI[u], cp)
		}
		if cp.cpeVP != "" {
			ix.byCPE[cp.cpeVP] = append(ix.byCPE[cp.cpeVP], cp)
		}
	}
	return ca, nil
}

// productStatuses returns each product's affected status (known_affected
// preferred, then first_affected, last_affected) and whether it is listed
// as fixed or not affected in some vulnerability.
func productStatuses(a *advisory.Advisory) (map[string]string, map[string]bool) {
	aff := map[string]string{}
	neg := map[string]bool{}
	rank := map[string]int{advisory.StatusKnownAffected: 3, advisory.StatusFirstAffected: 2, advisory.StatusLastAffected: 1}
	for _, v := range a.Vulnerabilities {
		for cat, ids := range v.Statuses {
			for _, id := range ids {
				switch cat {
				case advisory.StatusKnownAffected, advisory.StatusFirstAffected, advisory.StatusLastAffected:
					if rank[cat] > rank[aff[id]] {
						aff[id] = cat
					}
				case advisory.StatusFixed, advisory.StatusFirstFixed, advisory.StatusKnownNotAffected:
					neg[id] = true
				}
			}
		}
	}
	return aff, neg
}

// identity returns the product whose identity fields describe p: p itself,
// or for a relationship product the product it relates to (the device the
// component is installed on or part of).
func identity(a *advisory.Advisory, p *advisory.Product) *advisory.Product {
	for range 8 {
		if p.Relationship == nil {
			return p
		}
		q := a.Product(p.Relationship.RelatesTo)
		if q == nil {
			return p
		}
		p = q
	}
	return p
}

func (ix *Index) compileProduct(ca *cadv, p *advisory.Product) *cproduct {
	idp := identity(ca.a, p)
	vendor := idp.Vendor
	if vendor == "" && len(idp.BranchPath) > 0 && len(idp.BranchCategories) > 0 && idp.BranchCategories[0] == "vendor" {
		vendor = idp.BranchPath[0]
	}
	cp := &cproduct{adv: ca, p: p}
	vi := ix.vendor(vendor)
	cp.vendors = vi.refs
	vw := vi.words
	verText := idp.Version
	if verText == "" {
		verText = idp.VersionRange
	}
	name, family := idp.ProductName, idp.ProductFamily
	switch {
	case name == "" && family != "":
		name, family = family, "" // vendor > product_family > version
	case name == "":
		// flat full_product_names: the full name, without the version text
		name = idp.Name
		if verText != "" {
			name = strings.Replace(name, verText, " ", 1)
		}
		for _, w := range []string{vendor} {
			if w != "" && strings.HasPrefix(strings.ToLower(name), strings.ToLower(w)) {
				name = name[len(w):]
			}
		}
	}
	optional := parseModel(family, vw)
	main, paren := splitParens(name)
	req := parseModelKeep(main, vw)
	opt := parseModel(paren, vw)
	opt.toks = append(opt.toks, optional.toks...)
	var extraNums []string
	for _, m := range idp.ModelNumbers {
		extraNums = append(extraNums, parseModel(m, nil).toks...)
		if u := normUDI(m); u != "" {
			cp.udis = append(cp.udis, u)
		}
	}
	for _, s := range idp.SKUs {
		if u := normUDI(s); u != "" {
			cp.udis = append(cp.udis, u)
		}
	}
	if idp.CPE != "" {
		cp.cpeVP = cpeVendorProduct(idp.CPE)
	}
	// model numbers in parentheses name models too: "(includingMP2/X2/MP30…)", "(VLFT10GEN)"
	// (evidence when they match, never required: "(HP Z2 G9 workstation…)")
	base := newForm(req, opt, extraNums)
	base.ranges = modelRanges(name)
	for _, t := range opt.toks {
		if hasDigit(t) && !slices.Contains(base.nums, t) {
			base.optNums = append(base.optNums, t)
		}
	}
	relVersion := p != idp // relationship: version of the component, not of the device
	switch {
	case relVersion:
		base.rngErr = fmt.Errorf("relationship product %q: %w", p.Name, versions.ErrNotUnderstood)
		base.rngText = p.Name
	case strings.TrimSpace(verText) == "":
		base.allVer = true
	default:
		base.rngText = verText
		r, err := ix.parseRange(verText)
		if err != nil {
			// "v6.x model 35700BAX": a version followed by the model number
			if m := reVersionModel.FindStringSubmatch(verText); m != nil {
				if r2, err2 := ix.parseRange(m[1]); err2 == nil {
					r, err = r2, nil
					for _, t := range parseModel(m[2], nil).toks {
						base.all[t] = true
					}
				}
			}
		}
		switch {
		case err != nil:
			base.rngErr = err
		case r.All():
			base.allVer = true
		default:
			base.rng = r
		}
	}
	if len(base.req.toks) > 0 || len(base.nums) > 0 {
		cp.forms = append(cp.forms, base)
	}
	// Version text that is really a model name ("Accu-Chek Inform II",
	// "882471 Gemini TF 64 w/ TOF Performance"): a second form where that
	// text names the product, all versions.
	if !relVersion && (base.rngErr != nil && modelLike(verText) || reModelNumber.MatchString(verText)) {
		vm, vp := splitParens(verText)
		altReq := parseModelKeep(vm, vw)
		altOpt := parseModel(vp, vw)
		altOpt.toks = append(altOpt.toks, req.toks...)
		altOpt.toks = append(altOpt.toks, opt.toks...)
		alt := newForm(altReq, altOpt, extraNums)
		alt.allVer = true
		alt.alt = true
		alt.rngText = verText
		if len(alt.req.toks) > 0 {
			cp.forms = append(cp.forms, alt)
		}
	}
	if len(cp.forms) == 0 && len(cp.udis) == 0 && cp.cpeVP == "" {
		return nil
	}
	return cp
}

// reModelNumber finds catalogue numbers in a version field ("MMT-1754",
// "ZXP425"): the advisory lists models there, so the text also names the product.
var reModelNumber = regexp.MustCompile(`(?i)\b[a-z]{2,4}-?\d{3,}[a-z]?\b`)

var reVersionModel = regexp.MustCompile(`(?i)^(.*\S)\s*,?\s+\(?models?\s*(?:numbers?|no\.?|#)?\s*([a-z0-9][a-z0-9 ./-]*?)\)?$`)

// modelLike reports version text that reads as a product name: it has a
// word of three or more letters that is not a version or range word.
func modelLike(s string) bool {
	for _, w := range splitWords(fold(s)) {
		if hasDigit(w) || len(w) < 3 || versionWords[w] {
			continue
		}
		return true
	}
	return false
}

var versionWords = map[string]bool{
	"all": true, "and": true, "prior": true, "later": true, "earlier": true, "before": true, "after": true,
	"version": true, "versions": true, "build": true, "rev": true, "revision": true, "release": true,
	"through": true, "from": true, "until": true, "below": true, "above": true, "newer": true, "older": true,
	"than": true, "including": true, "patch": true, "update": true, "service": true, "pack": true,
	"beta": true, "alpha": true, "edition": true, "jan": true, "feb": true, "mar": true, "apr": true,
	"may": true, "jun": true, "jul": true, "aug": true, "sep": true, "oct": true, "nov": true, "dec": true,
	"january": true, "february": true, "march": true, "april": true, "june": true, "july": true,
	"august": true, "september": true, "october": true, "november": true, "december": true,
	"distributed": true, "running": true, "end": true, "life": true, "vers": true, "software": true,
	"firmware": true, "windows": true, "the": true, "not": true, "only": true, "with": true,
}

func newForm(req, opt modelText, extraNums []string) form {
	f := form{req: req, all: map[string]bool{}}
	add := func(mt modelText) {
		for i, t := range mt.toks {
			f.all[t] = true
			if i+1 < len(mt.toks) {
				f.all[t+mt.toks[i+1]] = true
			}
		}
	}
	add(req)
	add(opt)
	addInitials(f.all, req.toks)
	for _, t := range req.toks {
		if hasDigit(t) && !slices.Contains(f.nums, t) {
			f.nums = append(f.nums, t)
		}
	}
	for _, t := range extraNums {
		if hasDigit(t) && !slices.Contains(f.nums, t) {
			f.nums = append(f.nums, t)
			f.all[t] = true
		}
	}
	n := 0
	for _, t := range req.toks {
		n += len(t)
	}
	f.short = n < 4 && len(f.nums) == 0
	return f
}

// splitParens returns the text outside and inside parentheses.
func splitParens(s string) (outside, inside string) {
	var o, in strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(' || r == '[':
			depth++
			in.WriteByte(' ')
		case (r == ')' || r == ']') && depth > 0:
			depth--
			in.WriteByte(' ')
		case depth > 0:
			in.WriteRune(r)
		default:
			o.WriteRune(r)
		}
	}
	return o.String(), in.String()
}

// normUDI keeps the letters and digits of an identifier, upper-cased, and
// drops a GS1 "(01)" application identifier prefix.
func normUDI(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "(01)")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		}
	}
	u := b.String()
	if len(u) < 6 {
		return "" // too short to identify anything on its own
	}
	// GTIN-12/13 written as GTIN-14
	if len(u) == 14 && u[0] == '0' && isDigits(u) {
		u = u[1:]
	}
	return u
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// cpeVendorProduct returns "vendor:product" of a CPE 2.3 (or 2.2 URI) name.
func cpeVendorProduct(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	var parts []string
	switch {
	case strings.HasPrefix(s, "cpe:2.3:"):
		parts = strings.Split(s, ":")
		if len(parts) < 5 {
			return ""
		}
		parts = parts[3:5]
	case strings.HasPrefix(s, "cpe:/"):
		parts = strings.Split(s[5:], ":")
		if len(parts) < 3 {
			return ""
		}
		parts = parts[1:3]
	default:
		return ""
	}
	if parts[0] == "" || parts[0] == "*" || parts[1] == "" || parts[1] == "*" {
		return ""
	}
	return parts[0] + ":" + parts[1]
}

// cpeVersion returns the version field of a CPE 2.3 name ("" for * or -).
func cpeVersion(s string) string {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) > 5 && parts[5] != "*" && parts[5] != "-" {
		return parts[5]
	}
	return ""
}

// deviceModel is the normalised identity of a combo.
type deviceModel struct {
	toks []string
	set  map[string]bool // tokens and joined adjacent pairs
	nums []string
}

func newDeviceModel(mt modelText) deviceModel {
	d := deviceModel{toks: mt.toks, set: make(map[string]bool, 2*len(mt.toks))}
	for i, t := range mt.toks {
		d.set[t] = true
		if i+1 < len(mt.toks) {
			d.set[t+mt.toks[i+1]] = true
		}
		if hasDigit(t) {
			d.nums = append(d.nums, t)
		}
	}
	addInitials(d.set, mt.toks)
	return d
}

// addInitials adds the initials of runs of 2 to 4 word tokens
// ("point of care" → "pc" after stop words, "computed tomography" → "ct"),
// so an abbreviation on one side meets the words on the other.
func addInitials(set map[string]bool, toks []string) {
	for i := range toks {
		var b []byte
		for j := i; j < len(toks) && j < i+4; j++ {
			if hasDigit(toks[j]) || len(toks[j]) < 3 {
				break
			}
			b = append(b, toks[j][0])
			if len(b) >= 2 {
				set[string(b)] = true
			}
		}
	}
}

// whyKind says which identity rule matched; reasonText turns it into words.
type whyKind uint8

const (
	whyExactNum whyKind = iota + 1
	whyNumWords
	whyNumSubset
	whyNumOnly
	whyNoNum
	whyExact
	whyExtraNum
	whyWords
	whyPart
)

func reasonText(k whyKind, num string, d *deviceModel, f *form) string {
	model := strings.Join(d.toks, " ")
	switch k {
	case whyExactNum:
		return fmt.Sprintf("model %q names the product exactly (model number %q)", model, num)
	case whyNumWords:
		return fmt.Sprintf("model number %q and every product word match", num)
	case whyNumSubset:
		return fmt.Sprintf("model number %q matches and every device model word is in the product name", num)
	case whyNumOnly:
		return fmt.Sprintf("model number %q matches (other words differ)", num)
	case whyNoNum:
		return fmt.Sprintf("model %q has no model number; the product lists %s", model, strings.Join(f.nums, ", "))
	case whyExact:
		return fmt.Sprintf("model %q names the product exactly", model)
	case whyExtraNum:
		return fmt.Sprintf("every product name word is in model %q, but the device names a model number the product does not", model)
	case whyWords:
		return fmt.Sprintf("every product name word is in model %q", model)
	case whyPart:
		return fmt.Sprintf("model %q is only part of the product name", model)
	}
	return ""
}

// identityScore rates how well a device model names a product form, in
// [0,1], with a reason.
func identityScore(d *deviceModel, f *form) (float64, whyKind, string) {
	if len(d.toks) == 0 {
		return 0, 0, ""
	}
	n := len(f.req.toks)
	var buf [32]bool
	var covered []bool
	if n <= len(buf) {
		covered = buf[:n]
	} else {
		covered = make([]bool, n)
	}
	for i, t := range f.req.toks {
		if d.set[t] || gluedPrefix(d, t) {
			covered[i] = true
		}
		if i+1 < n && d.set[t+f.req.toks[i+1]] {
			covered[i], covered[i+1] = true, true
		}
	}
	// alpha groups: every group needs one covered token
	groups, groupsOK := 0, 0
	for i := 0; i < n; {
		g := f.req.group[i]
		alpha, ok := false, false
		for i < n && f.req.group[i] == g {
			if !hasDigit(f.req.toks[i]) {
				alpha = true
				ok = ok || covered[i]
			}
			i++
		}
		if alpha {
			groups++
			if ok {
				groupsOK++
			}
		}
	}
	numMatched := ""
	rangeTok := map[string]bool{}
	for _, t := range d.nums {
		if p, ok := f.inRange(t); ok {
			numMatched = t
			rangeTok[t] = true
			for i, rt := range f.req.toks {
				if rt == p {
					covered[i] = true
				}
			}
		}
	}
	for _, t := range f.nums {
		if d.set[t] {
			numMatched = t
			break
		}
	}
	for _, t := range f.optNums {
		if numMatched == "" && d.set[t] {
			numMatched = t
		}
	}
	if numMatched != "" {
		if p := alphaPrefix(numMatched); p != "" {
			for i, rt := range f.req.toks {
				if rt == p {
					covered[i] = true // "MP Series" named by its model "MP70"
				}
			}
		}
	}
	if numMatched == "" {
		for i, t := range f.req.toks {
			if hasDigit(t) && covered[i] {
				numMatched = t
				break
			}
		}
	}
	subset := true
	for i := 0; i < len(d.toks); i++ {
		t := d.toks[i]
		if f.all[t] || rangeTok[t] {
			continue
		}
		if i+1 < len(d.toks) && f.all[t+d.toks[i+1]] {
			i++
			continue
		}
		if i > 0 && f.all[d.toks[i-1]+t] {
			continue
		}
		subset = false
		break
	}
	alphaOK := groupsOK == groups
	if f.short && !subset {
		return 0, 0, ""
	}
	if len(f.nums) > 0 || len(f.ranges) > 0 || numMatched != "" {
		extraNums := false
		for _, t := range d.nums {
			if t != numMatched && !f.all[t] && !rangeTok[t] {
				extraNums = true
			}
		}
		switch {
		case numMatched != "" && alphaOK && subset:
			return 1, whyExactNum, numMatched
		case numMatched != "" && alphaOK:
			return 0.9, whyNumWords, numMatched
		case numMatched != "" && subset:
			return 0.8, whyNumSubset, numMatched
		case strongNumber(numMatched) && !extraNums:
			return 0.75, whyNumOnly, numMatched
		case numMatched == "" && len(d.nums) == 0 && alphaOK && groups > 0:
			return 0.5, whyNoNum, ""
		}
		return 0, 0, ""
	}
	switch {
	case groups == 0:
		return 0, 0, ""
	case alphaOK && subset:
		return 1, whyExact, ""
	case alphaOK && strongExtra(d, f):
		return 0.6, whyExtraNum, ""
	case alphaOK:
		return 0.9, whyWords, ""
	case subset && len(d.nums) == 0 && groupsOK*2 >= groups:
		return 0.5, whyPart, ""
	}
	return 0, 0, ""
}

// parseModelKeep is parseModel, but keeps the vendor's words when nothing
// else is left ("OpenClinic GA" by OpenClinic GA).
func parseModelKeep(s string, vendorWords map[string]bool) modelText {
	mt := parseModel(s, vendorWords)
	if len(mt.toks) == 0 {
		mt = parseModel(s, nil)
	}
	return mt
}

// gluedPrefix reports a device token that is the product token plus a
// short letter suffix ("spectrumiq" for "spectrum" + "IQ").
func gluedPrefix(d *deviceModel, p string) bool {
	if len(p) < 5 || hasDigit(p) {
		return false
	}
	for _, t := range d.toks {
		if rest, ok := strings.CutPrefix(t, p); ok && len(rest) >= 1 && len(rest) <= 3 && !hasDigit(rest) {
			return true
		}
	}
	return false
}

// strongExtra reports a distinctive device model number the product does not mention.
func strongExtra(d *deviceModel, f *form) bool {
	for _, t := range d.nums {
		if strongNumber(t) && !f.all[t] {
			return true
		}
	}
	return false
}

// strongNumber reports a model number distinctive enough to identify a
// product of a vendor on its own: four or more characters ("ex1150",
// "8015", "35700bax"), not a bare year-like or short number.
func strongNumber(t string) bool {
	return len(t) >= 4
}

// comboKey groups devices with the same identity.
type comboKey struct{ vendor, model, version, udi string }

type combo struct {
	key     comboKey
	vendors []vendorRef
	model   deviceModel
	udi     string
	cpeVP   string
	cpeVer  string
	assets  []string
}

// Fleet is a device fleet grouped by identity combos. Build it with
// NewFleet and Add; it is not safe for concurrent Add.
type Fleet struct {
	al       *Aliases
	combos   map[comboKey]*combo
	byVendor map[string][]*combo
	byAsset  map[string]*combo
	vendors  map[string][]vendorRef
	models   map[[2]string]deviceModel
	n        int
}

// NewFleet returns an empty fleet using the alias table (nil: defaults).
func NewFleet(al *Aliases) *Fleet { return NewFleetSize(al, 0) }

// NewFleetSize is NewFleet with room for n devices (a hint).
func NewFleetSize(al *Aliases, n int) *Fleet {
	if al == nil {
		al = DefaultAliases()
	}
	return &Fleet{al: al, combos: map[comboKey]*combo{}, byVendor: map[string][]*combo{},
		byAsset: make(map[string]*combo, n), vendors: map[string][]vendorRef{}, models: map[[2]string]deviceModel{}}
}

// Len returns the number of devices; Combos the number of distinct identities.
func (f *Fleet) Len() int    { return f.n }
func (f *Fleet) Combos() int { return len(f.combos) }

// Add adds a device (or replaces the device with the same asset id).
func (f *Fleet) Add(d *inventory.Device) {
	if d == nil {
		return
	}
	if _, ok := f.byAsset[d.AssetID]; ok {
		f.Remove(d.AssetID)
	}
	k := comboKey{vendor: d.Vendor, model: d.Model, version: strings.TrimSpace(d.Version), udi: d.UDIDI}
	c := f.combos[k]
	if c == nil {
		c = f.newCombo(k)
		f.combos[k] = c
		if len(c.vendors) == 0 {
			f.byVendor[""] = append(f.byVendor[""], c)
		}
		for _, v := range c.vendors {
			f.byVendor[v.key] = append(f.byVendor[v.key], c)
		}
	}
	c.assets = append(c.assets, d.AssetID)
	f.byAsset[d.AssetID] = c
	f.n++
}

// Remove removes a device by asset id.
func (f *Fleet) Remove(assetID string) {
	c, ok := f.byAsset[assetID]
	if !ok {
		return
	}
	delete(f.byAsset, assetID)
	if i := slices.Index(c.assets, assetID); i >= 0 {
		c.assets = slices.Delete(c.assets, i, i+1)
		f.n--
	}
}

func (f *Fleet) newCombo(k comboKey) *combo {
	vr, ok := f.vendors[k.vendor]
	if !ok {
		vr = f.al.Resolve(k.vendor)
		f.vendors[k.vendor] = vr
	}
	wordsOf := k.vendor
	if len(vr) == 0 && strings.TrimSpace(k.vendor) == "" {
		// no manufacturer column: "Philips IntelliVue MX40" names it in the model
		if r, ok := f.al.vendorInModel(k.model); ok {
			vr = []vendorRef{r}
			wordsOf = r.key // its words are then removed from the model
		}
	}
	mk := [2]string{wordsOf, k.model}
	dm, ok := f.models[mk]
	if !ok {
		model := k.model
		if strings.HasPrefix(strings.ToLower(model), "cpe:") {
			model = ""
		}
		vw := f.al.vendorWords(wordsOf)
		main, paren := splitParens(model)
		dm = newDeviceModel(parseModelKeep(main, vw))
		for _, t := range parseModel(paren, vw).toks {
			dm.set[t] = true // "(ICU)", "(PCU)": may match, never required
		}
		f.models[mk] = dm
	}
	c := &combo{key: k, vendors: vr, model: dm, udi: normUDI(k.udi)}
	for _, s := range []string{k.model, k.udi} {
		if vp := cpeVendorProduct(s); vp != "" {
			c.cpeVP, c.cpeVer = vp, cpeVersion(s)
		}
	}
	return c
}

// hit is one (combo, advisory) result.
type hit struct {
	p       *cproduct
	status  string
	method  string
	conf    float64
	reasons []string
}

// Match matches the whole fleet against every advisory of the index.
// Findings are sorted by asset id, then advisory id.
func (ix *Index) Match(ctx context.Context, f *Fleet) ([]Finding, error) {
	combos := make([]*combo, 0, len(f.combos))
	for _, c := range f.combos {
		if len(c.assets) > 0 {
			combos = append(combos, c)
		}
	}
	return ix.matchCombos(ctx, combos, nil)
}

// MatchAdvisory matches one advisory (compiled with Add first, or added
// here) against the fleet, touching only the combos of the advisory's
// vendors, UDIs and CPEs: the incremental path when a new advisory arrives.
func (ix *Index) MatchAdvisory(ctx context.Context, a *advisory.Advisory, f *Fleet) ([]Finding, error) {
	ca, ok := ix.byID[a.ID]
	if !ok || ca.a != a {
		var err error
		if ca, err = ix.add(a); err != nil {
			return nil, err
		}
	}
	seen := map[*combo]bool{}
	var combos []*combo
	addAll := func(cs []*combo) {
		for _, c := range cs {
			if !seen[c] && len(c.assets) > 0 {
				seen[c] = true
				combos = append(combos, c)
			}
		}
	}
	for _, p := range ca.products {
		for _, v := range p.vendors {
			addAll(f.byVendor[v.key])
		}
		if len(p.udis) > 0 || p.cpeVP != "" {
			for _, c := range f.combos {
				if c.udi != "" && slices.Contains(p.udis, c.udi) || c.cpeVP != "" && c.cpeVP == p.cpeVP {
					addAll([]*combo{c})
				}
			}
		}
	}
	return ix.matchCombos(ctx, combos, ca)
}

// MatchDevice matches one device against every advisory: the incremental
// path when a device is added or edited.
func (ix *Index) MatchDevice(d *inventory.Device) []Finding {
	f := NewFleet(ix.opts.Aliases)
	f.Add(d)
	out, _ := ix.Match(context.Background(), f)
	return out
}

func (ix *Index) matchCombos(ctx context.Context, combos []*combo, only *cadv) ([]Finding, error) {
	workers := ix.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(combos)))
	results := make([][]hit, len(combos))
	var wg sync.WaitGroup
	var next int64
	var mu sync.Mutex
	var ctxErr error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next += 64
				mu.Unlock()
				if int(i) >= len(combos) {
					return
				}
				if err := ctx.Err(); err != nil {
					mu.Lock()
					ctxErr = err
					mu.Unlock()
					return
				}
				for j := int(i); j < min(int(i)+64, len(combos)); j++ {
					results[j] = ix.matchCombo(combos[j], only)
				}
			}
		}()
	}
	wg.Wait()
	if ctxErr != nil {
		return nil, ctxErr
	}
	// Sort small references, then build the (large) findings in order.
	type ref struct {
		asset string
		adv   string
		combo int32
		hit   int32
	}
	n := 0
	for i, hs := range results {
		n += len(hs) * len(combos[i].assets)
	}
	refs := make([]ref, 0, n)
	for i, hs := range results {
		for j, h := range hs {
			id := h.p.adv.a.ID
			for _, asset := range combos[i].assets {
				refs = append(refs, ref{asset, id, int32(i), int32(j)})
			}
		}
	}
	slices.SortFunc(refs, func(a, b ref) int {
		return cmp.Or(strings.Compare(a.asset, b.asset), strings.Compare(a.adv, b.adv))
	})
	out := make([]Finding, len(refs))
	for k, r := range refs {
		c := combos[r.combo]
		h := &results[r.combo][r.hit]
		fd := &out[k]
		*fd = *ix.template(h.p)
		fd.AssetID = r.asset
		fd.DeviceVendor, fd.DeviceModel, fd.DeviceVersion = c.key.vendor, c.key.model, c.key.version
		fd.Status, fd.Method, fd.Confidence, fd.Reasons = h.status, h.method, h.conf, h.reasons
	}
	return out, nil
}

// cand is one evaluated (combo, product) pair.
type cand struct {
	p       *cproduct
	id      float64 // identity confidence
	outcome int     // 2 affected, 1 review, 0 outside the range
	method  string
	reasons []string
}

// matchCombo returns the best hit per advisory for one combo.
func (ix *Index) matchCombo(c *combo, only *cadv) []hit {
	cands := map[*cproduct]bool{}
	var list []*cproduct
	addC := func(ps []*cproduct) {
		for _, p := range ps {
			if p.adv.dead || (only != nil && p.adv != only) || cands[p] {
				continue
			}
			cands[p] = true
			list = append(list, p)
		}
	}
	for _, v := range c.vendors {
		m := ix.byVendor[v.key]
		if m == nil {
			continue
		}
		for t := range c.model.set {
			addC(m[t])
		}
		for _, t := range c.model.toks {
			for k := 1; k <= 3 && len(t)-k >= 5; k++ {
				addC(m[t[:len(t)-k]]) // glued suffix: "spectrumiq"
			}
		}
	}
	if c.udi != "" {
		addC(ix.byUDI[c.udi])
	}
	if c.cpeVP != "" {
		addC(ix.byCPE[c.cpeVP])
	}
	if len(list) == 0 {
		return nil
	}
	byAdv := map[*cadv][]cand{}
	exact := 0.0
	var all []cand
	for _, p := range list {
		if cd, ok := ix.evaluate(c, p); ok {
			all = append(all, cd)
			exact = max(exact, cd.id)
		}
	}
	for _, cd := range all {
		// When some advisory names the device exactly, partial name
		// matches elsewhere are other products ("Tasy EMR" vs "Tasy EMR
		// HTML5", "Pyxis ES" vs "Pyxis ES Anesthesia Station").
		if exact >= 0.75 && cd.id <= 0.6 {
			continue
		}
		byAdv[cd.p.adv] = append(byAdv[cd.p.adv], cd)
	}
	var out []hit
	for _, cs := range byAdv {
		if h, ok := ix.decide(cs); ok {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, b hit) int { return a.p.adv.idx - b.p.adv.idx })
	return out
}

// evaluate rates one product for one combo: identity, then version.
func (ix *Index) evaluate(c *combo, p *cproduct) (cand, bool) {
	// UDI and CPE: identity is certain.
	if c.udi != "" && slices.Contains(p.udis, c.udi) {
		cd := cand{p: p, id: 1, method: MethodUDI, reasons: []string{fmt.Sprintf("device UDI-DI %q equals a product identifier", c.key.udi)}}
		ix.version(c, p, formFor(p), &cd, c.key.version)
		cd.method = MethodUDI
		return cd, true
	}
	if c.cpeVP != "" && c.cpeVP == p.cpeVP {
		cd := cand{p: p, id: 1, reasons: []string{fmt.Sprintf("device CPE names %q", c.cpeVP)}}
		v := c.cpeVer
		if v == "" {
			v = c.key.version
		}
		ix.version(c, p, formFor(p), &cd, v)
		cd.method = MethodCPE
		return cd, true
	}
	viaAlias := true
	for _, dv := range c.vendors {
		for _, pv := range p.vendors {
			if dv.key == pv.key && dv.direct == pv.direct {
				viaAlias = false
			}
		}
	}
	var best cand
	found := false
	for i := range p.forms {
		f := &p.forms[i]
		s, kind, num := identityScore(&c.model, f)
		if f.alt {
			s *= 0.95
		}
		if viaAlias {
			s *= 0.9
		}
		if s < ix.opts.MinConfidence {
			continue
		}
		cd := cand{p: p, id: s, reasons: []string{reasonText(kind, num, &c.model, f)}}
		if viaAlias {
			cd.reasons = append(cd.reasons, fmt.Sprintf("vendor %q matched %q through the alias table", c.key.vendor, p.vendorName()))
		} else {
			cd.reasons = append(cd.reasons, fmt.Sprintf("vendor %q matches %q", c.key.vendor, p.vendorName()))
		}
		if f.alt {
			cd.reasons = append(cd.reasons, fmt.Sprintf("the advisory's version field %q names the model; all versions", f.rngText))
		}
		ix.version(c, p, f, &cd, c.key.version)
		if viaAlias && cd.method != "" {
			cd.method = MethodAlias
		}
		if !found || better(cd, best) {
			best, found = cd, true
		}
	}
	return best, found
}

func formFor(p *cproduct) *form {
	if len(p.forms) > 0 {
		return &p.forms[0]
	}
	return &form{allVer: true}
}

func (p *cproduct) vendorName() string {
	if p.p.Vendor != "" {
		return p.p.Vendor
	}
	if len(p.p.BranchPath) > 0 {
		return p.p.BranchPath[0]
	}
	return ""
}

// version decides the version outcome of a candidate.
func (ix *Index) version(_ *combo, _ *cproduct, f *form, cd *cand, devVer string) {
	switch {
	case f.allVer:
		cd.outcome = 2
		cd.method = MethodModel
		cd.reasons = append(cd.reasons, "the advisory lists all versions")
	case f.rng == nil:
		cd.outcome = 1
		cd.method = MethodModelRange
		cd.reasons = append(cd.reasons, fmt.Sprintf("affected versions %q not understood: review", f.rngText))
	case devVer == "":
		cd.outcome = 1
		cd.method = MethodModelRange
		cd.reasons = append(cd.reasons, fmt.Sprintf("device has no version; affected versions are %q", f.rngText))
	default:
		in, err := f.rng.Contains(normDeviceVersion(devVer))
		switch {
		case err != nil, !sameShape(normDeviceVersion(devVer), f.rng):
			cd.outcome = 1
			cd.method = MethodModelRange
			cd.reasons = append(cd.reasons, fmt.Sprintf("device version %q cannot be compared with %q (not written like the advisory's versions): review", devVer, f.rngText))
		case in:
			cd.outcome = 2
			cd.method = MethodModelRange
			if single(f.rng) {
				cd.method = MethodModelVersion
			}
			cd.reasons = append(cd.reasons, fmt.Sprintf("version %q is in %q", devVer, f.rngText))
		case underInclusiveBound(normDeviceVersion(devVer), f.rng):
			// "4.2 and prior" vs 4.2.1, "Rev B-M" vs M.00.03: a build of the
			// last affected version; the advisory does not say.
			cd.outcome = 1
			cd.method = MethodModelRange
			cd.reasons = append(cd.reasons, fmt.Sprintf("version %q is a later build of the last affected version in %q: review", devVer, f.rngText))
		default:
			cd.outcome = 0
			cd.reasons = append(cd.reasons, fmt.Sprintf("version %q is outside %q", devVer, f.rngText))
		}
	}
}

// normDeviceVersion removes register noise around a version ("Version 2.1", "fw 2.1").
func normDeviceVersion(v string) string {
	v = strings.TrimSpace(v)
	l := strings.ToLower(v)
	for _, p := range []string{"firmware version ", "software version ", "version ", "ver. ", "ver ", "fw ", "sw "} {
		if strings.HasPrefix(l, p) {
			return strings.TrimSpace(v[len(p):])
		}
	}
	return v
}

// leadClass is 'd' when a version starts with a digit (after a "v"
// prefix), 'a' when with a letter.
func leadClass(v string) byte {
	v = strings.TrimSpace(v)
	if len(v) > 1 && (v[0] == 'v' || v[0] == 'V') && v[1] >= '0' && v[1] <= '9' {
		v = v[1:]
	}
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		return 'd'
	}
	return 'a'
}

// sameShape reports whether the device version is written like at least
// one bound of the range ("3.2.1" and "C.00.04" are not: the comparison
// says nothing, so the pair needs review instead of a silent no).
func sameShape(v string, r *versions.Range) bool {
	lc := leadClass(v)
	seen := false
	for _, iv := range r.Intervals() {
		for _, b := range []versions.Bound{iv.Lo, iv.Hi} {
			if b.Unbounded {
				continue
			}
			seen = true
			if leadClass(b.Version.String()) == lc {
				return true
			}
		}
	}
	return !seen
}

// underInclusiveBound reports a version that extends an inclusive upper
// bound of the range by more components ("M.00.03" under "M", "4.2.1"
// under "4.2").
func underInclusiveBound(v string, r *versions.Range) bool {
	lv := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(v, "v"), "V"))
	for _, iv := range r.Intervals() {
		if iv.Hi.Unbounded || !iv.Hi.Inclusive {
			continue
		}
		hi := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(iv.Hi.Version.String(), "v"), "V"))
		if hi == "" || len(lv) <= len(hi) || !strings.HasPrefix(lv, hi) {
			continue
		}
		if c := lv[len(hi)]; c == '.' || c == '-' || c == ' ' || c == '_' {
			return true
		}
	}
	return false
}

// single reports a range made of listed versions only.
func single(r *versions.Range) bool {
	for _, iv := range r.Intervals() {
		if iv.Lo.Unbounded || iv.Hi.Unbounded || iv.Lo.Version.String() != iv.Hi.Version.String() {
			return false
		}
	}
	return true
}

// better orders candidates of one advisory: affected over review over
// outside, then identity confidence.
func better(a, b cand) bool {
	if a.outcome != b.outcome {
		return a.outcome > b.outcome
	}
	return a.id > b.id
}

// decide picks the finding of one advisory for one combo, or none.
func (ix *Index) decide(cs []cand) (hit, bool) {
	var pos, rev *cand
	bestNeg := -1.0
	bestOut := -1.0
	for i := range cs {
		c := &cs[i]
		switch {
		case c.p.neg && c.outcome >= 1:
			bestNeg = max(bestNeg, c.id)
		case c.p.neg:
		case c.outcome == 2 && c.id >= ix.opts.ReviewThreshold:
			if pos == nil || c.id > pos.id {
				pos = c
			}
		case c.outcome >= 1:
			if rev == nil || c.id > rev.id {
				rev = c
			}
		default:
			bestOut = max(bestOut, c.id)
		}
	}
	// A fixed / not-affected product that names the device at least as
	// well wins: the device is not flagged.
	if pos != nil && bestNeg < pos.id {
		if bestOut > pos.id {
			// A product named more exactly excludes the version: a person decides.
			r := append(slices.Clip(pos.reasons), "a product that names the device more exactly does not include its version")
			return hit{p: pos.p, status: StatusNeedsReview, method: pos.method, conf: round2(min(pos.id, ix.opts.ReviewThreshold-0.05)), reasons: r}, true
		}
		return hit{p: pos.p, status: pos.p.status, method: pos.method, conf: round2(pos.id), reasons: pos.reasons}, true
	}
	if pos != nil {
		return hit{}, false
	}
	// A product named exactly whose range excludes the device beats a
	// weaker review candidate (e.g. "Brilliance iCT <=3.2.4" vs "<=4.1.6").
	if rev != nil && bestNeg < rev.id && bestOut < rev.id {
		conf := min(rev.id, ix.opts.ReviewThreshold-0.05)
		return hit{p: rev.p, status: StatusNeedsReview, method: rev.method, conf: round2(conf), reasons: rev.reasons}, true
	}
	return hit{}, false
}

func round2(x float64) float64 { return float64(int(x*100+0.5)) / 100 }

// template builds (once per product) the advisory-side part of a finding.
func (ix *Index) template(p *cproduct) *Finding {
	p.tmplMu.Do(func() {
		a := p.adv.a
		t := &Finding{AdvisoryID: a.ID, AdvisoryTitle: a.Title, ProductID: p.p.ID, ProductName: p.p.Name,
			BranchPath: p.p.BranchPath, CVEs: []string{}, Remediations: []Remediation{}}
		if t.BranchPath == nil {
			t.BranchPath = []string{}
		}
		seenRem := map[Remediation]bool{}
		for vi := range a.Vulnerabilities {
			v := &a.Vulnerabilities[vi]
			if !slices.Contains(v.Affected(), p.p.ID) && p.status != "" {
				continue
			}
			if v.CVE != "" && !slices.Contains(t.CVEs, v.CVE) {
				t.CVEs = append(t.CVEs, v.CVE)
			}
			for _, s := range v.ScoresFor(p.p.ID) {
				if s.BaseScore > 0 && (t.CVSS == nil || s.BaseScore > t.CVSS.BaseScore ||
					s.BaseScore == t.CVSS.BaseScore && s.Version > t.CVSS.Version) {
					t.CVSS = &CVSS{BaseScore: s.BaseScore, Vector: s.Vector, Version: s.Version, CVE: v.CVE}
				}
			}
			for _, r := range v.RemediationsFor(p.p.ID) {
				rm := Remediation{Category: r.Category, Details: r.Details, URL: r.URL}
				if !r.Date.IsZero() {
					rm.Date = r.Date.UTC().Format(time.RFC3339)
				}
				if !seenRem[rm] {
					seenRem[rm] = true
					t.Remediations = append(t.Remediations, rm)
				}
			}
		}
		slices.Sort(t.CVEs)
		var due time.Time
		for _, c := range t.CVEs {
			if e, ok := ix.opts.KEV[c]; ok && e != nil {
				t.KEV = true
				if !e.DueDate.IsZero() && (due.IsZero() || e.DueDate.Before(due)) {
					due = e.DueDate
				}
			}
			if s, ok := ix.opts.EPSS[c]; ok && (t.EPSS == nil || s.EPSS > t.EPSS.Score) {
				t.EPSS = &EPSS{CVE: c, Score: s.EPSS, Percentile: s.Percentile}
			}
		}
		if !due.IsZero() {
			d := due.Format("2006-01-02")
			t.KEVDueDate = &d
		}
		p.tmpl = t
	})
	return p.tmpl
}
