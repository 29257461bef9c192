// Package sboms is the SBOM service: it turns an uploaded SBOM into what the
// store keeps (summary, components, component vulnerabilities found by PURL
// against OSV, by CPE against NVD configurations, by name alias for
// firmware/OS/RTOS components, with the SBOM's own and CSAF VEX applied),
// compares two versions, and exports a stored version as CycloneDX with VEX.
// It does no I/O: callers hand in bytes and the matchers' data.
package sboms

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/medwarden/medwarden/internal/sbom"
	"github.com/medwarden/medwarden/internal/sbom/cpematch"
	"github.com/medwarden/medwarden/internal/sbom/namematch"
	"github.com/medwarden/medwarden/internal/sbom/osv"
	"github.com/medwarden/medwarden/internal/sbom/quality"
	"github.com/medwarden/medwarden/internal/store"
	"github.com/medwarden/medwarden/internal/versions"
	"github.com/medwarden/medwarden/internal/versions/cpe"
)

// Matchers is the vulnerability data components are matched against. Any
// may be nil.
type Matchers struct {
	OSV *osv.Index
	NVD *cpematch.Index
	// Names maps name-only firmware/OS/RTOS components to CPEs
	// (namematch.Default when nil); it needs NVD.
	Names *namematch.Table
	// VEX are statements from outside the SBOM (CSAF VEX documents).
	VEX []VEX
}

// Analyze parses raw and returns what AttachSBOM stores (the subject, who
// and the note are left for the caller) and the parsed document. An SBOM
// that cannot be read at all returns the parser's *sbom.InputError. The
// SHA-256 and the gzip form the store keeps (RawGzip) are computed on
// another goroutine while the document is parsed.
func Analyze(raw []byte, name string, opts sbom.Options, m Matchers) (*store.SBOMAttach, *sbom.Document, error) {
	return analyzeRaw(raw, name, opts, m, true)
}

func analyzeRaw(raw []byte, name string, opts sbom.Options, m Matchers, compress bool) (*store.SBOMAttach, *sbom.Document, error) {
	type digest struct {
		sha string
		gz  []byte
		err error
	}
	dc := make(chan digest, 1)
	go func() {
		sum := sha256.Sum256(raw)
		d := digest{sha: hex.EncodeToString(sum[:])}
		if compress {
			d.gz, d.err = gzipBytes(raw)
		}
		dc <- d
	}()
	doc, err := sbom.ParseBytes(raw, name, opts)
	d := <-dc
	if err != nil {
		return nil, nil, err
	}
	if d.err != nil {
		return nil, nil, fmt.Errorf("compress %s: %w", name, d.err)
	}
	q := quality.Evaluate(doc)
	in := &store.SBOMAttach{
		Raw: raw, SHA256: d.sha, RawGzip: d.gz,
		Format: string(doc.Format), SpecVersion: doc.SpecVersion, Serial: doc.Serial, Name: doc.Name,
		Valid: doc.Valid(), Problems: len(doc.Problems), Quality: q.Score,
	}
	in.Components, in.Vulns = Match(doc, m)
	return in, doc, nil
}

// gzipBytes compresses b as the store keeps SBOM documents (gzip, best
// speed).
func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(b) / 6)
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// components returns the document's primary component (if any) followed by
// its components, with a unique Ref on each (an empty or repeated ref gets
// "medwarden:N"), and the document re-pointed at that list so the matchers'
// findings name components by Ref.
func components(doc *sbom.Document) (*sbom.Document, []sbom.Component) {
	all := make([]sbom.Component, 0, len(doc.Components)+1)
	if doc.Primary != nil {
		all = append(all, *doc.Primary)
	}
	all = append(all, doc.Components...)
	seen := make(map[string]bool, len(all))
	for i := range all {
		if all[i].Ref == "" || seen[all[i].Ref] {
			all[i].Ref = "medwarden:" + strconv.Itoa(i)
		}
		seen[all[i].Ref] = true
	}
	work := *doc
	work.Primary = nil
	work.Components = all
	return &work, all
}

