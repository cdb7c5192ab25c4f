#!/usr/bin/env bash
# Rule evaluation cost of the heartbeat mixin over a simulated fleet.
#
# One real heartbeat_exporter serves the demo tree plus a textfile that
# stands in for the mail collectors (messages by source and verdict,
# viruses, log errors, quarantine, modules, services, SNF; counters rising
# every few seconds). The textfile collector refuses the exporter's own
# names, so the file says bench_heartbeat_* and Prometheus strips the
# prefix (metric_relabel_configs). A real Prometheus scrapes it
# as N targets (distinct instance labels set in static_configs), loads the
# rendered alerts/alerts.yaml and alerts/rules.yaml unchanged, and scrapes
# itself. After the run the script reads, per rule group,
# prometheus_rule_group_last_duration_seconds (median and max over the run)
# and the number of series.
#
# The synthetic values keep the alerts quiet (fresh definitions, services
# up): the cost measured is the steady state, not an alert storm (with
# 1000 stale-definition alerts firing, heartbeat-modules took ~0.4 s). The
# filesystem alerts depend on the real disk under bench/out.
#
# Caveat: the fleet is only minutes old, so the 24 h and 7 d windows read
# minutes of samples; with a full day of history, the 24 h group reads
# about (24 h / scrape interval) samples per series.
#
# Needs: prometheus, curl, jq. Usage: bench/rules-fleet.sh [N] [SECONDS]
#        (defaults: 500 instances, 300 s)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500}
DURATION=${2:-300}
SCRAPE=${SCRAPE:-30s}
OUT=bench/out/rules-fleet
rm -rf "$OUT"
mkdir -p "$OUT"
for c in prometheus curl jq; do
  command -v "$c" >/dev/null || { echo "missing $c (apt-get install prometheus curl jq)" >&2; exit 1; }
done
. bench/lib.sh
EXPORTER=$(free_addr)
PROM=$(free_addr)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap 'cleanup; rm -rf "$OUT/data"' EXIT

make -s build BIN="$OUT/heartbeat_exporter" # as released (static)

# The host tree: the demo's, with a quarantine folder and a textfile
# directory of our own.
root=$OUT/root
cp -r examples/demo/root "$root"
mkdir -p "$root/var/lib/amavis/virusmails" "$root/bench-textfile"
cat >"$OUT/heartbeat.yml" <<YML
node: {id: bench}
filesystem:
  paths: [/, /var/log, /var/spool/postfix, /var/lib/amavis/virusmails]
textfile:
  directories: [/bench-textfile]
YML

# textfile T: the mail collectors' series with values growing with T.
textfile() {
  local t=$1
  awk -v t="$t" -v now="$(date +%s)" 'BEGIN {
    split("clean spam spammy virus banned bad_header unchecked mta_blocked oversized other tempfail", av, " ")
    print "# TYPE bench_heartbeat_messages_total counter"
    for (i in av) printf "bench_heartbeat_messages_total{source=\"amavis\",verdict=\"%s\"} %d\n", av[i], t * i
    printf "bench_heartbeat_messages_total{source=\"spamd\",verdict=\"spam\"} %d\n", t * 3
    printf "bench_heartbeat_messages_total{source=\"spamd\",verdict=\"clean\"} %d\n", t * 5
    printf "bench_heartbeat_messages_total{source=\"snf\",verdict=\"spam\"} %d\n", t * 3
    printf "bench_heartbeat_messages_total{source=\"snf\",verdict=\"ham\"} %d\n", t * 5
    print "# TYPE bench_heartbeat_viruses_found_total counter"
    printf "bench_heartbeat_viruses_found_total{source=\"clamd\"} %d\nbench_heartbeat_viruses_found_total{source=\"amavis\"} %d\n", t, t
    print "# TYPE bench_heartbeat_log_errors_total counter"
    printf "bench_heartbeat_log_errors_total{log=\"/var/log/mail.log\"} %d\nbench_heartbeat_log_errors_total{log=\"/var/log/clamav/freshclam.log\"} 0\n", t
    print "# TYPE bench_heartbeat_module_updates_total counter"
    printf "bench_heartbeat_module_updates_total{source=\"freshclam\",result=\"success\"} %d\nbench_heartbeat_module_updates_total{source=\"freshclam\",result=\"failure\"} 1\n", t / 60
    print "# TYPE bench_heartbeat_quarantine_info gauge"
    print "bench_heartbeat_quarantine_info{quarantine=\"amavis\",path=\"/var/lib/amavis/virusmails\"} 1"
    print "# TYPE bench_heartbeat_quarantine_disk_bytes gauge"
    printf "bench_heartbeat_quarantine_disk_bytes{quarantine=\"amavis\"} %d\n", 1e6 + t * 1000
    print "# TYPE bench_heartbeat_module_last_update_timestamp_seconds gauge"
    printf "bench_heartbeat_module_last_update_timestamp_seconds{module=\"virus\"} %d\nbench_heartbeat_module_last_update_timestamp_seconds{module=\"spam\"} %d\n", now - 3600, now - 86400
    print "# TYPE bench_heartbeat_module_update_last_success_timestamp_seconds gauge"
    print "bench_heartbeat_module_update_last_success_timestamp_seconds{module=\"virus\"} 1.7e9"
    print "# TYPE bench_heartbeat_module_update_last_failure_timestamp_seconds gauge"
    print "bench_heartbeat_module_update_last_failure_timestamp_seconds{module=\"virus\"} 1.6e9"
    split("clamd amavis spamd postfix snf", sv, " ")
    print "# TYPE bench_heartbeat_service_up gauge"
    for (i in sv) printf "bench_heartbeat_service_up{service=\"%s\"} 1\n", sv[i]
    print "# TYPE bench_heartbeat_service_restarts_total counter"
    for (i in sv) printf "bench_heartbeat_service_restarts_total{service=\"%s\"} 0\n", sv[i]
    print "# TYPE bench_heartbeat_core_file_newest_timestamp_seconds gauge"
    print "bench_heartbeat_core_file_newest_timestamp_seconds{dir=\"/var/crash\"} 1.6e9"
    print "# TYPE bench_heartbeat_snf_rulebase_update_ready gauge"
    print "bench_heartbeat_snf_rulebase_update_ready{node=\"snf1\"} 0"
    print "# TYPE bench_heartbeat_snf_gbudb_utilization_ratio gauge"
    print "bench_heartbeat_snf_gbudb_utilization_ratio{node=\"snf1\"} 0.4"
  }' >"$root/bench-textfile/mail.prom.tmp"
  mv "$root/bench-textfile/mail.prom.tmp" "$root/bench-textfile/mail.prom"
}
textfile 0
( t=0; while sleep 5; do t=$((t + 5)); textfile "$t"; done ) &
pids+=($!)

