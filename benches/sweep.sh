#!/usr/bin/env bash
# Benchmark: `keysweep sweep` over 200 generated repositories (file:// URLs, each cloned into the
# cache by gix), a first sweep into an empty store against a second sweep with nothing changed.
# Target: the second under 5% of the first. Usage: benches/sweep.sh [DIR]
# KEYSWEEP=PATH times that binary (default: target/debug/keysweep, dependencies optimised).
# REPOS (default 200) and COMMITS (default 20) size the generated repositories (made once per DIR);
# RUNS_DIR (default benches/runs): where the results go.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-/tmp/keysweep-bench-sweep}
repos=${REPOS:-200}
commits=${COMMITS:-20}
if [ -z "${KEYSWEEP:-}" ]; then
  cargo build --quiet
  KEYSWEEP=$PWD/target/debug/keysweep
fi
if [ ! -f "$root/repos.txt" ]; then
  rm -rf "$root" && mkdir -p "$root/srv"
  # Each repository: $commits commits of 10 changed source files (of 50), one fake key id.
  python3 - "$root/srv" "$repos" "$commits" <<'PY'
import os, random, subprocess, sys
base, repos, commits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null",
           GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
           GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.invalid")
for n in range(repos):
    r = random.Random(n)
    repo = os.path.join(base, f"r{n:03d}")
    os.makedirs(repo)
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True, env=env)
    for c in range(commits):
        for f in r.sample(range(50), 10):
            d = os.path.join(repo, f"src/m{f % 5}")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"f{f}.py"), "w") as out:
                out.write("".join(f"x{j} = {r.randint(0, 10**12)}\n" for j in range(200)))
        if c == commits // 2:
            key = "AK" + "IA" + "".join(r.choice(alphabet) for _ in range(16))
            with open(os.path.join(repo, "deploy.env"), "w") as out:
                out.write(f"AWS_ACCESS_KEY_ID={key}\n")
        subprocess.run(["git", "-C", repo, "add", "-A"], check=True, env=env)
        subprocess.run(["git", "-C", repo, "commit", "-qm", f"c{c}"], check=True, env=env)
PY
  for d in "$root"/srv/r*; do echo "file://$d"; done > "$root/repos.txt"
fi
rm -rf "$root/store"
time_of() { local s e; s=$(date +%s.%N); "$@" > "$root/last.json" || [ $? -eq 1 ]; e=$(date +%s.%N); echo "$e - $s" | bc; }
first=$(time_of "$KEYSWEEP" sweep --repos "$root/repos.txt" --datastore "$root/store" --no-progress -q -f json)
first_summary=$(tr -d '\n ' < "$root/last.json")
second=$(time_of "$KEYSWEEP" sweep --repos "$root/repos.txt" --datastore "$root/store" --no-progress -q -f json)
second_summary=$(tr -d '\n ' < "$root/last.json")
# Third: one new commit (one changed file) in every repository, so no repository is skipped as
# unchanged: each is fetched, its history walked, and only the new blob read.
for d in "$root"/srv/r*; do
  echo "touched $(date +%s%N)" > "$d/TOUCH"
  git -C "$d" add TOUCH
  git -C "$d" -c user.email=bench@example.invalid -c user.name=bench commit -qm touch
done
third=$(time_of "$KEYSWEEP" sweep --repos "$root/repos.txt" --datastore "$root/store" --no-progress -q -f json)
third_summary=$(tr -d '\n ' < "$root/last.json")
ratio=$(echo "scale=2; 100 * $second / $first" | bc)
ratio3=$(echo "scale=2; 100 * $third / $first" | bc)
mkdir -p "${RUNS_DIR:-benches/runs}"
out="${RUNS_DIR:-benches/runs}/sweep-$(date -u +%Y%m%d).md"
{
  echo "# keysweep sweep: $repos repositories (file://), first sweep vs unchanged second sweep ($(date -u +%FT%TZ))"
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD); binary $KEYSWEEP"
  echo "repositories: $commits commits each, 50 files of 200 lines, one key id; $(du -sh "$root/srv" | cut -f1) on disk"
  echo
  echo "| sweep | seconds |"
  echo "|---|---|"
  echo "| first (empty store: clone + scan every blob) | $first |"
  echo "| second (nothing changed: fetch, refs unchanged, nothing read) | $second |"
  echo "| third (one new commit in every repository: fetch, walk, read only the new blob) | $third |"
  echo
  echo "second / first: $ratio % (target: under 5 %); third / first: $ratio3 %"
  echo
  echo "first summary: \`$first_summary\`"
  echo
  echo "second summary: \`$second_summary\`"
  echo
  echo "third summary: \`$third_summary\`"
} | tee "$out"
