#!/usr/bin/env bash
# Every side-by-side benchmark at a size that finishes in minutes, then one
# table: work, ours, peer, ratio (ours / peer), target, met or not. Each
# script's own output (medians, details) goes to bench/out/all/NAME.txt.
# The machine may be shared: the ratios, measured in the same run, are
# what to read; the absolute times are rough.
#
# Needs what the scripts need: hyperfine, jq, curl, /usr/bin/time, mtail,
# prometheus-node-exporter, prometheus-process-exporter, python3.
# Usage: bench/all.sh    (make bench-all)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out/all
mkdir -p "$OUT"
export BENCH_RESULTS=$OUT/results.txt
: >"$BENCH_RESULTS"
failed=()
run() {
  local name=$1
  shift
  echo "== $name: $*" >&2
  if ! "$@" >"$OUT/$name.txt" 2>&1; then
    failed+=("$name")
    echo "   failed: see $OUT/$name.txt" >&2
  fi
}
run scrape bench/scrape-vs-node-exporter.sh 100
run textfile bench/textfile-vs-node-exporter.sh 5 100000
run services bench/services-vs-process-exporter.sh 200 5 50
run logs-mtail bench/logs-vs-mtail.sh 32 3
run logs-other bench/logs-other.sh 256 3
run quarantine-du bench/quarantine-vs-du.sh 50000 3
run quarantine-shapes bench/quarantine-shapes.sh 50000 7
run heartbeat-size bench/heartbeat-size.sh

printf '\n'
{
  echo "work|ours|peer|ratio|target|met"
  cat "$BENCH_RESULTS"
} | column -t -s '|'
echo
echo "$(grep -c '|met$' "$BENCH_RESULTS") of $(grep -vc '|info$' "$BENCH_RESULTS") targets met; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: ratios from the same run)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "benches that failed: ${failed[*]} (see $OUT/)"
  exit 1
fi