// Match finds the vulnerabilities of doc's components. Components are
// numbered from 0 with the primary component first.
func Match(doc *sbom.Document, m Matchers) ([]store.SBOMComponent, []store.SBOMVuln) {
	work, all := components(doc)
	byRef := make(map[string]int, len(all))
	out := make([]store.SBOMComponent, len(all))
	for i := range all {
		c := &all[i]
		byRef[c.Ref] = i
		sc := store.SBOMComponent{Index: i, Type: c.Type, Name: c.Name, Group: c.Group, Version: c.Version,
			PURL: c.PURL, Supplier: c.Supplier}
		if !strings.HasPrefix(c.Ref, "medwarden:") {
			sc.Ref = c.Ref
		}
		if len(c.CPEs) > 0 {
			sc.CPE = c.CPEs[0]
		}
		for _, h := range c.Hashes {
			sc.Hashes = append(sc.Hashes, store.SBOMHash{Algorithm: h.Algorithm, Value: h.Value})
		}
		out[i] = sc
	}
	var vulns []store.SBOMVuln
	have := map[string]bool{} // idx NUL id
	add := func(v store.SBOMVuln) {
		have[strconv.Itoa(v.Index)+"\x00"+v.ID] = true
		for _, a := range v.Aliases {
			have[strconv.Itoa(v.Index)+"\x00"+a] = true
		}
		vulns = append(vulns, v)
	}
	if m.OSV != nil {
		for _, f := range m.OSV.Match(work) {
			i, ok := byRef[f.Ref]
			if !ok {
				continue
			}
			add(store.SBOMVuln{Index: i, ID: f.ID, Source: "osv", Method: "purl", Aliases: f.Aliases, Status: f.Status,
				Suppressed: f.Suppressed, Justification: f.Justification, Detail: f.Detail, Confidence: "high",
				Fixed: f.Fixed, NoFix: f.NoFix})
		}
	}
	if m.NVD != nil && m.NVD.Len() > 0 { // no CVE records: nothing to find by CPE or name
		for _, f := range m.NVD.Match(work) {
			i, ok := byRef[f.Ref]
			if !ok {
				continue
			}
			add(store.SBOMVuln{Index: i, ID: f.ID, Source: "nvd", Method: "cpe", Status: f.Status, Suppressed: f.Suppressed,
				Justification: f.Justification, Detail: f.Detail, Confidence: "high", NeedsReview: f.Status == "unknown",
				Fixed: nvdFixed(m.NVD, &f)})
		}
		for _, v := range nameMatches(work, all, byRef, m) {
			if !have[strconv.Itoa(v.Index)+"\x00"+v.ID] {
				add(v)
			}
		}
	}
	// The SBOM's own statements that no matcher found (or with no matcher).
	for _, s := range doc.VEX {
		affects := s.Affects
		for _, a := range affects {
			if strings.HasPrefix(a, "urn:cdx:") {
				if _, ref, ok := strings.Cut(a, "#"); ok {
					a = ref
				}
			}
			i, ok := byRef[a]
			if !ok {
				for j := range all {
					if all[j].PURL != "" && all[j].PURL == a {
						i, ok = j, true
						break
					}
				}
			}
			if !ok || have[strconv.Itoa(i)+"\x00"+s.ID] {
				continue
			}
			st := s.Status
			if st == "" {
				st = "unknown"
			}
			add(store.SBOMVuln{Index: i, ID: s.ID, Source: "sbom", Method: "statement", Status: st,
				Suppressed: st == "not_affected" || st == "fixed", Justification: s.Justification, Detail: s.Detail,
				Confidence: "high", NeedsReview: st == "unknown" || st == "under_investigation"})
		}
	}
	applyExternalVEX(vulns, out, m.VEX)
	addSeverity(vulns, m)
	sort.SliceStable(vulns, func(a, b int) bool {
		if vulns[a].Index != vulns[b].Index {
			return vulns[a].Index < vulns[b].Index
		}
		return vulns[a].ID < vulns[b].ID
	})
	return out, vulns
}