"$OUT/heartbeat_exporter" --web.listen-address=$EXPORTER --config.file="$OUT/heartbeat.yml" \
  --path.procfs=examples/demo/proc --path.sysfs=examples/demo/sys --path.rootfs="$root" \
  --log.level=warn 2>"$OUT/exporter.log" &
pids+=($!)

cp alerts/alerts.yaml alerts/rules.yaml "$OUT/"
{
  echo "global: {scrape_interval: $SCRAPE, evaluation_interval: $SCRAPE}"
  echo "rule_files: [alerts.yaml, rules.yaml]"
  echo "scrape_configs:"
  echo "  - job_name: prometheus"
  echo "    scrape_interval: 5s"
  echo "    static_configs: [{targets: ['$PROM']}]"
  echo "  - job_name: heartbeat"
  echo "    metric_relabel_configs:"
  echo "      - {source_labels: [__name__], regex: 'bench_(heartbeat_.*)', target_label: __name__, replacement: '\$1'}"
  echo "    static_configs:"
  for i in $(seq 1 "$N"); do
    echo "      - {targets: ['$EXPORTER'], labels: {instance: 'gw$i.example.net:10734'}}"
  done
} >"$OUT/prometheus.yml"
prometheus --config.file="$OUT/prometheus.yml" --storage.tsdb.path="$OUT/data" \
  --web.listen-address=$PROM --log.level=warn 2>"$OUT/prometheus.log" &
pids+=($!)

echo "rules-fleet: $N instances scraped every $SCRAPE for ${DURATION}s ..."
sleep "$DURATION"

q() { curl -sf "http://$PROM/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[] | "\(.metric.rule_group // "-")\t\(.value[1])"'; }
echo
echo "series in the head: $(q 'prometheus_tsdb_head_series' | cut -f2)"
echo "heartbeat targets up: $(q 'sum(up{job="heartbeat"})' | cut -f2)"
for r in heartbeat_instance:messages_processed:increase1h heartbeat_instance:spam_share:ratio1h heartbeat_quarantine:filesystem_usage:ratio; do
  echo "instances with $r: $(q "count($r)" | cut -f2)"
done
echo
printf '%-70s %10s %10s %10s\n' "rule group (file;name)" "evals" "median ms" "max ms"
for g in $(q 'prometheus_rule_group_last_duration_seconds' | cut -f1 | sort); do
  sel="prometheus_rule_group_last_duration_seconds{rule_group=\"$g\"}"
  med=$(q "quantile_over_time(0.5, ${sel}[${DURATION}s])" | cut -f2)
  max=$(q "max_over_time(${sel}[${DURATION}s])" | cut -f2)
  evals=$(q "prometheus_rule_group_iterations_total{rule_group=\"$g\"}" | cut -f2)
  printf '%-70s %10s %10.1f %10.1f\n' "${g#$PWD/}" "$evals" "$(echo "$med * 1000" | bc -l)" "$(echo "$max * 1000" | bc -l)"
done
