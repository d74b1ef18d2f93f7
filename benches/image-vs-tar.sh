#!/usr/bin/env bash
# keysweep image vs. `tar -xzOf LAYER | rg -c 'AKIA[0-9A-Z]{16}'` over the same gzip layers.
#
# Builds (once, then reuses) an OCI layout of generated source-like files in gzip layers, with
# a few fake AWS keys, then times with hyperfine (one warm-up, one run each):
#   keysweep image oci:DIR -q -f json -o /dev/null
#   for each layer: tar -xzOf LAYER | rg -c 'AKIA[0-9A-Z]{16}'
# and writes the figures and the ratio to benches/runs/. Target: keysweep at >= 80% of the
# pipeline's speed (pipeline time / keysweep time >= 0.8).
#
# SIZE_MB (default 1024): uncompressed size of the layers' files; LAYERS (default 8);
# WORK (default $TMPDIR/keysweep-image-bench): where the layout is kept;
# KEYSWEEP: the binary (default: build target/release/keysweep); RUNS (default 1): timed runs
# each; RUNS_DIR (default benches/runs): where the results go.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${SIZE_MB:-1024}
LAYERS=${LAYERS:-8}
WORK=${WORK:-${TMPDIR:-/tmp}/keysweep-image-bench}
LAYOUT="$WORK/layout-${SIZE_MB}m-${LAYERS}"
for tool in hyperfine rg tar gzip python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine ripgrep)" >&2; exit 2; }
done
if [ -z "${KEYSWEEP:-}" ]; then
  cargo build --release --quiet
  KEYSWEEP=target/release/keysweep
fi

if [ ! -f "$LAYOUT/index.json" ]; then
  echo "building $LAYOUT ($SIZE_MB MiB of files in $LAYERS gzip layers)..." >&2
  rm -rf "$LAYOUT.tmp" && mkdir -p "$LAYOUT.tmp/blobs/sha256"
  python3 - "$LAYOUT.tmp" "$SIZE_MB" "$LAYERS" <<'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile
from multiprocessing import Pool

out, size_mb, layers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per_layer = size_mb * (1 << 20) // layers
WORDS = ("self config value result items index name data path error request response user "
         "client server token buffer count offset length table query cache handler event "
         "stream parse build render update delete create fetch load store").split()

def lines(rng, n):
    out = []
    for _ in range(n):
        indent = "    " * rng.randrange(0, 4)
        a, b, c = rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)
        form = rng.randrange(6)
        if form == 0:
            out.append(f"{indent}{a}_{b} = {c}.get_{a}({rng.randrange(10**6)})")
        elif form == 1:
            out.append(f"{indent}if {a}.{b} is not None and len({c}) > {rng.randrange(100)}:")
        elif form == 2:
            out.append(f"{indent}def {a}_{b}(self, {c}, {a}_id: int = {rng.randrange(1000)}):")
        elif form == 3:
            out.append(f"{indent}# {a} {b} {c}: {rng.getrandbits(64):016x}")
        elif form == 4:
            out.append(f"{indent}return {{'{a}': {b}, '{c}': \"{rng.getrandbits(48):012x}\"}}")
        else:
            out.append(f"{indent}log.debug(\"{a} %s {b}\", {c}[{rng.randrange(64)}])")
    return "\n".join(out) + "\n"

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

def key(rng):
    return "AK" + "IA" + "".join(rng.choice(ALPHABET) for _ in range(16))

def layer(i):
    rng = random.Random(i)
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
            written, n = 0, 0
            while written < per_layer:
                text = lines(rng, rng.randrange(100, 400))
                if n % 5000 == 1234:
                    text += f"AWS_ACCESS_KEY_ID = \"{key(rng)}\"\n"
                data = text.encode()
                info = tarfile.TarInfo(f"srv/app/pkg{n // 500:04d}/module_{n:06d}.py")
                info.size, info.mtime, info.mode = len(data), 1700000000, 0o644
                tar.addfile(info, io.BytesIO(data))
                written += len(data)
                n += 1
    stored = raw.getvalue()
    digest = hashlib.sha256(stored).hexdigest()
    with open(os.path.join(out, "blobs/sha256", digest), "wb") as f:
        f.write(stored)
    plain = hashlib.sha256(gzip.decompress(stored)).hexdigest()
    return {"digest": "sha256:" + digest, "size": len(stored), "diff_id": "sha256:" + plain}

