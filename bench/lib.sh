# Shared helpers for the bench/ scripts (sourced, not run).

# Finds 7-Zip as $SEVENZIP and checks GNU time; exits with a hint if missing.
need_sevenzip_and_time() {
  SEVENZIP=$(command -v 7zz || command -v 7z || true)
  [ -n "$SEVENZIP" ] || { echo "missing 7-Zip (apt-get install 7zip)" >&2; exit 1; }
  [ -x /usr/bin/time ] || { echo "missing GNU time (apt-get install time)" >&2; exit 1; }
}

# run LABEL CMD...: runs CMD under GNU time; sets $secs (wall) and $rss (peak MB).
# Output goes to $WORK/out.LABEL and $WORK/err.LABEL; a failure prints stderr and exits.
run() {
  local label=$1; shift
  /usr/bin/time -v -o "$WORK/time.$label" "$@" >"$WORK/out.$label" 2>"$WORK/err.$label" || {
    # RUN_MAY_FAIL=1: a peer that may crash returns 1 instead of ending the bench.
    tail -n 20 "$WORK/err.$label" >&2; [ -n "${RUN_MAY_FAIL:-}" ] && return 1; exit 1; }
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$WORK/time.$label")
  rss=$(awk -F': ' '/Maximum resident set size/ { print int($2 / 1024) }' "$WORK/time.$label")
}
