#!/usr/bin/env bash
# Import throughput at two scales 10x apart: `transit import` (migration
# mode) of an encrypted export into a fresh demo server, against the
# pipeline a user would otherwise run to get the same data out, in the same
# run: 7-Zip's full extraction (the outer file, then every inner component
# zip) plus `sqlite3 .import` of the same registry rows. (`7z x` of the
# file alone only decrypts the stored inner zips, so it is no fair peer.)
# Also times the import into an empty server, where every file is written.
#
#   bench/import.sh [SMALL_USERS]     (default 5500; the large scale is 10x)
#   ROUNDS=N (default 3): interleaved rounds per scale; medians are printed
#   (peak RSS: the largest), every round on stderr.
#
# TRANSIT_BIN=path uses that binary instead of building the release one.
# Needs: cargo, 7-Zip (7zz or 7z), sqlite3, GNU time.
# Targets: import <= 0.8 x the pipeline at both scales, peak RSS <= 256 MB,
# 10x the data in <= 11x the time.
set -euo pipefail
cd "$(dirname "$0")/.."
SMALL=${1:-5500}
ROUNDS=${ROUNDS:-3}
. bench/lib.sh
need_sevenzip_and_time
command -v sqlite3 >/dev/null || { echo "missing sqlite3 (apt-get install sqlite3)" >&2; exit 1; }
if [ -n "${TRANSIT_BIN:-}" ]; then
  T=$TRANSIT_BIN
else
  cargo build --release --bin transit -q
  T=$PWD/target/release/transit
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/transit-import-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "bench-password" > "$WORK/pass"
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf "%-7s %8s %9s %8s %8s %9s %10s %9s %7s %7s %10s %7s\n" \
  users "file MB" values "7z s" "inner s" "sqlite s" "pipeline s" "import s" "a/pipe" "RSS MB" "empty s" "RSS MB"
for USERS in "$SMALL" $((SMALL * 10)); do
  S="$WORK/$USERS"
  mkdir -p "$S"
  $T --server-root "$S/a" server demo --name CICA --site-name Indy --site-id 1 --release "2018 R1" --users "$USERS" --seed 1 >/dev/null
  $T --server-root "$S/a" export --folder "$S/out" --password-file "$WORK/pass" --json > "$S/export.json"
  FILE=$(ls "$S"/out/*.ininmigr)
  # The registry rows the file carries: every value under the exported
  # components' keys (the whole registry of a demo server but the empty
  # skeleton), as CSV (path, name, type, data), for the peer's .import.
  sqlite3 -csv "$S/a/registry.db" \
    "SELECT k.path, v.name, v.kind, hex(v.data) FROM vals v JOIN keys k ON k.id = v.key_id" > "$S/rows.csv"
  VALUES=$(wc -l < "$S/rows.csv")
  $T --server-root "$S/b0" server demo --name CICB --site-name Paris --site-id 2 --release "2018 R1" --users "$USERS" --seed 2 >/dev/null
  $T --server-root "$S/e0" server init --name CICE --site-name Rome --site-id 3 --release "2018 R1" >/dev/null
  rm -rf "$S/a"
  cat "$FILE" "$S/rows.csv" > /dev/null
  # ROUNDS interleaved rounds (the pipeline, the import, the empty-root
  # import), each on fresh copies; the medians are reported. On a small VM
  # the same 7-Zip extraction of thousands of files takes from 0.5 to 2.3 s
  # from one run to the next, so one round decides nothing.
  P=(); O=(); I=(); Q=(); A=(); AR=(); E=(); ER=()
  for r in $(seq "$ROUNDS"); do
    rm -rf "$S/b" "$S/e" "$S/x" "$S/y"
    cp -a "$S/b0" "$S/b"; cp -a "$S/e0" "$S/e"
    # ext4 skips recently deleted inodes when allocating new ones (for 5 s
    # once the inode tables are clean), which makes creating many files right
    # after deleting many cost 2-3x more for whichever tool runs next.
    sync; sleep 6
    # The peer pipeline, step by step.
    run "7z-$USERS-$r" "$SEVENZIP" x -y -pbench-password "-o$S/7z" "$FILE"
    outer=$secs
    run "inner-$USERS-$r" sh -c "for z in '$S'/7z/components/*.zip; do '$SEVENZIP' x -y \"-o$S/7zfull/\$(basename \"\$z\" .zip)\" \"\$z\" >/dev/null || exit 1; done"
    inner=$secs
    run "sqlite-$USERS-$r" sqlite3 "$S/peer.db" "CREATE TABLE vals(path TEXT, name TEXT, kind INTEGER, data TEXT);" ".import --csv $S/rows.csv vals"
    sq=$secs
    O+=("$outer"); I+=("$inner"); Q+=("$sq")
    P+=("$(awk -v a="$outer" -v b="$inner" -v c="$sq" 'BEGIN { print a + b + c }')")
    rm -rf "$S/7z" "$S/7zfull" "$S/peer.db"
    sync; sleep 6
    run "imp-$USERS-$r" "$T" --server-root "$S/b" import "$FILE" --extract-to "$S/x" --password-file "$WORK/pass" --json
    A+=("$secs"); AR+=("$rss")
    sync; sleep 6
    run "emp-$USERS-$r" "$T" --server-root "$S/e" import "$FILE" --extract-to "$S/y" --password-file "$WORK/pass" --json
    E+=("$secs"); ER+=("$rss")
    echo "   round $r: pipeline ${P[-1]} s (7z $outer + inner $inner + sqlite $sq), import ${A[-1]} s, empty-root import ${E[-1]} s" >&2
  done
  outer=$(median "${O[@]}"); inner=$(median "${I[@]}"); sq=$(median "${Q[@]}")
  pipe=$(median "${P[@]}"); a=$(median "${A[@]}"); e=$(median "${E[@]}")
  a_rss=$(printf '%s\n' "${AR[@]}" | sort -n | tail -1); e_rss=$(printf '%s\n' "${ER[@]}" | sort -n | tail -1)
  size=$(( $(stat -c %s "$FILE") / 1000000 ))
  awk -v u="$USERS" -v sz="$size" -v n="$VALUES" -v o="$outer" -v i="$inner" -v q="$sq" -v p="$pipe" \
      -v a="$a" -v r="$a_rss" -v e="$e" -v er="$e_rss" 'BEGIN {
    printf "%-7s %8d %9d %8.2f %8.2f %9.2f %10.2f %9.2f %7.2f %7d %10.2f %7d\n", u, sz, n, o, i, q, p, a, a / p, r, e, er }'
  echo "$USERS $a $e $pipe" >> "$WORK/scales"
  rm -rf "$S"
done
awk 'NR == 1 { a1 = $2; e1 = $3; p1 = $4 } NR == 2 {
  printf "\nlarge/small time: import %.1fx, empty-root import %.1fx, pipeline %.1fx (target <= 11x for 10x the data)\n", $2 / a1, $3 / e1, $4 / p1 }' "$WORK/scales"
echo "targets: a/pipe <= 0.8 at both scales, peak RSS <= 256 MB"
