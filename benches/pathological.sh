#!/usr/bin/env bash
# Benchmark: worst-case inputs for the built-in rules (near-miss key ids, runs of secret names,
# dense fake key pairs, long base64 runs, `=` lines, percent and JSON escapes, nested base64, and
# every rule's keywords with near-miss tails) at sizes N, 2N, 4N, 8N; `keysweep scan` must grow
# linearly: CPU per MB at 8N at most 1.3x CPU per MB at N. Exits 1 when an input grows
# super-linearly, 2 on misuse. Generators and timing: benches/pathological.py (stdlib Python).
#
# Usage: benches/pathological.sh [--size-mb N] [--runs R] [--series-top K] [--timeout S]
#        [--limit L] [--only NAME,...] [--work DIR] [--out FILE]
# Defaults: N = 8 MB, 2 runs, the 4 slowest rule inputs join the series, 60 s per run, work in
# /tmp/keysweep-pathological (one input at a time, at most 8N bytes), results to
# benches/runs/pathological-DATE.md. KEYSWEEP=PATH times that binary instead of building
# target/release/keysweep.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${KEYSWEEP:-}" ]; then
  cargo build --release --quiet
  KEYSWEEP=$PWD/target/release/keysweep
fi
work=/tmp/keysweep-pathological
out=${RUNS_DIR:-benches/runs}/pathological-$(date -u +%Y%m%d).md
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --work) work=$2; shift ;;
    --out) out=$2; shift ;;
    --size-mb | --runs | --series-top | --timeout | --limit | --only) args+=("$1" "$2"); shift ;;
    *) echo "pathological.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$(dirname "$out")"
code=0
python3 benches/pathological.py --keysweep "$KEYSWEEP" --work "$work" --out "$out" \
  --size-mb 8 --runs 2 --series-top 4 --timeout 60 "${args[@]}" || code=$?
rm -rf "$work"
cat "$out"
exit "$code"
