#!/usr/bin/env bash
# Benchmark: `keysweep scan` with the whole built-in rule set versus `rg` searching one AWS key id
# regex, over the same ≥1 GB tree of source code, warm cache. Target: keysweep ≤ 1.5× rg's time,
# peak RSS < 300 MB (2 cores).
#
# Usage: scripts/bench-vs-rg.sh [TREE_DIR]   (default /tmp/keysweep-bench-tree; generated once,
# reused while TREE_DIR.stamp matches the generator version). Appends to benches/runs/vs-rg-DATE.md.
# Knobs (for benches/report.sh): TREE_MB (default 1100: size of a generated tree), RUNS (default
# 3), RUNS_DIR (default benches/runs), JSON_OUT (keep hyperfine's JSON export there).
set -euo pipefail
cd "$(dirname "$0")/.."

tree=${1:-/tmp/keysweep-bench-tree}
generator_version=1
tree_mb=${TREE_MB:-1100}
runs=${RUNS:-3}
runs_dir=${RUNS_DIR:-benches/runs}

command -v rg >/dev/null || { apt-get update -qq && apt-get install -y -qq ripgrep; }
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time; }

stamp="$tree.stamp"
stamp_text=$generator_version
[ "$tree_mb" = 1100 ] || stamp_text="$generator_version-${tree_mb}m"
if [ "$(cat "$stamp" 2>/dev/null)" != "$stamp_text" ] || [ ! -d "$tree" ]; then
  echo "generating $tree ..." >&2
  rm -rf "$tree" && mkdir -p "$tree"
  python3 - "$tree" "$tree_mb" <<'PY'
"""~40,000 files, ≥1 GiB, of varied code-like text; a few hundred fake AWS key pairs."""
import base64, os, random, string, sys

