#!/usr/bin/env bash
# The update client agent (issue 18): its heavy reliability loops and its
# two performance figures, against a real provider on loopback.
#
#   bench/client.sh [SIZE_MB] [TRIALS]     (default 1024 MB, 20 trials)
#
# 1. verification: the agent verifies a complete download through tough
#    (metadata, then the payload's SHA-256 while it writes the verified
#    copy), against `sha256sum` of the same file, page cache warm for both;
# 2. idle RSS of the daemon after its first check-in (VmRSS, /proc);
# 3. TRIALS SIGKILLs at random moments during apply and during Remove:
#    `current` must point at a complete tree equal to its payload, and the
#    next start must complete or roll back;
# 4. a SIZE_MB download through a relay that drops 10 connections: the
#    final hash is right, and at most 10 MiB is received twice;
# 5. a 100 MB download at --max-rate 10000000 (10 MB/s, ±10 %).
#
# Needs: cargo, python3, sha256sum, bc. About 4 x SIZE_MB of free disk.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-1024}
TRIALS=${2:-20}
# TRANSIT_BIN=path runs another build (such as the debug one, to try the script).
if [ -n "${TRANSIT_BIN:-}" ]; then T=$TRANSIT_BIN; else
  cargo build --release --bin transit -q
  T=$PWD/target/release/transit
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/transit-client-bench.XXXXXX")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
R="$WORK/no-server"
t() { "$T" --server-root "$R" "$@"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

manifest() { # PATCH VERSION
  cat > "$WORK/m$1.toml" <<TOML
application = "Interaction Desktop"
release = "2018 R1"
patch = $1
install_type = "Patch"
install_version = "$2"
upgrade_code = "{9F11553F-55EE-4E3F-A6ED-D21BB0B29D01}"
product_code = "{1A2B3C4D-0000-4E3F-A6ED-D21BB0B29D01}"
publisher = "Genesys"
TOML
}

echo "== preparing: provider data, a ${SIZE_MB} MB payload (incompressible), small payloads"
t update keygen --data "$WORK/data" --root-key "$WORK/offline/root.key" >/dev/null
t update keygen --publisher Genesys --out "$WORK/pub" >/dev/null
t update publishers add --data "$WORK/data" "$WORK/pub/Genesys.pub" >/dev/null
mkdir -p "$WORK/big" "$WORK/v1/bin" "$WORK/v2/bin" "$WORK/cic"
echo I3_FEATURE_SU_ALLOWED > "$WORK/cic/licence.txt"
head -c $((SIZE_MB * 1024 * 1024)) /dev/urandom > "$WORK/big/setup.bin"
for i in $(seq 1 200); do
  head -c 20000 /dev/urandom > "$WORK/v1/bin/f$i"
  head -c 40000 /dev/urandom > "$WORK/v2/bin/f$i"
done
manifest 1 18.01.01.01; manifest 2 18.01.02.01; manifest 3 18.01.03.01
t update bundle --from "$WORK/v1" --manifest "$WORK/m1.toml" --key "$WORK/pub/Genesys.key" -o "$WORK/p1.tbundle" >/dev/null
t update bundle --from "$WORK/v2" --manifest "$WORK/m2.toml" --key "$WORK/pub/Genesys.key" -o "$WORK/p2.tbundle" >/dev/null
t update bundle --from "$WORK/big" --manifest "$WORK/m3.toml" --key "$WORK/pub/Genesys.key" -o "$WORK/p3.tbundle" >/dev/null
rm -rf "$WORK/big"
ID2=$(t update add --json --data "$WORK/data" "$WORK/p2.tbundle" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
t update set-state --data "$WORK/data" "$ID2" ga >/dev/null
PORT=$(port)
"$T" --server-root "$R" update provider --release "2018 R1" --patch 9 --listen "127.0.0.1:$PORT" --data "$WORK/data" > "$WORK/provider.out" &
PIDS+=($!)
until grep -q listening "$WORK/provider.out" 2>/dev/null; do sleep 0.1; done
URL="http://127.0.0.1:$PORT"

client() { # NAME PROVIDER [EXTRA]
  mkdir -p "$WORK/c/$1"
  cat > "$WORK/c/$1/client.toml" <<TOML
[client]
name = "$1"
state_dir = "state"
install_root = "apps"
trust_root = "$WORK/data/repository/metadata/1.root.json"
publishers = "$WORK/data/publishers.toml"
server_root = "$WORK/cic"
providers = ["$2"]
check_min = "1s"
check_max = "2s"
${3:-}
TOML
  echo "$WORK/c/$1/client.toml"
}

# `current` must be a complete tree equal to v1 or v2.
check_tree() { # CONFIG
  local cur; cur=$(readlink "$(dirname "$1")/apps/Interaction Desktop/current" || true)
  case "$cur" in
    18.01.01.01) src=$WORK/v1 ;;
    18.01.02.01) src=$WORK/v2 ;;
    *) echo "FAIL: current is '$cur'"; return 1 ;;
  esac
  (cd "$src" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$WORK/want"
  (cd "$(dirname "$1")/apps/Interaction Desktop/current/" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$WORK/got"
  cmp -s "$WORK/want" "$WORK/got" || { echo "FAIL: tree $cur differs from its payload"; return 1; }
  echo "$cur"
}

echo "== 3. $TRIALS SIGKILLs at random moments during apply, then during Remove"
fails=0; olds=0; news=0
for i in $(seq 1 "$TRIALS"); do
  C=$(client "kill$i" "$URL")
  t update client install-bundle --config "$C" "$WORK/p1.tbundle" >/dev/null
  "$T" --server-root "$R" update client run --once --apply --config "$C" >/dev/null 2>&1 & pid=$!
  sleep "0.$(( RANDOM % 60 ))"; kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  v=$(check_tree "$C") || { fails=$((fails + 1)); continue; }
  t update client run --once --config "$C" >/dev/null 2>&1 || true
  [ -e "$(dirname "$C")/state/journal.json" ] && { echo "FAIL: journal left after restart"; fails=$((fails + 1)); }
  after=$(check_tree "$C") || { fails=$((fails + 1)); continue; }
  [ "$after" = 18.01.01.01 ] && olds=$((olds + 1)) || news=$((news + 1))
done
echo "apply: $TRIALS kills, $fails failures; after restart: $olds on the old tree, $news on the new"
t update updates set-state "$ID2" remove --provider "$URL" >/dev/null
rfails=0
for i in $(seq 1 "$TRIALS"); do
  C=$(client "rm$i" "$URL")
  t update client install-bundle --config "$C" "$WORK/p1.tbundle" >/dev/null
  t update client install-bundle --config "$C" "$WORK/p2.tbundle" >/dev/null
  "$T" --server-root "$R" update client run --once --config "$C" >/dev/null 2>&1 & pid=$!
  sleep "0.$(( RANDOM % 40 ))"; kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  check_tree "$C" >/dev/null || { rfails=$((rfails + 1)); continue; }
  t update client run --once --config "$C" >/dev/null 2>&1 || true
  v=$(check_tree "$C") || { rfails=$((rfails + 1)); continue; }
  [ "$v" = 18.01.01.01 ] || { echo "FAIL: Remove not completed ($v)"; rfails=$((rfails + 1)); }
done
echo "remove: $TRIALS kills, $rfails failures"

echo "== 1. verification of ${SIZE_MB} MB: the agent (tough) vs sha256sum"
ID3=$(t update add --json --data "$WORK/data" "$WORK/p3.tbundle" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
t update set-state --data "$WORK/data" "$ID3" ga >/dev/null
sleep 6 # the provider reloads its catalog every 5 s
TARGET=$(ls "$WORK"/data/repository/targets/*18.01.03.01* | head -n 1)
C=$(client verify "$URL")
# A base version of patch 1 so that patch 3 is offered; Download mode fetches it.
t update client install-bundle --config "$C" "$WORK/p1.tbundle" >/dev/null
t update client run --once --config "$C" >/dev/null
S=$(dirname "$C")/state
cat "$TARGET" > /dev/null
best_agent=; best_sum=
for round in 1 2 3; do
  rm -f "$S"/downloads/*.verified
  cp "$TARGET" "$S/downloads/$(basename "$TARGET").part"
  cat "$S/downloads/$(basename "$TARGET").part" > /dev/null
  t update client run --once --config "$C" >/dev/null
  a=$(grep -o 'download and verification [0-9.]* s' "$S/agent.log" | tail -n 1 | awk '{print $4}')
  s0=$(now); sha256sum "$TARGET" > /dev/null; s1=$(now)
  s=$(echo "$s1 - $s0" | bc -l)
  echo "round $round: agent ${a} s, sha256sum ${s} s"
  if [ -z "$best_agent" ] || (( $(echo "$a < $best_agent" | bc -l) )); then best_agent=$a; fi
  if [ -z "$best_sum" ] || (( $(echo "$s < $best_sum" | bc -l) )); then best_sum=$s; fi
done
BYTES=$(stat -c %s "$TARGET")
printf 'verify %d MB: agent %.2f s (%.0f MB/s), sha256sum %.2f s (%.0f MB/s), ratio %.2f x sha256sum speed\n' \
  "$SIZE_MB" "$best_agent" "$(echo "$BYTES / $best_agent / 1000000" | bc -l)" \
  "$best_sum" "$(echo "$BYTES / $best_sum / 1000000" | bc -l)" "$(echo "$best_sum / $best_agent" | bc -l)"

echo "== 2. idle RSS of the daemon"
C=$(client idle "$URL")
"$T" --server-root "$R" update client run --config "$C" >/dev/null 2>&1 & DPID=$!
PIDS+=($DPID)
until t update client status --json --config "$C" 2>/dev/null | grep -q '"last_checkin": "'; do sleep 0.2; done
sleep 5
rss=$(awk '/VmRSS/ {print $2}' "/proc/$DPID/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$DPID/status")
echo "idle RSS: $((rss / 1024)) MB (peak $((hwm / 1024)) MB)"
kill "$DPID"; wait "$DPID" 2>/dev/null || true

echo "== 4. ${SIZE_MB} MB download through a relay that drops 10 connections"
RELAY=$(port)
python3 - "$RELAY" "$PORT" "$WORK/relay.count" "$((SIZE_MB * 1024 * 1024))" <<'PY' & PIDS+=($!)
import socket, sys, threading, random
listen, upstream, count_file, size = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
drops = [10]
lock = threading.Lock()
total = [0]
def pump(src, dst, cut):
    sent = 0
    try:
        while True:
            b = src.recv(65536)
            if not b: break
            if cut and sent + len(b) > cut:
                b = b[:cut - sent]
            dst.sendall(b); sent += len(b)
            if cut is not None:
                with lock:
                    total[0] += len(b)
                    open(count_file, "w").write(str(total[0]))
            if cut and sent >= cut: break
    except OSError: pass
    for s in (src, dst):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen)); srv.listen(16)
while True:
    c, _ = srv.accept()
    u = socket.create_connection(("127.0.0.1", upstream))
    with lock:
        # Each of the first 10 connections is cut after 2-8 % of the payload.
        cut = random.randint(size // 50, size // 12) if drops[0] > 0 else 0
        if cut: drops[0] -= 1
    threading.Thread(target=pump, args=(c, u, None), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, cut), daemon=True).start()
PY
sleep 0.5
C=$(client resume "http://127.0.0.1:$RELAY")
t update client install-bundle --config "$C" "$WORK/p1.tbundle" >/dev/null
t update client run --once --json --config "$C" > "$WORK/resume.json"
python3 - "$WORK/resume.json" "$BYTES" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); size = int(sys.argv[2]); s = r["status"]
got = s["received_bytes"]; extra = got - size
print(f"results: {[x['status'] for x in r['results']]}")
print(f"dropped {s['dropped_connections']}, resumed {s['resumed']}, received {got} of {size} bytes: {extra} bytes twice ({extra / 1048576:.2f} MiB; limit 10 MiB)")
PY
sha=$(basename "$TARGET" | cut -d. -f1)
ls "$(dirname "$C")"/state/downloads/*.verified | head -n 1 | xargs sha256sum | grep -q "$sha" \
  && echo "final hash: right ($sha)" || echo "FAIL: final hash differs"

echo "== 5. rate limit: 100 MB at --max-rate 10000000"
mkdir -p "$WORK/r100"; head -c $((100 * 1024 * 1024)) /dev/urandom > "$WORK/r100/x.bin"
manifest 4 18.01.04.01
t update bundle --from "$WORK/r100" --manifest "$WORK/m4.toml" --key "$WORK/pub/Genesys.key" -o "$WORK/p4.tbundle" >/dev/null
ID4=$(t update add --json --data "$WORK/data" "$WORK/p4.tbundle" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
t update set-state --data "$WORK/data" "$ID4" ga >/dev/null
t update set-state --data "$WORK/data" "$ID3" inactive >/dev/null
sleep 6
C=$(client rate "$URL")
t update client install-bundle --config "$C" "$WORK/p1.tbundle" >/dev/null
t update client run --once --max-rate 10000000 --config "$C" >/dev/null
grep -o 'transfer of .*' "$(dirname "$C")/state/agent.log" | tail -n 1 | sed 's/^/rate: /'
echo "(target 10.00 MB/s +/- 10 %)"
