#!/usr/bin/env bash
# bench/db-merge.sh [DAYS]: a merged migrate (issue 15's staging tables).
# A PostgreSQL 2015 R1 target holds the first half of the source's days
# (range A, migrated once into a template database); the whole range is
# then migrated into a fresh copy of that template, so every table with
# rows merges: half its rows are skipped by the NOT EXISTS check, half
# inserted. Each round copies the template, then times `transit db migrate`
# of reporting,recorder,conference,director.
#
# With BASE=path (an older build: the direct path, before staging), the
# two binaries alternate, ROUNDS rounds each, and the medians and their
# ratio are printed; without it, only BIN's median.
#
# Needs psql, sqlite3, bc, GNU time and the server of TRANSIT_TEST_PG.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
[ -x /usr/bin/time ] || { echo "missing GNU time (apt-get install time)" >&2; exit 1; }
for t in psql sqlite3 bc; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
DAYS=${1:-20}
ROUNDS=${ROUNDS:-3}
PG=${TRANSIT_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}
BIN=${BIN:-target/release/transit}
[ -x "$BIN" ] || cargo build --release -p transit-cli
BIN=$(realpath "$BIN")
[ -z "${BASE:-}" ] || BASE=$(realpath "$BASE")
WORK=$(mktemp -d)
P=tbmg_$$
TPL=${P}_tpl; W=${P}_work
drop() { psql -q "$PG" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true; }
cleanup() { drop "$TPL"; drop "$W"; rm -rf "$WORK"; }
trap cleanup EXIT
url() { echo "${PG%/*}/$1"; }
SRC="sqlite://$WORK/src.db"
ZONE="(GMT-05:00) Eastern Time (US & Canada)"
TABLE_GROUPS=reporting,recorder,conference,director
HALF=$(( DAYS / 2 ))
A_END=$(date -u -d "2013-03-01 + $((HALF - 1)) days" +%F)
END=$(date -u -d "2013-03-01 + $((DAYS - 1)) days" +%F)

"$BIN" db generate --url "$SRC" --sites 2 --days "$DAYS" --calls-per-day 300 --start 2013-03-01 --seed 62 >/dev/null
"$BIN" db repair --url "$SRC" --delete >/dev/null
# PostgreSQL refuses the generator's NUL rows (the test suite covers them).
sqlite3 "$WORK/src.db" "DELETE FROM CallDetail WHERE CallId LIKE 'HOSTILE%'"
psql -q "$PG" -c "CREATE DATABASE $TPL" >/dev/null
"$BIN" db upgrade --url "$(url "$TPL")" --to 2015R1 >/dev/null
"$BIN" db migrate --source "$SRC" --target "$(url "$TPL")" --groups "$TABLE_GROUPS" \
  --start 2013-03-01 --end "$A_END" --source-tz "$ZONE" --run-dir "$WORK/runs-a" --json >/dev/null 2>&1

round() { # LABEL BINARY
  drop "$W"
  psql -q "$PG" -c "CREATE DATABASE $W TEMPLATE $TPL" >/dev/null
  run "$1" "$2" db migrate --source "$SRC" --target "$(url "$W")" --groups "$TABLE_GROUPS" \
    --start 2013-03-01 --end "$END" --source-tz "$ZONE" --jobs 2 --run-dir "$WORK/runs-$1" --json
}
counts() { # LABEL -> "inserted skipped"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); t=r["copy"]["tables"]; print(sum(x["rows"] for x in t), sum(x["skipped"] for x in t))' "$WORK/out.$1"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -a NEW OLD
for r in $(seq 1 "$ROUNDS"); do
  round "new$r" "$BIN"; NEW+=("$secs")
  read -r ins skip < <(counts "new$r")
  echo "round $r: staged  $secs s ($ins inserted, $skip skipped, $rss MB)" >&2
  if [ -n "${BASE:-}" ]; then
    round "old$r" "$BASE"; OLD+=("$secs")
    read -r ins2 skip2 < <(counts "old$r")
    echo "round $r: direct  $secs s ($ins2 inserted, $skip2 skipped, $rss MB)" >&2
    [ "$ins $skip" = "$ins2 $skip2" ] || { echo "the two builds moved different rows" >&2; exit 1; }
  fi
done
echo
echo "merged migrate of $TABLE_GROUPS, SQLite 3.0 -> PostgreSQL 2015 R1: $ins rows inserted, $skip skipped"
printf 'staged merge (BIN):  median %.2f s\n' "$(median "${NEW[@]}")"
if [ -n "${BASE:-}" ]; then
  printf 'direct path (BASE):  median %.2f s\n' "$(median "${OLD[@]}")"
  printf 'ratio staged/direct: %.2f\n' "$(echo "$(median "${NEW[@]}") / $(median "${OLD[@]}")" | bc -l)"
fi
