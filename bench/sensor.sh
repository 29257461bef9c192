#!/bin/sh
# Benchmark of the MedWarden passive sensor against Suricata and TShark.
#
#   bench/sensor.sh [SIZE] [CORPUS_DIR]     (defaults: 1G, /work/shared/data/pcap)
#
# Builds a mixed capture of SIZE from the real captures in CORPUS_DIR
# (bench/realmix: every Ethernet capture repeated, addresses rewritten per
# round), then times:
#   - the read+decode floor and the full sensor (bench/sensorbench),
#   - `medwarden scan` end to end (JSON to /dev/null),
#   - suricata -r FILE -k none --runmode single (installed from
#     bookworm-backports if missing, see below),
#   - tshark -r FILE -q -z io,phs on a 200 MB capture built the same way
#     (tshark keeps per-frame state: 1 GB of RSS per million frames).
# Results go to stdout; copy them into docs/benchmarks/sensor.md.
set -eu
SIZE=${1:-1G}
CORPUS=${2:-/work/shared/data/pcap}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${TMPDIR:-/tmp}/medwarden-bench
mkdir -p "$OUT"
BIG=$OUT/realmix-$SIZE.pcap
SMALL=$OUT/realmix-200M.pcap

cd "$ROOT"
go build -o "$OUT/medwarden" ./cmd/medwarden
go build -o "$OUT/sensorbench" ./bench/sensorbench
[ -f "$BIG" ] || go run ./bench/realmix -size "$SIZE" -out "$BIG" "$CORPUS"
[ -f "$SMALL" ] || go run ./bench/realmix -size 200M -out "$SMALL" "$CORPUS"

timed() { # label, command...: wall, CPU and peak RSS
	label=$1
	shift
	/usr/bin/time -f "$label: %e s wall, %U s user, %S s sys, %M KB max RSS" "$@" >/dev/null 2>"$OUT/time.txt" || true
	tail -1 "$OUT/time.txt"
}

echo "== capture: $BIG ($(stat -c %s "$BIG") bytes)"
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in floor sensor; do
	"$OUT/sensorbench" -mode $mode "$BIG"
done
timed "medwarden scan" "$OUT/medwarden" scan "$BIG"

# Suricata is only in bookworm-backports. Add that suite for the install,
# built from this machine's own Debian source (same URIs and keyring: no
# host name is written here), then remove it again.
if ! command -v suricata >/dev/null 2>&1; then
	SRC=$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
	if [ -n "$SRC" ] && [ "$(id -u)" = 0 ]; then
		BP=/etc/apt/sources.list.d/medwarden-bench-backports.sources
		awk '/^URIs:/ && !u {print "Types: deb"; print; print "Suites: bookworm-backports"; print "Components: main"; u=1}
		     /^Signed-By:/ && !k {print; k=1}' "$SRC" >"$BP"
		apt-get update -qq || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports suricata || true
		rm -f "$BP"
		apt-get update -qq || true
	fi
fi
if command -v suricata >/dev/null 2>&1; then
	SL=$OUT/suricata-log
	rm -rf "$SL"
	mkdir -p "$SL"
	timed "suricata single" suricata -r "$BIG" -k none --runmode single -l "$SL"
	timed "suricata single (200M)" suricata -r "$SMALL" -k none --runmode single -l "$SL"
else
	echo "suricata: not available (needs root to install from bookworm-backports)"
fi

if command -v tshark >/dev/null 2>&1; then
	timed "tshark io,phs (200M)" tshark -n -r "$SMALL" -q -z io,phs
	"$OUT/sensorbench" -mode sensor "$SMALL"
	timed "medwarden scan (200M)" "$OUT/medwarden" scan "$SMALL"
else
	echo "tshark: not available (apt-get install tshark)"
fi
echo "packets: $(capinfos -c -M "$BIG" 2>/dev/null | awk '/Number of packets/ {print $NF}')"
