#!/usr/bin/env bash
# `transit db copy` of CallDetail and the Reporting statistics tables
# against pgloader (where it supports the pair) and the native pipe (the
# source's own client exporting text/CSV into the target's bulk loader),
# for five engine pairs. Each contestant runs three times, interleaved, in
# the same run; the script prints medians, rows/s, ratios and transit's
# peak RSS, and what validation adds to the PostgreSQL->PostgreSQL copy.
#
#   bench/db.sh [ROWS]        (default 5000000 rows in the copied tables)
#   bench/db.sh migrate [ROWS] `transit db migrate` of the Reporting group
#                             with its rules into PostgreSQL (bench/db-migrate.sh)
#
# Pairs: SQLite->PostgreSQL, MariaDB->PostgreSQL, PostgreSQL->PostgreSQL,
# PostgreSQL->MariaDB, PostgreSQL->SQLite. Needs the release binary, psql,
# mariadb, sqlite3, pgloader, GNU time, and the servers of TRANSIT_TEST_PG
# and TRANSIT_TEST_MYSQL (defaults as in .ci/run). The source is generated
# once into SQLite (without the generator's hostile rows, which the native
# pipes cannot carry) and copied to the server sources before timing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = migrate ]; then shift; exec bench/db-migrate.sh "$@"; fi
. bench/lib.sh
[ -x /usr/bin/time ] || { echo "missing GNU time (apt-get install time)" >&2; exit 1; }
for t in psql mariadb sqlite3; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
HAVE_PGLOADER=1; command -v pgloader >/dev/null || HAVE_PGLOADER=0
ROWS=${1:-5000000}
PG=${TRANSIT_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}
MY=${TRANSIT_TEST_MYSQL:-mysql://root@127.0.0.1:3306/test}
BIN=${BIN:-target/release/transit}
[ -x "$BIN" ] || cargo build --release -p transit-cli
BIN=$(realpath "$BIN")
WORK=$(mktemp -d)
S=tb_src_$$; T=tb_dst_$$
TABLES="CallDetail AgentActivityLog IAgentQueueStats IWrkgrpQueueStats IStatsGroup"
cleanup() {
  for db in $S $T; do
    psql -q "$PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    mariadb -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
mariadb -h127.0.0.1 -uroot -e "SET GLOBAL local_infile = 1"
PGS="${PG%/*}/$S"; PGT="${PG%/*}/$T"; MYS="${MY%/*}/$S"; MYT="${MY%/*}/$T"
LITES="$WORK/source.db"; LITET="$WORK/target.db"
for db in $S $T; do
  psql -q "$PG" -c "CREATE DATABASE $db" >/dev/null
  mariadb -h127.0.0.1 -uroot -e "CREATE DATABASE $db CHARACTER SET utf8mb4"
done

# --- the source: days scaled so the copied tables hold about ROWS rows.
count_rows() { # URL: rows of $TABLES, from a generate --json report
  python3 - "$1" $TABLES <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
print(sum(t["rows"] for t in report["tables"] if t["table"] in sys.argv[2:]))
EOF
}
"$BIN" db generate --url "sqlite://$WORK/probe.db" --sites 4 --days 1 --calls-per-day 390 --json >"$WORK/probe.json"
PER_DAY=$(count_rows "$WORK/probe.json")
DAYS=$(( (ROWS + PER_DAY - 1) / PER_DAY ))
echo "generating ~$ROWS rows: 4 sites, $DAYS days, 390 calls per site and day" >&2
"$BIN" db generate --url "sqlite://$LITES" --sites 4 --days "$DAYS" --calls-per-day 390 --json >"$WORK/gen.json"
sqlite3 "$LITES" "DELETE FROM CallDetail WHERE CallId LIKE 'HOSTILE%'"
N=0; for t in $TABLES; do N=$((N + $(sqlite3 "$LITES" "SELECT COUNT(*) FROM $t"))); done
LIST=$(echo $TABLES | tr ' ' ,)
for url in "$PGS" "$MYS" "$PGT" "$MYT"; do "$BIN" db upgrade --url "$url" --to 3.0 >/dev/null; done
"$BIN" db upgrade --url "sqlite://$LITET" --to 3.0 >/dev/null
cp "$LITET" "$WORK/empty.db"
echo "loading the server sources" >&2
"$BIN" db copy --source "sqlite://$LITES" --target "$PGS" --tables "$LIST" --jobs 2 --no-validate --run-dir "$WORK/runs" >/dev/null
"$BIN" db copy --source "sqlite://$LITES" --target "$MYS" --tables "$LIST" --jobs 2 --no-validate --run-dir "$WORK/runs" >/dev/null

cols() { # TABLE: its 3.0 columns, comma-separated, from the SQLite source
  sqlite3 "$LITES" "SELECT group_concat(name, ',') FROM pragma_table_info('$1')"
}
lower() { echo "$1" | tr 'A-Z' 'a-z'; }

# --- resetting the target between runs
reset_target() { # ENGINE
  case $1 in
    pg) for t in $TABLES; do psql -q "$PGT" -c "TRUNCATE $(lower $t)" >/dev/null; done ;;
    my) for t in $TABLES; do mariadb -h127.0.0.1 -uroot "$T" -e "TRUNCATE TABLE $t"; done ;;
    lite) cp "$WORK/empty.db" "$LITET"; rm -f "$LITET-wal" "$LITET-shm" ;;
  esac
}

