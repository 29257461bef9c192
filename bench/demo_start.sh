#!/usr/bin/env bash
# Measures `medwarden demo` from process start to the first successful
# /readyz answer (the issue's "demo from start to serving"), N runs.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
bin=$(mktemp -d)/medwarden
go build -o "$bin" ./cmd/medwarden
for i in $(seq 1 "$runs"); do
  out=$(mktemp)
  start=$(date +%s.%N)
  "$bin" demo --addr 127.0.0.1:0 >"$out" 2>/dev/null &
  pid=$!
  url=""
  for _ in $(seq 1 600); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*' "$out" | head -1 || true)
    if [ -n "$url" ] && curl -fs "$url/readyz" >/dev/null 2>&1; then break; fi
    sleep 0.01
  done
  end=$(date +%s.%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  printf 'run %d: %.2f s to serving (%s)\n' "$i" "$(echo "$end - $start" | bc)" "$(head -1 "$out")"
  rm -f "$out"
done
