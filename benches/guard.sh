#!/usr/bin/env bash
# Benchmark: one `keysweep guard` call (a Claude Code PreToolUse hook) on real-shaped payloads:
# a clean Write (allow), a Write holding an AWS key pair (block), a clean Bash command (allow)
# and a Read (nothing to scan). Target: under 20 ms per call. Usage: benches/guard.sh
# KEYSWEEP=PATH times that binary instead of building target/release/keysweep. RUNS_DIR (default
# benches/runs): where the results go; JSON_OUT: also write hyperfine's JSON export there.
# hyperfine 1.15 has no --input, so each command reads its payload through `sh -c '... < FILE'`;
# hyperfine measures the shell's own start-up and subtracts it.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
if [ -z "${KEYSWEEP:-}" ]; then
  cargo build --release --quiet
  KEYSWEEP=$PWD/target/release/keysweep
fi
dir=$(mktemp -d /tmp/keysweep-guard-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import json, random, string, sys
d = sys.argv[1]
r = random.Random(7)
b64 = string.ascii_letters + string.digits + "+/"
secret = "".join(r.choice(b64) for _ in range(38)) + "+/"
key = "AKIA" "BZPUZDIM3YDYPQG6"
clean = "".join(f"def f{i}(x):\n    return x * {r.randint(0, 10**9)}  # step {i}\n" for i in range(60))
def payload(tool, tool_input):
    return json.dumps({"session_id": "bench", "transcript_path": "/tmp/t.jsonl", "cwd": d,
                       "hook_event_name": "PreToolUse", "tool_name": tool, "tool_input": tool_input})
files = {
    "write-allow.json": payload("Write", {"file_path": f"{d}/app.py", "content": clean}),
    "write-block.json": payload("Write", {"file_path": f"{d}/app.py", "content":
        clean + f'AWS_ACCESS_KEY_ID = "{key}"\nAWS_SECRET_ACCESS_KEY = "{secret}"\n'}),
    "bash-allow.json": payload("Bash", {"command": "cargo test --all-targets 2>&1 | tail -20"}),
    "read.json": payload("Read", {"file_path": f"{d}/app.py"}),
}
for name, text in files.items():
    open(f"{d}/{name}", "w").write(text)
PY
# Check the decisions before timing them.
for f in write-allow bash-allow read; do "$KEYSWEEP" guard < "$dir/$f.json"; done
set +e; "$KEYSWEEP" guard < "$dir/write-block.json" 2>/dev/null; code=$?; set -e
[ "$code" = 2 ] || { echo "write-block.json: expected exit 2, got $code" >&2; exit 1; }
mkdir -p "${RUNS_DIR:-benches/runs}"
out="${RUNS_DIR:-benches/runs}/guard-$(date -u +%Y%m%d).md"
{
  echo "# keysweep guard, one call per payload ($(date -u +%FT%TZ))"
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; commit $(git rev-parse --short HEAD) (+ uncommitted changes)"
  echo "payloads: Write of a 120-line Python file (allow); the same plus an AWS key pair (block, exit 2); a Bash command (allow); a Read (nothing to scan)"
  echo '```'
  hyperfine -i --warmup 3 --runs 20 ${JSON_OUT:+--export-json "$JSON_OUT"} \
    -n write-allow "$KEYSWEEP guard < $dir/write-allow.json" \
    -n write-block "$KEYSWEEP guard < $dir/write-block.json 2>/dev/null" \
    -n bash-allow "$KEYSWEEP guard < $dir/bash-allow.json" \
    -n read "$KEYSWEEP guard < $dir/read.json" 2>&1
  echo '```'
} | tee -a "$out"
