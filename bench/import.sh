#!/usr/bin/env bash
# Import throughput at two scales 10x apart: `transit import` (migration
# mode) of an export into a fresh demo server, against `7z x` of the same
# file, in the same run. Also times the import into an empty server, where
# every file is written (a fresh demo server already has most file names).
# For context it also times 7-Zip extracting the inner zips too ("7z full"),
# since `7z x` of the file alone only decrypts the stored inner zips.
#
#   bench/import.sh [SMALL_USERS]     (default 5500; the large scale is 10x)
#
# Needs: cargo, 7-Zip (7zz or 7z), GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
SMALL=${1:-5500}
. bench/lib.sh
need_sevenzip_and_time
cargo build --release --bin transit -q
T=$PWD/target/release/transit
WORK=$(mktemp -d "${TMPDIR:-/tmp}/transit-import-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "bench-password" > "$WORK/pass"

printf "%-8s %10s %10s %12s %10s %10s %14s %10s %12s %10s\n" users "file MB" "7z x s" "import s" "a/b" "RSS MB" "empty-root s" "RSS MB" "7z full s" "a/full"
for USERS in "$SMALL" $((SMALL * 10)); do
  S="$WORK/$USERS"
  mkdir -p "$S"
  $T --server-root "$S/a" server demo --name CICA --site-name Indy --site-id 1 --release "2018 R1" --users "$USERS" --seed 1 >/dev/null
  $T --server-root "$S/a" export --folder "$S/out" --password-file "$WORK/pass" --json >/dev/null
  FILE=$(ls "$S"/out/*.ininmigr)
  $T --server-root "$S/b" server demo --name CICB --site-name Paris --site-id 2 --release "2018 R1" --users "$USERS" --seed 2 >/dev/null
  $T --server-root "$S/e" server init --name CICE --site-name Rome --site-id 3 --release "2018 R1" >/dev/null
  rm -rf "$S/a"
  # ext4 skips recently deleted inodes when allocating new ones (for 5 s
  # once the inode tables are clean, 300 s while they are dirty), which
  # makes creating ~100k files right after deleting ~100k cost 2-3x more
  # for whichever tool runs next. Let the deletion settle first.
  sync; sleep 6
  cat "$FILE" > /dev/null
  run "7z-$USERS" "$SEVENZIP" x -y -pbench-password "-o$S/7z" "$FILE"
  b=$secs
  run "7zfull-$USERS" sh -c "for z in '$S'/7z/components/*.zip; do '$SEVENZIP' x -y \"-o$S/7zfull/\$(basename \"\$z\" .zip)\" \"\$z\" >/dev/null || exit 1; done"
  f=$(awk -v b="$b" -v s="$secs" 'BEGIN { print b + s }')
  run "imp-$USERS" "$T" --server-root "$S/b" import "$FILE" --extract-to "$S/x" --password-file "$WORK/pass" --json
  a=$secs; a_rss=$rss
  sync; sleep 6
  run "emp-$USERS" "$T" --server-root "$S/e" import "$FILE" --extract-to "$S/y" --password-file "$WORK/pass" --json
  e=$secs; e_rss=$rss
  size=$(( $(stat -c %s "$FILE") / 1000000 ))
  awk -v u="$USERS" -v sz="$size" -v a="$a" -v b="$b" -v r="$a_rss" -v e="$e" -v er="$e_rss" -v f="$f" 'BEGIN {
    printf "%-8s %10d %10.2f %12.2f %10.2f %10d %14.2f %10d %12.2f %10.2f\n", u, sz, b, a, a / b, r, e, er, f, a / f }'
  echo "$USERS $a $e" >> "$WORK/scales"
  rm -rf "$S"
done
awk 'NR == 1 { a1 = $2; e1 = $3 } NR == 2 { printf "\nlarge/small time: import %.1fx, empty-root import %.1fx (target <= 11x for 10x the data)\n", $2 / a1, $3 / e1 }' "$WORK/scales"
echo "targets: a/b <= 1.5, peak RSS <= 256 MB"
