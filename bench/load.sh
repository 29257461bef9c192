#!/usr/bin/env bash
# Load proof (issue 9): 'medwarden serve' (HTTPS, the default) on loopback
# with 100,000 devices, driven by wrk with bench/load.lua (mixed API reads
# and writes, API-token auth). Reports wrk's requests/s, latency
# percentiles and errors, the server's CPU time and the load average.
# Usage: bench/load.sh [DURATION=60s] [CONNECTIONS=64] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-60s}; conns=${2:-64}; threads=${3:-2}
devices=${MW_DEVICES:-100000}
work=$(mktemp -d)
# MW_LOGS=DIR keeps the server log, wrk's output and stderr there.
logs=${MW_LOGS:-}
trap 'kill $srv 2>/dev/null || true; [ -n "$logs" ] && mkdir -p "$logs" && cp "$work"/serve.err "$work"/wrk.* "$logs"/ 2>/dev/null; rm -rf "$work"' EXIT
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
go build -o "$work/medwarden" ./cmd/medwarden
mw="$work/medwarden"
echo "== $devices devices"
"$mw" demo --devices "$devices" --out "$work/fleet.csv" >/dev/null
"$mw" import --data "$work/data" "$work/fleet.csv" | tail -1
printf 'load test password 123\n' | "$mw" user add loadtest --role analyst --password-stdin --data "$work/data" >/dev/null
export MW_TOKEN=$("$mw" token create --user loadtest --scope 'devices:*,advisories:read' --expires 1d --name load --data "$work/data" 2>/dev/null)
export MW_DEVICES=$devices
port=$((20000 + RANDOM % 20000))
"$mw" serve --data "$work/data" --addr "127.0.0.1:$port" --rate-limit-client -1 --rate-limit-account -1 --log-level warn > "$work/serve.out" 2> "$work/serve.err" &
srv=$!
for _ in $(seq 1 100); do curl -skf "https://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
# warm the caches, then measure
wrk -t1 -c4 -d5s -s bench/load.lua "https://127.0.0.1:$port" >/dev/null 2>&1 || true
read -r u0 s0 < <(awk '{print $14, $15}' /proc/$srv/stat)
echo "== loadavg before: $(cat /proc/loadavg)"
wrk -t"$threads" -c"$conns" -d"$dur" --latency -s bench/load.lua "https://127.0.0.1:$port" 2> "$work/wrk.err" | tee "$work/wrk.out"
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$srv/stat)
tck=$(getconf CLK_TCK)
echo "== loadavg after: $(cat /proc/loadavg)"
n=$(grep -oE '[0-9]+ requests in' "$work/wrk.out" | cut -d' ' -f1)
echo "== server CPU during the run: user $(( (u1-u0)/tck ))s sys $(( (s1-s0)/tck ))s; $(awk -v c=$((u1-u0+s1-s0)) -v t="$tck" -v n="$n" 'BEGIN{printf "%.3f ms CPU per request, so at most %.0f req/s on 2 idle cores", c*1000/t/n, 2*n*t/c}')"
# per request kind, single-kind runs of 8 s (server CPU per request)
for q in "/api/v1/auth/whoami" "/api/v1/devices/7" "/api/v1/devices?limit=50&sort=asset_id" "/api/v1/devices?limit=50&device_type=infusion-pump" "/api/v1/advisories?limit=20"; do
  read -r a0 b0 < <(awk '{print $14, $15}' /proc/$srv/stat)
  k=$(wrk -t1 -c8 -d8s -H "Authorization: Bearer $MW_TOKEN" "https://127.0.0.1:$port$q" | grep -oE '[0-9]+ requests in' | cut -d' ' -f1)
  read -r a1 b1 < <(awk '{print $14, $15}' /proc/$srv/stat)
  awk -v c=$((a1-a0+b1-b0)) -v t="$tck" -v n="$k" -v q="$q" 'BEGIN{printf "   %-55s %6d req  %.3f ms CPU/req\n", q, n, c*1000/t/n}'
done
echo "== non-2xx answers reported by the script: $(grep -c '^HTTP ' "$work/wrk.err" || true)"
grep '^HTTP ' "$work/wrk.err" | sort | uniq -c | sort -rn | head -5 || true
echo "== server errors logged: $(grep -ci 'level=error' "$work/serve.err" || true)"