# --- contestants: each writes a script run under GNU time
pgloader_script() { # SOURCE-URL
  local kind=${1%%:*} names how=MATCHING t n
  names=$(for t in $TABLES; do n=$t; [ "$kind" = pgsql ] && n=$(lower "$t"); printf "'%s', " "$n"; done)
  names=${names%, }
  [ "$kind" = sqlite ] && how=LIKE
  cat >"$WORK/load.pgl" <<EOF
LOAD DATABASE FROM $1 INTO $PGT
WITH data only, workers = 2, concurrency = 1
INCLUDING ONLY TABLE NAMES $how $names $( [ "$kind" = pgsql ] && echo "IN SCHEMA 'public'" )
$( [ "$kind" = mysql ] && echo "ALTER SCHEMA '$S' RENAME TO 'public'" );
EOF
}
native() { # PAIR: the native pipe for every table
  local t c
  for t in $TABLES; do
    c=$(cols "$t")
    case $1 in
      lite-pg) sqlite3 -csv "$LITES" "SELECT $c FROM $t" | psql -q "$PGT" -c "\\copy $(lower $t) ($c) FROM STDIN CSV" ;;
      my-pg) mariadb -h127.0.0.1 -uroot --batch --quick -N "$S" -e "SELECT $c FROM $t" | psql -q "$PGT" -c "\\copy $(lower $t) ($c) FROM STDIN WITH (FORMAT text, NULL 'NULL')" ;;
      pg-pg) psql -q "$PGS" -c "\\copy $(lower $t) ($c) TO STDOUT" | psql -q "$PGT" -c "\\copy $(lower $t) ($c) FROM STDIN" ;;
      pg-my) psql -q "$PGS" -c "\\copy $(lower $t) ($c) TO STDOUT" | mariadb -h127.0.0.1 -uroot --local-infile=1 "$T" -e "LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE $t ($c)" ;;
      pg-lite) psql -q "$PGS" -c "\\copy $(lower $t) ($c) TO STDOUT CSV" >"$WORK/$t.csv"
               sqlite3 "$LITET" ".import --csv $WORK/$t.csv $t"; rm -f "$WORK/$t.csv" ;;
    esac
  done
}
export -f native cols lower
export LITES LITET PGS PGT S T TABLES WORK

declare -A SRC=([lite-pg]="sqlite://$LITES" [my-pg]="$MYS" [pg-pg]="$PGS" [pg-my]="$PGS" [pg-lite]="$PGS")
declare -A DST=([lite-pg]="$PGT" [my-pg]="$PGT" [pg-pg]="$PGT" [pg-my]="$MYT" [pg-lite]="sqlite://$LITET")
declare -A TGT=([lite-pg]=pg [my-pg]=pg [pg-pg]=pg [pg-my]=my [pg-lite]=lite)
declare -A PGL=([lite-pg]="sqlite://$LITES" [my-pg]="mysql://root@127.0.0.1:3306/$S" [pg-pg]="pgsql://postgres@127.0.0.1:5432/$S")
PAIRS="lite-pg my-pg pg-pg pg-my pg-lite"

