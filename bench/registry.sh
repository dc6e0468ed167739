#!/usr/bin/env bash
# Registry throughput: load a ~1,000,000-value .reg file into an empty
# registry, export it again, and compare with SQLite's own bulk insert
# (`sqlite3 .import`) of the same rows, in the same run.
#
#   bench/registry.sh [USERS]     (default 20500 users ≈ 1.0M values)
#
# Needs: cargo, sqlite3, GNU time (/usr/bin/time). Prints values/s, the
# ratio to the sqlite3 ceiling, and peak RSS of each Transit step.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-20500}
for tool in sqlite3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install sqlite3 time)" >&2; exit 1; }
done
cargo build --release --bin transit -q
T=$PWD/target/release/transit
WORK=$(mktemp -d "${TMPDIR:-/tmp}/transit-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "== preparing: demo server with $USERS users, exported to one .reg file"
$T --server-root "$WORK/src" server demo --name CIC01 --site-name Bench --site-id 1 --release "2015 R1" --users "$USERS" >/dev/null
$T --server-root "$WORK/src" registry export -o "$WORK/bench.reg" 2>/dev/null
VALUES=$(sqlite3 "$WORK/src/registry.db" "SELECT count(*) FROM vals")
echo "   $VALUES values, $(du -m "$WORK/bench.reg" | cut -f1) MB of .reg"
# The same rows (path, name, type, data) as CSV, for the ceiling.
sqlite3 -csv "$WORK/src/registry.db" \
  "SELECT k.path, v.name, v.kind, hex(v.data) FROM vals v JOIN keys k ON k.id = v.key_id" > "$WORK/rows.csv"

$T --server-root "$WORK/dst" server init --name CIC01 --site-name Bench --site-id 1 --release "2015 R1" >/dev/null
sync

# run LABEL CMD... : wall seconds and peak RSS (MB) into $secs / $rss
run() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time.$label" "$@" >/dev/null 2>"$WORK/err.$label" || { cat "$WORK/err.$label" >&2; exit 1; }
  read -r secs kb < "$WORK/time.$label"
  rss=$((kb / 1024))
}

run ceiling sqlite3 "$WORK/ceiling.db" "CREATE TABLE t(path TEXT, name TEXT, kind INTEGER, data TEXT);" ".import --csv $WORK/rows.csv t"
ceil=$secs
run import "$T" --server-root "$WORK/dst" registry import "$WORK/bench.reg"
imp=$secs; imp_rss=$rss
run export "$T" --server-root "$WORK/dst" registry export -o "$WORK/out.reg"
exp=$secs; exp_rss=$rss
cmp -s "$WORK/bench.reg" "$WORK/out.reg" && same=identical || same=DIFFERENT

awk -v n="$VALUES" -v c="$ceil" -v i="$imp" -v e="$exp" -v ir="$imp_rss" -v er="$exp_rss" -v same="$same" 'BEGIN {
  printf "\n%-34s %8s %14s %10s\n", "step", "seconds", "values/s", "peak RSS"
  printf "%-34s %8.2f %14.0f %10s\n", "sqlite3 .import (ceiling)", c, n / c, "-"
  printf "%-34s %8.2f %14.0f %7d MB\n", "transit registry import", i, n / i, ir
  printf "%-34s %8.2f %14.0f %7d MB\n", "transit registry export", e, n / e, er
  printf "\nimport time / sqlite3 .import time = %.2f\n", i / c
  printf "re-export vs original .reg: %s\n", same
  printf "targets: import >= 300000 values/s (%s), export >= 500000 values/s (%s), RSS <= 300 MB (%s)\n",
    (n / i >= 300000 ? "met" : "MISSED"), (n / e >= 500000 ? "met" : "MISSED"), (ir <= 300 && er <= 300 ? "met" : "MISSED")
}'
