#!/usr/bin/env bash
# Short run of EVERY Go fuzz target in the repository (CI gate): each
# target runs its seed corpus plus FUZZTIME (default 200x: 200 generated
# inputs; or a duration such as 5s). FUZZJOBS targets run at once (default:
# the number of CPUs), one fuzz worker each. A failing target leaves its
# input in the package's testdata/fuzz/ — commit it as a regression seed
# once fixed.
# Usage: bash .ci/fuzz.sh [package-dir-regexp]
set -uo pipefail
cd "$(dirname "$0")/.."
export FUZZTIME=${FUZZTIME:-200x}
jobs=${FUZZJOBS:-$(nproc)}
only=${1:-.}
start=$(date +%s)
# Every "func FuzzX(" in a _test.go file, as dir:FuzzX (what 'go test -list Fuzz' lists, without compiling).
targets=$(grep -rHoE '^func Fuzz[A-Za-z0-9_]+\(' --include='*_test.go' internal cmd 2>/dev/null \
  | sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)\($#\1:\2#' | sort -u | grep -E "^($only)")
n=$(echo "$targets" | grep -c .)
# Compile each package's test binary once, up front, so parallel runs share the cache.
echo "$targets" | cut -d: -f1 | sort -u | sed 's#^#./#' | xargs go test -run '^$' -count=1 >/dev/null || { echo "fuzz: packages do not build"; exit 1; }
one() {
  t=$1; dir=${t%%:*}; name=${t##*:}
  t0=$(date +%s)
  if out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -parallel 1 "./$dir" 2>&1); then
    printf 'ok    %-40s %-36s %3ds\n' "$dir" "$name" "$(( $(date +%s) - t0 ))"
  else
    printf 'FAIL  %-40s %-36s %3ds\n' "$dir" "$name" "$(( $(date +%s) - t0 ))"
    echo "$out" | tail -30
    return 1
  fi
}
export -f one
log=$(mktemp)
echo "$targets" | xargs -P "$jobs" -I{} bash -c 'one "$@"' _ {} | tee "$log"
failed=$(grep -c '^FAIL ' "$log")
rm -f "$log"
echo "fuzz: $n targets, $failed failed, $(( $(date +%s) - start ))s wall (FUZZTIME=$FUZZTIME, $jobs at a time)"
[ "$failed" -eq 0 ]
