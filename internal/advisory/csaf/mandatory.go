package csaf

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/medwarden/medwarden/internal/cvss"
	"github.com/package-url/packageurl-go"
	"golang.org/x/text/language"
)

// Profile (document category) values defined by CSAF 2.0 section 4.
const (
	CategoryBase                     = "csaf_base"
	CategorySecurityIncidentResponse = "csaf_security_incident_response"
	CategoryInformationalAdvisory    = "csaf_informational_advisory"
	CategorySecurityAdvisory         = "csaf_security_advisory"
	CategoryVEX                      = "csaf_vex"
)

// checker runs the mandatory tests of CSAF 2.0 section 6.1 on one document.
type checker struct {
	d    *Document
	s    *schemas
	o    Options
	errs []Error

	// products: product id → JSON pointer of its first definition.
	products map[string]string
	// groups: group id → member product ids (first definition wins).
	groups map[string][]string
	// helpers: every product_identification_helper with its pointer.
	helpers []helperAt
	// budget is what is left of Options.MaxGroupExpansion.
	budget      int
	budgetSpent bool
}

type helperAt struct {
	h    *ProductIdentificationHelper
	path string
}

func runMandatory(d *Document, s *schemas, o Options) []Error {
	c := &checker{d: d, s: s, o: o, products: map[string]string{}, groups: map[string][]string{}, budget: o.MaxGroupExpansion}
	c.definitions()     // 6.1.2, 6.1.5, 6.1.31, branch depth
	c.references()      // 6.1.1, 6.1.4
	c.circular()        // 6.1.3
	c.vulnerabilities() // 6.1.6–6.1.11, 6.1.23, 6.1.24, 6.1.29, 6.1.32, 6.1.33
	c.helperTests()     // 6.1.13, 6.1.25
	c.language()        // 6.1.12, 6.1.15, 6.1.28
	c.revisions()       // 6.1.14, 6.1.16–6.1.22, 6.1.30
	c.category()        // 6.1.26
	c.profiles()        // 6.1.27.x
	return c.errs
}

func (c *checker) add(test, path, format string, a ...any) {
	c.errs = append(c.errs, Error{Test: test, Path: path, Message: fmt.Sprintf(format, a...)})
}

// definitions collects product and group ids (6.1.2, 6.1.5) and checks
// product_version names (6.1.31).
func (c *checker) definitions() {
	pt := c.d.ProductTree
	if pt == nil {
		return
	}
	def := func(fpn *FullProductName, path string) {
		if fpn.ProductIdentificationHelper != nil {
			c.helpers = append(c.helpers, helperAt{fpn.ProductIdentificationHelper, path + "/product_identification_helper"})
		}
		if fpn.ProductID == "" {
			return // schema reports it
		}
		if first, dup := c.products[fpn.ProductID]; dup {
			c.add("6.1.2", path+"/product_id", "product id %q is already defined at %s", fpn.ProductID, first)
			return
		}
		c.products[fpn.ProductID] = path + "/product_id"
	}
	// Branches, iteratively with a bounded depth.
	type item struct {
		b     *Branch
		path  string
		depth int
	}
	var stack []item
	for i := len(pt.Branches) - 1; i >= 0; i-- {
		stack = append(stack, item{&pt.Branches[i], ptr("product_tree", "branches", i), 1})
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.depth > c.o.MaxBranchDepth {
			c.add(TestInput, it.path, "product tree branches nested deeper than %d levels; deeper branches are not checked", c.o.MaxBranchDepth)
			continue
		}
		b := it.b
		if b.Category == "product_version" && hasVersionRange(b.Name) {
			c.add("6.1.31", it.path+"/name", "product_version %q contains a version range; use category product_version_range", b.Name)
		}
		if b.Product != nil {
			def(b.Product, it.path+"/product")
		}
		for i := len(b.Branches) - 1; i >= 0; i-- {
			stack = append(stack, item{&b.Branches[i], it.path + ptr("branches", i), it.depth + 1})
		}
	}
	for i := range pt.FullProductNames {
		def(&pt.FullProductNames[i], ptr("product_tree", "full_product_names", i))
	}
	for i := range pt.Relationships {
		def(&pt.Relationships[i].FullProductName, ptr("product_tree", "relationships", i, "full_product_name"))
	}
	seenGroup := map[string]string{}
	for i, g := range pt.ProductGroups {
		p := ptr("product_tree", "product_groups", i, "group_id")
		if first, dup := seenGroup[g.GroupID]; dup {
			c.add("6.1.5", p, "product group id %q is already defined at %s", g.GroupID, first)
			continue
		}
		seenGroup[g.GroupID] = p
		c.groups[g.GroupID] = g.ProductIDs
	}
}

