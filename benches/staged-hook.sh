#!/usr/bin/env bash
# Benchmark: the pre-commit hook's own run (`keysweep git --staged`) on a repository with
# 50,000 tracked files and one staged file. Target: under 50 ms. Usage: benches/staged-hook.sh [DIR]
# KEYSWEEP=PATH times that binary instead of building target/release/keysweep. FILES (default
# 50000): tracked files of a new repository; RUNS_DIR (default benches/runs): where the results
# go; JSON_OUT: also write hyperfine's JSON export there.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=${1:-/tmp/keysweep-bench-50k}
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
if [ -z "${KEYSWEEP:-}" ]; then
  cargo build --release --quiet
  KEYSWEEP=$PWD/target/release/keysweep
fi
if [ ! -d "$repo/.git" ]; then
  rm -rf "$repo" && mkdir -p "$repo"
  git -C "$repo" init -q -b main
  python3 - "$repo" "${FILES:-50000}" <<'PY'
import os, random, sys
root = sys.argv[1]
r = random.Random(1)
for i in range(int(sys.argv[2])):
    d = os.path.join(root, f"src/m{i // 500:03d}/sub{(i // 50) % 10}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}.py"), "w") as f:
        f.write(f"# module {i}\n" + "".join(f"x{j} = {r.randint(0, 10**9)}\n" for j in range(20)))
PY
  git -C "$repo" add -A
  git -C "$repo" -c user.email=bench@example.invalid -c user.name=bench commit -qm init
  git -C "$repo" gc -q
fi
key="AKIA""BZPUZDIM3YDYPQG6"
mkdir -p "$repo/src/m002/sub0"
echo "k = '$key'" > "$repo/src/m002/sub0/staged.py"
git -C "$repo" add src/m002/sub0/staged.py
mkdir -p "${RUNS_DIR:-benches/runs}"
out="${RUNS_DIR:-benches/runs}/staged-hook-$(date -u +%Y%m%d).md"
{
  echo "# keysweep git --staged, 50,000 tracked files, one staged ($(date -u +%FT%TZ))"
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; commit $(git rev-parse --short HEAD)"
  echo '```'
  hyperfine -N -i --warmup 3 --runs 20 ${JSON_OUT:+--export-json "$JSON_OUT"} \
    "$KEYSWEEP git --staged $repo -q -f json -o /dev/null" \
    "git -C $repo diff --cached --name-only" 2>&1
  echo '```'
} | tee "$out"
git -C "$repo" reset -q
rm -f "$repo/src/m002/sub0/staged.py"
