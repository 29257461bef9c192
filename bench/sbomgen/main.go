// Command sbomgen writes the synthetic data of bench/sbom.sh: OSV records
// (npm, SEMVER ranges) as one JSON file each and as the all.zip that
// osv-scanner's offline database reads, and CycloneDX 1.5 JSON SBOMs of npm
// components drawn from the same packages, so both tools match the same
// SBOMs against the same records. Deterministic for a given seed.
package main

import (
	"archive/zip"
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
	flag.Parse()
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
