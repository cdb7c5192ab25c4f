#!/usr/bin/env bash
# Scrape cost of the modules collector with a 300 MB daily.cld present:
# bytes the exporter reads per scrape (rchar of /proc/PID/io, which also
# counts the HTTP request read from the socket), which files they came
# from (strace -y), and scrape latency.
#
# Needs: hyperfine, curl, strace (Debian: hyperfine curl strace). Usage: bench/modules-bytes.sh [RUNS] [SIZE]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-200}
SIZE=${2:-300M}
OUT=bench/out
ROOT=$OUT/modules-root
mkdir -p "$OUT"
for c in hyperfine curl strace; do
  command -v "$c" >/dev/null || { echo "missing $c (apt-get install hyperfine curl strace)" >&2; exit 1; }
done

make -s build BIN="$OUT/heartbeat_exporter" # as released (static)
rm -rf "$ROOT"
mkdir -p "$ROOT/var/lib/clamav" "$ROOT/var/log/clamav"
cp examples/demo/root/var/lib/clamav/*.c?d "$ROOT/var/lib/clamav/"
cp examples/demo/root/var/log/clamav/freshclam.log "$ROOT/var/log/clamav/"
# A valid header, then a hole up to SIZE (sparse: no disk used).
truncate -s "$SIZE" "$ROOT/var/lib/clamav/daily.cld"
cat >"$OUT/modules.yml" <<'YML'
modules:
  - name: virus
    kind: clamav
    database_dir: /var/lib/clamav
    freshclam_log: /var/log/clamav/freshclam.log
YML

. bench/lib.sh
ADDR=$(free_addr)
"$OUT/heartbeat_exporter" --web.listen-address=$ADDR --config.file="$OUT/modules.yml" \
  --path.rootfs="$ROOT" --web.disable-exporter-metrics --log.level=warn &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$ROOT"' EXIT
URL="http://$ADDR/metrics?collect%5B%5D=modules"
for _ in $(seq 100); do curl -sf -o /dev/null "$URL" && break; sleep 0.05; done

rchar() { awk '/^rchar/ {print $2}' "/proc/$1/io"; }
scrape_n() { for _ in $(seq "$1"); do curl -s -o /dev/null "$URL"; done; }

# First scrape after a change (headers read) and steady state (cached).
touch "$ROOT/var/lib/clamav/"*
r0=$(rchar $pid); scrape_n 1; r1=$(rchar $pid)
r2=$(rchar $pid); scrape_n "$RUNS"; r3=$(rchar $pid)
changed=$((r1 - r0))
steady=$(( (r3 - r2) / RUNS ))

# Which files those bytes came from: strace -y names each read's file.
touch "$ROOT/var/lib/clamav/"*
strace -f -qq -y -p "$pid" -e trace=read,pread64 -e signal=none -o "$OUT/modules.strace" &
spid=$!
sleep 0.5
scrape_n 1
sleep 0.2
kill "$spid"; wait "$spid" 2>/dev/null || true
daily_bytes=$(awk -F'= ' '/daily\.cld>/ && $NF ~ /^[0-9]+$/ {s += $NF} END {print s+0}' "$OUT/modules.strace")
file_bytes=$(awk -F'= ' '/<\/[^>]*>, / && !/socket:/ && $NF ~ /^[0-9]+$/ {s += $NF} END {print s+0}' "$OUT/modules.strace")

hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$OUT/modules-latency.json" \
  -n scrape "curl -s -o /dev/null $URL" \
  -n healthy "curl -s -o /dev/null http://$ADDR/-/healthy" >"$OUT/modules-hyperfine.txt"
# median_ms FILE N: the median of the Nth command, in ms.
median_ms() { awk -F': ' -v n="$2" '/"median"/ && ++i == n {gsub(/,/, "", $2); printf "%.3f", $2 * 1000}' "$1"; }

printf '\ndaily.cld size: %s (sparse), %d runs\n' "$(du -h --apparent-size "$ROOT/var/lib/clamav/daily.cld" | cut -f1)" "$RUNS"
printf '%-44s %14s\n' "" "bytes read"
printf '%-44s %14s\n' "exporter, scrape after the databases changed" "$changed"
printf '%-44s %14s\n' "exporter, scrape of unchanged databases" "$steady"
printf '%-44s %14s\n' "  of it from files (strace), after a change" "$file_bytes"
printf '%-44s %14s\n' "  of it from daily.cld (strace)" "$daily_bytes"
printf '\n%-44s %14s\n' "median curl scrape collect[]=modules (ms)" "$(median_ms "$OUT/modules-latency.json" 1)"
printf '%-44s %14s\n' "median curl /-/healthy, no collector (ms)" "$(median_ms "$OUT/modules-latency.json" 2)"
echo "(rchar includes the HTTP request read from the socket; details in $OUT/)"
