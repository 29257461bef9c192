#!/usr/bin/env bash
# Match 1,000 CycloneDX SBOMs of 500 npm components each against the same
# 60,000 OSV records with `medwarden sbom check --osv` and with osv-scanner
# (offline, local database), and compare CPU time, wall time and findings.
# Results: docs/benchmarks/sbom.md and the summary row in docs/BENCHMARKS.md.
#
# usage: bench/sbom.sh [SBOMS] [COMPONENTS]     (default 1000 500)
# env:   OSV_SCANNER=/path/to/osv-scanner  use this binary instead of building it
#        WORK=/tmp/medwarden-sbom-bench    where data and results go
# needs: go, GNU time (/usr/bin/time), python3; building osv-scanner needs
#        GOTOOLCHAIN=go1.27.3 (≈3 min, 1 GB RSS). Grype is not compared: it
#        cannot load a vulnerability database offline here (see the docs).
set -euo pipefail
cd "$(dirname "$0")/.."

n="${1:-1000}"
comps="${2:-500}"
work="${WORK:-/tmp/medwarden-sbom-bench}"
mkdir -p "$work"

# Build the committed code (HEAD), not the working tree.
rm -rf "$work/src" && mkdir -p "$work/src"
git archive HEAD | tar -x -C "$work/src"
(cd "$work/src" && go build -o "$work/medwarden" ./cmd/medwarden && go build -o "$work/sbomgen" ./bench/sbomgen)

# The peer is built outside our module, into the work directory; it is never
# a dependency of MedWarden and never committed. osv-scanner v2.6.0 needs Go 1.27.
osvs="${OSV_SCANNER:-}"
if [[ -z "$osvs" ]]; then
	osvs="$work/bin/osv-scanner"
	if [[ ! -x "$osvs" ]]; then
		(cd /tmp && GOTOOLCHAIN=go1.27.3 GOBIN="$work/bin" GOFLAGS=-buildvcs=false \
			go install github.com/google/osv-scanner/v2/cmd/osv-scanner@v2.6.0)
	fi
fi

data="$work/data-$n-$comps"
if [[ ! -d "$data/sboms" ]]; then
	"$work/sbomgen" -out "$data" -sboms "$n" -components "$comps"
fi
mapfile -t files < <(find "$data/sboms" -name '*.cdx.json' | sort)
echo "SBOMs: ${#files[@]} × $comps components ($(cat "${files[@]}" | wc -c) bytes); OSV records: $(unzip -l "$data/db/osv-scalibr/npm/all.zip" | tail -1 | awk '{print $2}')"

run() { # name, command...
	local name="$1"
	shift
	echo "== $name (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
	/usr/bin/time -v "$@" >"$work/$name.json" 2>"$work/$name.time" || true
	echo "   load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	grep -E 'Elapsed|User time|System time|Maximum resident' "$work/$name.time" | sed 's/^/   /'
}

# Both read the same OSV records: osv-scanner from its local database layout
# (<dir>/osv-scalibr/<Ecosystem>/all.zip), medwarden from the same zip.
run medwarden "$work/medwarden" sbom check --osv "$data/db/osv-scalibr/npm/all.zip" --format json "${files[@]}"
args=()
for f in "${files[@]}"; do args+=(-L "$f"); done
OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY="$data/db" run osv-scanner "$osvs" scan source --offline --offline-vulnerabilities --format json "${args[@]}"

python3 - "$work" <<'PY'
import json, os, re, sys
work = sys.argv[1]
ours = set()
for r in json.load(open(os.path.join(work, "medwarden.json"))):
    f = os.path.basename(r["file"])
    for v in r["vulnerabilities"]:
        if v["source"] == "osv":
            ours.add((f, v["purl"].split("@")[0].removeprefix("pkg:npm/"), v["id"]))
theirs = set()
for r in json.load(open(os.path.join(work, "osv-scanner.json"))).get("results", []):
    f = os.path.basename(r["source"]["path"])
    for p in r.get("packages", []):
        for v in p.get("vulnerabilities", []):
            theirs.add((f, p["package"]["name"], v["id"]))
print(f"findings: medwarden {len(ours)}, osv-scanner {len(theirs)}, both {len(ours & theirs)}, only medwarden {len(ours - theirs)}, only osv-scanner {len(theirs - ours)}")
def cpu(name):
    t = open(os.path.join(work, name + ".time")).read()
    u = float(re.search(r"User time \(seconds\): ([0-9.]+)", t).group(1))
    s = float(re.search(r"System time \(seconds\): ([0-9.]+)", t).group(1))
    return u + s
m, o = cpu("medwarden"), cpu("osv-scanner")
print(f"CPU (user+sys): medwarden {m:.1f} s, osv-scanner {o:.1f} s, ratio {o/m:.1f}x")
PY
