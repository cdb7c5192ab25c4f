# Shared by the bench scripts: source it after `cd` to the repository.

# free_addr prints 127.0.0.1:PORT for a port nothing listens on (a random
# one in 20000-32767, below Linux's ephemeral range), so a bench never
# fails on, or measures, a port some other program holds.
free_addr() {
  local port i
  for i in $(seq 1 200); do
    port=$((20000 + RANDOM % 12768))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "127.0.0.1:$port"
      return 0
    fi
  done
  echo "free_addr: no free port found" >&2
  return 1
}

# result WORK OURS PEER TARGET UNIT prints one line of `make bench-all`'s
# table to stdout and appends it to $BENCH_RESULTS when set: ratio = ours /
# peer, met when ratio <= target.
result() {
  local work=$1 ours=$2 peer=$3 target=$4 unit=${5:-s}
  local line
  line=$(awk -v w="$work" -v o="$ours" -v p="$peer" -v t="$target" -v u="$unit" 'BEGIN {
    r = (p > 0) ? o / p : 0
    printf "%s|%.3g %s|%.3g %s|%.2f|<= %s|%s\n", w, o, u, p, u, r, t, (r <= t) ? "met" : "NOT met" }')
  echo "RESULT|$line"
  if [ -n "${BENCH_RESULTS:-}" ]; then echo "$line" >>"$BENCH_RESULTS"; fi
}

# result_max WORK OURS LIMIT UNIT: a line of the table for an absolute
# target (no peer): met when ours <= limit.
result_max() {
  local line
  line=$(awk -v w="$1" -v o="$2" -v l="$3" -v u="$4" 'BEGIN {
    printf "%s|%.3g %s|-|-|<= %s %s|%s\n", w, o, u, l, u, (o <= l) ? "met" : "NOT met" }')
  echo "RESULT|$line"
  if [ -n "${BENCH_RESULTS:-}" ]; then echo "$line" >>"$BENCH_RESULTS"; fi
}

# result_info WORK OURS UNIT: a line of the table with no target (a
# number the table shows beside a target it does not carry).
result_info() {
  local line
  line=$(awk -v w="$1" -v o="$2" -v u="$3" 'BEGIN { printf "%s|%.3g %s|-|-|-|info\n", w, o, u }')
  echo "RESULT|$line"
  if [ -n "${BENCH_RESULTS:-}" ]; then echo "$line" >>"$BENCH_RESULTS"; fi
}

# median of the numbers on stdin
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# hyperfine_median JSON NAME: the median seconds of one command of a hyperfine run
hyperfine_median() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .median' "$1"; }
