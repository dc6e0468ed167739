#!/usr/bin/env bash
# Update service, surge control: N simulated agents (`transit update
# fleet`: the agent's own schedule, with spread-out retries after a failed
# check-in) check in every 8-12 s against a real provider; the provider is
# killed (SIGKILL) at KILL_AT s and started again DOWN s later. Prints the
# steady arrival rate, the peak second after the restart as a multiple of
# it (target <= 3x), how long until arrivals settle back to steady (target
# <= 60 s: the first second from which every 5 s average stays within
# +-25 % of steady), machines still failing at the end and machines in
# ErrorState in the provider's report (target 0).
#
#   bench/surge.sh [CLIENTS] [SECONDS] [KILL_AT] [DOWN]   (default 10000 120 30 5)
#
# Needs the release binary (TRANSIT_BIN, or target/release/transit), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-10000}
SECONDS_TOTAL=${2:-120}
KILL_AT=${3:-30}
DOWN=${4:-5}
T=${TRANSIT_BIN:-target/release/transit}
[ -x "$T" ] || cargo build --release -p transit-cli -q
T=$(realpath "$T")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/transit-surge.XXXXXX")
PROVIDER_PID=
trap '[ -n "$PROVIDER_PID" ] && kill -9 "$PROVIDER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT

"$T" update keygen --data "$WORK/data" --root-key "$WORK/offline/root.key" >/dev/null
start_provider() {
  "$T" update provider --data "$WORK/data" --listen "127.0.0.1:$PORT" --release "2018 R1" --patch 9 \
    --check-min 8s --check-max 12s --max-connections 4096 >"$WORK/provider.$1.log" 2>&1 &
  PROVIDER_PID=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$WORK/provider.$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "the provider did not start" >&2; cat "$WORK/provider.$1.log" >&2; exit 1
}
start_provider 1
echo "== $CLIENTS agents for ${SECONDS_TOTAL} s, check-ins every 8-12 s; provider killed at ${KILL_AT} s, back ${DOWN} s later"
"$T" update fleet --provider "$URL" --clients "$CLIENTS" --check-min 8s --check-max 12s \
  --duration "$SECONDS_TOTAL" --connections 1024 --json >"$WORK/fleet.json" 2>"$WORK/fleet.err" &
FLEET=$!
sleep "$KILL_AT"
kill -9 "$PROVIDER_PID"; wait "$PROVIDER_PID" 2>/dev/null || true
sleep "$DOWN"
start_provider 2
wait "$FLEET" || { cat "$WORK/fleet.err" >&2; exit 1; }
"$T" update report --provider "$URL" --json >"$WORK/report.json"
python3 - "$WORK/fleet.json" "$WORK/report.json" "$KILL_AT" "$DOWN" <<'PY'
import json, sys
fleet = json.load(open(sys.argv[1])); report = json.load(open(sys.argv[2]))
kill, down = int(sys.argv[3]), int(sys.argv[4])
a = fleet["arrivals"]
steady = sum(a[15:kill]) / max(1, kill - 15)
back = kill + down
peak = max(a[back:])
settle = None
for s in range(back, len(a) - 5):
    if all(abs(sum(a[t:t + 5]) / 5 - steady) <= 0.25 * steady for t in range(s, len(a) - 5)):
        settle = s - back
        break
errors = sum(1 for m in report["machines"] if m["status"] == "ErrorState")
print(f"| measure | value | target |")
print(f"|---|---|---|")
print(f"| steady arrivals (/s, seconds 15-{kill}) | {steady:.0f} | |")
print(f"| peak second after the restart (/s) | {peak} = {peak / steady:.2f}x steady | <= 3x |")
print(f"| back to steady after | {settle if settle is not None else 'never'} s | <= 60 s |")
print(f"| check-ins that found no provider | {sum(fleet['unreachable'])} | |")
print(f"| agents failing at the end | {fleet['failing_at_end']} | 0 |")
print(f"| machines in the report / in ErrorState | {len(report['machines'])} / {errors} | all / 0 |")
print("arrivals per second:", a)
PY
