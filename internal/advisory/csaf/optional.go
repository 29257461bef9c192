package csaf

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/medwarden/medwarden/internal/cvss"
)

// Optional tests of CSAF 2.0 section 6.2. Their failures are warnings: a
// document that fails them is still valid. Implemented: 6.2.1 – 6.2.12 and
// 6.2.14 – 6.2.20; not implemented: 6.2.13 (key sorting, which needs the
// key order the decoded tree does not keep).

var (
	versRe     = regexp.MustCompile(`^vers:[a-z\.\-\+][a-z0-9\.\-\+]*/.+`)
	cveIDRe    = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)
	fileNameRe = regexp.MustCompile(`[^+\-a-z0-9]+`)
)

// FileName is the file name CSAF 2.0 section 5.1 prescribes for a
// document with the given tracking id.
func FileName(trackingID string) string {
	return fileNameRe.ReplaceAllString(strings.ToLower(trackingID), "_") + ".json"
}

func runOptional(d *Document, generic map[string]any) []Error {
	c := &checker{d: d, products: map[string]string{}, groups: map[string][]string{}, o: Options{}.withDefaults()}
	c.budget = c.o.MaxGroupExpansion
	c.definitions()
	c.errs = nil // definitions' own findings are mandatory ones, reported elsewhere
	m := &d.Document
	tr := &m.Tracking

	// 6.2.1 unused definition of product id.
	if m.Category != CategoryInformationalAdvisory {
		used := referencedProducts(d)
		ids := make([]string, 0, len(c.products))
		for id := range c.products {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return c.products[ids[i]] < c.products[ids[j]] })
		for _, id := range ids {
			if !used[id] {
				c.add("6.2.1", c.products[id], "product id %q is defined but never used", id)
			}
		}
	}

	for i := range d.Vulnerabilities {
		v := &d.Vulnerabilities[i]
		vp := ptr("vulnerabilities", i)
		remediated := map[string]bool{}
		for _, r := range v.Remediations {
			for _, id := range c.expand(r.ProductIDs, r.GroupIDs) {
				remediated[id] = true
			}
		}
		scored := map[string]bool{}
		for _, s := range v.Scores {
			for _, id := range s.Products {
				scored[id] = true
			}
		}
		if ps := v.ProductStatus; ps != nil {
			for _, l := range ps.lists() {
				for j, id := range l.ids {
					p := vp + ptr("product_status", l.name, j)
					affected := statusGroup[l.name] == "affected"
					// 6.2.2 missing remediation.
					if (affected || l.name == "under_investigation") && !remediated[id] {
						c.add("6.2.2", p, "product %q is %s but no remediation covers it", id, l.name)
					}
					// 6.2.3 missing score.
					if affected && !scored[id] {
						c.add("6.2.3", p, "product %q is %s but no score covers it", id, l.name)
					}
				}
			}
			// 6.2.19 CVSS for fixed products: a score for a fixed product must have environmental score 0.
			for _, l := range []statusList{{"first_fixed", ps.FirstFixed}, {"fixed", ps.Fixed}} {
				for j, id := range l.ids {
					for _, s := range v.Scores {
						if !contains(s.Products, id) {
							continue
						}
						for _, obj := range []map[string]any{s.CVSSv2, s.CVSSv3} {
							if obj == nil {
								continue
							}
							if env, ok := environmentalScore(obj); ok && env != 0 {
								c.add("6.2.19", vp+ptr("product_status", l.name, j), "product %q is %s but a CVSS score for it has environmental score %.1f, not 0", id, l.name, env)
							}
						}
					}
				}
			}
		}
		// 6.2.7 missing date in involvements.
		for j, inv := range v.Involvements {
			if inv.Date == "" {
				c.add("6.2.7", vp+ptr("involvements", j), "involvement of %q has no date", inv.Party)
			}
		}
		// 6.2.17 CVE in field ids.
		for j, id := range v.IDs {
			if cveIDRe.MatchString(id.Text) {
				c.add("6.2.17", vp+ptr("ids", j), "%s belongs in cve, not in ids", id.Text)
			}
		}
	}

	// 6.2.4 build metadata in revision history; 6.2.5 / 6.2.6 release dates.
	var oldest, newest string
	for i, r := range tr.RevisionHistory {
		if strings.Contains(r.Number, "+") {
			c.add("6.2.4", ptr("document", "tracking", "revision_history", i, "number"), "revision %q has build metadata", r.Number)
		}
		t, ok := parseTime(r.Date)
		if !ok {
			continue
		}
		if ot, ok := parseTime(oldest); !ok || t.Before(ot) {
			oldest = r.Date
		}
		if nt, ok := parseTime(newest); !ok || t.After(nt) {
			newest = r.Date
		}
	}
	if ir, ok := parseTime(tr.InitialReleaseDate); ok && oldest != "" {
		if ot, _ := parseTime(oldest); ir.Before(ot) {
			c.add("6.2.5", "/document/tracking/initial_release_date", "initial release date %s is older than the oldest revision (%s)", tr.InitialReleaseDate, oldest)
		}
	}
	if cr, ok := parseTime(tr.CurrentReleaseDate); ok && newest != "" {
		if nt, _ := parseTime(newest); cr.Before(nt) {
			c.add("6.2.6", "/document/tracking/current_release_date", "current release date %s is older than the newest revision (%s)", tr.CurrentReleaseDate, newest)
		}
	}

	// 6.2.8 / 6.2.9 md5 or sha1 as the only hash; 6.2.16 missing identification helper.
	for _, h := range c.helpers {
		for i, hs := range h.h.Hashes {
			algs := map[string]bool{}
			for _, fh := range hs.FileHashes {
				algs[strings.ToLower(fh.Algorithm)] = true
			}
			if len(algs) == 1 {
				p := h.path + ptr("hashes", i, "file_hashes")
				if algs["md5"] {
					c.add("6.2.8", p, "md5 is the only hash of %q", hs.Filename)
				}
				if algs["sha1"] {
					c.add("6.2.9", p, "sha1 is the only hash of %q", hs.Filename)
				}
			}
		}
	}
	for _, p := range fullProductNamePaths(d) {
		if p.fpn.ProductIdentificationHelper == nil {
			c.add("6.2.16", p.path, "product %q has no product_identification_helper", p.fpn.ProductID)
		}
	}

	// 6.2.10 missing TLP label.
	if m.Distribution == nil || m.Distribution.TLP == nil || m.Distribution.TLP.Label == "" {
		c.add("6.2.10", "/document/distribution/tlp/label", "the document has no TLP label")
	}
	// 6.2.11 missing canonical URL.
	want := FileName(tr.ID)
	canonical := false
	for _, r := range m.References {
		if r.Category == "self" && strings.HasPrefix(r.URL, "https://") && strings.HasSuffix(r.URL, "/"+want) {
			canonical = true
		}
	}
	if !canonical {
		c.add("6.2.11", "/document/references", "no reference of category self with an https URL ending in %q", want)
	}
	// 6.2.12 missing document language; 6.2.14 private language; 6.2.15 i-default.
	if m.Lang == "" {
		c.add("6.2.12", "/document/lang", "the document language is not set")
	}
	for _, x := range []struct{ name, val string }{{"lang", m.Lang}, {"source_lang", m.SourceLang}} {
		if x.val == "" {
			continue
		}
		if strings.EqualFold(x.val, "i-default") {
			c.add("6.2.15", "/document/"+x.name, "language %q is i-default", x.val)
			continue
		}
		if privateLanguage(x.val) {
			c.add("6.2.14", "/document/"+x.name, "language %q uses subtags reserved for private use", x.val)
		}
	}

	// 6.2.18 product version range without vers.
	walkBranches(d, c.o.MaxBranchDepth, func(b *Branch, path string) {
		if b.Category == "product_version_range" && !versRe.MatchString(b.Name) {
			c.add("6.2.18", path+"/name", "version range %q is not a vers: range", b.Name)
		}
	})

	// 6.2.20 additional properties.
	extraProperties(reflect.TypeOf(Document{}), generic, "", &c.errs)
	return c.errs
}

