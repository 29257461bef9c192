#!/usr/bin/env bash
# Load proof (issue 9): 'medwarden serve' (HTTPS, the default) on loopback
# with 100,000 devices, driven by wrk with bench/load.lua (mixed API reads
# and writes, API-token auth). Reports wrk's requests/s, latency
# percentiles and errors, the server's CPU time and the load average.
# Usage: bench/load.sh [DURATION=60s] [CONNECTIONS=64] [THREADS=2]
# Env: MW_DEVICES (100000), KIND_DUR (8s per single-kind run; 0 skips
# them), MW_LOGS=DIR (keep serve.err, wrk.out, wrk.err there),
# MW_PPROF=127.0.0.1:PORT (serve Go's profiler there; off by default),
# MW_BIN=FILE (use this medwarden binary instead of building one, e.g. to
# compare two revisions), MW_DB=URL (use this store, e.g.
# postgres://postgres@127.0.0.1:5432/DBNAME?sslmode=disable, instead of
# SQLite in the work directory; the database must exist and be empty:
# createdb -h 127.0.0.1 -U postgres DBNAME, dropdb after the run),
# MW_DB_PID=PID (the database server's main process, e.g. PostgreSQL's
# postmaster: the CPU it and its children used during the run is reported too).
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-60s}; conns=${2:-64}; threads=${3:-2}
devices=${MW_DEVICES:-100000}
work=$(mktemp -d)
# MW_LOGS=DIR keeps the server log, wrk's output and stderr there.
logs=${MW_LOGS:-}
trap 'kill $srv 2>/dev/null || true; [ -n "$logs" ] && mkdir -p "$logs" && cp "$work"/serve.err "$work"/wrk.* "$logs"/ 2>/dev/null; rm -rf "$work"' EXIT
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
if [ -n "${MW_BIN:-}" ]; then cp "$MW_BIN" "$work/medwarden"; else go build -o "$work/medwarden" ./cmd/medwarden; fi
mw="$work/medwarden"
# MW_DB=URL: every command below (import, user, token, serve) uses that
# store through $MEDWARDEN_DB (--data keeps the TLS certificate and keys)
if [ -n "${MW_DB:-}" ]; then export MEDWARDEN_DB=$MW_DB; echo "== store: ${MW_DB%%\?*}"; fi
pprof=()
[ -n "${MW_PPROF:-}" ] && pprof=(--pprof "$MW_PPROF")
echo "== $devices devices"
"$mw" demo --devices "$devices" --out "$work/fleet.csv" >/dev/null
"$mw" import --data "$work/data" "$work/fleet.csv" | tail -1
printf 'load test password 123\n' | "$mw" user add loadtest --role analyst --password-stdin --data "$work/data" >/dev/null
export MW_TOKEN=$("$mw" token create --user loadtest --scope 'devices:*,advisories:read' --expires 1d --name load --data "$work/data" 2>/dev/null)
export MW_DEVICES=$devices
port=$((20000 + RANDOM % 20000))
"$mw" serve --data "$work/data" --addr "127.0.0.1:$port" --rate-limit-client -1 --rate-limit-account -1 --log-level warn "${pprof[@]}" > "$work/serve.out" 2> "$work/serve.err" &
srv=$!
for _ in $(seq 1 100); do curl -skf "https://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
# warm the caches, then measure
wrk -t1 -c4 -d5s -s bench/load.lua "https://127.0.0.1:$port" >/dev/null 2>&1 || true
# then wait (up to 60 s) until serve is idle: its start-up work (the
# findings service's first recompute of every device) is not per request
for _ in $(seq 1 60); do
  read -r i0 j0 < <(awk '{print $14, $15}' /proc/$srv/stat); sleep 1
  read -r i1 j1 < <(awk '{print $14, $15}' /proc/$srv/stat)
  [ $((i1-i0+j1-j0)) -lt $(( $(getconf CLK_TCK) / 20 )) ] && break
