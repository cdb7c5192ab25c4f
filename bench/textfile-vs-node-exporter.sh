#!/usr/bin/env bash
# Textfile collector: heartbeat_exporter against Debian's
# prometheus-node-exporter (--collector.disable-defaults --collector.textfile),
# both serving the same generated folder of 10 *.prom files, in one run, for
# 10k and 100k series (counters, gauges and one histogram family, 3 labels
# each; the files do not change during the run). Per size: median and p90
# scrape latency over a kept-alive connection (what Prometheus sees, gzip
# included), median latency of curl (hyperfine -N), CPU per scrape (from
# /proc/PID/stat) and peak RSS (/usr/bin/time -v).
#
# Needs: hyperfine, curl, jq, /usr/bin/time, prometheus-node-exporter.
# Usage: bench/textfile-vs-node-exporter.sh [RUNS] [SIZES...]
#        (defaults: 20 runs, sizes 10000 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${1:-20}
shift || true
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000 100000)
OUT=bench/out/textfile
mkdir -p "$OUT"
for c in hyperfine curl jq /usr/bin/time prometheus-node-exporter; do
  command -v "$c" >/dev/null || { echo "missing $c (apt-get install hyperfine curl jq time prometheus-node-exporter)" >&2; exit 1; }
done

make -s build BIN="$OUT/heartbeat_exporter" # as released (static)
go build -o "$OUT/scrapeclient" ./bench/scrapeclient
. bench/lib.sh
OURS=$(free_addr)
PEER=$(free_addr)