// environmentalScore is the published environmentalScore, else the one
// computed from the vector completed with the environmental properties
// that the vector leaves out (e.g. modifiedIntegrityImpact: NONE).
func environmentalScore(obj map[string]any) (float64, bool) {
	if n, ok := number(obj["environmentalScore"]); ok {
		return n, true
	}
	vs := str(obj, "vectorString")
	metrics, err := parseVector(vs)
	if err != nil {
		return 0, false
	}
	props, value := v3Props, v3Value
	if !strings.HasPrefix(vs, "CVSS:") {
		props, value = v2Props, v2Value
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		abv := props[k]
		val, ok := obj[k].(string)
		if _, inVec := metrics[abv]; ok && !inVec {
			if letter := value(k, val); letter != "" {
				vs += "/" + abv + ":" + letter
			}
		}
	}
	vec, err := cvss.Parse(vs)
	if err != nil {
		return 0, false
	}
	return vec.EnvironmentalScore(), true
}

// privateLanguage reports subtags reserved for private use: the qaa–qtz
// language range, the Qaaa–Qabx script range, the AA/QM–QZ/XA–XZ/ZZ regions,
// and "x-" private-use sequences.
func privateLanguage(tag string) bool {
	parts := strings.Split(strings.ToLower(tag), "-")
	for i, p := range parts {
		switch {
		case p == "x":
			return true
		case i == 0 && len(p) == 3 && p >= "qaa" && p <= "qtz":
			return true
		case i > 0 && len(p) == 4 && p >= "qaaa" && p <= "qabx":
			return true
		case i > 0 && len(p) == 2 && (p == "aa" || p == "zz" || (p >= "qm" && p <= "qz") || (p >= "xa" && p <= "xz")):
			return true
		}
	}
	return false
}

