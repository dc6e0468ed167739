#!/usr/bin/env bash
# `bench/db.sh migrate [ROWS]`: `transit db migrate --groups reporting` (the
# Reporting group with all its rules: current-state reload, service-level
# defaults, UTC columns) from a PostgreSQL 3.0 source into an empty
# PostgreSQL 2015 R1 target, three runs, then one rerun of the same range
# (which inserts nothing). Prints rows/s of the median run, the rerun's time
# as a share of the first run's, and transit's peak RSS.
#
# Needs the release binary, psql, sqlite3, bc, GNU time and the server of TRANSIT_TEST_PG.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
[ -x /usr/bin/time ] || { echo "missing GNU time (apt-get install time)" >&2; exit 1; }
for t in psql sqlite3 bc; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
ROWS=${1:-2000000}
PG=${TRANSIT_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}
BIN=${BIN:-target/release/transit}
[ -x "$BIN" ] || cargo build --release -p transit-cli
BIN=$(realpath "$BIN")
WORK=$(mktemp -d)
S=tbm_src_$$; T=tbm_dst_$$
cleanup() {
  for db in $S $T; do psql -q "$PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
PGS="${PG%/*}/$S"; PGT="${PG%/*}/$T"
psql -q "$PG" -c "CREATE DATABASE $S" >/dev/null

# The source: about ROWS rows in the Reporting group (4 sites, 390 calls per
# site and day), repaired as the vendor's order asks, then loaded into PG.
"$BIN" db generate --url "sqlite://$WORK/probe.db" --sites 4 --days 1 --calls-per-day 390 --json >"$WORK/probe.json"
REPORTING=CallDetail,AgentActivityLog,AgentQueueActivationHist,IACChangeLog,ICDirChangeLog,ILineGroupStats,ILineStats,IVRInterval,IAgentQueueStats,IWrkgrpQueueStats,IStatsGroup,LineConfig,LineGroupConfig,LineGroupLines,UserWorkGroups,AccountCodeMirror
PER_DAY=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); w=sys.argv[2].split(","); print(sum(t["rows"] for t in r["tables"] if t["table"] in w))' "$WORK/probe.json" "$REPORTING")
DAYS=$(( (ROWS + PER_DAY - 1) / PER_DAY ))
echo "generating ~$ROWS rows: 4 sites, $DAYS days from 2013-01-01" >&2
"$BIN" db generate --url "sqlite://$WORK/src.db" --sites 4 --days "$DAYS" --calls-per-day 390 >/dev/null
"$BIN" db repair --url "sqlite://$WORK/src.db" --delete >/dev/null
# PostgreSQL cannot hold the generator's hostile NUL rows (the tests cover them).
sqlite3 "$WORK/src.db" "DELETE FROM CallDetail WHERE CallId LIKE 'HOSTILE%'"
"$BIN" db upgrade --url "$PGS" --to 3.0 >/dev/null
"$BIN" db copy --source "sqlite://$WORK/src.db" --target "$PGS" --tables "$REPORTING" --jobs 2 --no-validate --run-dir "$WORK/runs" >/dev/null
END=$(date -u -d "2013-01-01 + $((DAYS - 1)) days" +%F)
migrate() { # LABEL
  run "$1" "$BIN" db migrate --source "$PGS" --target "$PGT" --groups reporting \
    --start 2013-01-01 --end "$END" --source-tz "(GMT-05:00) Eastern Time (US & Canada)" \
    --jobs 2 --run-dir "$WORK/runs" --json
}
declare -a TIMES RSSES
for round in 1 2 3; do
  psql -q "$PG" -c "DROP DATABASE IF EXISTS $T WITH (FORCE)" >/dev/null
  psql -q "$PG" -c "CREATE DATABASE $T" >/dev/null
  "$BIN" db upgrade --url "$PGT" --to 2015R1 >/dev/null
  migrate "m$round"
  N=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sum(t["rows"] for t in r["copy"]["tables"]))' "$WORK/out.m$round")
  TIMES+=("$secs"); RSSES+=("$rss")
  echo "round $round: $N rows in $secs s, $rss MB" >&2
done
FIRST=$secs
migrate rerun
AGAIN=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sum(t["rows"] for t in r["copy"]["tables"] if t["table"] not in ("LineConfig","LineGroupConfig","LineGroupLines","UserWorkGroups","AccountCodeMirror")))' "$WORK/out.rerun")
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
M=$(median "${TIMES[@]}")
echo
echo "Reporting group, PostgreSQL 3.0 -> PostgreSQL 2015 R1, $N rows"
printf 'median %.2f s, %.0f rows/s (goal >= 150000), peak RSS %s MB\n' "$M" "$(echo "$N / $M" | bc -l)" "$(median "${RSSES[@]}")"
printf 'rerun of the same range: %.2f s = %.0f %% of the last first run (goal <= 15 %%), %s rows inserted outside the current-state tables\n' \
  "$secs" "$(echo "100 * $secs / $FIRST" | bc -l)" "$AGAIN"
