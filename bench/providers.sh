#!/usr/bin/env bash
# Several providers on one PostgreSQL database (issue 20, item 5), against
# one provider alone, in the same run:
#  1. steady load: MACHINES simulated machines at RATE check-ins/s for
#     SECONDS, spread over the providers (machine i starts at provider
#     i mod n and fails over to the next): p50/p99, errors, and every
#     answered check-in counted once in the database;
#  2. capacity: closed loop at 256 connections for CAP_SECONDS.
#
#   bench/providers.sh [MACHINES] [RATE] [SECONDS] [PROVIDERS]
#   (defaults 100000 1000 60 3; env CAP_SECONDS=20
#    PG=postgres://postgres@127.0.0.1:5432/test; TRANSIT_BIN=path to use a
#    built binary instead of a release build)
#
# Needs: cargo, curl, psql, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
MACHINES=${1:-100000}
RATE=${2:-1000}
SECONDS_=${3:-60}
N=${4:-3}
CAP_SECONDS=${CAP_SECONDS:-20}
PG=${PG:-postgres://postgres@127.0.0.1:5432/test}
for tool in curl psql python3; do
  command -v $tool >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
if [ -n "${TRANSIT_BIN:-}" ]; then T=$TRANSIT_BIN; else
  cargo build --release --bin transit -q
  T=$PWD/target/release/transit
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/transit-providers-bench.XXXXXX")
PGDB=transit_providers_$$
PGURL="${PG%/*}/$PGDB"
PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
}
cleanup() {
  stop_all
  psql -q "$PG" -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
jget() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }

echo "== preparing: one signed repository, copied for each provider"
$T update keygen --data "$WORK/data" --root-key "$WORK/offline/root.key" >/dev/null
for i in $(seq 2 "$N"); do cp -a "$WORK/data" "$WORK/data$i"; done

fresh_db() {
  psql -q "$PG" -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1
  psql -q "$PG" -c "CREATE DATABASE $PGDB" >/dev/null
}
# start COUNT: starts COUNT providers on the database; sets URLS.
start() {
  URLS=()
  for i in $(seq 1 "$1"); do
    local data="$WORK/data"; [ "$i" -gt 1 ] && data="$WORK/data$i"
    local port; port=$(free_port)
    "$T" update provider --data "$data" --release "2018 R1" --patch 5 --listen "127.0.0.1:$port" \
      --capacity 1000000 --database "$PGURL" >"$WORK/provider.$i.log" 2>&1 &
    PIDS+=("$!")
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v1/status" >/dev/null && break; sleep 0.1; done
    URLS+=("http://127.0.0.1:$port")
  done
}
simulate() { # simulate OUT RATE SECONDS
  local also=()
  for u in "${URLS[@]:1}"; do also+=(--also "$u"); done
  "$T" update simulate --provider "${URLS[0]}" "${also[@]}" --clients "$MACHINES" --rate "$2" \
    --duration "$3" --connections 256 --seed 17 --json > "$1"
}
stored() { psql -qtA "$PGURL" -c "SELECT coalesce(sum(checkins),0) FROM machines"; }

declare -A P50 P99 OK ERR DB RATE_ CAP SPREAD
for setup in 1 "$N"; do
  fresh_db
  start "$setup"
  echo "== steady: $setup provider(s) on one database, $MACHINES machines at $RATE/s for $SECONDS_ s"
  simulate "$WORK/steady.$setup.json" "$RATE" "$SECONDS_"
  stop_all
  P50[$setup]=$(jget "$WORK/steady.$setup.json" "d['p50_ms']")
  P99[$setup]=$(jget "$WORK/steady.$setup.json" "d['p99_ms']")
  OK[$setup]=$(jget "$WORK/steady.$setup.json" "d['ok']")
  RATE_[$setup]=$(jget "$WORK/steady.$setup.json" "round(d['achieved_rate'])")
  ERR[$setup]=$(jget "$WORK/steady.$setup.json" "sum(n for _, n in d['errors'])")
  SPREAD[$setup]=$(jget "$WORK/steady.$setup.json" "'/'.join(str(n) for n in d['per_provider'])")
  DB[$setup]=$(stored)
  echo "   p99 ${P99[$setup]} ms, ${OK[$setup]} answered (${SPREAD[$setup]}), ${DB[$setup]} stored, ${ERR[$setup]} errors"
  fresh_db
  start "$setup"
  echo "== capacity: $setup provider(s), 256 connections, $CAP_SECONDS s"
  simulate "$WORK/cap.$setup.json" 0 "$CAP_SECONDS"
  stop_all
  CAP[$setup]=$(jget "$WORK/cap.$setup.json" "round(d['achieved_rate'])")
  echo "   ${CAP[$setup]} check-ins/s"
done

echo
echo "| providers on one PostgreSQL | steady rate/s | p50 ms | p99 ms | errors | answered | stored (each once) | capacity/s |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for setup in 1 "$N"; do
  same=$([ "${OK[$setup]}" = "${DB[$setup]}" ] && echo "${DB[$setup]} (=)" || echo "${DB[$setup]} (DIFFERS)")
  echo "| $setup | ${RATE_[$setup]} | ${P50[$setup]} | ${P99[$setup]} | ${ERR[$setup]} | ${OK[$setup]} | $same | ${CAP[$setup]} |"
done
python3 -c "print('capacity ratio (%s providers / 1): %.2f' % ('$N', ${CAP[$N]} / max(1, ${CAP[1]})))"
