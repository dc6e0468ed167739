#!/usr/bin/env bash
# Export throughput: `transit export` with a password against 7-Zip packing
# the same content (a registry .reg dump plus the files/ tree) as an
# AES-256 zip at its fastest level, in the same run.
#
#   bench/export.sh [USERS]    (default 55000 users: ~1.07 GB of files, ~2.7M values)
#
# Needs: cargo, 7-Zip (7zz or 7z; apt-get install 7zip), GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-55000}
. bench/lib.sh
need_sevenzip_and_time
cargo build --release --bin transit -q
T=$PWD/target/release/transit
WORK=$(mktemp -d "${TMPDIR:-/tmp}/transit-export-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "bench-password" > "$WORK/pass"

echo "== preparing: demo server with $USERS users"
$T --server-root "$WORK/src" server demo --name CIC01 --site-name Bench --site-id 1 --release "2015 R1" --users "$USERS" --seed 1 >/dev/null
# 7-Zip's content: the registry as one .reg dump beside the files/ tree.
# (The dump sits in the server root only for 7-Zip; no component selects it.)
$T --server-root "$WORK/src" registry export -o "$WORK/src/registry.reg" 2>/dev/null
VALUES=$($T --server-root "$WORK/src" registry list --recursive --json | awk -F'"values":' '{ split($2, a, "}"); s += a[1] } END { print s }')
FILES_MB=$(du -sm --apparent-size "$WORK/src/files" | cut -f1)
echo "   $VALUES registry values, $FILES_MB MB of files"
# Warm the page cache for both contestants alike.
tar cf - -C "$WORK/src" files | cat > /dev/null

run transit "$T" --server-root "$WORK/src" export --folder "$WORK/out" --password-file "$WORK/pass" --json
a=$secs; a_rss=$rss
a_size=$(stat -c %s "$WORK"/out/*.ininmigr)
run sevenzip sh -c "cd '$WORK/src' && exec '$SEVENZIP' a -tzip -mem=AES256 -mx=1 -pbench-password '$WORK/7z.zip' registry.reg files"
b=$secs; b_rss=$rss
b_size=$(stat -c %s "$WORK/7z.zip")

awk -v a="$a" -v b="$b" -v ar="$a_rss" -v br="$b_rss" -v as="$a_size" -v bs="$b_size" 'BEGIN {
  printf "\n%-40s %8s %10s %10s\n", "step", "seconds", "size MB", "peak RSS"
  printf "%-40s %8.2f %10.0f %7d MB\n", "(a) transit export --password-file", a, as / 1e6, ar
  printf "%-40s %8.2f %10.0f %7d MB\n", "(b) 7z a -tzip -mem=AES256 -mx=1", b, bs / 1e6, br
  printf "\nratio a/b = %.2f (target <= 0.8: %s); peak RSS of (a) %d MB (target <= 256: %s)\n",
    a / b, (a / b <= 0.8 ? "met" : "MISSED"), ar, (ar <= 256 ? "met" : "MISSED")
}'