def blob(obj):
    data = json.dumps(obj).encode()
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs/sha256", digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)

with Pool(min(layers, os.cpu_count() or 1)) as pool:
    written = pool.map(layer, range(layers))
config = {"architecture": "amd64", "os": "linux",
          "rootfs": {"type": "layers", "diff_ids": [w["diff_id"] for w in written]},
          "history": [{"created_by": f"COPY pkg{i} /srv/app/"} for i in range(layers)]}
config_digest, config_size = blob(config)
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config_digest, "size": config_size},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": w["digest"], "size": w["size"]} for w in written]}
manifest_digest, manifest_size = blob(manifest)
with open(os.path.join(out, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
         "size": manifest_size, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}, f)
with open(os.path.join(out, "layers.txt"), "w") as f:
    for w in written:
        f.write("blobs/sha256/" + w["digest"][7:] + "\n")
PY
  mv "$LAYOUT.tmp" "$LAYOUT"
fi

mapfile -t layers < <(sed "s#^#$LAYOUT/#" "$LAYOUT/layers.txt")
compressed=$(du -sb "$LAYOUT/blobs" | cut -f1)
pipeline="for l in ${layers[*]}; do tar -xzOf \$l | rg -c 'AKIA[0-9A-Z]{16}' || true; done"
found=$("$KEYSWEEP" image "oci:$LAYOUT" -q -f json --no-progress | python3 -c \
  'import json,sys; d=json.load(sys.stdin); print(len(d["findings"]), d["stats"]["bytes_scanned"], d["stats"]["blobs_scanned"])' \
  || true)
rg_found=$(bash -c "$pipeline" | awk '{s += $1} END {print s + 0}')
result="$WORK/hyperfine.json"
hyperfine --warmup 1 --runs "${RUNS:-1}" -i --export-json "$result" \
  -n keysweep "$KEYSWEEP image oci:$LAYOUT -q -f json -o /dev/null" \
  -n tar-rg "$pipeline"
read -r ks pipe < <(python3 -c '
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
k, p = r["keysweep"], r["tar-rg"]
print(f"{k:.2f} {p:.2f}")' "$result")
ratio=$(python3 -c "print(f'{$pipe / $ks:.2f}')")

mkdir -p "${RUNS_DIR:-benches/runs}"
report="${RUNS_DIR:-benches/runs}/image-vs-tar-$(date -u +%Y%m%d)-${SIZE_MB}m-${LAYERS}layers.md"
{
  echo "# keysweep image vs. tar -xzOf | rg ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')."
  echo "Layout: $LAYERS gzip layers, $SIZE_MB MiB of generated source-like files, $((compressed >> 20)) MiB stored."
  echo "keysweep (findings, bytes scanned, files scanned): $found; rg matching lines: $rg_found."
  echo
  echo "| command | time (s) |"
  echo "|---|---|"
  echo "| \`keysweep image oci:DIR -q -f json -o /dev/null\` | $ks |"
  echo "| \`for each layer: tar -xzOf LAYER \\| rg -c 'AKIA[0-9A-Z]{16}'\` | $pipe |"
  echo
  echo "Speed of keysweep relative to the pipeline (pipeline time / keysweep time): **$ratio** (target >= 0.8)."
  echo "Command: \`SIZE_MB=$SIZE_MB LAYERS=$LAYERS benches/image-vs-tar.sh\` (hyperfine, 1 warm-up, ${RUNS:-1} run(s) each)."
} > "$report"
cat "$report"