// versionRangeWords are the 6.1.31 keywords (CSAF 2.0 errata 01 wording:
// whole words, after lower-casing).
var versionRangeWords = map[string]bool{
	"after": true, "all": true, "before": true, "earlier": true, "later": true, "prior": true, "versions": true,
}

func hasVersionRange(name string) bool {
	l := strings.ToLower(name)
	if strings.ContainsAny(l, "<>") {
		return true
	}
	for _, w := range strings.Fields(l) {
		if versionRangeWords[w] {
			return true
		}
	}
	return false
}

// references checks that every referenced product id (6.1.1) and group id
// (6.1.4) is defined.
func (c *checker) references() {
	pid := func(id, path string) {
		if _, ok := c.products[id]; !ok {
			c.add("6.1.1", path, "product id %q is not defined in the product tree", id)
		}
	}
	gid := func(id, path string) {
		if _, ok := c.groups[id]; !ok {
			c.add("6.1.4", path, "product group id %q is not defined in the product tree", id)
		}
	}
	if pt := c.d.ProductTree; pt != nil {
		for i, g := range pt.ProductGroups {
			for j, id := range g.ProductIDs {
				pid(id, ptr("product_tree", "product_groups", i, "product_ids", j))
			}
		}
		for i, r := range pt.Relationships {
			pid(r.ProductReference, ptr("product_tree", "relationships", i, "product_reference"))
			pid(r.RelatesToProductReference, ptr("product_tree", "relationships", i, "relates_to_product_reference"))
		}
	}
	for i := range c.d.Vulnerabilities {
		v := &c.d.Vulnerabilities[i]
		for _, l := range v.ProductStatus.lists() {
			for j, id := range l.ids {
				pid(id, ptr("vulnerabilities", i, "product_status", l.name, j))
			}
		}
		for j, r := range v.Remediations {
			for k, id := range r.ProductIDs {
				pid(id, ptr("vulnerabilities", i, "remediations", j, "product_ids", k))
			}
			for k, id := range r.GroupIDs {
				gid(id, ptr("vulnerabilities", i, "remediations", j, "group_ids", k))
			}
		}
		for j, s := range v.Scores {
			for k, id := range s.Products {
				pid(id, ptr("vulnerabilities", i, "scores", j, "products", k))
			}
		}
		for j, t := range v.Threats {
			for k, id := range t.ProductIDs {
				pid(id, ptr("vulnerabilities", i, "threats", j, "product_ids", k))
			}
			for k, id := range t.GroupIDs {
				gid(id, ptr("vulnerabilities", i, "threats", j, "group_ids", k))
			}
		}
		for j, f := range v.Flags {
			for k, id := range f.ProductIDs {
				pid(id, ptr("vulnerabilities", i, "flags", j, "product_ids", k))
			}
			for k, id := range f.GroupIDs {
				gid(id, ptr("vulnerabilities", i, "flags", j, "group_ids", k))
			}
		}
	}
}

// circular finds product ids defined by relationships that depend on
// themselves, directly or through other relationships (6.1.3).
func (c *checker) circular() {
	pt := c.d.ProductTree
	if pt == nil || len(pt.Relationships) == 0 {
		return
	}
	// Graph: product id → the two ids its relationship is made of. A
	// relationship's id depends on itself through a reference exactly when
	// the reference is the id itself or lies in the same strongly connected
	// component; Tarjan's algorithm finds those in linear time, so a
	// hostile document with many relationships cannot make this quadratic.
	index := map[string]int{}
	node := func(id string) int {
		n, ok := index[id]
		if !ok {
			n = len(index)
			index[id] = n
		}
		return n
	}
	var edges [][]int
	for _, r := range pt.Relationships {
		from := node(r.FullProductName.ProductID)
		a, b := node(r.ProductReference), node(r.RelatesToProductReference)
		for len(edges) < len(index) {
			edges = append(edges, nil)
		}
		edges[from] = append(edges[from], a, b)
	}
	for len(edges) < len(index) {
		edges = append(edges, nil)
	}
	comp := scc(edges)
	for i, r := range pt.Relationships {
		self := r.FullProductName.ProductID
		for _, f := range []struct {
			name, ref string
		}{{"product_reference", r.ProductReference}, {"relates_to_product_reference", r.RelatesToProductReference}} {
			if f.ref == self || comp[index[f.ref]] == comp[index[self]] {
				c.add("6.1.3", ptr("product_tree", "relationships", i, f.name),
					"product id %q is defined through itself (via %q): circular relationship", self, f.ref)
			}
		}
	}
}

