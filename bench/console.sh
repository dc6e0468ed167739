#!/usr/bin/env bash
# The web console's Machines and Report pages with MACHINES seeded
# machines (issue 19: each renders in at most 1 s): server-side paging on
# the indexes. Each page is fetched ROUNDS times with curl, logged on
# (session cookie), after one warm-up; the median and the slowest are
# reported, beside the JSON administration API over the same data (the
# peer: /v1/report serialises every machine, /v1/machines one page).
#
#   bench/console.sh [MACHINES]      (default 100000)
#   env ROUNDS=7 DB=sqlite|pg PG=postgres://postgres@127.0.0.1:5432/test
#       TRANSIT_BIN=path to use a built binary instead of a release build
#
# Needs: cargo, curl, sqlite3 (and psql for DB=pg).
set -euo pipefail
cd "$(dirname "$0")/.."
MACHINES=${1:-100000}
ROUNDS=${ROUNDS:-7}
DB=${DB:-sqlite}
PG=${PG:-postgres://postgres@127.0.0.1:5432/test}
for tool in curl sqlite3 python3; do
  command -v $tool >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
if [ -n "${TRANSIT_BIN:-}" ]; then T=$TRANSIT_BIN; else
  cargo build --release --bin transit -q
  T=$PWD/target/release/transit
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/transit-console-bench.XXXXXX")
PGDB=transit_console_bench_$$
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  [ "$DB" = pg ] && psql -q "$PG" -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }

echo "== preparing: repository, two updates (GA), a console user"
$T update keygen --data "$WORK/data" --root-key "$WORK/offline/root.key" >/dev/null
$T update keygen --publisher Genesys --out "$WORK/pub" >/dev/null
$T update publishers add --data "$WORK/data" "$WORK/pub/Genesys.pub" >/dev/null
mkdir -p "$WORK/payload"; head -c 100000 /dev/urandom > "$WORK/payload/setup.bin"
for patch in 2 3; do
  cat > "$WORK/m$patch.toml" <<TOML
application = "Interaction Desktop"
release = "2018 R1"
patch = $patch
install_type = "Patch"
install_version = "18.01.0$patch.12"
upgrade_code = "{9F11553F-55EE-4E3F-A6ED-D21BB0B29D01}"
product_code = "{1A2B3C4D-0000-4E3F-A6ED-D21BB0B29D01}"
publisher = "Genesys"
TOML
  $T update bundle --from "$WORK/payload" --manifest "$WORK/m$patch.toml" --key "$WORK/pub/Genesys.key" -o "$WORK/p$patch.tbundle" >/dev/null
  $T update add --data "$WORK/data" "$WORK/p$patch.tbundle" >/dev/null
done
$T update set-state --data "$WORK/data" 2 ga >/dev/null
DBARG=()
if [ "$DB" = pg ]; then
  psql -q "$PG" -c "CREATE DATABASE $PGDB" >/dev/null
  DBARG=(--database "${PG%/*}/$PGDB")
fi
echo 'bench password' > "$WORK/pw"
$T update provider init --admin bench --password-file "$WORK/pw" --data "$WORK/data" "${DBARG[@]}" >/dev/null

echo "== seeding $MACHINES machines"
# Machine i: Interaction Desktop at patch 1, 2 or 3 (NeedsAttention or
# UpToDate), one in 50 with a client error, one in 7 not seen for 60
# days (ErrorState), spread over 10 groups.
NOW=$(date +%s)
SEED_SQL="
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $MACHINES)
INSERT INTO machines(id, token, name, name_fold, ip, group_id, cic_server, installed, errors, restart_required, first_contact, last_contact, checkins)
SELECT printf('m-%07d', i), 'x', printf('WS%07d', i), printf('ws%07d', i),
  printf('10.%d.%d.%d', i / 65536, (i / 256) % 256, i % 256),
  CASE WHEN i % 10 = 0 THEN 1 ELSE (i % 10) + 1 END, 0,
  printf('[{\"application\":\"Interaction Desktop\",\"release\":\"2018 R1\",\"patch\":%d,\"version\":\"18.01.%02d.12\"}]', 1 + i % 3, 1 + i % 3),
  CASE WHEN i % 50 = 0 THEN '[\"disk full\"]' ELSE '[]' END, 0,
  $NOW - 90 * 86400, CASE WHEN i % 7 = 0 THEN $NOW - 60 * 86400 ELSE $NOW - (i % 3600) END, 1
