#!/usr/bin/env bash
# Inventory hot paths: CSV import (rows/s) and filtered, sorted device list
# queries (p95) on SQLite and, when MEDWARDEN_TEST_POSTGRES is set, on
# PostgreSQL. LARGE=1 uses 1,000,000 devices (several minutes, ~2 GB disk).
# CLI=1 also times the end-to-end `medwarden import` of a demo fleet CSV
# (LARGE=1: 1,000,000 devices) under /usr/bin/time, with the load average.
# See docs/benchmarks/inventory.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export MEDWARDEN_BENCH_LARGE=${LARGE:-0}
# Import: fresh (ImportCSV) and unchanged re-import (ReimportCSV) on SQLite
# and, with MEDWARDEN_TEST_POSTGRES, PostgreSQL; each reports rows/s (wall),
# rows/cpu-s and cpu-s/op (this process; PostgreSQL's server CPU is not in it).
echo "import benchmarks, load before: $(cat /proc/loadavg)"
go test ./internal/importer -run '^$' -bench 'ImportCSV|ReimportCSV' -benchtime 1x -timeout 60m
echo "load after: $(cat /proc/loadavg)"
# Lists and search: 2,000 list queries over the 9 shapes of
# storetest.ListQueries (p95-ms, cpu-p95-ms, qN-p95-ms, qN-cpu-p95-ms), then
# 20 runs of each of the 30 searches of storetest.SearchQueries
# (search-p95-ms, search-cpu-p95-ms, sN-p95-ms; -v logs each search shape).
# CPU is the querying thread's (PostgreSQL: client side only).
echo "list benchmarks (SQLite), load before: $(cat /proc/loadavg)"
go test ./internal/store/sqlite -run '^$' -bench 'ListDevices' -benchtime 2000x -timeout 60m -v | grep -v '^=== RUN'
echo "load after: $(cat /proc/loadavg)"
if [ -n "${MEDWARDEN_TEST_POSTGRES:-}" ]; then
  echo "list benchmarks (PostgreSQL), load before: $(cat /proc/loadavg)"
  go test ./internal/store/postgres -run '^$' -bench 'ListDevices' -benchtime 2000x -timeout 60m -v | grep -v '^=== RUN'
  echo "load after: $(cat /proc/loadavg)"
fi
if [ "${CLI:-0}" = 1 ]; then
  n=100000
  [ "$MEDWARDEN_BENCH_LARGE" = 1 ] && n=1000000
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  go build -o "$tmp/medwarden" ./cmd/medwarden
  "$tmp/medwarden" demo --devices "$n" --out "$tmp/fleet.csv"
  t() { /usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M KB" "$@"; }
  head -1 "$tmp/fleet.csv" > "$tmp/empty.csv"
  # A large import commits its devices, then builds the indexes it
  # deferred (docs/INVENTORY.md): the two stages are timed apart, the
  # second by an import of no records, which builds what is pending.
  echo "load before: $(cat /proc/loadavg)"
  echo "fresh import, devices committed (SQLite):"
  t "$tmp/medwarden" import --no-index-build --data "$tmp/data" "$tmp/fleet.csv"
  echo "deferred index builds (SQLite):"
  t "$tmp/medwarden" import --data "$tmp/data" "$tmp/empty.csv"
  echo "load after: $(cat /proc/loadavg)"
  echo "unchanged re-import (SQLite):"
  t "$tmp/medwarden" import --data "$tmp/data" "$tmp/fleet.csv"
  echo "load after: $(cat /proc/loadavg)"
  if [ -n "${MEDWARDEN_TEST_POSTGRES:-}" ]; then
    schema=medwarden_bench_$$
    psql -q "$MEDWARDEN_TEST_POSTGRES" -c "CREATE SCHEMA $schema"
    sep='?'; case "$MEDWARDEN_TEST_POSTGRES" in *\?*) sep='&';; esac
    echo "load before: $(cat /proc/loadavg)"
    echo "fresh import, devices committed (PostgreSQL):"
    t "$tmp/medwarden" import --no-index-build --db "$MEDWARDEN_TEST_POSTGRES${sep}search_path=$schema" "$tmp/fleet.csv"
    echo "deferred index builds (PostgreSQL):"
    t "$tmp/medwarden" import --db "$MEDWARDEN_TEST_POSTGRES${sep}search_path=$schema" "$tmp/empty.csv"
    echo "load after: $(cat /proc/loadavg)"
    echo "unchanged re-import (PostgreSQL):"
    t "$tmp/medwarden" import --db "$MEDWARDEN_TEST_POSTGRES${sep}search_path=$schema" "$tmp/fleet.csv"
    echo "load after: $(cat /proc/loadavg)"
    PGOPTIONS='-c client_min_messages=warning' psql -q "$MEDWARDEN_TEST_POSTGRES" -c "DROP SCHEMA $schema CASCADE"
  fi
fi
