#!/usr/bin/env bash
# Quarantine scans on four shapes of an amavis-style quarantine of FILES
# small files (sizes 0-699 bytes): one folder (flat), 16 and 100 folders,
# and ten levels of two subfolders (1,024 leaf folders). Per shape, in one
# run: a full scan (bench/quarantinescan, the collector's code and worker
# count) against `du -s --apparent-size` (hyperfine medians, warm cache,
# each less its own process start: the median of the same command on an
# empty folder, which a Go program pays in milliseconds and the
# collector, a long-running process, never pays per scan);
# then the collector's rescan of the unchanged quarantine through its
# index (median of 5; through inotify, then by lstat alone as when the
# watches run out) and the RSS the index added. The tree is written under
# $BENCH_DIR (default /tmp: a disk file system; on tmpfs du is several
# times slower than on ext4, which flatters us) and removed at the end.
# du runs at the walking thread's priority (nice 10, which the collector
# takes so that scrapes go first): on a loaded machine the ratio then
# compares the work, not the priorities.
#
# Needs: hyperfine, jq, du.
# Usage: bench/quarantine-shapes.sh [FILES] [RUNS] [SHAPES]   (defaults 200000 5 "flat 16x 100x deep")
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
FILES=${1:-200000}
RUNS=${2:-5}
SHAPES=${3:-flat 16x 100x deep}
OUT=bench/out/quarantine-shapes
mkdir -p "$OUT"
for c in hyperfine jq du; do
  command -v "$c" >/dev/null || { echo "missing $c" >&2; exit 1; }
done
BASE=${BENCH_DIR:-/tmp}
DATA=$(mktemp -d "$BASE/hb-quarantine-shapes.XXXXXX")
trap 'rm -rf "$DATA" "$DATA".*' EXIT
go build -o "$OUT/quarantinescan" ./bench/quarantinescan
mkdir -p "$DATA/empty"
hyperfine --warmup 2 --runs 20 --export-json "$OUT/start.json" -n ours "$OUT/quarantinescan $DATA/empty" \
  -n du "nice -n 10 du -s --apparent-size $DATA/empty" >"$OUT/start-hyperfine.txt"
start_ours=$(hyperfine_median "$OUT/start.json" ours)
start_du=$(hyperfine_median "$OUT/start.json" du)
minus() { awk -v a="$1" -v b="$2" 'BEGIN {print a - b}'; }
for shape in $SHAPES; do
  q=$DATA/$shape
  "$OUT/quarantinescan" -gen "$FILES" -shape "$shape" "$q"
  echo "== $shape: $("$OUT/quarantinescan" "$q")"
  hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/$shape.json" \
    -n ours "$OUT/quarantinescan $q" -n du "nice -n 10 du -s --apparent-size $q" >"$OUT/$shape-hyperfine.txt"
  result "quarantine $FILES files $shape: full scan (less process start)" \
    "$(minus "$(hyperfine_median "$OUT/$shape.json" ours)" "$start_ours")" \
    "$(minus "$(hyperfine_median "$OUT/$shape.json" du)" "$start_du")" 1.0
  read -r _ _ _ rescan _ folders _ rss _ watched < <("$OUT/quarantinescan" -rescan 5 "$q")
  result_max "quarantine $FILES files $shape: unchanged rescan ($folders folders, $watched watched)" "$(awk -v s="$rescan" 'BEGIN {print s * 1000}')" 50 ms
  # the same without inotify: every folder checked by its lstat, as when
  # fs.inotify.max_user_watches runs out
  read -r _ _ _ lrescan _ _ < <("$OUT/quarantinescan" -rescan 5 -watch=false "$q")
  result_max "quarantine $FILES files $shape: unchanged rescan by lstat (no inotify)" "$(awk -v s="$lrescan" 'BEGIN {print s * 1000}')" 50 ms
  result_max "quarantine $FILES files $shape: RSS the index adds" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')" 32 MiB
  rm -rf "$q" "$q.generated"
done
echo "(process start, subtracted: ours $start_ours s, du $start_du s; tree on $BASE ($(df --output=fstype "$BASE" | tail -1)); machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); details in $OUT/)"
