#!/usr/bin/env bash
# Benchmark `medwarden feeds validate` against the BSI's csaf_validator
# (gocsaf/csaf v3.7.0) on the same CSAF files. Results: docs/benchmarks/csaf.md.
#
# usage: bench/csaf.sh [DIR]   (default: $MEDWARDEN_TESTDATA_EXTRA/csaf_cisa, else the package testdata)
# needs: go, hyperfine (apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${1:-}"
if [[ -z "$dir" ]]; then
	if [[ -n "${MEDWARDEN_TESTDATA_EXTRA:-}" ]]; then
		dir="$MEDWARDEN_TESTDATA_EXTRA/csaf_cisa"
	else
		dir="internal/advisory/csaf/testdata/cisa"
	fi
fi
mapfile -t files < <(find "$dir" -name '*.json' | sort)
if ((${#files[@]} == 0)); then
	echo "no CSAF files under $dir" >&2
	exit 1
fi
bytes=$(cat "${files[@]}" | wc -c)
echo "files: ${#files[@]} ($bytes bytes) from $dir"

out=/tmp/medwarden-bench
mkdir -p "$out" /tmp/peers
# Build the committed code (HEAD), not the working tree, so that other
# people's unfinished edits cannot break or skew the run.
rm -rf "$out/src" && mkdir -p "$out/src"
git archive HEAD | tar -x -C "$out/src"
(cd "$out/src" && go build -o "$out/medwarden" ./cmd/medwarden)
# The peer is built outside our module: it is not a dependency of MedWarden.
# v3.7.1 needs Go >= 1.26.10, so v3.7.0 is pinned.
if [[ ! -x /tmp/peers/csaf_validator ]]; then
	(cd /tmp && GOBIN=/tmp/peers GOFLAGS=-buildvcs=false go install github.com/gocsaf/csaf/v3/cmd/csaf_validator@v3.7.0)
fi

# Sanity: both must accept the files (csaf_validator without --validator only
# runs the JSON schema; its exit code is non-zero when no remote validator is
# configured, hence -i).
"$out/medwarden" feeds validate "${files[@]}" | tail -1

hyperfine --warmup 2 --min-runs 10 -N -i \
	--export-markdown "$out/csaf.md" --export-json "$out/csaf.json" \
	-n "medwarden feeds validate (schema + 6.1 mandatory tests)" "$out/medwarden feeds validate --format json ${files[*]}" \
	-n "csaf_validator v3.7.0 (schema only)" "/tmp/peers/csaf_validator ${files[*]}"
cat "$out/csaf.md"
echo "docs per second: files / mean; see $out/csaf.json"
