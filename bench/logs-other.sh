#!/usr/bin/env bash
# Logs on data the project did not tune for: two generated mail logs
# (bench/mailgen: Debian 12 rsyslog RFC 3339 stamps with spamd and
# freshclam lines; classic syslog stamps, 68 % amavis, 1 % clamd FOUND),
# each read once by
#   - bench/logsbench with the embedded default's presets for mail.log
#     (amavis, postfix, clamd, spamd, errors), and with five operator rules;
#   - the exporter itself, started on the file with start_at: beginning,
#     timed from its start until it published the last line (with and
#     without a state folder);
# against `grep -cE 'error|Blocked SPAM|Blocked INFECTED'` on the same file,
# in one run (medians). Generated files are removed at the end.
#
# Needs: hyperfine, curl, jq, GNU grep, python3.
# Usage: bench/logs-other.sh [SIZE_MIB] [RUNS]   (defaults 256, 5)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SIZE_MIB=${1:-256}
RUNS=${2:-5}
OUT=bench/out/logs-other
mkdir -p "$OUT"
for c in hyperfine curl jq grep python3; do
  command -v "$c" >/dev/null || { echo "missing $c" >&2; exit 1; }
done
DATA=$(mktemp -d /tmp/hb-logs-other.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT
go build -o "$OUT/mailgen" ./bench/mailgen
go build -o "$OUT/logsbench" ./bench/logsbench
make -s build BIN="$OUT/heartbeat_exporter" # as released (static)
export LC_ALL=C
PRESETS=amavis,postfix,clamd,spamd,errors
RULES=(-rule 'dccproc: error' -rule 'status=bounced' -rule 'lost connection after \w+ from'
  -rule 'Client host rejected' -rule 'SSL error')

# exporter_seconds LOG LINES STATE: seconds from the exporter's start until
# it has published every line of LOG: its own heartbeat_log_last_read_
# timestamp_seconds (the time of that publication) minus the start time.
# Polled every 0.5 s: the time is the exporter's own (the last read's
# timestamp), and the poll only has to see that it is done. curl and awk
# started every 10 ms took a good part of the 2 CPUs from the exporter
# they were timing; every 0.1 s they still did: on the classic log
# 0.36-0.38 s polled every 0.1 s, 0.30-0.31 s polled once after 1.2 s
# (same binary, alternated).
exporter_seconds() {
  local log=$1 lines=$2 state=$3 addr t0 n m
  addr=$(free_addr)
  cat >"$DATA/hb.yml" <<YML
logs:
  - path: $log
    presets: [${PRESETS//,/, }]
    start_at: beginning
YML
  rm -rf "$DATA/state" && mkdir -p "$DATA/state"
  t0=$(date +%s.%N)
  "$OUT/heartbeat_exporter" --web.listen-address=$addr --config.file="$DATA/hb.yml" \
    --state.dir="$state" --web.disable-exporter-metrics --log.level=error &
  pid=$!
  while :; do
    m=$(curl -s "http://$addr/metrics?collect[]=logs" 2>/dev/null || true)
    n=$(awk '/^heartbeat_log_lines_total/ {printf "%d", $2}' <<<"$m")
    [ "${n:-0}" = "$lines" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "exporter exited" >&2; return 1; }
    sleep 0.5
  done
  awk -v t0="$t0" '/^heartbeat_log_last_read_timestamp_seconds/ {print $2 - t0}' <<<"$m"
  # its CPU seconds (user + system, clock ticks of 1/100 s), for the record
  awk -v file="$log" -v st="${state:+state}" '{print file, st, ($14 + $15) / 100}' "/proc/$pid/stat" >>"$OUT/exporter-cpu.txt"
  kill "$pid" && wait "$pid" 2>/dev/null || true
  pid=
}

: >"$OUT/exporter-cpu.txt"
for style in rsyslog classic; do
  log=$DATA/$style.log
  "$OUT/mailgen" -style "$style" -mib "$SIZE_MIB" >"$log"
  lines=$(wc -l <"$log")
  echo "== $style: $SIZE_MIB MiB, $lines lines"
  "$OUT/logsbench" -presets "$PRESETS" "$log" | tee "$OUT/$style-counts.txt" | tr '\n' ';' | cut -c1-300; echo
  # GNU grep stops at the first match when its output is /dev/null (as under
  # hyperfine): pipe it through cat so it reads the whole file.
  hyperfine --runs "$RUNS" --warmup 1 --export-json "$OUT/$style.json" \
    -n default "$OUT/logsbench -presets $PRESETS $log" \
    -n rules "$OUT/logsbench -presets '' ${RULES[*]@Q} $log" \
    -n grep "grep -cE 'error|Blocked SPAM|Blocked INFECTED' $log | cat" >"$OUT/$style-hyperfine.txt"
  grep_s=$(hyperfine_median "$OUT/$style.json" grep)
  result "logs $style: default presets (logsbench)" "$(hyperfine_median "$OUT/$style.json" default)" "$grep_s" 1.5
  result "logs $style: 5 operator rules (logsbench)" "$(hyperfine_median "$OUT/$style.json" rules)" "$grep_s" 1.5
  for state in "" "$DATA/state"; do
    s=$(for _ in $(seq 3); do exporter_seconds "$log" "$lines" "$state"; done | median)
    result "logs $style: exporter backlog, $([ -n "$state" ] && echo with || echo no) state dir" "$s" "$grep_s" 1.5
  done
  rm -f "$log"
done
echo "(machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); details in $OUT/)"
