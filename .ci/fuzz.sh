#!/usr/bin/env bash
# Short run of EVERY Go fuzz target in the repository (CI gate): each
# target runs its seed corpus plus FUZZTIME (default 200x: 200 generated
# inputs; or a duration such as 5s). A failing target leaves its input in
# the package's testdata/fuzz/ — commit it as a regression seed once fixed.
# Usage: bash .ci/fuzz.sh [package-dir-regexp]
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-200x}
only=${1:-.}
start=$(date +%s)
n=0; failed=()
# Every "func FuzzX(" in a _test.go file, as dir:FuzzX (what 'go test -list Fuzz' lists, without compiling).
targets=$(grep -rHoE '^func Fuzz[A-Za-z0-9_]+\(' --include='*_test.go' internal cmd 2>/dev/null \
  | sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)\($#\1:\2#' | sort -u | grep -E "^($only)")
for t in $targets; do
  dir=${t%%:*}; name=${t##*:}
  n=$((n+1))
  t0=$(date +%s)
  if out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./$dir" 2>&1); then
    printf 'ok    %-40s %-36s %3ds\n' "$dir" "$name" "$(( $(date +%s) - t0 ))"
  else
    printf 'FAIL  %-40s %-36s %3ds\n' "$dir" "$name" "$(( $(date +%s) - t0 ))"
    echo "$out" | tail -30
    failed+=("$dir:$name")
  fi
done
echo "fuzz: $n targets, ${#failed[@]} failed, $(( $(date +%s) - start ))s wall (FUZZTIME=$fuzztime)"
[ ${#failed[@]} -eq 0 ]
