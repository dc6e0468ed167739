#!/usr/bin/env bash
# bench/db-kill.sh [KILLS]: issue 15's kill loop. A PostgreSQL target holds
# a first range (A) of four table groups; a second range (B) is migrated
# into it and SIGKILLed at a random point KILLS times:
#
#  - each kill is followed by `transit db cleanup`: every touched table
#    must be back at its checksum from before the run (`db validate`
#    against a copy of the target taken before it);
#  - the same kill point again, followed by `transit db resume`: every
#    table must reach the clean run's checksums.
#
# The target is reset from a template database between kills. Prints the
# two counts (goal: KILLS of KILLS each).
#
# Needs psql, sqlite3, python3 and the server of TRANSIT_TEST_PG.
# BIN=path runs another build (default: the debug binary, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
for t in psql sqlite3 python3; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
KILLS=${1:-20}
PG=${TRANSIT_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}
BIN=${BIN:-target/debug/transit}
[ -x "$BIN" ] || cargo build -p transit-cli
BIN=$(realpath "$BIN")
WORK=$(mktemp -d)
P=tbk_$$
PRE=${P}_pre; CLEAN=${P}_clean; W=${P}_work
drop() { psql -q "$PG" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true; }
cleanup() { for db in $PRE $CLEAN $W; do drop $db; done; rm -rf "$WORK"; }
trap cleanup EXIT
url() { echo "${PG%/*}/$1"; }
SRC="sqlite://$WORK/src.db"
TZ_NAME="(GMT-05:00) Eastern Time (US & Canada)"
TABLE_GROUPS=reporting,recorder,conference,director

"$BIN" db generate --url "$SRC" --sites 2 --days 20 --calls-per-day 150 --start 2013-03-01 --seed 61 >/dev/null
"$BIN" db repair --url "$SRC" --delete >/dev/null
# PostgreSQL refuses the generator's NUL rows (the test suite covers them).
sqlite3 "$WORK/src.db" "DELETE FROM CallDetail WHERE CallId LIKE 'HOSTILE%'"

mig() { # DB START END RUNS [OPTION…]
  local db=$1 s=$2 e=$3 r=$4; shift 4
  "$BIN" db migrate --source "$SRC" --target "$(url "$db")" --groups $TABLE_GROUPS --start "$s" --end "$e" \
    --source-tz "$TZ_NAME" --batch-rows 300 --jobs 1 --run-dir "$r" "$@"
}
psql -q "$PG" -c "CREATE DATABASE $PRE" >/dev/null
"$BIN" db upgrade --url "$(url $PRE)" --to 2015R1 >/dev/null
mig $PRE 2013-03-01 2013-03-08 "$WORK/runs-a" >/dev/null
psql -q "$PG" -c "CREATE DATABASE $CLEAN TEMPLATE $PRE" >/dev/null
mig $CLEAN 2013-03-09 2013-03-20 "$WORK/runs-clean" --json >"$WORK/clean.json"
TABLES=$(python3 -c 'import json,sys; print(",".join(t["table"] for t in json.load(open(sys.argv[1]))["copy"]["tables"]))' "$WORK/clean.json")
TOTAL=$(python3 -c 'import json,sys; print(sum(t["rows"] for t in json.load(open(sys.argv[1]))["copy"]["tables"]))' "$WORK/clean.json")
echo "range B: $TOTAL rows in $(echo "$TABLES" | tr ',' '\n' | wc -l) tables; $KILLS kills" >&2

same() { "$BIN" db validate --source "$(url "$1")" --target "$(url "$2")" --tables "$TABLES" >"$WORK/validate.out" 2>&1; }
progress() {
  psql -tA "$(url $W)" -c "SELECT COALESCE(SUM(rows_done), 0) || ' ' || COUNT(*) FILTER (WHERE done = 0) FROM transit_migration.copy_progress WHERE run = (SELECT MAX(run) FROM transit_migration.copy_runs)" 2>/dev/null || echo "0 0"
}
# kill_at ROWS: starts range B on the work target, SIGKILLs it past ROWS
# committed rows; prints the run's name (empty when it ended first).
kill_at() {
  # `exec` in the background subshell: $! is transit itself, which the
  # SIGKILL must hit.
  (exec "$BIN" db migrate --source "$SRC" --target "$(url $W)" --groups $TABLE_GROUPS \
    --start 2013-03-09 --end 2013-03-20 --source-tz "$TZ_NAME" --batch-rows 300 --jobs 1 \
    --run-dir "$WORK/runs" >/dev/null 2>&1) &
  local pid=$! rows open
  while kill -0 $pid 2>/dev/null; do
    read -r rows open < <(progress)
    if [ "${rows:-0}" -gt "$1" ] && [ "${open:-0}" -gt 0 ]; then
      kill -9 $pid; wait $pid 2>/dev/null || true
      psql -tA "$(url $W)" -c "SELECT MAX(run) FROM transit_migration.copy_runs"
      return
    fi
    sleep 0.01
  done
  wait $pid 2>/dev/null || true
  echo ""
}
reset() { drop $W; psql -q "$PG" -c "CREATE DATABASE $W TEMPLATE $PRE" >/dev/null; }

cleaned=0; resumed=0; missed=0
for i in $(seq 1 "$KILLS"); do
  after=$(( TOTAL / 20 + (RANDOM * 32768 + RANDOM) % (TOTAL * 8 / 10) ))
  reset
  run=$(kill_at $after)
  if [ -z "$run" ]; then echo "kill $i at $after rows: the run ended first" >&2; missed=$((missed + 1)); continue; fi
  "$BIN" db cleanup "$run" --run-dir "$WORK/runs" >/dev/null
  if same $PRE $W; then cleaned=$((cleaned + 1)); r1=ok; else r1=DIFFER; cat "$WORK/validate.out" >&2; fi
  reset
  run=$(kill_at $after)
  if [ -z "$run" ]; then echo "kill $i (resume) at $after rows: the run ended first" >&2; missed=$((missed + 1)); continue; fi
  "$BIN" db resume "$run" --run-dir "$WORK/runs" >/dev/null
  if same $CLEAN $W; then resumed=$((resumed + 1)); r2=ok; else r2=DIFFER; cat "$WORK/validate.out" >&2; fi
  echo "kill $i at $after of $TOTAL rows: cleanup $r1, resume $r2" >&2
done
echo "$KILLS kills: cleanup back to the pre-run checksums $cleaned/$KILLS; resume to the clean run's checksums $resumed/$KILLS; $missed kill(s) missed (run ended first)"
[ $cleaned -eq "$KILLS" ] && [ $resumed -eq "$KILLS" ]