// scc returns the strongly connected component number of each node
// (iterative Tarjan, no recursion).
func scc(edges [][]int) []int {
	n := len(edges)
	idx := make([]int, n)
	low := make([]int, n)
	comp := make([]int, n)
	onStack := make([]bool, n)
	for i := range idx {
		idx[i] = -1
		comp[i] = -1
	}
	var stack []int
	type frame struct{ v, next int }
	counter, ncomp := 0, 0
	for root := 0; root < n; root++ {
		if idx[root] >= 0 {
			continue
		}
		call := []frame{{root, 0}}
		idx[root], low[root] = counter, counter
		counter++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.next < len(edges[v]) {
				w := edges[v][f.next]
				f.next++
				if idx[w] < 0 {
					idx[w], low[w] = counter, counter
					counter++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] && idx[w] < low[v] {
					low[v] = idx[w]
				}
				continue
			}
			if low[v] == idx[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == v {
						break
					}
				}
				ncomp++
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				if low[v] < low[p] {
					low[p] = low[v]
				}
			}
		}
	}
	return comp
}

// expand returns product ids plus the members of the groups.
//
// Group expansion is the one place where work can grow faster than the
// input (many references to one huge group), so it draws on a budget;
// when the budget is spent, one "input" finding is reported and groups are
// no longer expanded (the tests that need them are then incomplete).
func (c *checker) expand(ids, groups []string) []string {
	if len(groups) == 0 {
		return ids
	}
	out := append([]string(nil), ids...)
	for _, g := range groups {
		members := c.groups[g]
		if c.budget -= len(members); c.budget < 0 {
			if !c.budgetSpent {
				c.budgetSpent = true
				c.add(TestInput, "/vulnerabilities", "product group references expand to more than %d product ids; group-based checks (6.1.27.9, 6.1.27.10, 6.1.33) are incomplete", c.o.MaxGroupExpansion)
			}
			return out
		}
		out = append(out, members...)
	}
	return out
}

// statusGroup maps a status category to the 6.1.6 group it belongs to.
var statusGroup = map[string]string{
	"first_affected": "affected", "known_affected": "affected", "last_affected": "affected",
	"known_not_affected": "not affected",
	"first_fixed":        "fixed", "fixed": "fixed",
	"under_investigation": "under investigation",
}

type cvssMeta struct {
	Version      string
	VectorString string
}

