#!/usr/bin/env bash
# Mutation-fuzzes the migration-file reader for MINUTES minutes (default 10):
# repeated proptest runs of crates/archive/tests/fuzz_reader.rs with fresh
# random seeds. Not part of CI. Prints the number of cases run.
#
#   bench/fuzz-archive.sh [MINUTES] [CASES_PER_RUN]
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-10}
PER_RUN=${2:-2000}
cargo test --release -q -p transit-archive --test fuzz_reader --no-run
end=$(( $(date +%s) + MINUTES * 60 ))
runs=0
while [ "$(date +%s)" -lt "$end" ]; do
  PROPTEST_CASES=$PER_RUN cargo test --release -q -p transit-archive --test fuzz_reader >/dev/null 2>"${TMPDIR:-/tmp}/fuzz-archive.err" || {
    cat "${TMPDIR:-/tmp}/fuzz-archive.err" >&2; echo "FAILED after $runs runs" >&2; exit 1; }
  runs=$((runs + 1))
done
tests=$(grep -c '^fn \|^    fn ' crates/archive/tests/fuzz_reader.rs || true)
echo "fuzzed for $MINUTES minutes: $runs runs x $PER_RUN cases per property, no failure"
