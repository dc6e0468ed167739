#!/usr/bin/env bash
# Update service: the time to sign and ingest a bundle (`transit update
# add`: check the publisher signature and allow-list, hash the payload
# while copying it into the content store, sign targets, snapshot and
# timestamp with tough) against `sha256sum` of the same bundle, in the
# same run, interleaved, page cache warm for both.
#
#   bench/update-sign.sh [SIZE_MB] [ROUNDS]   (default 1024 MB, 5 rounds)
#
# Needs: cargo, GNU time, sha256sum. About 3 x SIZE_MB of free disk.
# TRANSIT_BIN=path uses that binary instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-1024}
ROUNDS=${2:-5}
. bench/lib.sh
[ -x /usr/bin/time ] || { echo "missing GNU time (apt-get install time)" >&2; exit 1; }
if [ -n "${TRANSIT_BIN:-}" ]; then T=$TRANSIT_BIN; else
  cargo build --release --bin transit -q
  T=$PWD/target/release/transit
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/transit-update-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "== preparing: a ${SIZE_MB} MB payload (incompressible) and its bundle"
mkdir -p "$WORK/payload/bin"
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom > "$WORK/payload/bin/setup.bin"
cat > "$WORK/manifest.toml" <<'TOML'
application = "Interaction Desktop"
release = "2018 R1"
patch = 3
install_type = "Patch"
install_version = "18.01.03.12"
upgrade_code = "{9F11553F-55EE-4E3F-A6ED-D21BB0B29D01}"
product_code = "{1A2B3C4D-0000-4E3F-A6ED-D21BB0B29D01}"
publisher = "Genesys"
TOML
$T update keygen --publisher Genesys --out "$WORK/pub" >/dev/null
run bundle "$T" update bundle --from "$WORK/payload" --manifest "$WORK/manifest.toml" --key "$WORK/pub/Genesys.key" -o "$WORK/p3.tbundle"
bundle_secs=$secs; bundle_rss=$rss
rm -rf "$WORK/payload"
BYTES=$(stat -c %s "$WORK/p3.tbundle")
cat "$WORK/p3.tbundle" > /dev/null

add_times=(); sum_times=(); add_rss=0; sum_rss=0
for i in $(seq 1 "$ROUNDS"); do
  rm -rf "$WORK/data" "$WORK/offline"
  $T update keygen --data "$WORK/data" --root-key "$WORK/offline/root.key" >/dev/null
  $T update publishers add --data "$WORK/data" "$WORK/pub/Genesys.pub" >/dev/null
  sync
  run add "$T" update add --data "$WORK/data" "$WORK/p3.tbundle" --json
  add_times+=("$secs"); [ "$rss" -gt "$add_rss" ] && add_rss=$rss
  run sha "sha256sum" "$WORK/p3.tbundle"
  sum_times+=("$secs"); [ "$rss" -gt "$sum_rss" ] && sum_rss=$rss
  echo "   round $i: add ${add_times[-1]} s, sha256sum ${sum_times[-1]} s"
done
# The content store holds exactly the payload, under its hash.
stored=$(find "$WORK/data/repository/targets" -name '*.tar.zst' -printf '%s\n')
[ -n "$stored" ] || { echo "no payload in the content store" >&2; exit 1; }

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
a=$(median "${add_times[@]}"); b=$(median "${sum_times[@]}")
awk -v a="$a" -v b="$b" -v ar="$add_rss" -v br="$sum_rss" -v n="$BYTES" -v r="$ROUNDS" -v bs="$bundle_secs" -v brss="$bundle_rss" 'BEGIN {
  mb = n / 1048576
  printf "\nbundle: %.0f MiB; medians of %d interleaved rounds, page cache warm\n", mb, r
  printf "%-44s %8s %10s %10s\n", "step", "seconds", "MiB/s", "peak RSS"
  printf "%-44s %8.2f %10.0f %7d MB\n", "(a) transit update add (sign + ingest)", a, mb / a, ar
  printf "%-44s %8.2f %10.0f %7d MB\n", "(b) sha256sum of the same file", b, mb / b, br
  printf "%-44s %8.2f %10.0f %7d MB\n", "(for reference) transit update bundle", bs, mb / bs, brss
  printf "\nratio a/b = %.2f\n", a / b
}'