FROM n;"
GROUPS_SQL="INSERT INTO groups(name, name_fold, settings) SELECT 'G' || i, 'g' || i, '{\"mode\":\"Download\",\"install_day\":\"Everyday\",\"install_hour\":2}' FROM (SELECT 2 AS i UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10 UNION ALL SELECT 11) g;"
if [ "$DB" = pg ]; then
  URL="${PG%/*}/$PGDB"
  psql -q "$URL" -c "INSERT INTO groups(id, name, name_fold, settings) SELECT i, 'G' || i, 'g' || i, '{\"mode\":\"Download\",\"install_day\":\"Everyday\",\"install_hour\":2}' FROM generate_series(2, 11) i" >/dev/null
  psql -q "$URL" -c "INSERT INTO machines(id, token, name, name_fold, ip, group_id, cic_server, installed, errors, restart_required, first_contact, last_contact, checkins)
    SELECT format('m-%s', lpad(i::text, 7, '0')), 'x', format('WS%s', lpad(i::text, 7, '0')), format('ws%s', lpad(i::text, 7, '0')),
      format('10.%s.%s.%s', i / 65536, (i / 256) % 256, i % 256), CASE WHEN i % 10 = 0 THEN 1 ELSE (i % 10) + 1 END, false,
      format('[{\"application\":\"Interaction Desktop\",\"release\":\"2018 R1\",\"patch\":%s,\"version\":\"18.01.%s.12\"}]', 1 + i % 3, lpad((1 + i % 3)::text, 2, '0')),
      CASE WHEN i % 50 = 0 THEN '[\"disk full\"]' ELSE '[]' END, false,
      $NOW - 90 * 86400, CASE WHEN i % 7 = 0 THEN $NOW - 60 * 86400 ELSE $NOW - (i % 3600) END, 1
    FROM generate_series(1, $MACHINES) i; ANALYZE machines;" >/dev/null
else
  sqlite3 "$WORK/data/provider.db" "$GROUPS_SQL $SEED_SQL ANALYZE;"
fi

PORT=$(free_port)
"$T" update provider --data "$WORK/data" "${DBARG[@]}" --release "2018 R1" --patch 5 --listen "127.0.0.1:$PORT" > "$WORK/provider.out" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q listening "$WORK/provider.out" && break; sleep 0.1; done
BASE="http://127.0.0.1:$PORT"
JAR="$WORK/cookies"
TOKEN=$(curl -s -c "$JAR" "$BASE/console/login" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" -c "$JAR" --data-urlencode "csrf=$TOKEN" --data-urlencode user=bench --data-urlencode "password=bench password" "$BASE/console/login")
[ "$code" = 303 ] || { echo "login failed ($code)" >&2; exit 1; }
COUNT=$(curl -s -b "$JAR" "$BASE/console/about" | sed -n 's/.*<th>Machines<\/th><td>\([0-9]*\)<.*/\1/p')
echo "   provider: $($T --version 2>/dev/null | head -1), store $DB, $COUNT machines"

# time PATH: ROUNDS fetches after a warm-up; sets $med, $worst (s) and $bytes.
time_page() {
  local t=() code
  curl -s -o /dev/null -b "$JAR" "$BASE$1"
  for _ in $(seq "$ROUNDS"); do
    read -r code s bytes < <(curl -s -o /dev/null -b "$JAR" -w '%{http_code} %{time_total} %{size_download}\n' "$BASE$1")
    [ "$code" = 200 ] || { echo "$1 answered $code" >&2; exit 1; }
    t+=("$s")
  done
  med=$(median "${t[@]}"); worst=$(maxof "${t[@]}")
}

printf '\n| page | median s | slowest s | bytes | ≤ 1 s |\n|---|---|---|---|---|\n'
declare -A MED
for path in \
  "/console/machines" \
  "/console/machines?page=500" \
  "/console/machines?search=ws00999" \
  "/console/machines?search=10.1.2" \
  "/console/report" \
  "/console/report?status=UpToDate&page=300" \
  "/console/report?since=2w&status=NeedsAttention" \
  "/v1/machines?limit=100" \
  "/v1/report"; do
  time_page "$path"
  MED[$path]=$med
  ok=$(awk -v w="$worst" 'BEGIN { print (w <= 1.0) ? "yes" : "NO" }')
  printf '| `%s` | %.3f | %.3f | %s | %s |\n' "$path" "$med" "$worst" "$bytes" "$ok"
done
printf '\nReport page against the JSON report (same machines, assessed the same way): %.2f\n' \
  "$(awk -v a="${MED[/console/report]}" -v b="${MED[/v1/report]}" 'BEGIN { print a / b }')"
echo "provider peak RSS: $(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$PID/status") MB"
