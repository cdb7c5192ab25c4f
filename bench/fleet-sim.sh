#!/usr/bin/env bash
# Fleet simulation: N exporters on loopback ports, all on the demo data,
# and one real Prometheus scraping them all (file_sd, instance labels as in
# examples/prometheus-fleet.yml) for DURATION seconds. Prints series per
# exporter, scrape duration, Prometheus CPU and memory, and exporter CPU
# per scrape, the figures the README's "Fleet" section extrapolates from.
#
# Needs: prometheus, curl, jq (Debian: prometheus curl jq). Loopback only.
# Usage: bench/fleet-sim.sh [N] [DURATION_SECONDS] [SCRAPE_INTERVAL]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100}
DURATION=${2:-120}
INTERVAL=${3:-5s}
OUT=bench/out/fleet
. bench/lib.sh
PROM=${PROM_ADDR:-$(free_addr)}
for c in prometheus curl jq; do
  command -v "$c" >/dev/null || { echo "missing $c (apt-get install prometheus curl jq)" >&2; exit 1; }
done
rm -rf "$OUT"; mkdir -p "$OUT/targets"
make -s build BIN="$OUT/heartbeat_exporter" # as released (static)

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'cleanup; rm -rf "$OUT/data"' EXIT

exporter_pids=()
: >"$OUT/targets/fleet.yml"
for i in $(seq 1 "$N"); do
  addr=$(free_addr)
  "$OUT/heartbeat_exporter" --web.listen-address=$addr --log.level=warn \
    --config.file=examples/demo/heartbeat.yml --path.procfs=examples/demo/proc \
    --path.sysfs=examples/demo/sys --path.rootfs=examples/demo/root 2>>"$OUT/exporters.log" &
  pids+=($!); exporter_pids+=($!)
  printf -- "- targets: ['%s']\n  labels: {instance: gw-%04d, customer: sim, site: lo}\n" "$addr" "$i" >>"$OUT/targets/fleet.yml"
done

cat >"$OUT/prometheus.yml" <<YML
global: {scrape_interval: $INTERVAL, scrape_timeout: 4s}
scrape_configs:
  - job_name: fleet
    file_sd_configs: [{files: ['$PWD/$OUT/targets/*.yml']}]
  - job_name: prometheus
    static_configs: [{targets: ['$PROM']}]
YML
prometheus --config.file="$OUT/prometheus.yml" --storage.tsdb.path="$OUT/data" \
  --web.listen-address=$PROM --log.level=warn 2>"$OUT/prometheus.log" &
prom_pid=$!; pids+=($prom_pid)

for _ in $(seq 200); do curl -sf -o /dev/null "http://$PROM/-/ready" && break; sleep 0.1; done
q() { curl -s "http://$PROM/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // "n/a"'; }
ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
rss_mib() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

# Let every target be scraped once, then measure over DURATION.
sleep 15
exp_t0=$(ticks "${exporter_pids[@]}"); prom_t0=$(ticks $prom_pid)
sleep "$DURATION"
exp_t1=$(ticks "${exporter_pids[@]}"); prom_t1=$(ticks $prom_pid)
scrapes=$(q 'sum(count_over_time(up{job="fleet"}['"$DURATION"'s]))')
failed=$(q 'sum(count_over_time((up{job="fleet"} == 0)['"$DURATION"'s:'"$INTERVAL"'])) or vector(0)')
load=$(cut -d' ' -f1-3 /proc/loadavg)

exp_rss_total=0
for p in "${exporter_pids[@]}"; do exp_rss_total=$((exp_rss_total + $(rss_mib "$p"))); done
up=$(q 'sum(up{job="fleet"})')
series=$(q 'count({job="fleet"}) / count(up{job="fleet"})')
hb_series=$(q 'count({job="fleet",__name__=~"heartbeat_.*"}) / count(up{job="fleet"})')
samples_scraped=$(q 'avg(scrape_samples_scraped{job="fleet"})')
dur_avg=$(q 'avg(avg_over_time(scrape_duration_seconds{job="fleet"}['"$DURATION"'s]))')
dur_max=$(q 'max(max_over_time(scrape_duration_seconds{job="fleet"}['"$DURATION"'s]))')
head_series=$(q 'prometheus_tsdb_head_series')
ingest=$(q 'rate(prometheus_tsdb_head_samples_appended_total['"$DURATION"'s])')
heap=$(q 'go_memstats_heap_inuse_bytes{job="prometheus"} / 1048576')

printf '\nfleet: %d exporters (demo data), one Prometheus, scrape every %s, measured over %ss\n' "$N" "$INTERVAL" "$DURATION"
printf '%-44s %s\n' \
  "targets up" "$up / $N" \
  "series per exporter (all / heartbeat_*)" "$series / $hb_series" \
  "samples per scrape (as Prometheus counts)" "$samples_scraped" \
  "scrape duration avg / max (s)" "$dur_avg / $dur_max" \
  "Prometheus head series" "$head_series" \
  "Prometheus samples appended /s" "$ingest" \
  "Prometheus CPU (cores)" "$(awk -v a="$prom_t0" -v b="$prom_t1" -v hz="$hz" -v d="$DURATION" 'BEGIN {printf "%.3f", (b - a) / hz / d}')" \
  "Prometheus RSS / Go heap in use (MiB)" "$(rss_mib $prom_pid) / $(printf '%.0f' "$heap")" \
  "scrapes in the window / failed" "$scrapes / $failed" \
  "machine load average (shared host)" "$load" \
  "exporter CPU per scrape (ms)" "$(awk -v a="$exp_t0" -v b="$exp_t1" -v hz="$hz" -v n="$scrapes" 'BEGIN {printf "%.2f", (b - a) / hz * 1000 / n}')" \
  "exporter RSS, mean (MiB)" "$((exp_rss_total / N))"