// nameMatches evaluates components that have no CPE but whose name is a
// known firmware/OS/RTOS alias, with CPEs made from the alias table.
func nameMatches(work *sbom.Document, all []sbom.Component, byRef map[string]int, m Matchers) []store.SBOMVuln {
	names := m.Names
	if names == nil {
		names = namematch.Default
	}
	derived := *work
	derived.Components = make([]sbom.Component, len(all))
	copy(derived.Components, all)
	conf := map[int]namematch.Match{}
	for i := range derived.Components {
		c := &derived.Components[i]
		if len(c.CPEs) > 0 || (c.PURL != "" && !strings.HasPrefix(c.PURL, "pkg:generic/")) {
			continue // a CPE or an ecosystem PURL says better what this is
		}
		mt, ok := names.Lookup(c)
		if !ok {
			continue
		}
		conf[i] = mt
		c.CPEs = mt.CPEs(c.Version)
	}
	if len(conf) == 0 {
		return nil
	}
	var out []store.SBOMVuln
	seen := map[string]bool{}
	for _, f := range m.NVD.Match(&derived) {
		i, ok := byRef[f.Ref]
		if !ok {
			continue
		}
		mt, ok := conf[i]
		if !ok {
			continue // the component had its own CPE: found above
		}
		k := strconv.Itoa(i) + "\x00" + f.ID
		if seen[k] {
			continue
		}
		seen[k] = true
		detail := fmt.Sprintf("matched by name: %q is an alias of %s", mt.Alias, f.CPE)
		if f.Detail != "" {
			detail += "; " + f.Detail
		}
		v := store.SBOMVuln{Index: i, ID: f.ID, Source: "nvd", Method: "name", Status: f.Status, Suppressed: f.Suppressed,
			Justification: f.Justification, Detail: detail, Confidence: mt.Confidence, Fixed: nvdFixed(m.NVD, &f)}
		if all[i].Version == "" || f.Status == "unknown" {
			v.Confidence = namematch.Low
		}
		v.NeedsReview = v.Confidence == namematch.Low || f.Status == "unknown"
		out = append(out, v)
	}
	return out
}

// nvdFixed is the version that fixes an NVD CPE match: the smallest
// versionEndExcluding of the CVE's vulnerable cpeMatch entries that matched
// the component's CPE (f.Matched) and whose range holds its version,
// compared in the firmware scheme; "" when the match is not certain
// (status unknown) or no such entry has one. An NVD record without an
// excluding end (an exact version, versionEndIncluding) does not say that
// no fix exists, so NVD matches never set NoFix.
func nvdFixed(ix *cpematch.Index, f *cpematch.Finding) string {
	if f.Status == "unknown" || f.CPE == "" {
		return ""
	}
	c := ix.CVE(f.ID)
	if c == nil {
		return ""
	}
	n, err := cpe.ParseAny(f.CPE)
	if err != nil {
		return ""
	}
	dev := []cpe.Name{n}
	best, bestV := "", versions.Version{}
	for i := range c.Configurations {
		for j := range c.Configurations[i].Nodes {
			for k := range c.Configurations[i].Nodes[j].CPEMatch {
				m := &c.Configurations[i].Nodes[j].CPEMatch[k]
				if !m.Vulnerable || m.VersionEndExcluding == "" || !slices.Contains(f.Matched, m.Criteria) || m.Eval(dev) != cpe.True {
					continue
				}
				v, err := versions.Firmware.Parse(m.VersionEndExcluding)
				if err != nil {
					continue
				}
				if best == "" || v.Compare(bestV) < 0 {
					best, bestV = m.VersionEndExcluding, v
				}
			}
		}
	}
	return best
}