root = sys.argv[1]
r = random.Random(20261123)
TARGET = int(sys.argv[2]) * 1024 * 1024
FILES = max(100, 40_000 * TARGET // (1100 * 1024 * 1024))

PY_T = '''def {f}(session, url, params=None, retries=3):
    """Fetches one page of {w} results, retrying on 5xx with exponential backoff."""
    for attempt in range(retries):
        response = session.get(url, params=params or {{}}, timeout={n})
        if response.status_code < 500:
            response.raise_for_status()
            return response.json()["{w}"]
        time.sleep(2 ** attempt)
    raise RuntimeError(f"giving up on {{url}} after {{retries}} attempts")

'''
JS_T = '''export function {f}(items, opts = {{}}) {{
  const {w} = items.filter((x) => x.{w} !== undefined && x.size > {n});
  return {w}.map((x) => ({{ id: x.id, label: `${{x.name}} (${{x.size}})`, ...opts }}));
}}

'''
GO_T = '''func (s *Server) {f}(w http.ResponseWriter, r *http.Request) {{
	ctx, cancel := context.WithTimeout(r.Context(), {n}*time.Millisecond)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, "SELECT id, {w} FROM items WHERE owner = $1", r.URL.Query().Get("owner"))
	if err != nil {{
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}}
	defer rows.Close()
}}

'''
JAVA_T = '''    public Optional<{W}> {f}(long id) {{
        String sql = "SELECT id, name, {w} FROM {w}s WHERE id = ?";
        try (PreparedStatement stmt = connection.prepareStatement(sql)) {{
            stmt.setLong(1, id);
            return stmt.executeQuery().next() ? Optional.of(new {W}(id)) : Optional.empty();
        }} catch (SQLException e) {{
            throw new DataAccessException("lookup failed for {w} " + id + " after {n} ms", e);
        }}
    }}

'''
RS_T = '''/// Returns the {w} entries whose weight exceeds {n}.
pub fn {f}(entries: &[Entry]) -> Vec<&Entry> {{
    entries.iter().filter(|e| e.weight > {n} && !e.{w}.is_empty()).collect()
}}

'''
C_T = '''static int {f}(struct {w} *r, const void *item, size_t len)
{{
	if (len > r->slot_size || r->count >= {n})
		return -EAGAIN;
	memcpy(r->buf + r->head * r->slot_size, item, len);
	return 0;
}}

'''
YAML_T = '''- name: {w}-{n}
  image: registry.internal/{w}:{n}.0.1
  replicas: 3
  env:
    - name: LOG_LEVEL
      value: info
    - name: {W}_TIMEOUT_MS
      value: "{n}"
'''
MD_T = '''## {W}

The {w} service retries each request up to {n} times before giving up; see `{f}` for the
backoff policy and the dashboards for latency percentiles.

'''
WORDS = ("user order invoice payment report cache queue worker session config event metric "
         "account tenant region bucket record batch job task node cluster").split()
KINDS = [("py", PY_T), ("js", JS_T), ("go", GO_T), ("java", JAVA_T), ("rs", RS_T), ("c", C_T),
         ("yaml", YAML_T), ("md", MD_T)]

def chunk(t, i):
    w = r.choice(WORDS)
    return t.format(f=f"{w}_{i}", w=w, W=w.capitalize(), n=r.randrange(10, 5000))

# A pool of pre-rendered text blocks per kind: files are concatenations of pool blocks.
POOL = {ext: ["".join(chunk(t, i * 16 + j) for j in range(16)) for i in range(64)]
        for ext, t in KINDS}

def minified(size):
    parts, n = [], 0
    while n < size:
        w = r.choice(WORDS)
        p = f"function {w}{n}(a,b){{return a.{w}(b)||b.{w}}};var {w}_{n}={{k:\"{w}\",v:{n}}};"
        parts.append(p); n += len(p)
    return "".join(parts)

def json_doc(size):
    rows, n = [], 0
    while n < size:
        w = r.choice(WORDS)
        row = (f'  {{"id": {n}, "{w}": "{w}-{r.randrange(10**6)}", "tags": ["{r.choice(WORDS)}"], '
               f'"sha": "{r.getrandbits(160):040x}"}}')
        rows.append(row); n += len(row) + 2
    return "[\n" + ",\n".join(rows) + "\n]\n"

B32 = string.ascii_uppercase + "234567"
B64 = string.ascii_letters + string.digits + "+/"
def fake_pair():
    key = "AK" + "IA" + "".join(r.choice(B32) for _ in range(16))
    secret = "".join(r.choice(B64) for _ in range(40))
    return f'\naws_access_key_id = "{key}"\naws_secret_access_key = "{secret}"\n'

mean = TARGET // FILES
leaks = set(r.sample(range(FILES), min(300, FILES // 10)))
total = 0
for i in range(FILES):
    d = os.path.join(root, f"svc{i % 40:02d}", f"pkg{(i // 40) % 25:02d}", f"mod{i // 1000:02d}")
    os.makedirs(d, exist_ok=True)
    roll = r.random()
    size = int(min(max(r.lognormvariate(0, 0.9) * mean * 0.67, 512), 600_000))
    if roll < 0.03:
        ext, text = "min.js", minified(size)
    elif roll < 0.10:
        ext, text = "json", json_doc(size)
    else:
        ext, _ = r.choice(KINDS)
        blocks, n = [], 0
        while n < size:
            b = r.choice(POOL[ext]); blocks.append(b); n += len(b)
        text = "".join(blocks)[:size]
    if i in leaks:
        at = text.find("\n", r.randrange(len(text))) + 1 or len(text)
        text = text[:at] + fake_pair() + text[at:]
    data = text.encode()
    with open(os.path.join(d, f"f{i:05d}.{ext}"), "wb") as fh:
        fh.write(data)
    total += len(data)
# Top up to the target size with more files if the size draw came out short.
i = FILES
while total < TARGET:
    d = os.path.join(root, "extra", f"mod{i // 1000:02d}")
    os.makedirs(d, exist_ok=True)
    text = "".join(r.choice(POOL["py"]) for _ in range(40))
    with open(os.path.join(d, f"f{i:05d}.py"), "w") as fh:
        fh.write(text)
    total += len(text); i += 1
print(f"{i} files, {total / 2**30:.2f} GiB", file=sys.stderr)
PY
  echo "$stamp_text" > "$stamp"
fi

# KEYSWEEP=PATH times that binary instead of building target/release/keysweep.
if [ -n "${KEYSWEEP:-}" ]; then
  keysweep=$KEYSWEEP
else
  cargo build --release --quiet
  keysweep=target/release/keysweep
fi

files=$(find "$tree" -type f | wc -l)
bytes=$(du -sb "$tree" | cut -f1)
rg_cmd="rg -c 'AKIA[0-9A-Z]{16}' $tree"
ks_cmd="$keysweep scan $tree --format json --no-progress -q -o /dev/null"

load=$(cut -d' ' -f1-3 /proc/loadavg)
# Warm the page cache: one untimed run of each.
eval "$rg_cmd" >/dev/null || true
$ks_cmd || true

json=$(mktemp)
trap 'rm -f "$json"' EXIT
hyperfine -i --warmup 1 --runs "$runs" --export-json "$json" -n rg "$rg_cmd" -n keysweep "$ks_cmd" >&2
[ -z "${JSON_OUT:-}" ] || cp "$json" "$JSON_OUT"

rss_kb=$( { /usr/bin/time -v $ks_cmd 2>&1 >/dev/null || true; } | awk -F': ' '/Maximum resident set size/ {print $2}')
rg_rss_kb=$( { /usr/bin/time -v rg -c 'AKIA[0-9A-Z]{16}' "$tree" 2>&1 >/dev/null || true; } | awk -F': ' '/Maximum resident set size/ {print $2}')

read -r rg_mean rg_user rg_sys ks_mean ks_user ks_sys ratio < <(python3 - "$json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
rg, ks = r["rg"], r["keysweep"]
print(" ".join(f"{x[k]:.3f}" for x in (rg, ks) for k in ("mean", "user", "system")),
      f"{ks['mean'] / rg['mean']:.2f}")
PY
)

found=$($keysweep scan "$tree" --format json --no-progress -q 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["findings"])' || true)
rg_lines=$(rg -c 'AKIA[0-9A-Z]{16}' "$tree" | awk -F: '{s+=$NF} END {print s}')

commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src rules Cargo.toml Cargo.lock || commit="$commit+dirty"
mkdir -p "$runs_dir"
out="$runs_dir/vs-rg-$(date -u +%Y%m%d).md"
{
  echo "# keysweep scan vs rg, ${files} files, $((bytes / 1024 / 1024)) MiB, warm cache ($(date -u +%FT%TZ))"
  echo
  echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GiB RAM; load before the runs: $load; commit $commit; $(rg --version | sed -n 1p); hyperfine $(hyperfine --version | cut -d' ' -f2)"
  echo
  echo '```'
  echo "rg:       $rg_cmd"
  echo "keysweep: $ks_cmd"
  echo '```'
  echo
  echo "| | mean (s) | user (s) | system (s) | peak RSS (MB) | found |"
  echo "|---|---|---|---|---|---|"
  echo "| rg | $rg_mean | $rg_user | $rg_sys | $((rg_rss_kb / 1024)) | $rg_lines matching lines |"
  echo "| keysweep | $ks_mean | $ks_user | $ks_sys | $((rss_kb / 1024)) | $found findings |"
  echo
  echo "ratio keysweep/rg: **$ratio** (target ≤ 1.5); keysweep peak RSS **$((rss_kb / 1024)) MB** (target < 300)"
  echo
} | tee -a "$out"
