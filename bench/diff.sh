#!/usr/bin/env bash
# `transit diff` throughput on a ~2M-value server: a root against its own
# (encrypted) export after a few changes, and two roots, against GNU diff
# of the two `transit registry export` dumps (converted to UTF-8), in the
# same run.
#
#   bench/diff.sh [USERS]    (default 41000 users: ~2.0M values, ~790 MB of files)
#
# GNU diff only sees the registry text, already dumped and converted;
# `transit diff` reads the servers themselves and also compares every
# component's files by SHA-256. The dump-and-convert time the peer needs
# first is shown separately.
#
# Needs: cargo, GNU diff, iconv, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-41000}
. bench/lib.sh
for tool in diff iconv /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install diffutils libc-bin time)" >&2; exit 1; }
done
cargo build --release --bin transit -q
T=$PWD/target/release/transit
WORK=$(mktemp -d "${TMPDIR:-/tmp}/transit-diff-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "bench-password" > "$WORK/pass"

# run_differ LABEL CMD...: like `run`, but the command must exit 1
# ("differences found"), as both diffs do here.
run_differ() {
  local label=$1; shift
  local status=0
  /usr/bin/time -v -o "$WORK/time.$label" "$@" >"$WORK/out.$label" 2>"$WORK/err.$label" || status=$?
  [ "$status" -eq 1 ] || { echo "$label: exit status $status, expected 1" >&2; cat "$WORK/err.$label" >&2; exit 1; }
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$WORK/time.$label")
  rss=$(awk -F': ' '/Maximum resident set size/ { print int($2 / 1024) }' "$WORK/time.$label")
}

echo "== preparing: demo server with $USERS users, its export, a copy, then changes"
$T --server-root "$WORK/r1" server demo --name CIC01 --site-name Bench --site-id 1 --release "2015 R1" --users "$USERS" --seed 1 >/dev/null
$T --server-root "$WORK/r1" export --folder "$WORK/out" --password-file "$WORK/pass" >/dev/null 2>&1
FILE=$(ls "$WORK"/out/*.ininmigr)
cp -a "$WORK/r1" "$WORK/r2"
# A few changes to r1: two user attributes, one user deleted, one key added,
# one prompt file added.
DS='EIC\Directory Services\Root\Bench\Production\CIC01'
$T --server-root "$WORK/r1" registry list "$DS\\Users" > "$WORK/users.txt"
mapfile -t NAMES < <(head -3 "$WORK/users.txt")
$T --server-root "$WORK/r1" registry set "$DS\\Users\\${NAMES[0]}" Title "Bench Lead"
$T --server-root "$WORK/r1" registry set "$DS\\Users\\${NAMES[1]}" Extension --type REG_DWORD 4242
$T --server-root "$WORK/r1" registry delete "$DS\\Users\\${NAMES[2]}"
$T --server-root "$WORK/r1" registry set "$DS\\Workgroups\\Bench Group" Extension 9999
echo "RIFF-bench" > "$WORK/r1/files/Resources/Prompts/bench-new.wav"
VALUES=$($T --server-root "$WORK/r1" registry list --recursive --json | awk -F'"values":' '{ split($2, a, "}"); s += a[1] } END { print s }')
echo "   $VALUES registry values, $(du -sm --apparent-size "$WORK/r1/files" | cut -f1) MB of files"

# The peer's input: both registries dumped and converted to UTF-8 (timed apart).
start=$EPOCHREALTIME
for r in r1 r2; do
  $T --server-root "$WORK/$r" registry export -o "$WORK/$r.reg" 2>/dev/null
  iconv -f UTF-16LE -t UTF-8 "$WORK/$r.reg" > "$WORK/$r.utf8.reg"
done
prep=$(awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN { print e - s }')
# Warm the page cache for every contestant alike.
cat "$WORK"/r1/registry.db "$WORK"/r2/registry.db "$FILE" "$WORK"/*.utf8.reg > /dev/null
tar cf - -C "$WORK" r1/files r2/files | cat > /dev/null

run_differ file "$T" diff "$WORK/r1" "$FILE" --password-file "$WORK/pass" --stat
a=$secs; a_rss=$rss; a_sum=$(tail -1 "$WORK/out.file")
run_differ roots "$T" diff "$WORK/r2" "$WORK/r1" --stat
b=$secs; b_rss=$rss; b_sum=$(tail -1 "$WORK/out.roots")
run_differ gnu diff "$WORK/r2.utf8.reg" "$WORK/r1.utf8.reg"
c=$secs; c_rss=$rss
gnu_lines=$(grep -c '^[<>]' "$WORK/out.gnu" || true)

echo
echo "transit diff ROOT FILE:   $a_sum"
echo "transit diff ROOT1 ROOT2: $b_sum"
echo "GNU diff: $gnu_lines changed lines"
awk -v a="$a" -v b="$b" -v c="$c" -v ar="$a_rss" -v br="$b_rss" -v cr="$c_rss" -v p="$prep" -v n="$VALUES" 'BEGIN {
  printf "\n%-52s %8s %10s\n", "step", "seconds", "peak RSS"
  printf "%-52s %8.2f %7d MB\n", "(a) transit diff ROOT FILE (AES, files by SHA-256)", a, ar
  printf "%-52s %8.2f %7d MB\n", "(b) transit diff ROOT1 ROOT2 (files by SHA-256)", b, br
  printf "%-52s %8.2f %7d MB\n", "(c) diff r1.reg r2.reg (UTF-8 dumps, registry only)", c, cr
  printf "%-52s %8.2f %10s\n", "    (peer input: 2 x registry export + iconv)", p, "-"
  if (c < 0.01) c = 0.01
  printf "\nratios: a/c = %.2f, b/c = %.2f, b/(c + input) = %.2f\n", a / c, b / c, b / (c + p)
  printf "targets: %d values in under 60 s (a: %s, b: %s); peak RSS <= 300 MB (a: %s, b: %s)\n", n,
    (a < 60 ? "met" : "MISSED"), (b < 60 ? "met" : "MISSED"), (ar <= 300 ? "met" : "MISSED"), (br <= 300 ? "met" : "MISSED")
}'