func (c *checker) vulnerabilities() {
	cves := map[string]string{}
	for i := range c.d.Vulnerabilities {
		v := &c.d.Vulnerabilities[i]
		vp := ptr("vulnerabilities", i)

		// 6.1.6 contradicting product status.
		if v.ProductStatus != nil {
			groupOf := map[string]string{}
			for _, l := range v.ProductStatus.lists() {
				g, ok := statusGroup[l.name]
				if !ok {
					continue
				}
				for j, id := range l.ids {
					if prev, seen := groupOf[id]; seen && prev != g {
						c.add("6.1.6", vp+ptr("product_status", l.name, j),
							"product id %q is listed as both %s and %s", id, prev, g)
						continue
					}
					groupOf[id] = g
				}
			}
		}

		// 6.1.7 – 6.1.10 scores.
		seenVersion := map[[2]string]string{}
		for j, s := range v.Scores {
			sp := vp + ptr("scores", j)
			for _, x := range []struct {
				name string
				obj  map[string]any
			}{{"cvss_v2", s.CVSSv2}, {"cvss_v3", s.CVSSv3}} {
				if x.obj == nil {
					continue
				}
				m := cvssMeta{Version: str(x.obj, "version"), VectorString: str(x.obj, "vectorString")}
				for k, id := range s.Products {
					key := [2]string{id, m.Version}
					if first, dup := seenVersion[key]; dup {
						c.add("6.1.7", sp+ptr("products", k),
							"product id %q already has a CVSS v%s score at %s", id, m.Version, first)
						continue
					}
					seenVersion[key] = sp + "/" + x.name
				}
				c.cvss(x.name, x.obj, m, sp+"/"+x.name)
			}
		}

		// 6.1.11 CWE.
		if v.CWE != nil {
			if names, known := cweName(v.CWE.ID); known && !contains(names, v.CWE.Name) {
				c.add("6.1.11", vp+"/cwe/name", "name %q does not match %s, whose name is %q", v.CWE.Name, v.CWE.ID, names[0])
			}
		}

		// 6.1.23 multiple use of same CVE.
		if v.CVE != "" {
			if first, dup := cves[v.CVE]; dup {
				c.add("6.1.23", vp+"/cve", "%s is already used at %s", v.CVE, first)
			} else {
				cves[v.CVE] = vp + "/cve"
			}
		}

		// 6.1.24 multiple definition in involvements.
		seenInv := map[[2]string]int{}
		for j, inv := range v.Involvements {
			date := inv.Date
			if t, ok := parseTime(date); ok {
				date = t.UTC().Format("2006-01-02T15:04:05.999999999Z")
			}
			key := [2]string{inv.Party, date}
			if first, dup := seenInv[key]; dup {
				c.add("6.1.24", vp+ptr("involvements", j), "involvement of party %q at date %q is already defined at %s", inv.Party, inv.Date, vp+ptr("involvements", first))
				continue
			}
			seenInv[key] = j
		}

		// 6.1.29 remediation without product reference.
		for j, r := range v.Remediations {
			if len(r.ProductIDs) == 0 && len(r.GroupIDs) == 0 {
				c.add("6.1.29", vp+ptr("remediations", j), "remediation names no product_ids and no group_ids")
			}
		}

		// 6.1.32 flag without product reference; 6.1.33 multiple flags per product.
		flagged := map[string]string{}
		for j, f := range v.Flags {
			fp := vp + ptr("flags", j)
			if len(f.ProductIDs) == 0 && len(f.GroupIDs) == 0 {
				c.add("6.1.32", fp, "flag names no product_ids and no group_ids")
				continue
			}
			for _, id := range uniq(c.expand(f.ProductIDs, f.GroupIDs)) {
				if first, dup := flagged[id]; dup && first != fp {
					c.add("6.1.33", fp, "product id %q already has a VEX justification flag at %s", id, first)
					continue
				}
				flagged[id] = fp
			}
		}
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func uniq(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	out := xs[:0:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// cvss runs 6.1.8 (strict schema), 6.1.9 (computed scores) and 6.1.10
// (properties consistent with the vector) on one CVSS object.
func (c *checker) cvss(kind string, props map[string]any, m cvssMeta, path string) {
	var strict = c.s.cvss20
	if kind == "cvss_v3" {
		switch m.Version {
		case "3.0":
			strict = c.s.cvss30
		case "3.1":
			strict = c.s.cvss31
		default:
			c.add("6.1.8", path+"/version", "unknown CVSS v3 version %q", m.Version)
			return
		}
	}
	if errs := c.s.findings(strict, props, "6.1.8", path); len(errs) > 0 {
		c.errs = append(c.errs, errs...)
		return
	}
	metrics, err := parseVector(m.VectorString)
	if err != nil {
		c.add("6.1.8", path+"/vectorString", "invalid CVSS vector %q: %v", m.VectorString, err)
		return
	}
	// Scores are computed by MedWarden's CVSS package, with unset temporal
	// and environmental metrics as "not defined" (FIRST calculator behaviour).
	vec, err := cvss.Parse(m.VectorString)
	if err != nil {
		c.add("6.1.8", path+"/vectorString", "invalid CVSS vector %q: %v", m.VectorString, err)
		return
	}
	if kind == "cvss_v2" {
		c.checkScores(props, path, vec.BaseScore(), vec.TemporalScore(), vec.EnvironmentalScore(), false)
		c.consistent(props, path, v2Props, metrics, v2Value)
		return
	}
	if got := vec.Version().String(); got != m.Version {
		c.add("6.1.8", path+"/version", "version %q does not match the vector's CVSS %s", m.Version, got)
		return
	}
	c.checkScores(props, path, vec.BaseScore(), vec.TemporalScore(), vec.EnvironmentalScore(), true)
	c.consistent(props, path, v3Props, metrics, v3Value)
}

func (c *checker) checkScores(props map[string]any, path string, base, temporal, env float64, severities bool) {
	for _, x := range []struct {
		score, severity string
		want            float64
	}{
		{"baseScore", "baseSeverity", base},
		{"temporalScore", "temporalSeverity", temporal},
		{"environmentalScore", "environmentalSeverity", env},
	} {
		if got, ok := number(props[x.score]); ok && math.Abs(got-x.want) > 1e-9 {
			c.add("6.1.9", path+"/"+x.score, "%s is %v but the vector computes to %.1f", x.score, got, x.want)
		}
		if !severities {
			continue
		}
		if got, ok := props[x.severity].(string); ok {
			if want := severity(x.want); got != want {
				c.add("6.1.9", path+"/"+x.severity, "%s is %q but the computed score %.1f is %q", x.severity, got, x.want, want)
			}
		}
	}
}

func severity(score float64) string {
	switch {
	case score == 0:
		return "NONE"
	case score < 4:
		return "LOW"
	case score < 7:
		return "MEDIUM"
	case score < 9:
		return "HIGH"
	}
	return "CRITICAL"
}

// consistent checks 6.1.10: every metric property equals the vector's value.
// Only metrics present in the vector are compared: an absent metric is
// "not defined" and the JSON property may then carry any value.
func (c *checker) consistent(props map[string]any, path string, names map[string]string, metrics map[string]string, value func(prop, v string) string) {
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, prop := range keys {
		s, ok := props[prop].(string)
		if !ok {
			continue
		}
		abv := names[prop]
		inVec, ok := metrics[abv]
		if !ok {
			continue
		}
		if want := value(prop, s); want != inVec {
			c.add("6.1.10", path+"/"+prop, "%s is %q but the vector says %s:%s", prop, s, abv, inVec)
		}
	}
}

var v3Props = map[string]string{
	"attackVector": "AV", "attackComplexity": "AC", "privilegesRequired": "PR", "userInteraction": "UI",
	"scope": "S", "confidentialityImpact": "C", "integrityImpact": "I", "availabilityImpact": "A",
	"exploitCodeMaturity": "E", "remediationLevel": "RL", "reportConfidence": "RC",
	"confidentialityRequirement": "CR", "integrityRequirement": "IR", "availabilityRequirement": "AR",
	"modifiedAttackVector": "MAV", "modifiedAttackComplexity": "MAC", "modifiedPrivilegesRequired": "MPR",
	"modifiedUserInteraction": "MUI", "modifiedScope": "MS", "modifiedConfidentialityImpact": "MC",
	"modifiedIntegrityImpact": "MI", "modifiedAvailabilityImpact": "MA",
}

// v3Value maps a CVSS v3 JSON enum value to its vector letter.
func v3Value(_, v string) string {
	if v == "NOT_DEFINED" {
		return "X"
	}
	if v == "" {
		return ""
	}
	return v[:1]
}

var v2Props = map[string]string{
	"accessVector": "AV", "accessComplexity": "AC", "authentication": "Au",
	"confidentialityImpact": "C", "integrityImpact": "I", "availabilityImpact": "A",
	"exploitability": "E", "remediationLevel": "RL", "reportConfidence": "RC",
	"collateralDamagePotential": "CDP", "targetDistribution": "TD",
	"confidentialityRequirement": "CR", "integrityRequirement": "IR", "availabilityRequirement": "AR",
}

var v2Values = map[string]string{
	"NETWORK": "N", "ADJACENT_NETWORK": "A", "LOCAL": "L",
	"HIGH": "H", "MEDIUM": "M", "LOW": "L",
	"MULTIPLE": "M", "SINGLE": "S", "NONE": "N",
	"PARTIAL": "P", "COMPLETE": "C",
	"UNPROVEN": "U", "PROOF_OF_CONCEPT": "POC", "FUNCTIONAL": "F",
	"OFFICIAL_FIX": "OF", "TEMPORARY_FIX": "TF", "WORKAROUND": "W", "UNAVAILABLE": "U",
	"UNCONFIRMED": "UC", "UNCORROBORATED": "UR", "CONFIRMED": "C",
	"LOW_MEDIUM": "LM", "MEDIUM_HIGH": "MH",
	"NOT_DEFINED": "ND",
}

func v2Value(_, v string) string { return v2Values[v] }

// helperTests runs 6.1.13 (PURL) and 6.1.25 (hash algorithms).
func (c *checker) helperTests() {
	for _, h := range c.helpers {
		if h.h.PURL != "" {
			if _, err := packageurl.FromString(h.h.PURL); err != nil {
				c.add("6.1.13", h.path+"/purl", "invalid package URL %q: %v", h.h.PURL, err)
			}
		}
		for i, hs := range h.h.Hashes {
			seen := map[string]bool{}
			for j, fh := range hs.FileHashes {
				alg := strings.ToLower(fh.Algorithm)
				if seen[alg] {
					c.add("6.1.25", h.path+ptr("hashes", i, "file_hashes", j, "algorithm"), "hash algorithm %q is used more than once for file %q", fh.Algorithm, hs.Filename)
					continue
				}
				seen[alg] = true
			}
		}
	}
}

// language runs 6.1.12 (valid language tags), 6.1.15 (translator needs
// source_lang) and 6.1.28 (translation differs from source).
func (c *checker) language() {
	m := &c.d.Document
	for _, x := range []struct{ name, val string }{{"lang", m.Lang}, {"source_lang", m.SourceLang}} {
		if x.val == "" {
			continue
		}
		if _, err := language.Parse(x.val); err != nil {
			c.add("6.1.12", "/document/"+x.name, "%q is not a valid language tag: %v", x.val, err)
		}
	}
	if m.Publisher.Category == "translator" && m.SourceLang == "" {
		c.add("6.1.15", "/document/source_lang", "publisher category is translator but source_lang is missing")
	}
	if m.Lang != "" && m.SourceLang != "" && strings.EqualFold(m.Lang, m.SourceLang) {
		c.add("6.1.28", "/document/source_lang", "source_lang %q is the same as lang %q", m.SourceLang, m.Lang)
	}
}

type revAt struct {
	i    int
	rev  Revision
	ver  docVersion
	date string
}

// revisions runs the tracking tests 6.1.14, 6.1.16 – 6.1.22 and 6.1.30.
func (c *checker) revisions() {
	tr := &c.d.Document.Tracking
	docVer := parseVersion(tr.Version)
	revs := make([]revAt, len(tr.RevisionHistory))
	for i, r := range tr.RevisionHistory {
		revs[i] = revAt{i: i, rev: r, ver: parseVersion(r.Number), date: r.Date}
	}

	// 6.1.30 mixed integer and semantic versioning.
	if docVer.ok {
		for _, r := range revs {
			if r.ver.ok && r.ver.integer != docVer.integer {
				c.add("6.1.30", ptr("document", "tracking", "revision_history", r.i, "number"),
					"revision number %q and document version %q mix integer and semantic versioning", r.rev.Number, tr.Version)
			}
		}
	}

	// 6.1.17 document status draft.
	if docVer.ok && (docVer.isZero() || docVer.hasPre()) && tr.Status != "draft" {
		c.add("6.1.17", "/document/tracking/status", "version %q is a draft version but status is %q", tr.Version, tr.Status)
	}
	final := tr.Status == "final" || tr.Status == "interim"
	// 6.1.20 non-draft document version.
	if final && docVer.hasPre() {
		c.add("6.1.20", "/document/tracking/version", "status is %q but version %q has a pre-release part", tr.Status, tr.Version)
	}
	seenNum := map[string]int{}
	for _, r := range revs {
		np := ptr("document", "tracking", "revision_history", r.i, "number")
		// 6.1.18 released revision history.
		if final && r.ver.isZero() {
			c.add("6.1.18", np, "status is %q but revision %q is a draft version (0 or 0.y.z)", tr.Status, r.rev.Number)
		}
		// 6.1.19 revision history entries for pre-release versions.
		if r.ver.hasPre() {
			c.add("6.1.19", np, "revision %q has a pre-release part", r.rev.Number)
		}
		// 6.1.22 multiple definition in revision history.
		if first, dup := seenNum[r.rev.Number]; dup {
			c.add("6.1.22", np, "revision number %q is already used at %s", r.rev.Number, ptr("document", "tracking", "revision_history", first, "number"))
		} else {
			seenNum[r.rev.Number] = r.i
		}
	}

	// The remaining tests need parseable numbers and dates.
	for _, r := range revs {
		if !r.ver.ok {
			return
		}
		if _, ok := parseTime(r.date); !ok {
			return
		}
	}
	if len(revs) == 0 {
		return
	}

	// 6.1.14 sorted revision history: sorted by date, numbers must ascend.
	byDate := append([]revAt(nil), revs...)
	// Items with the same date may come in any order: sort them by number
	// so that only numbers going down across dates are reported.
	sort.SliceStable(byDate, func(a, b int) bool {
		ta, _ := parseTime(byDate[a].date)
		tb, _ := parseTime(byDate[b].date)
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		return compareVersions(byDate[a].ver, byDate[b].ver) < 0
	})
	{
		for k := 1; k < len(byDate); k++ {
			if compareVersions(byDate[k].ver, byDate[k-1].ver) < 0 {
				c.add("6.1.14", ptr("document", "tracking", "revision_history", byDate[k].i, "number"),
					"revision %q (dated %s) is older than revision %q (dated %s): numbers do not ascend with dates",
					byDate[k].rev.Number, byDate[k].rev.Date, byDate[k-1].rev.Number, byDate[k-1].rev.Date)
				break
			}
		}
	}

	// 6.1.16 latest document version.
	if docVer.ok {
		// Among the items with the latest date, take the highest number.
		last := byDate[len(byDate)-1]
		lt, _ := parseTime(last.date)
		for _, r := range byDate {
			if t, _ := parseTime(r.date); t.Equal(lt) && compareVersions(r.ver, last.ver) > 0 {
				last = r
			}
		}
		a, b := docVer, last.ver
		if tr.Status == "draft" {
			a.pre, b.pre = nil, nil
		}
		if a.integer != b.integer || compareVersions(a, b) != 0 || !slicesEqual(a.pre, b.pre) {
			c.add("6.1.16", "/document/tracking/version", "version %q is not the number %q of the latest revision history item", tr.Version, last.rev.Number)
		}
	}

	// 6.1.21 missing item in revision history: walk the items sorted by
	// date (then number); the first major must be 0 or 1 and no major may
	// be skipped going up. A lower major later on is 6.1.14's business.
	first := byDate[0]
	if m := first.ver.major(); m != "0" && m != "1" {
		c.add("6.1.21", ptr("document", "tracking", "revision_history", first.i, "number"),
			"the first revision %q (by date) is not 0 or 1 (major version 0 or 1 for semantic versioning)", first.rev.Number)
	}
	prev := first.ver.major()
	for _, r := range byDate[1:] {
		cur := r.ver.major()
		if cmpDigits(cur, prev) <= 0 {
			continue
		}
		if cur != incDigits(prev) {
			c.add("6.1.21", ptr("document", "tracking", "revision_history", r.i, "number"),
				"revision history skips from major version %s to %q: the item for version %s is missing", prev, r.rev.Number, incDigits(prev))
		}
		prev = cur
	}
}

// incDigits adds one to a decimal digit string.
func incDigits(s string) string {
	b := []byte(s)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b)
		}
		b[i] = '0'
	}
	return "1" + string(b)
}

// category runs 6.1.26 prohibited document category name.
func (c *checker) category() {
	cat := c.d.Document.Category
	switch cat {
	case CategoryBase, CategorySecurityIncidentResponse, CategoryInformationalAdvisory, CategorySecurityAdvisory, CategoryVEX:
		return
	}
	norm := func(s string) string {
		return strings.NewReplacer("-", "", "_", "", " ", "", "\t", "", "\n", "", "\r", "").Replace(strings.ToLower(s))
	}
	n := norm(cat)
	for _, p := range []string{CategorySecurityIncidentResponse, CategoryInformationalAdvisory, CategorySecurityAdvisory, CategoryVEX} {
		if n == norm(p) || n == norm(strings.TrimPrefix(p, "csaf_")) {
			c.add("6.1.26", "/document/category", "category %q is too close to the profile %q; use the profile's exact value or another name", cat, p)
			return
		}
	}
	if strings.HasPrefix(strings.ToLower(cat), "csaf_") {
		c.add("6.1.26", "/document/category", "category %q uses the reserved prefix csaf_", cat)
	}
}

// profiles runs the profile tests 6.1.27.1 – 6.1.27.11.
func (c *checker) profiles() {
	m := &c.d.Document
	switch m.Category {
	case CategoryInformationalAdvisory, CategorySecurityIncidentResponse:
		ok := false
		for _, n := range m.Notes {
			switch n.Category {
			case "description", "details", "general", "summary":
				ok = true
			}
		}
		if !ok {
			c.add("6.1.27.1", "/document/notes", "profile %s needs a document note of category description, details, general or summary", m.Category)
		}
		ok = false
		for _, r := range m.References {
			if r.Category == "external" || r.Category == "" { // "external" is the default
				ok = true
			}
		}
		if !ok {
			c.add("6.1.27.2", "/document/references", "profile %s needs a document reference of category external", m.Category)
		}
		if m.Category == CategoryInformationalAdvisory && c.d.HasVulnerabilities {
			c.add("6.1.27.3", "/vulnerabilities", "profile %s must not have vulnerabilities", m.Category)
		}
	case CategorySecurityAdvisory, CategoryVEX:
		if c.d.ProductTree == nil {
			c.add("6.1.27.4", "/product_tree", "profile %s needs a product tree", m.Category)
		}
		if !c.d.HasVulnerabilities {
			c.add("6.1.27.11", "/vulnerabilities", "profile %s needs vulnerabilities", m.Category)
		}
		for i := range c.d.Vulnerabilities {
			v := &c.d.Vulnerabilities[i]
			vp := ptr("vulnerabilities", i)
			if v.Notes == nil {
				c.add("6.1.27.5", vp+"/notes", "profile %s needs notes on each vulnerability", m.Category)
			}
			if m.Category == CategorySecurityAdvisory && v.ProductStatus == nil {
				c.add("6.1.27.6", vp+"/product_status", "profile %s needs a product status on each vulnerability", m.Category)
			}
			if m.Category != CategoryVEX {
				continue
			}
			ps := v.ProductStatus
			if ps == nil || (len(ps.Fixed) == 0 && len(ps.KnownAffected) == 0 && len(ps.KnownNotAffected) == 0 && len(ps.UnderInvestigation) == 0) {
				c.add("6.1.27.7", vp+"/product_status", "profile csaf_vex needs at least one of fixed, known_affected, known_not_affected or under_investigation")
			}
			if v.CVE == "" && len(v.IDs) == 0 {
				c.add("6.1.27.8", vp, "profile csaf_vex needs a cve or ids on each vulnerability")
			}
			if ps == nil {
				continue
			}
			impact := map[string]bool{}
			for _, f := range v.Flags {
				for _, id := range c.expand(f.ProductIDs, f.GroupIDs) {
					impact[id] = true
				}
			}
			for _, t := range v.Threats {
				if t.Category == "impact" {
					for _, id := range c.expand(t.ProductIDs, t.GroupIDs) {
						impact[id] = true
					}
				}
			}
			for j, id := range ps.KnownNotAffected {
				if !impact[id] {
					c.add("6.1.27.9", vp+ptr("product_status", "known_not_affected", j), "product %q is known_not_affected but has no impact statement (flag or threat of category impact)", id)
				}
			}
			action := map[string]bool{}
			for _, r := range v.Remediations {
				for _, id := range c.expand(r.ProductIDs, r.GroupIDs) {
					action[id] = true
				}
			}
			for j, id := range ps.KnownAffected {
				if !action[id] {
					c.add("6.1.27.10", vp+ptr("product_status", "known_affected", j), "product %q is known_affected but has no action statement (remediation)", id)
				}
			}
		}
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
