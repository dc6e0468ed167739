#!/usr/bin/env bash
# Times `transit db generate` of about 5M rows into each engine (PostgreSQL
# COPY, MariaDB multi-row INSERT, SQLite prepared batches), with peak RSS
# from GNU time. Each engine gets a fresh database, dropped afterwards.
#
#   bench/db-generate.sh [CALLS_PER_DAY]      (default 390: ~5.0M rows)
#
# Needs the release binary (cargo build --release -p transit-cli), psql,
# mariadb (client), GNU time, and the servers of TRANSIT_TEST_PG and
# TRANSIT_TEST_MYSQL (defaults as in .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
[ -x /usr/bin/time ] || { echo "missing GNU time (apt-get install time)" >&2; exit 1; }
CALLS=${1:-390}
SITES=4
DAYS=365
PG=${TRANSIT_TEST_PG:-postgres://postgres@127.0.0.1:5432/test}
MY=${TRANSIT_TEST_MYSQL:-mysql://root@127.0.0.1:3306/test}
BIN=target/release/transit
[ -x "$BIN" ] || cargo build --release -p transit-cli
WORK=$(mktemp -d)
DB=transit_bench_$$
trap 'psql -q "$PG" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
      mariadb -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
      rm -rf "$WORK"' EXIT

psql -q "$PG" -c "CREATE DATABASE $DB" >/dev/null
mariadb -h127.0.0.1 -uroot -e "CREATE DATABASE $DB CHARACTER SET utf8mb4"
declare -A URL=(
  [postgresql]="${PG%/*}/$DB"
  [mariadb]="${MY%/*}/$DB"
  [sqlite]="sqlite://$WORK/history.db"
)
printf '%-11s %10s %9s %11s %9s\n' engine rows seconds rows/s "RSS MB"
for engine in postgresql mariadb sqlite; do
  run "$engine" "$BIN" db generate --url "${URL[$engine]}" --sites $SITES --days $DAYS \
      --calls-per-day "$CALLS" --seed 1 --json
  rows=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total_rows"])' "$WORK/out.$engine")
  printf '%-11s %10s %9.1f %11.0f %9s\n' "$engine" "$rows" "$secs" "$(echo "$rows / $secs" | bc -l)" "$rss"
done
