#!/usr/bin/env bash
# Benchmark: what decoding (base64, JSON escapes, percent-encoding, quoted-printable; issue 7)
# costs on the plain source tree of scripts/bench-vs-rg.sh: `keysweep scan TREE` against
# `keysweep scan --no-decode TREE`, both timed in one hyperfine session, warm cache.
# Target: ratio ≤ 1.10. Appends to benches/runs/decode-overhead-DATE.md.
#
# Usage: benches/decode-overhead.sh [TREE_DIR]   (default /tmp/keysweep-bench-tree; generate it
# with scripts/bench-vs-rg.sh). KEYSWEEP=PATH times that binary instead of building
# target/release/keysweep. RUNS=N sets hyperfine's runs per command (default 5). RUNS_DIR (default
# benches/runs): where the results go; JSON_OUT: keep hyperfine's JSON export there.
set -euo pipefail
cd "$(dirname "$0")/.."

tree=${1:-/tmp/keysweep-bench-tree}
runs=${RUNS:-5}
[ -d "$tree" ] || { echo "no tree at $tree: run scripts/bench-vs-rg.sh first" >&2; exit 2; }
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
if [ -z "${KEYSWEEP:-}" ]; then
  cargo build --release --quiet
  KEYSWEEP=$PWD/target/release/keysweep
fi

decode_cmd="$KEYSWEEP scan $tree --format json --no-progress -q -o /dev/null"
plain_cmd="$KEYSWEEP scan $tree --no-decode --format json --no-progress -q -o /dev/null"
load=$(cut -d' ' -f1-3 /proc/loadavg)
json=$(mktemp)
trap 'rm -f "$json"' EXIT
# Exit 1 (findings: the tree holds fake keys) is expected, hence -i.
hyperfine -i -N --warmup 1 --runs "$runs" --export-json "$json" \
  -n no-decode "$plain_cmd" -n decode "$decode_cmd" >&2

read -r plain_mean plain_user decode_mean decode_user ratio user_ratio < <(python3 - "$json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
p, d = r["no-decode"], r["decode"]
print(f'{p["mean"]:.3f} {p["user"]:.3f} {d["mean"]:.3f} {d["user"]:.3f} '
      f'{d["mean"] / p["mean"]:.3f} {d["user"] / p["user"]:.3f}')
PY
)
[ -z "${JSON_OUT:-}" ] || cp "$json" "$JSON_OUT"

mkdir -p "${RUNS_DIR:-benches/runs}"
out="${RUNS_DIR:-benches/runs}/decode-overhead-$(date -u +%Y%m%d).md"
{
  echo
  echo "# keysweep scan with and without decoding, $(find "$tree" -type f | wc -l) files, $(( $(du -sb "$tree" | cut -f1) / 1048576 )) MiB, warm cache ($(date -u +%FT%TZ))"
  echo
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM; load before the runs: $load;" \
    "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo +dirty); $(hyperfine --version); $runs runs each"
  echo
  echo '| | mean (s) | user (s) |'
  echo '|---|---|---|'
  echo "| \`--no-decode\` | $plain_mean | $plain_user |"
  echo "| decoding (default, depth 3) | $decode_mean | $decode_user |"
  echo
  echo "ratio decode/no-decode: **$ratio** wall, $user_ratio user CPU (target ≤ 1.10 wall)"
} | tee -a "$out"
