#!/usr/bin/env bash
# Load test: CONC concurrent scrapers (default 200) for DURATION (default
# 30s) against the demo with --web.max-requests=20. Checks the exporter
# survives, its memory stays flat, and every refused scrape is a clean 503
# counted in heartbeat_exporter_scrapes_rejected_total.
#
# Needs: hey, curl (Debian: hey curl). Loopback only.
# Usage: bench/load.sh [DURATION] [CONC]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-30s}
CONC=${2:-200}
MAX=20
OUT=bench/out
. bench/lib.sh
ADDR=${ADDR:-$(free_addr)}
mkdir -p "$OUT"
for c in hey curl; do
  command -v "$c" >/dev/null || { echo "missing $c (apt-get install hey curl)" >&2; exit 1; }
done

make -s build BIN="$OUT/heartbeat_exporter" # as released (static)
"$OUT/heartbeat_exporter" --web.listen-address=$ADDR --web.max-requests=$MAX --log.level=warn \
  --config.file=examples/demo/heartbeat.yml --path.procfs=examples/demo/proc \
  --path.sysfs=examples/demo/sys --path.rootfs=examples/demo/root 2>"$OUT/load-exporter.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "http://$ADDR/metrics" && break; sleep 0.05; done

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
metric() { curl -s "http://$ADDR/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

# Warm up, then measure at rest.
hey -n 200 -c 4 "http://$ADDR/metrics" >/dev/null
rss_before=$(rss_kb)
goroutines_before=$(metric go_goroutines)
rejected_before=$(metric heartbeat_exporter_scrapes_rejected_total)

# Two rounds: memory that keeps growing from the first to the second would
# be a leak; the first round's growth is the Go heap sizing itself.
t0=$(cpu_ticks)
hey -z "$DURATION" -c "$CONC" "http://$ADDR/metrics" >"$OUT/load-hey-1.txt"
kill -0 $pid || { echo "FAIL: the exporter died under load" >&2; exit 1; }
sleep 2
rss_round1=$(rss_kb)
hey -z "$DURATION" -c "$CONC" "http://$ADDR/metrics" >"$OUT/load-hey.txt"
t1=$(cpu_ticks)
kill -0 $pid || { echo "FAIL: the exporter died under load" >&2; exit 1; }
sleep 2 # let in-flight work settle
rss_after=$(rss_kb)
goroutines_after=$(metric go_goroutines)
# The counter covers both rounds: count the first round's 503s too.
refused1=$(awk '/\[503\]/ {print $2}' "$OUT/load-hey-1.txt"); refused1=${refused1:-0}
rejected=$(( $(metric heartbeat_exporter_scrapes_rejected_total) - rejected_before ))
ok=$(awk '/\[200\]/ {print $2}' "$OUT/load-hey.txt"); ok=${ok:-0}
refused=$(awk '/\[503\]/ {print $2}' "$OUT/load-hey.txt"); refused=$(( ${refused:-0} + refused1 ))
other=$(awk '/^  \[[0-9]+\]/ && $1 != "[200]" && $1 != "[503]" {n += $2} END {print n + 0}' "$OUT/load-hey.txt")
errors=$(awk '/^Error distribution:/ {f=1; next} f && /\[[0-9]+\]/ {n += $1} END {print n + 0}' "$OUT/load-hey.txt")
rps=$(awk '/Requests\/sec:/ {print $2}' "$OUT/load-hey.txt")
p50=$(awk '/ 50% in / {print $3}' "$OUT/load-hey.txt")
p99=$(awk '/ 99% in / {print $3}' "$OUT/load-hey.txt")
hz=$(getconf CLK_TCK)

printf '\nload: %s concurrent scrapers for %s, --web.max-requests=%s, demo data\n' "$CONC" "$DURATION" "$MAX"
printf '%-38s %s\n' "requests/s" "$rps" \
  "200 answers (round 2)" "$ok" \
  "503 answers (hey, both rounds)" "$refused" \
  "heartbeat_exporter_scrapes_rejected_total +" "$rejected" \
  "other statuses / transport errors" "$other / $errors" \
  "latency p50 / p99 (s, round 2)" "$p50 / $p99" \
  "exporter CPU (s, both rounds)" "$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN {printf "%.1f", (b - a) / hz}')" \
  "RSS at rest / after 1 / after 2 (MiB)" "$(awk -v a="$rss_before" -v b="$rss_round1" -v c="$rss_after" 'BEGIN {printf "%.1f / %.1f / %.1f", a / 1024, b / 1024, c / 1024}')" \
  "goroutines at rest / after" "$goroutines_before / $goroutines_after"
[ "$refused" = "$rejected" ] || { echo "FAIL: 503s seen ($refused) != rejected counter ($rejected)" >&2; exit 1; }
[ "$other" = 0 ] && [ "$errors" = 0 ] || { echo "FAIL: answers other than 200/503" >&2; exit 1; }
echo "OK: no crash, every refusal a counted 503"
