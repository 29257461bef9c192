#!/usr/bin/env bash
# End-to-end ingest of one large CycloneDX JSON SBOM (default 80,000
# components, 76 MB): `sbom check`, `sbom attach` (CLI, SQLite) and
# POST /api/v1/sboms (server on loopback, SQLite), each with wall time,
# CPU seconds (user+sys of the process; for the API the server's CPU
# during the request, from /proc/PID/stat) and MB/s wall and per CPU-s.
# Then BenchmarkAttachLarge (parse vs store write) on the same file.
# Results: docs/benchmarks/sbom.md.
#
# usage: bench/sbom_ingest.sh [COMPONENTS]
# env:   WORK=/tmp/medwarden-sbom-ingest (data, binaries, results)
# needs: go, curl, GNU time (/usr/bin/time)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-80000}"
work="${WORK:-/tmp/medwarden-sbom-ingest}"
mkdir -p "$work"
rm -rf "$work/src" "$work/data" && mkdir -p "$work/src"
git archive HEAD | tar -x -C "$work/src" # the committed code
(cd "$work/src" && go build -o "$work/medwarden" ./cmd/medwarden && go build -o "$work/sbomgen" ./bench/sbomgen)
mw="$work/medwarden"
bom="$work/large-$n.cdx.json"
[[ -f "$bom" ]] || "$work/sbomgen" -large "$n" -out "$bom"
size=$(stat -c %s "$bom")
echo "SBOM: $n components, $size bytes"
rate() { # name, user, sys, wall
	python3 -c "import sys; n,u,s,e=sys.argv[1],float(sys.argv[2]),float(sys.argv[3]),float(sys.argv[4]); mb=$size/1e6; print(f'{n}: wall {e:.2f} s, CPU {u+s:.2f} s (user {u:.2f}, sys {s:.2f}): {mb/e:.1f} MB/s wall, {mb/(u+s):.1f} MB per CPU-s')" "$@"
}
timed() { # name, command...
	local name="$1"
	shift
	echo "== $name (load $(cut -d' ' -f1-3 /proc/loadavg))"
	/usr/bin/time -o "$work/$name.time" -f '%U %S %e %M' "$@" >"$work/$name.out"
	read -r u s e m <"$work/$name.time"
	rate "$name" "$u" "$s" "$e"
	echo "   peak RSS $((m / 1024)) MB"
}
timed check "$mw" sbom check --max-size 300000000 --format json "$bom"
timed attach-cli "$mw" sbom attach --data "$work/data" --vendor Acme --model "Infusion Pump" --version 4.2.1 --max-size 300000000 "$bom"

# API: a server on loopback, an analyst token
printf 'Long bench passphrase 4711\n' | "$mw" user add ingest --role analyst --password-stdin --data "$work/data" >/dev/null
token=$("$mw" token create --user ingest --scope 'devices:*' --expires 1d --name ingest --data "$work/data" 2>/dev/null)
port=$((20000 + RANDOM % 20000))
"$mw" serve --data "$work/data" --addr "127.0.0.1:$port" --rate-limit-client -1 --rate-limit-account -1 --log-level warn >"$work/serve.out" 2>"$work/serve.err" &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do curl -skf "https://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
sleep 2 # let the findings service finish its start
tck=$(getconf CLK_TCK)
for i in 1 2; do
	# new bytes (trailing newlines), so the document is stored, not deduplicated
	cp "$bom" "$work/api-$i.json" && printf '%*s' "$i" '' | tr ' ' '\n' >>"$work/api-$i.json"
	echo "== attach-api $i (load $(cut -d' ' -f1-3 /proc/loadavg))"
	read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$srv/stat")
	t0=$(date +%s.%N)
	code=$(curl -sk -o "$work/attach-api.out" -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
		--data-binary @"$work/api-$i.json" "https://127.0.0.1:$port/api/v1/sboms?vendor=Acme&model=Infusion%20Pump&firmware_version=4.2.$((i + 1))")
	t1=$(date +%s.%N)
	read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$srv/stat")
	echo "   HTTP $code"
	rate "attach-api" "$(echo "($u1 - $u0) / $tck" | bc -l)" "$(echo "($s1 - $s0) / $tck" | bc -l)" "$(echo "$t1 - $t0" | bc -l)"
done
kill $srv
wait $srv 2>/dev/null || true
echo "== BenchmarkAttachLarge (load $(cut -d' ' -f1-3 /proc/loadavg))"
(cd "$work/src" && MEDWARDEN_SBOM_LARGE="$bom" go test ./internal/sboms -run XXX -bench AttachLarge -benchtime 3x | grep Benchmark)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