type fpnAt struct {
	fpn  *FullProductName
	path string
}

func fullProductNamePaths(d *Document) []fpnAt {
	var out []fpnAt
	if d.ProductTree == nil {
		return out
	}
	walkBranches(d, DefaultMaxBranchDepth, func(b *Branch, path string) {
		if b.Product != nil {
			out = append(out, fpnAt{b.Product, path + "/product"})
		}
	})
	for i := range d.ProductTree.FullProductNames {
		out = append(out, fpnAt{&d.ProductTree.FullProductNames[i], ptr("product_tree", "full_product_names", i)})
	}
	for i := range d.ProductTree.Relationships {
		out = append(out, fpnAt{&d.ProductTree.Relationships[i].FullProductName, ptr("product_tree", "relationships", i, "full_product_name")})
	}
	return out
}

// walkBranches visits every branch in document order, up to maxDepth levels.
func walkBranches(d *Document, maxDepth int, f func(b *Branch, path string)) {
	if d.ProductTree == nil {
		return
	}
	var walk func(bs []Branch, path string, depth int)
	walk = func(bs []Branch, path string, depth int) {
		if depth > maxDepth {
			return
		}
		for i := range bs {
			p := path + ptr("branches", i)
			f(&bs[i], p)
			walk(bs[i].Branches, p, depth+1)
		}
	}
	walk(d.ProductTree.Branches, "/product_tree", 1)
}

// referencedProducts is every product id referenced anywhere (6.2.1).
func referencedProducts(d *Document) map[string]bool {
	used := map[string]bool{}
	add := func(ids []string) {
		for _, id := range ids {
			used[id] = true
		}
	}
	if pt := d.ProductTree; pt != nil {
		for _, g := range pt.ProductGroups {
			add(g.ProductIDs)
		}
		for _, r := range pt.Relationships {
			used[r.ProductReference] = true
			used[r.RelatesToProductReference] = true
		}
	}
	for _, v := range d.Vulnerabilities {
		for _, l := range v.ProductStatus.lists() {
			add(l.ids)
		}
		for _, r := range v.Remediations {
			add(r.ProductIDs)
		}
		for _, s := range v.Scores {
			add(s.Products)
		}
		for _, t := range v.Threats {
			add(t.ProductIDs)
		}
		for _, f := range v.Flags {
			add(f.ProductIDs)
		}
	}
	return used
}

// extraProperties reports members that the CSAF schema does not define
// (6.2.20), using the typed structs, which mirror the schema. CVSS objects
// are left to 6.1.8's strict FIRST schemas.
func extraProperties(t reflect.Type, v any, path string, out *[]Error) {
	if len(*out) > 200 {
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		extraProperties(t.Elem(), v, path, out)
	case reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return
		}
		for i, x := range arr {
			extraProperties(t.Elem(), x, path+ptr(i), out)
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		fields := fieldsOf(t)
		known := make(map[string]int, len(fields))
		for _, f := range fields {
			known[f.name] = f.index
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			i, ok := known[k]
			if !ok {
				*out = append(*out, Error{Test: "6.2.20", Path: path + ptr(k), Message: fmt.Sprintf("property %q is not defined by the CSAF 2.0 schema", k)})
				continue
			}
			extraProperties(t.Field(i).Type, obj[k], path+ptr(k), out)
		}
	}
}
