#!/usr/bin/env bash
# Inventory hot paths: CSV import (rows/s) and filtered, sorted device list
# queries (p95) on SQLite and, when MEDWARDEN_TEST_POSTGRES is set, on
# PostgreSQL. LARGE=1 uses 1,000,000 devices (several minutes, ~2 GB disk).
set -euo pipefail
cd "$(dirname "$0")/.."
export MEDWARDEN_BENCH_LARGE=${LARGE:-0}
go test ./internal/importer -run '^$' -bench 'ImportCSV' -benchtime 1x -timeout 60m
go test ./internal/store/sqlite -run '^$' -bench 'ListDevices' -benchtime 2000x -timeout 60m
if [ -n "${MEDWARDEN_TEST_POSTGRES:-}" ]; then
  go test ./internal/store/postgres -run '^$' -bench 'ListDevices' -benchtime 2000x -timeout 60m
fi