# gen DIR TOTAL: 10 files of TOTAL/10 series each, written atomically. The
# three families are shared by all files (told apart by a file label), so
# both exporters merge them.
gen() {
  local dir=$1 total=$2
  mkdir -p "$dir"
  rm -f "$dir"/*.prom
  for f in $(seq 0 9); do
    awk -v f="$f" -v per=$((total / 10)) 'BEGIN {
      hist = int(per * 0.10 / 13); if (hist < 1) hist = 1   # 13 samples per histogram
      rest = per - hist * 13; ctr = int(rest / 2); gau = rest - ctr
      print "# HELP bench_events_total Events seen by the generated job."
      print "# TYPE bench_events_total counter"
      for (i = 0; i < ctr; i++) printf "bench_events_total{file=\"f%d\",kind=\"k%d\",shard=\"s%d\"} %d\n", f, i % 100, int(i / 100), i * 7
      print "# HELP bench_queue_messages Messages waiting, per queue."
      print "# TYPE bench_queue_messages gauge"
      for (i = 0; i < gau; i++) printf "bench_queue_messages{file=\"f%d\",host=\"h%d\",queue=\"q%d\"} %d\n", f, i % 100, int(i / 100), i % 977
      print "# HELP bench_request_duration_seconds Request latency."
      print "# TYPE bench_request_duration_seconds histogram"
      n = split("0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5", le, " ")
      for (i = 0; i < hist; i++) {
        lbl = sprintf("file=\"f%d\",method=\"m%d\",status=\"s%d\"", f, i % 10, int(i / 10))
        for (b = 1; b <= n; b++) printf "bench_request_duration_seconds_bucket{%s,le=\"%s\"} %d\n", lbl, le[b], b * 10
        printf "bench_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", lbl, 110
        printf "bench_request_duration_seconds_sum{%s} %g\n", lbl, i * 0.37
        printf "bench_request_duration_seconds_count{%s} %d\n", lbl, 110
      }
    }' >"$dir/gen$f.prom.tmp"
    mv "$dir/gen$f.prom.tmp" "$dir/gen$f.prom"
  done
}

pids=()
# Stop the exporters themselves (children of /usr/bin/time), so that time
# prints their peak RSS and exits.
cleanup() {
  for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}
trap 'cleanup; rm -rf "$OUT"/data-*' EXIT

wait_up() { for _ in $(seq 200); do curl -sf -o /dev/null "http://$1/metrics" && return; sleep 0.05; done; echo "$1 did not come up" >&2; exit 1; }
child() { pgrep -P "$1" | head -n1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
maxrss() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }
median_ms() { jq -r --arg n "$1" '.results[] | select(.command==$n) | .median * 1000' "$2"; }
hz=$(getconf CLK_TCK)

results=()
for size in "${SIZES[@]}"; do
  dir=$(realpath -m "$OUT/data-$size")
  gen "$dir" "$size"
  cat >"$OUT/bench-$size.yml" <<YML
textfile:
  directories: [$dir]
YML

  /usr/bin/time -v -o "$OUT/ours-$size.time" "$OUT/heartbeat_exporter" \
    --web.listen-address=$OURS --config.file="$OUT/bench-$size.yml" \
    --no-collector.system --no-collector.filesystem \
    --web.disable-exporter-metrics --log.level=warn &
  pids+=($!)
  /usr/bin/time -v -o "$OUT/peer-$size.time" prometheus-node-exporter \
    --web.listen-address=$PEER --web.disable-exporter-metrics \
    --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$dir" --log.level=warn &
  pids+=($!)
  wait_up $OURS; wait_up $PEER
  ours_pid=$(child "${pids[0]}"); peer_pid=$(child "${pids[1]}")

  ours_series=$(curl -s "http://$OURS/metrics" | grep -vc '^#')
  peer_series=$(curl -s "http://$PEER/metrics" | grep -vc '^#')
  diff <(curl -s "http://$OURS/metrics" | grep '^bench_') <(curl -s "http://$PEER/metrics" | grep '^bench_') >/dev/null ||
    echo "warning: the bench_* series differ between the two exporters ($size)" >&2

  "$OUT/scrapeclient" -n "$RUNS" -warmup 3 ours="http://$OURS/metrics" peer="http://$PEER/metrics" >"$OUT/keepalive-$size.txt"

  ours_t0=$(cpu_ticks "$ours_pid"); peer_t0=$(cpu_ticks "$peer_pid")
  hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$OUT/latency-$size.json" \
    -n heartbeat_exporter "curl -s -o /dev/null http://$OURS/metrics" \
    -n node_exporter "curl -s -o /dev/null http://$PEER/metrics" >"$OUT/hyperfine-$size.txt"
  ours_t1=$(cpu_ticks "$ours_pid"); peer_t1=$(cpu_ticks "$peer_pid")
  scrapes=$((RUNS + 3))
  cleanup

  ka() { awk -v n="$1" -v c="$2" '$1==n {print $c}' "$OUT/keepalive-$size.txt"; }
  cpu() { awk -v d="$1" -v n=$scrapes -v hz="$hz" 'BEGIN{printf "%.1f", d*1000/hz/n}'; }
  results+=("$size|series|$ours_series|$peer_series")
  results+=("$size|median scrape (ms)|$(ka ours 2)|$(ka peer 2)")
  results+=("$size|p90 scrape (ms)|$(ka ours 3)|$(ka peer 3)")
  results+=("$size|median curl (ms)|$(printf '%.1f' "$(median_ms heartbeat_exporter "$OUT/latency-$size.json")")|$(printf '%.1f' "$(median_ms node_exporter "$OUT/latency-$size.json")")")
  results+=("$size|CPU per scrape (ms)|$(cpu $((ours_t1 - ours_t0)))|$(cpu $((peer_t1 - peer_t0)))")
  results+=("$size|max RSS (KiB)|$(maxrss "$OUT/ours-$size.time")|$(maxrss "$OUT/peer-$size.time")")
done

printf '\n%-8s %-22s %18s %18s %8s\n' series "" heartbeat_exporter node_exporter ratio
for r in "${results[@]}"; do
  IFS='|' read -r size what a b <<<"$r"
  printf '%-8s %-22s %18s %18s %8s\n' "$size" "$what" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "-" }')"
done
echo
echo "(unchanged files; scrape: kept-alive Go client with gzip, interleaved; curl: hyperfine running curl,"
echo " no compression, process start-up included; CPU per scrape over the hyperfine runs; $RUNS runs each;"
echo " node_exporter $(prometheus-node-exporter --version 2>&1 | awk 'NR==1 {print $3}'); details in $OUT/)"
# The target is at the largest size: latency at most half node_exporter's, no more memory.
for r in "${results[@]}"; do
  IFS='|' read -r size what a b <<<"$r"
  [ "$size" = "${SIZES[*]: -1}" ] || continue
  case $what in
    "median scrape (ms)") result "textfile $size series: median scrape vs node_exporter" "$a" "$b" 0.5 ms ;;
    "max RSS (KiB)") result "textfile $size series: max RSS vs node_exporter" "$(awk -v k="$a" 'BEGIN {print k / 1024}')" "$(awk -v k="$b" 'BEGIN {print k / 1024}')" 1.0 MiB ;;
  esac
done
