# Shared by the bench scripts (source it). result WORK OURS PEER TARGET UNIT
# prints one line of `make bench-all`'s table to stdout and appends it to
# $BENCH_RESULTS when set: ratio = ours / peer, met when ratio <= target.
result() {
  local work=$1 ours=$2 peer=$3 target=$4 unit=${5:-s}
  local line
  line=$(awk -v w="$work" -v o="$ours" -v p="$peer" -v t="$target" -v u="$unit" 'BEGIN {
    r = (p > 0) ? o / p : 0
    printf "%s|%.3g %s|%.3g %s|%.2f|<= %s|%s\n", w, o, u, p, u, r, t, (r <= t) ? "met" : "NOT met" }')
  echo "RESULT|$line"
  if [ -n "${BENCH_RESULTS:-}" ]; then echo "$line" >>"$BENCH_RESULTS"; fi
}

# median of the numbers on stdin
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# hyperfine_median JSON NAME: the median seconds of one command of a hyperfine run
hyperfine_median() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .median' "$1"; }

# free_port: a TCP port nothing listens on (from the kernel's ephemeral range)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
