// Command sbomgen writes the synthetic data of bench/sbom.sh: OSV records
// (npm, SEMVER ranges) as one JSON file each and as the all.zip that
// osv-scanner's offline database reads, and CycloneDX 1.5 JSON SBOMs of npm
// components drawn from the same packages, so both tools match the same
// SBOMs against the same records. Deterministic for a given seed.
package main

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "", "output directory (created)")
	sboms := flag.Int("sboms", 1000, "number of SBOMs")
	comps := flag.Int("components", 500, "components per SBOM")
	pkgs := flag.Int("packages", 20000, "distinct npm packages")
	recs := flag.Int("records", 60000, "OSV records")
	seed := flag.Uint64("seed", 8, "random seed")
	large := flag.Int("large", 0, "instead: write one CycloneDX 1.6 JSON SBOM of this many richly described components to -out (a file; ~950 bytes per component, the shape of internal/sbom's largeCycloneDX) for the ingest benchmark")
	flag.Parse()
	if *large > 0 && *out != "" {
		if err := writeLarge(*out, *large); err != nil {
			fmt.Fprintln(os.Stderr, "sbomgen:", err)
			os.Exit(1)
		}
		return
	}
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: sbomgen -out DIR [-sboms N] [-components N] [-packages N] [-records N]")
		os.Exit(2)
	}
	if err := run(*out, *sboms, *comps, *pkgs, *recs, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "sbomgen:", err)
		os.Exit(1)
	}
}

func ver(r *rand.Rand) string { return fmt.Sprintf("%d.%d.%d", r.IntN(5), r.IntN(20), r.IntN(10)) }

func run(out string, nSBOM, nComp, nPkg, nRec int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 1))
	for _, d := range []string{"osv", "db/osv-scalibr/npm", "sboms"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return err
		}
	}
	name := func(i int) string { return fmt.Sprintf("medwarden-bench-pkg-%d", i) }
	zf, err := os.Create(filepath.Join(out, "db/osv-scalibr/npm/all.zip"))
	if err != nil {
		return err
	}
	zw := zip.NewWriter(zf)
	for i := range nRec {
		p := r.IntN(nPkg)
		intro := fmt.Sprintf("%d.0.0", r.IntN(3))
		fixed := fmt.Sprintf("%d.%d.%d", 2+r.IntN(3), r.IntN(20), r.IntN(10))
		id := fmt.Sprintf("MWB-%06d", i)
		rec := map[string]any{
			"schema_version": "1.6.0", "id": id, "modified": "2026-11-01T00:00:00Z", "published": "2026-10-01T00:00:00Z",
			"summary": "synthetic advisory for the SBOM matching benchmark",
			"affected": []any{map[string]any{
				"package": map[string]any{"ecosystem": "npm", "name": name(p), "purl": "pkg:npm/" + name(p)},
				"ranges":  []any{map[string]any{"type": "SEMVER", "events": []any{map[string]any{"introduced": intro}, map[string]any{"fixed": fixed}}}},
			}},
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, "osv", id+".json"), b, 0o644); err != nil {
			return err
		}
		w, err := zw.Create(id + ".json")
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := zf.Close(); err != nil {
		return err
	}
	for s := range nSBOM {
		cs := make([]any, 0, nComp)
		seen := map[int]bool{}
		for len(cs) < nComp {
			p := r.IntN(nPkg)
			if seen[p] {
				continue
			}
			seen[p] = true
			v := ver(r)
			purl := "pkg:npm/" + name(p) + "@" + v
			cs = append(cs, map[string]any{"type": "library", "bom-ref": purl, "name": name(p), "version": v, "purl": purl})
		}
		bom := map[string]any{
			"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
			"serialNumber": fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", s),
			"metadata": map[string]any{"timestamp": "2026-11-28T10:00:00Z",
				"component": map[string]any{"type": "firmware", "bom-ref": "fw", "name": fmt.Sprintf("device-fw-%d", s), "version": "1.0.0"}},
			"components": cs,
		}
		b, err := json.Marshal(bom)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, "sboms", fmt.Sprintf("sbom-%04d.cdx.json", s)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeLarge streams one CycloneDX 1.6 JSON SBOM of n components (supplier,
// group, version, PURL, CPE, two hashes, licence, description, FDA support
// properties, VCS reference; a dependency chain and a root dependency on
// all), specVersion first, as generators write it.
func writeLarge(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	ref := func(i int) string { return fmt.Sprintf("pkg:npm/%%40acme/lib-%d@1.%d.%d", i, i%17, i%5) }
	fmt.Fprint(w, `{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79","version":1,`+
		`"metadata":{"timestamp":"2026-11-28T10:00:00Z","lifecycles":[{"phase":"build"}],"tools":{"components":[{"type":"application","name":"cdxgen","version":"11.0.0"}]},`+
		`"authors":[{"name":"Acme Product Security"}],"component":{"type":"firmware","bom-ref":"device-fw","name":"infusion-pump-fw","version":"4.2.1"}},"components":[`)
	for i := range n {
		if i > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, `{"type":"library","bom-ref":%q,"group":"@acme","name":"lib-%d","version":"1.%d.%d",`+
			`"supplier":{"name":"Acme Medical Systems","url":["https://acme.example"]},"purl":%q,"cpe":"cpe:2.3:a:acme:lib-%d:1.%d.%d:*:*:*:*:*:*:*",`+
			`"hashes":[{"alg":"SHA-256","content":"%064x"},{"alg":"SHA-1","content":"%040x"}],"licenses":[{"license":{"id":"Apache-2.0"}}],`+
			`"description":"Realistic description text of a third-party component used in the infusion pump firmware build.",`+
			`"properties":[{"name":"fda:support-level","value":"actively maintained"},{"name":"fda:end-of-support","value":"2031-12-31"}],`+
			`"externalReferences":[{"type":"vcs","url":"https://git.acme.example/lib-%d"}]}`,
			ref(i), i, i%17, i%5, ref(i), i, i%17, i%5, i*7919, i*104729, i)
	}
	fmt.Fprint(w, `],"dependencies":[`)
	for i := range n {
		if i+1 < n {
			fmt.Fprintf(w, `{"ref":%q,"dependsOn":[%q]},`, ref(i), ref(i+1))
		} else {
			fmt.Fprintf(w, `{"ref":%q,"dependsOn":[]},`, ref(i))
		}
	}
	fmt.Fprint(w, `{"ref":"device-fw","dependsOn":[`)
	for i := range n {
		if i > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, "%q", ref(i))
	}
	fmt.Fprint(w, "]}]}\n")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