done
e0=$(grep -ci 'level=error' "$work/serve.err" || true)
# dbcpu: CPU ticks of MW_DB_PID, its children that ended (cutime, cstime)
# and its live children
dbcpu() {
  [ -n "${MW_DB_PID:-}" ] || { echo 0; return; }
  { awk '{print $14+$15+$16+$17}' /proc/"$MW_DB_PID"/stat
    for c in $(cat /proc/"$MW_DB_PID"/task/*/children 2>/dev/null); do awk '{print $14+$15}' /proc/"$c"/stat 2>/dev/null || true; done
  } | awk '{s+=$1} END{print s+0}'
}
d0=$(dbcpu)
read -r u0 s0 < <(awk '{print $14, $15}' /proc/$srv/stat)
echo "== loadavg before: $(cat /proc/loadavg)"
wrk -t"$threads" -c"$conns" -d"$dur" --latency -s bench/load.lua "https://127.0.0.1:$port" 2> "$work/wrk.err" | tee "$work/wrk.out"
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$srv/stat)
d1=$(dbcpu)
e1=$(grep -ci 'level=error' "$work/serve.err" || true)
tck=$(getconf CLK_TCK)
echo "== loadavg after: $(cat /proc/loadavg)"
n=$(grep -oE '[0-9]+ requests in' "$work/wrk.out" | cut -d' ' -f1)
rps=$(awk '/^Requests\/sec/{print $2}' "$work/wrk.out")
p99=$(awk '$1=="99%"{print $2}' "$work/wrk.out")
sock=$(awk '/Socket errors/{gsub(",","");s=0;for(i=3;i<=NF;i+=2)s+=$(i+1);print s}' "$work/wrk.out"); sock=${sock:-0}
non2xx=$(grep -c '^HTTP ' "$work/wrk.err" || true)
echo "== server CPU during the run: user $(( (u1-u0)/tck ))s sys $(( (s1-s0)/tck ))s; $(awk -v c=$((u1-u0+s1-s0)) -v t="$tck" -v n="$n" 'BEGIN{printf "%.3f ms CPU per request, so at most %.0f req/s on 2 idle cores", c*1000/t/n, 2*n*t/c}')"
[ -n "${MW_DB_PID:-}" ] && echo "== database server CPU during the run (pid $MW_DB_PID and its children): $(awk -v c=$((d1-d0)) -v t="$tck" -v n="$n" 'BEGIN{printf "%.2f s, %.3f ms per request", c/t, c*1000/t/n}')"
echo "== non-2xx answers reported by the script: $non2xx"
grep '^HTTP ' "$work/wrk.err" | cut -c1-160 | sort | uniq -c | sort -rn | head -5 || true
echo "== server errors logged during the run: $((e1-e0)) (a client going away is not one: it is logged at debug level)"
grep -i 'level=error' "$work/serve.err" | cut -c1-200 | sort | uniq -c | sort -rn | head -5 || true
echo "== floor (issue 9): >= 2000 req/s, p99 <= 100 ms, zero errors: got $rps req/s, p99 $p99, $sock socket errors/timeouts, $non2xx non-2xx, $((e1-e0)) server errors"
# per request kind, single-kind runs (server CPU per request); set
# KIND_DUR=0 to skip them
kd=${KIND_DUR:-8s}
kind() { # label, then wrk arguments
  local label=$1; shift
  read -r a0 b0 < <(awk '{print $14, $15}' /proc/$srv/stat)
  local out; out=$(wrk -t1 -c8 -d"$kd" --latency "$@" 2>/dev/null)
  read -r a1 b1 < <(awk '{print $14, $15}' /proc/$srv/stat)
  local k; k=$(echo "$out" | grep -oE '[0-9]+ requests in' | cut -d' ' -f1)
  local q99; q99=$(echo "$out" | awk '$1=="99%"{print $2}')
  awk -v c=$((a1-a0+b1-b0)) -v t="$tck" -v n="${k:-0}" -v q="$label" -v p="$q99" 'BEGIN{if(n>0)printf "   %-62s %6d req  %7.3f ms CPU/req  p99 %s\n", q, n, c*1000/t/n, p}'
}
if [ "$kd" != "0" ]; then
  echo "== per request kind (wrk -c8 $kd each; server CPU per request)"
  for q in "/api/v1/auth/whoami" "/api/v1/devices/7" "/api/v1/advisories?limit=20" \
    "/api/v1/devices?limit=50&sort=asset_id" "/api/v1/devices?limit=50&device_type=infusion-pump" \
    "/api/v1/devices?limit=50&sort=asset_id&site=NBR" "/api/v1/devices?limit=50&sort=-updated_at&site=NBR" \
    "/api/v1/devices?limit=50&sort=vendor&device_type=infusion-pump" "/api/v1/devices?limit=50&sort=model&site=NBR" \
    "/api/v1/devices?limit=50&sort=asset_id&q=pump" "/api/v1/devices?limit=50&sort=vendor&q=pump" \
    "/api/v1/devices?limit=50&sort=model&q=mri"; do
    kind "GET $q" -H "Authorization: Bearer $MW_TOKEN" "https://127.0.0.1:$port$q"
  done
  MW_ONLY=post kind "POST /api/v1/devices (load.lua writes only)" -s bench/load.lua "https://127.0.0.1:$port"
  MW_ONLY=put kind "PUT /api/v1/devices/{id} (load.lua writes only)" -s bench/load.lua "https://127.0.0.1:$port"
fi
