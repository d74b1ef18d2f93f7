#!/usr/bin/env bash
# Benchmark: the HTML report of a scan with 10,000 findings, opened in headless Chromium (the
# browser test's driver, tests/html_check.py): time to open (navigation until the page has
# painted its charts and first table page: open_ms as the driver sees it, painted_ms from
# navigation start, script_ms the renderer's own run) and to filter by owner and by free text (change
# until the next painted frame). Target: each under one second. Prints figures, judges nothing.
# Usage: benches/html.sh [RUNS]   (default 5). KEYSWEEP=PATH uses that binary; by default the
# debug build, since only the page is timed, not the scan.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
if [ -z "${KEYSWEEP:-}" ]; then
  cargo build --quiet
  KEYSWEEP=$PWD/target/debug/keysweep
fi
dir=$(mktemp -d /tmp/keysweep-html-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
# 10,000 generated key pairs (fixed seed, fakes: never real credentials) in 100 directories
# owned by 20 teams; every 10th pair is also copied to a second file (two locations).
python3 - "$dir/tree" <<'PY'
import os, random, string, sys
root = sys.argv[1]
r = random.Random(10000)
b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
b64 = string.ascii_letters + string.digits + "+/"
os.makedirs(f"{root}/.github")
with open(f"{root}/.github/CODEOWNERS", "w") as f:
    f.write("*  @org/platform\n")
    for d in range(100):
        f.write(f"/dir{d:02d}/  @org/team{d % 20:02d}\n")
seen = set()
n = 0
while n < 10000:
    key = "AK" + "IA" + "".join(r.choice(b32) for _ in range(16))
    secret = "".join(r.choice(b64) for _ in range(40))
    if key in seen or "XXXX" in key or "EXAMPLE" in key:
        continue
    seen.add(key)
    text = f"[default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
    paths = [f"dir{n % 100:02d}/svc{n // 100:03d}.ini"]
    if n % 10 == 0:
        paths.append(f"dir{(n + 37) % 100:02d}/copy{n // 100:03d}.ini")
    for p in paths:
        os.makedirs(os.path.dirname(f"{root}/{p}"), exist_ok=True)
        with open(f"{root}/{p}", "w") as f:
            f.write(text)
    n += 1
PY
set +e
"$KEYSWEEP" scan "$dir/tree" --format json --no-progress -q --report "html=$dir/report.html" \
  > "$dir/report.json"
code=$?
set -e
[ "$code" = 1 ] || { echo "scan exited $code, expected 1" >&2; exit 1; }
python3 - "$dir" "$runs" <<'PY'
import json, os, statistics, subprocess, sys
d, runs = sys.argv[1], int(sys.argv[2])
report = json.load(open(f"{d}/report.json"))
print(f"findings: {report['stats']['findings']}, locations: {report['stats']['locations']}, "
      f"HTML {os.path.getsize(f'{d}/report.html') / 1e6:.1f} MB")
fields = ["open_ms", "painted_ms", "script_ms", "owner_filter_ms", "text_filter_ms"]
samples = {k: [] for k in fields}
for _ in range(runs):
    out = subprocess.run(["python3", "tests/html_check.py", f"{d}/report.html",
                          "--owner", "@org/team07", "--text", "dir42/"],
                         check=True, capture_output=True, text=True)
    page = json.loads(out.stdout)
    assert not page["console_errors"] and not page["page_errors"], page
    for k in fields:
        samples[k].append(page[k])
print(f"owner filter: {page['owner_match_count']}; text filter: {page['text_match_count']}")
print(f"{'measure':<16}{'median ms':>10}{'min':>8}{'max':>8}   each of {runs} runs")
for k in fields:
    v = samples[k]
    print(f"{k:<16}{statistics.median(v):>10.0f}{min(v):>8.0f}{max(v):>8.0f}   "
          + " ".join(f"{x:.0f}" for x in v))
PY