# The middle value (of 3, or of fewer when a peer crashed in a round).
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A TIMES RSS FAILS
for round in 1 2 3; do
  for pair in $PAIRS; do
    for who in transit pgloader native; do
      if [ $who = pgloader ] && { [ $HAVE_PGLOADER = 0 ] || [ -z "${PGL[$pair]:-}" ]; }; then continue; fi
      reset_target "${TGT[$pair]}"
      case $who in
        transit) run "$pair.$who" "$BIN" db copy --source "${SRC[$pair]}" --target "${DST[$pair]}" \
                   --tables "$LIST" --jobs 2 --run-dir "$WORK/runs" --no-validate ;;
        pgloader) pgloader_script "${PGL[$pair]}"
                  # pgloader can die ("Heap exhausted"): count it, go on.
                  if ! RUN_MAY_FAIL=1 run "$pair.$who" pgloader --quiet "$WORK/load.pgl"; then
                    echo "round $round $pair pgloader: FAILED" >&2
                    FAILS[$pair.$who]=$(( ${FAILS[$pair.$who]:-0} + 1 ))
                    continue
                  fi ;;
        native) run "$pair.$who" bash -c "set -o pipefail; native $pair" ;;
      esac
      TIMES[$pair.$who]="${TIMES[$pair.$who]:-} $secs"
      RSS[$pair.$who]="${RSS[$pair.$who]:-} $rss"
      echo "round $round $pair $who: $secs s, $rss MB" >&2
    done
  done
done

# Validation cost: one `db validate` of the last transit copy per pair (on
# the pg-lite target, which holds the last copy).
reset_target lite
"$BIN" db copy --source "$PGS" --target "sqlite://$LITET" --tables "$LIST" --jobs 2 --run-dir "$WORK/runs" --no-validate >/dev/null
run validate "$BIN" db validate --source "$PGS" --target "sqlite://$LITET" --tables "$LIST"
VALIDATE=$secs
# What validation adds to a copy (the target's rows checked against the
# checksum of the source rows the copy read): PostgreSQL -> PostgreSQL
# with validation, three runs, against the same copy without it above.
VALIDATED=()
for round in 1 2 3; do
  reset_target pg
  run "pg-pg.validated" "$BIN" db copy --source "${SRC[pg-pg]}" --target "${DST[pg-pg]}" \
    --tables "$LIST" --jobs 2 --run-dir "$WORK/runs"
  VALIDATED+=("$secs")
  echo "round $round pg-pg transit with validation: $secs s" >&2
done

echo
echo "rows copied per run: $N (tables: $TABLES)"
printf '%-8s %-9s %9s %10s %8s %10s %10s\n' pair contestant "median s" rows/s "RSS MB" "transit/x" target
for pair in $PAIRS; do
  a=$(median ${TIMES[$pair.transit]})
  for who in transit pgloader native; do
    [ -n "${TIMES[$pair.$who]:-}" ] || { printf '%-8s %-9s %9s\n' "$pair" "$who" "n/a"; continue; }
    m=$(median ${TIMES[$pair.$who]})
    r=$(median ${RSS[$pair.$who]})
    ratio=$(echo "$a / $m" | bc -l)
    goal=""
    case "$pair.$who" in
      *-pg.pgloader|pg-pg.pgloader) goal="<= 0.40" ;;
      *-pg.native|pg-pg.native) goal="<= 1.25" ;;
      pg-my.native) goal="<= 1.25" ;;
      pg-lite.native) goal="<= 1.50" ;;
    esac
    printf '%-8s %-9s %9.2f %10.0f %8s %10.2f %10s' "$pair" "$who" "$m" "$(echo "$N / $m" | bc -l)" "$r" "$ratio" "$goal"
    [ -z "${FAILS[$pair.$who]:-}" ] && echo || echo "  (${FAILS[$pair.$who]} run(s) crashed)"
  done
done
echo "validate (PostgreSQL vs SQLite, $N rows): $VALIDATE s"
V=$(median "${VALIDATED[@]}"); C=$(median ${TIMES[pg-pg.transit]})
echo "copy with validation, PostgreSQL -> PostgreSQL: $V s against $C s without: validation adds $(echo "($V - $C) * 100 / $C" | bc -l | xargs printf '%.0f') % (goal <= 30 %)"
