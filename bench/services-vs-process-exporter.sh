#!/usr/bin/env bash
# Services collector: heartbeat_exporter against Debian's
# prometheus-process-exporter, both watching the same N processes (copies
# of sleep under a name of their own, matched by process name), in one
# run. heartbeat_exporter reads /proc in a background poller and a scrape
# serves the last poll; process-exporter reads /proc at every scrape. So:
# CPU per background poll (ours, with no scrapes), CPU per scrape for
# both (ours includes the polls that ran meanwhile), and scrape latency
# (kept-alive, interleaved). CPU from /proc/PID/stat.
#
# process-exporter runs with -gather-smaps=false -threads=false, its
# cheapest mode, closest to what we read (stat, no smaps, no threads).
#
# Needs: curl, /usr/bin/time, prometheus-process-exporter.
# Usage: bench/services-vs-process-exporter.sh [PROCESSES] [SECONDS] [SCRAPES]
#        (defaults: 500 30 300)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${1:-500}
SECS=${2:-30}
SCRAPES=${3:-300}
POLL=250ms
OUT=bench/out/services
. bench/lib.sh
OURS=$(free_addr)
PEER=$(free_addr)
mkdir -p "$OUT"
for c in curl prometheus-process-exporter; do
  command -v "$c" >/dev/null || { echo "missing $c (apt-get install curl prometheus-process-exporter)" >&2; exit 1; }
done
make -s build BIN="$OUT/heartbeat_exporter" # as released (static)
go build -o "$OUT/scrapeclient" ./bench/scrapeclient

# N copies of sleep named hbbenchsleep (comm), so both exporters match
# exactly these processes.
cp "$(command -v sleep)" "$OUT/hbbenchsleep"
sleepers=()
pids=()
cleanup() {
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
  [ ${#sleepers[@]} -gt 0 ] && kill "${sleepers[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq "$N"); do "$OUT/hbbenchsleep" 3600 & sleepers+=($!); done

cat >"$OUT/ours.yml" <<YML
services:
  poll_interval: $POLL
  watch:
    - {name: hbbenchsleep, process: hbbenchsleep}
YML
cat >"$OUT/peer.yml" <<YML
process_names:
  - name: hbbenchsleep
    comm: [hbbenchsleep]
YML
"$OUT/heartbeat_exporter" --web.listen-address=$OURS --config.file="$OUT/ours.yml" \
  --no-collector.system --no-collector.filesystem --no-collector.textfile \
  --no-collector.quarantine --no-collector.corefiles --web.disable-exporter-metrics --log.level=warn &
pids+=($!)
prometheus-process-exporter -web.listen-address=$PEER -config.path="$OUT/peer.yml" \
  -gather-smaps=false -threads=false >/dev/null 2>&1 &
pids+=($!)
for a in $OURS $PEER; do
  for _ in $(seq 200); do curl -sf -o /dev/null "http://$a/metrics" && break; sleep 0.05; done
done
ours_pid=${pids[0]}; peer_pid=${pids[1]}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

ours_n=$(curl -s "http://$OURS/metrics" | awk '/^heartbeat_service_processes/ {print $2}')
peer_n=$(curl -s "http://$PEER/metrics" | awk '/^namedprocess_namegroup_num_procs/ {print $2}')

# Phase 1: no scrapes; ours polls every $POLL.
o0=$(cpu_ticks "$ours_pid"); p0=$(cpu_ticks "$peer_pid")
sleep "$SECS"
o1=$(cpu_ticks "$ours_pid"); p1=$(cpu_ticks "$peer_pid")
polls=$(awk -v s="$SECS" -v p="${POLL%ms}" 'BEGIN{print s*1000/p}')

# Phase 2: scrapes, in turn.
"$OUT/scrapeclient" -n "$SCRAPES" -warmup 5 ours="http://$OURS/metrics" peer="http://$PEER/metrics" >"$OUT/scrape.txt"
o2=$(cpu_ticks "$ours_pid"); p2=$(cpu_ticks "$peer_pid")
scrapes=$((SCRAPES + 5))

ms() { awk -v d="$1" -v n="$2" -v hz="$hz" 'BEGIN{printf "%.2f", d*1000/hz/n}'; }
ka() { awk -v n="$1" -v c="$2" '$1==n {print $c}' "$OUT/scrape.txt"; }
printf '\n%-40s %18s %26s\n' "$N processes matched" heartbeat_exporter prometheus-process-exporter
printf '%-40s %18s %26s\n' "processes seen" "$ours_n" "$peer_n"
printf '%-40s %18s %26s\n' "CPU per background poll (ms)" "$(ms $((o1 - o0)) "$polls")" "- (none; $((p1 - p0)) ticks idle)"
printf '%-40s %18s %26s\n' "CPU per scrape (ms)" "$(ms $((o2 - o1)) $scrapes)" "$(ms $((p2 - p1)) $scrapes)"
printf '%-40s %18s %26s\n' "scrape p50 (ms)" "$(ka ours 2)" "$(ka peer 2)"
printf '%-40s %18s %26s\n' "scrape p99 (ms)" "$(ka ours 5)" "$(ka peer 5)"
echo "(ours polls every $POLL, $polls polls in ${SECS}s without scrapes; $scrapes scrapes each, kept-alive, in turn;"
echo " ours' CPU per scrape includes its polls during the scrapes; $(prometheus-process-exporter -version 2>&1 | head -1))"
result "services $N processes: CPU per scrape vs process-exporter" "$(ms $((o2 - o1)) $scrapes)" "$(ms $((p2 - p1)) $scrapes)" 1.0 ms
result "services $N processes: scrape p50 vs process-exporter" "$(ka ours 2)" "$(ka peer 2)" 1.0 ms
