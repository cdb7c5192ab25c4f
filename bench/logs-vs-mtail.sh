#!/usr/bin/env bash
# Logs collector throughput: heartbeat_exporter's tailer + rule engine
# (bench/logsbench: internal/tail feeding internal/logrules with the
# amavis, postfix and errors presets) against Debian's mtail running the
# equivalent program bench/mtail/mail.mtail in --one_shot mode, with
# `grep -cE` over the same patterns (bench/mtail/grep-patterns.ere) as
# the floor, all on the same generated mail log, in one run.
# Prints per tool: median wall time (hyperfine), lines/s, CPU seconds and
# peak RSS (/usr/bin/time -v), and ours' RSS on a 1/16 file (flat in size?).
#
# Needs: hyperfine, /usr/bin/time (Debian time), mtail, GNU grep.
# Usage: [WARMUP=1] bench/logs-vs-mtail.sh [SIZE_MIB] [RUNS]   (defaults 1024, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SIZE_MIB=${1:-1024}
RUNS=${2:-3}
OUT=bench/out/logs
mkdir -p "$OUT"
for c in hyperfine /usr/bin/time mtail grep; do
  command -v "$c" >/dev/null || { echo "missing $c (apt-get install hyperfine time mtail grep)" >&2; exit 1; }
done
go build -o "$OUT/logsbench" ./bench/logsbench

# gen FILE MIB: the demo mail.log (real-shaped postfix, amavis, spamd,
# clamd lines, about half of them counted) doubled until MIB is reached,
# then cut to MIB at a line end.
gen() {
  local file=$1 mib=$2
  cp examples/demo/root/var/log/mail.log "$file"
  while [ "$(stat -c %s "$file")" -lt $((mib * 1024 * 1024)) ]; do
    cat "$file" "$file" >"$file.tmp" && mv "$file.tmp" "$file"
  done
  head -c $((mib * 1024 * 1024)) "$file" | head -n -1 >"$file.tmp" && mv "$file.tmp" "$file"
}
LOG=$OUT/mail.log
SMALL=$OUT/mail-small.log
gen "$LOG" "$SIZE_MIB"
gen "$SMALL" $((SIZE_MIB / 16 > 0 ? SIZE_MIB / 16 : 1))
trap 'rm -f "$LOG" "$SMALL"' EXIT
LINES=$(wc -l <"$LOG")
BYTES=$(stat -c %s "$LOG")
mkdir -p "$OUT/mtail-logs"

export LC_ALL=C
OURS="$OUT/logsbench $LOG"
MTAIL="mtail --one_shot --one_shot_format=json --logs $LOG --progs bench/mtail --emit_prog_label=false"
# GNU grep stops at the first match when its output is /dev/null (as under
# hyperfine): pipe it through cat so it reads the whole file.
GREP="grep -cE -f bench/mtail/grep-patterns.ere $LOG"

# Same counts first: a benchmark of programs that disagree is worthless.
"$OUT/logsbench" "$LOG" >"$OUT/ours.txt"
$MTAIL >"$OUT/mtail.json" 2>"$OUT/mtail.err"
$GREP >"$OUT/grep.txt"
echo "file: $LOG, $((BYTES / 1024 / 1024)) MiB, $LINES lines"
echo "ours: $(tr '\n' ';' <"$OUT/ours.txt" | cut -c1-400)"
echo "mtail: $(jq -c '[to_entries[] | .key as $k | .value[].LabelValues[] | "\($k){\(.Labels // [] | join(","))} \(.Value.Value)"]' "$OUT/mtail.json")"
echo "grep matching lines: $(cat "$OUT/grep.txt")"

hyperfine --runs "$RUNS" --warmup "${WARMUP:-1}" --export-json "$OUT/hyperfine.json" \
  -n ours "$OURS" -n mtail "$MTAIL >/dev/null 2>&1" -n grep "$GREP | cat" >"$OUT/hyperfine.txt"

timev() { # name command... -> "cpu_seconds peak_rss_kib"
  /usr/bin/time -v -o "$OUT/time-$1.txt" "${@:2}" >"$OUT/stdout-$1.txt" 2>&1
  awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2} END {printf "%.2f %d\n", u+s, r}' "$OUT/time-$1.txt"
}
read -r cpu_ours rss_ours < <(timev ours $OURS)
read -r cpu_mtail rss_mtail < <(timev mtail $MTAIL)
read -r cpu_grep rss_grep < <(timev grep $GREP)
read -r _ rss_small < <(timev small "$OUT/logsbench" "$SMALL")

median() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .median' "$OUT/hyperfine.json"; }
m_ours=$(median ours); m_mtail=$(median mtail); m_grep=$(median grep)
printf '\n%-6s %10s %14s %10s %12s\n' tool median_s lines_per_s cpu_s peak_rss_MiB
for t in ours mtail grep; do
  m=$(eval echo "\$m_$t"); c=$(eval echo "\$cpu_$t"); r=$(eval echo "\$rss_$t")
  printf '%-6s %10.2f %14.0f %10s %12.1f\n' "$t" "$m" "$(echo "$LINES / $m" | bc -l)" "$c" "$(echo "$r / 1024" | bc -l)"
done
printf '\nours vs mtail: %.1fx the throughput; ours vs grep: %.2fx grep'"'"'s time\n' \
  "$(echo "$m_mtail / $m_ours" | bc -l)" "$(echo "$m_ours / $m_grep" | bc -l)"
printf 'ours peak RSS: %.1f MiB on %d MiB, %.1f MiB on %d MiB\n' \
  "$(echo "$rss_small / 1024" | bc -l)" $((SIZE_MIB / 16)) "$(echo "$rss_ours / 1024" | bc -l)" "$SIZE_MIB"
result "logs demo-shaped $SIZE_MIB MiB: time vs mtail (>= 3x throughput)" "$m_ours" "$m_mtail" 0.34
result "logs demo-shaped $SIZE_MIB MiB: time vs grep -cE" "$m_ours" "$m_grep" 1.5
