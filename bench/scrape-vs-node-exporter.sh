#!/usr/bin/env bash
# Scrape latency, CPU per scrape and memory: heartbeat_exporter (system +
# filesystem collectors) against Debian's prometheus-node-exporter limited
# to its equivalent collectors (loadavg, meminfo, filesystem, os, uname),
# both on this host's real /proc and /sys, in one run.
#
# Needs: hyperfine, curl, jq, /usr/bin/time (Debian: hyperfine curl jq time
# prometheus-node-exporter). Usage: bench/scrape-vs-node-exporter.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${1:-300}
OUT=bench/out
mkdir -p "$OUT"
for c in hyperfine curl jq /usr/bin/time prometheus-node-exporter; do
  command -v "$c" >/dev/null || { echo "missing $c (apt-get install hyperfine curl jq time prometheus-node-exporter)" >&2; exit 1; }
done

make -s build BIN="$OUT/heartbeat_exporter" # as released (static)
. bench/lib.sh
OURS=$(free_addr)
PEER=$(free_addr)

# The same file systems on both sides: "/" only.
cat >"$OUT/bench.yml" <<'YML'
filesystem:
  paths: [/]
YML

pids=()
# Stop the exporters themselves (children of /usr/bin/time), so that time
# prints their peak RSS and exits.
cleanup() {
  for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

/usr/bin/time -v -o "$OUT/ours.time" "$OUT/heartbeat_exporter" \
  --web.listen-address=$OURS --config.file="$OUT/bench.yml" \
  --web.disable-exporter-metrics --log.level=warn &
pids+=($!)
/usr/bin/time -v -o "$OUT/peer.time" prometheus-node-exporter \
  --web.listen-address=$PEER --web.disable-exporter-metrics \
  --collector.disable-defaults --collector.loadavg --collector.meminfo \
  --collector.filesystem --collector.os --collector.uname \
  --collector.filesystem.mount-points-exclude='^/.+' --log.level=warn &
pids+=($!)

wait_up() { for _ in $(seq 100); do curl -sf -o /dev/null "http://$1/metrics" && return; sleep 0.05; done; echo "$1 did not come up" >&2; exit 1; }
wait_up $OURS; wait_up $PEER

# The exporter's own pid is the child of /usr/bin/time.
child() { pgrep -P "$1" | head -n1; }
ours_pid=$(child "${pids[0]}"); peer_pid=$(child "${pids[1]}")
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

sleep 1
ours_idle=$(rss_kb "$ours_pid"); peer_idle=$(rss_kb "$peer_pid")
ours_series=$(curl -s "http://$OURS/metrics" | grep -vc '^#')
peer_series=$(curl -s "http://$PEER/metrics" | grep -vc '^#')

# Server-side view: one kept-alive connection, scrapes interleaved.
go build -o "$OUT/scrapeclient" ./bench/scrapeclient
"$OUT/scrapeclient" -n "$RUNS" ours="http://$OURS/metrics" peer="http://$PEER/metrics" >"$OUT/keepalive.txt"

ours_t0=$(cpu_ticks "$ours_pid"); peer_t0=$(cpu_ticks "$peer_pid")
hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$OUT/latency.json" \
  -n heartbeat_exporter "curl -s -o /dev/null http://$OURS/metrics" \
  -n node_exporter "curl -s -o /dev/null http://$PEER/metrics" >"$OUT/hyperfine.txt"
ours_t1=$(cpu_ticks "$ours_pid"); peer_t1=$(cpu_ticks "$peer_pid")
scrapes=$((RUNS + 20))
hz=$(getconf CLK_TCK)

cleanup; pids=()
maxrss() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }

median_ms() { jq -r --arg n "$1" '.results[] | select(.command==$n) | .median * 1000' "$OUT/latency.json"; }
ours_med=$(median_ms heartbeat_exporter); peer_med=$(median_ms node_exporter)

printf '\n%-22s %18s %18s %8s\n' "" heartbeat_exporter node_exporter ratio
row() { printf '%-22s %18s %18s %8s\n' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }')"; }
row "series" "$ours_series" "$peer_series"
row "median scrape (ms)" "$(awk '$1=="ours" {print $2}' "$OUT/keepalive.txt")" "$(awk '$1=="peer" {print $2}' "$OUT/keepalive.txt")"
row "p90 scrape (ms)" "$(awk '$1=="ours" {print $3}' "$OUT/keepalive.txt")" "$(awk '$1=="peer" {print $3}' "$OUT/keepalive.txt")"
row "median curl (ms)" "$(printf '%.3f' "$ours_med")" "$(printf '%.3f' "$peer_med")"
row "CPU per scrape (ms)" "$(awk -v d=$((ours_t1-ours_t0)) -v n=$scrapes -v hz="$hz" 'BEGIN{printf "%.3f", d*1000/hz/n}')" \
                          "$(awk -v d=$((peer_t1-peer_t0)) -v n=$scrapes -v hz="$hz" 'BEGIN{printf "%.3f", d*1000/hz/n}')"
row "idle RSS (KiB)" "$ours_idle" "$peer_idle"
row "max RSS (KiB)" "$(maxrss "$OUT/ours.time")" "$(maxrss "$OUT/peer.time")"
echo
echo "(scrape: kept-alive Go client, interleaved; curl: hyperfine running curl, process start-up included;"
echo " CPU per scrape over the hyperfine runs; $RUNS runs each; details in $OUT/)"
result "scrape: median kept-alive scrape vs node_exporter" "$(awk '$1=="ours" {print $2}' "$OUT/keepalive.txt")" "$(awk '$1=="peer" {print $2}' "$OUT/keepalive.txt")" 1.0 ms
result "scrape: idle RSS vs node_exporter" "$(awk -v k="$ours_idle" 'BEGIN {print k / 1024}')" "$(awk -v k="$peer_idle" 'BEGIN {print k / 1024}')" 1.0 MiB
