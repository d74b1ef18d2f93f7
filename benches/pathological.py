#!/usr/bin/env python3
"""Worst-case inputs for the built-in rules, and whether `keysweep scan` stays linear on them.

Called by benches/pathological.sh (which finds the binary); standard library only.

Inputs: hand-made ones (near-miss AWS key ids, `aws_secret_access_key=` runs, dense fake key
pairs, long base64 runs, nested base64, `=` lines, percent and JSON escapes, generic
assignments, unterminated private-key headers, ...) plus one per built-in rule, generated from
the rule's keywords in rules/*.toml, each keyword followed by a near-miss tail. Every input is
one line (no line feed), the worst case for anything that looks for line boundaries.

1. Screening: every input at size N, one run each.
2. Series: the hand-made inputs and the SERIES_TOP slowest rule inputs at N, 2N, 4N and 8N
   (RUNS runs each, the fastest kept), CPU seconds (user + sys, from wait4) per MB. An input
   too slow for 8N to finish within TIMEOUT at a linear rate starts its series at N/4, N/16...
   (at most N/256), so that its growth is still measured.
   Growth is linear when CPU per MB at 8N is at most LIMIT x CPU per MB at N; an input that
   runs past TIMEOUT seconds is super-linear (its series stops there).

Writes a Markdown section to --out and exits 1 when any input grows super-linearly.
Fake credentials only: every key-shaped string is assembled from a seeded generator at run time.
"""

import argparse
import base64
import glob
import os
import random
import signal
import string
import subprocess
import sys
import time
import tomllib

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
B64 = string.ascii_letters + string.digits + "+/"
ALNUM = string.ascii_letters + string.digits
POOL = 4096  # distinct units per input, cycled to fill the size


def units_to_size(units, size):
    """Concatenates `units` (bytes), cycling, to exactly `size` bytes."""
    block = b"".join(units)
    reps, rest = divmod(size, len(block))
    return block * reps + block[:rest]


def akid(rng, prefix="AK" + "IA"):
    return prefix + "".join(rng.choice(B32) for _ in range(16))


def secret40(rng):
    return "".join(rng.choice(B64) for _ in range(40))


def handmade():
    """name -> (file extension, description, function(rng) -> list of byte units)."""
    inputs = {}

    def add(name, ext, what):
        def wrap(fn):
            inputs[name] = (ext, what, fn)
            return fn
        return wrap

    @add("akia-near-miss", "txt", "`AKIA` + 15 base32 characters + a non-base32 break, repeated on one line")
    def _(rng):
        return [(akid(rng)[:19] + rng.choice("0189!-") + " ").encode() for _ in range(POOL)]

    @add("akia-near-miss-source", "py", "the same in a `.py` file (program source: decoded only on lines holding a keyword)")
    def _(rng):
        return [(akid(rng)[:19] + rng.choice("0189") + " ").encode() for _ in range(POOL)]

    @add("akia-glued", "txt", "`AKIA` + 16 base32 characters glued to the next one (no boundary), one line")
    def _(rng):
        return [akid(rng).encode() for _ in range(POOL)]

    @add("secret-name-run", "txt", "`aws_secret_access_key=` repeated with no value")
    def _(rng):
        return [b"aws_secret_access_key="]

    @add("secret-name-near-miss", "txt", "`aws_secret_access_key = ` + 39 base64 characters (one short)")
    def _(rng):
        return [f"aws_secret_access_key = {secret40(rng)[:39]} ".encode() for _ in range(POOL)]

    @add("aws-pairs-dense", "txt", "fake key id + named 40-character secret, ~90 bytes a pair (every pair a finding)")
    def _(rng):
        return [f"{akid(rng)} aws_secret_access_key={secret40(rng)} ".encode() for _ in range(POOL)]

    @add("aws-ids-and-runs", "txt", "fake key ids among unnamed 40-character base64 runs (pairing candidates)")
    def _(rng):
        return [f"{akid(rng)} {secret40(rng)} {secret40(rng)} ".encode() for _ in range(POOL)]

    @add("asia-session-tokens", "txt", "`ASIA` key ids + `aws_session_token=` with 99 base64 characters (one short of 100)")
    def _(rng):
        return [f"{akid(rng, 'AS' + 'IA')} aws_session_token={''.join(rng.choice(B64) for _ in range(99))} ".encode()
                for _ in range(POOL)]

    @add("base64-run", "txt", "one base64 run the size of the file (random characters)")
    def _(rng):
        return ["".join(rng.choice(B64) for _ in range(4096)).encode() for _ in range(64)]

    @add("base64-nested", "txt", "base64(base64(base64(near-miss key ids and secret names))) blocks, space-separated")
    def _(rng):
        out = []
        for _ in range(256):
            inner = " ".join(f"{akid(rng)[:19]}0 aws_secret_access_key={secret40(rng)[:39]}" for _ in range(4)).encode()
            for _ in range(3):
                inner = base64.b64encode(inner)
            out.append(inner + b" ")
        return out

    @add("base64-pairs", "txt", "base64 blocks that each decode to three fake key pairs (findings found by decoding)")
    def _(rng):
        return [base64.b64encode(" ".join(f"{akid(rng)} aws_secret_access_key={secret40(rng)}" for _ in range(3)).encode()) + b" "
                for _ in range(POOL // 4)]

    @add("raw-and-decoded-pairs", "txt", "fake key pairs in plain text and, beside each, another pair in base64 (raw and decoded findings in one blob)")
    def _(rng):
        return [(f"{akid(rng)} aws_secret_access_key={secret40(rng)} ").encode()
                + base64.b64encode(f"{akid(rng)} aws_secret_access_key={secret40(rng)}".encode()) + b" "
                for _ in range(POOL // 2)]

    @add("equals-line", "txt", "one line of `=`")
    def _(rng):
        return [b"=" * 4096]

    @add("percent-escapes", "txt", "percent-encoded near-miss key ids and `%` runs: `%41%4B%49%41...`, `%%%%`")
    def _(rng):
        return ["".join(f"%{ord(c):02X}" for c in akid(rng)[:19] + "0").encode() + b"%%%%%2F%2f%2B " for _ in range(POOL)]

    @add("json-escapes", "txt", "JSON escapes: `\\u0041...` near-miss key ids, `\\\\\\/` runs, `\\u00` stubs")
    def _(rng):
        return [("".join(f"\\u{ord(c):04x}" for c in akid(rng)[:19] + "0") + "\\\\\\\\\\/\\/\\u00\\n\\\"").encode()
                for _ in range(POOL)]

    @add("generic-assignments", "txt", "`password=` / `api_key: ` / `token = \"` with 7-character values (one short)")
    def _(rng):
        names = ["password=", "api_key: ", 'token = "', "secret:", "--auth-token ", "'pwd': '"]
        return [(rng.choice(names) + "".join(rng.choice(ALNUM) for _ in range(7)) + " ").encode() for _ in range(POOL)]

    @add("private-key-headers", "txt", "`-----BEGIN RSA PRIVATE KEY-----` + base64 lines with no END line")
    def _(rng):
        return [b"-----BEGIN RSA PRIVATE KEY-----" + "".join(rng.choice(B64) for _ in range(64)).encode() + b" "
                for _ in range(POOL)]

    @add("url-credentials", "txt", "`postgres://user:` / `redis://:` / `mongodb+srv://u:pw` with no `@` host")
    def _(rng):
        return [rng.choice([b"postgres://user:", b"redis://:", b"mongodb+srv://u:", b"mysql://a:b"])
                + "".join(rng.choice(ALNUM) for _ in range(12)).encode() + b"/" for _ in range(POOL)]

    @add("all-keywords", "txt", "every keyword of every built-in rule in turn, each + a 15-character near-miss tail")
    def _(rng):
        return [(kw + tail(rng) + " ").encode() for kw in sorted(all_keywords()) for _ in range(8)]

    return inputs


def tail(rng):
    return "".join(rng.choice(ALNUM) for _ in range(15))


RULE_SETS = None


def rules():
    """[(rule id, keywords)] of the built-in rules (rules/*.toml next to this script)."""
    global RULE_SETS
    if RULE_SETS is None:
        here = os.path.dirname(os.path.abspath(__file__))
        RULE_SETS = []
        for path in sorted(glob.glob(os.path.join(here, "..", "rules", "*.toml"))):
            with open(path, "rb") as f:
                for rule in tomllib.load(f).get("rules", []):
                    RULE_SETS.append((rule["id"], rule.get("keywords", [])))
    return RULE_SETS


def all_keywords():
    return {kw for _, kws in rules() for kw in kws}


def rule_inputs():
    """One input per distinct keyword set: `rule:ID` (the first rule that has the set)."""
    out, seen = {}, set()
    for rule_id, kws in rules():
        key = tuple(sorted(kws))
        if not kws or key in seen:
            continue
        seen.add(key)

        def units(rng, kws=kws):
            seps = [" ", "=", '"', ":", "\\n", "/"]
            return [(kws[i % len(kws)] + tail(rng) + seps[i % len(seps)]).encode() for i in range(POOL)]
        out[f"rule:{rule_id}"] = ("txt", f"keywords of `{rule_id}` ({', '.join(kws[:4])}{'...' if len(kws) > 4 else ''}), each + a near-miss tail", units)
    return out


def generate(spec, size, path, seed):
    ext, _, fn = spec
    data = units_to_size(fn(random.Random(seed)), size)
    with open(path, "wb") as f:
        f.write(data)


def run_once(cmd, timeout):
    """(wall s, CPU s, peak RSS MiB, exit code) of one run, or None past `timeout`."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            wall = time.monotonic() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            os.wait4(proc.pid, 0)
            return None
        time.sleep(0.005)


def measure(keysweep, spec, size, work, runs, timeout, seed=1):
    path = os.path.join(work, f"input.{spec[0]}")
    generate(spec, size, path, seed)
    cmd = [keysweep, "scan", path, "--format", "json", "--no-progress", "-q", "-o", "/dev/null"]
    best = None
    try:
        for _ in range(runs):
            r = run_once(cmd, timeout)
            if r is None:
                return None
            if r[3] not in (0, 1):
                raise SystemExit(f"{' '.join(cmd)} exited {r[3]}")
            best = r if best is None or r[1] < best[1] else best
    finally:
        os.remove(path)
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--keysweep", required=True)
    p.add_argument("--work", required=True, help="directory for the generated input (one at a time)")
    p.add_argument("--size-mb", type=float, default=8, help="N: the smallest size, in MB (10^6 bytes)")
    p.add_argument("--runs", type=int, default=3, help="runs per size in the series (the fastest is kept)")
    p.add_argument("--series-top", type=int, default=4, help="slowest rule inputs also run as a series")
    p.add_argument("--limit", type=float, default=1.3, help="largest allowed CPU/MB at 8N over CPU/MB at N")
    p.add_argument("--timeout", type=float, default=120, help="seconds one run may take")
    p.add_argument("--only", help="comma-separated input names (default: all)")
    p.add_argument("--out", required=True, help="Markdown file to write")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)

    made = handmade()
    inputs = dict(made)
    inputs.update(rule_inputs())
    if args.only:
        inputs = {k: v for k, v in inputs.items() if k in args.only.split(",")}
    n = int(args.size_mb * 1e6)
    ks = args.keysweep
    cmd_shown = f"{ks} scan INPUT --format json --no-progress -q -o /dev/null"

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    # 1. Screening at N. A run past TIMEOUT / 8 already rules out 8N at a linear rate, so it
    # is stopped there and the input's series starts lower.
    screen_timeout = args.timeout / 8
    screen = {}
    for name, spec in inputs.items():
        r = measure(ks, spec, n, args.work, 1, screen_timeout)
        screen[name] = r
        log(f"screen {name}: {'timeout' if r is None else f'{r[0]:.3f} s wall, {r[1]:.3f} s CPU, {r[2]:.0f} MiB'}")

    def cost(name):
        r = screen[name]
        return float("inf") if r is None else r[1]

    rule_names = sorted((k for k in inputs if k.startswith("rule:")), key=cost, reverse=True)
    series_names = [k for k in inputs if k in made] + rule_names[: args.series_top]

    # 2. Series N, 2N, 4N, 8N (from a smaller N for inputs too slow to reach 8N in time).
    factors = [1, 2, 4, 8]
    series, bases = {}, {}
    for name in series_names:
        base, r = n, screen[name]
        while (r is None or r[1] * 8 * 2 > args.timeout) and base > n / 256:
            base = max(int(base / 4), 1)
            r = measure(ks, inputs[name], base, args.work, 1, screen_timeout)
            log(f"rescreen {name} at {base / 1e6:g} MB: {'timeout' if r is None else f'{r[1]:.3f} s CPU'}")
        bases[name] = base
        rows = []
        for f in factors:
            r = measure(ks, inputs[name], base * f, args.work, args.runs, args.timeout)
            rows.append(r)
            log(f"series {name} x{f}: {'timeout' if r is None else f'{r[0]:.3f} s wall, {r[1]:.3f} s CPU, {r[2]:.0f} MiB'}")
            if r is None:
                break
        series[name] = rows

    def verdict(name, rows):
        if any(r is None for r in rows):
            return None, False
        per_n = rows[0][1] / (bases[name] / 1e6)
        per_8n = rows[-1][1] / (8 * bases[name] / 1e6)
        growth = per_8n / per_n if per_n > 0 else 0.0
        return growth, growth <= args.limit

    bad = []
    worst, worst_rate = None, -1.0
    for name, rows in series.items():
        growth, ok = verdict(name, rows)
        if not ok:
            bad.append(name)
        last = rows[-1]
        rate = float("inf") if last is None else last[1] / (bases[name] * factors[len(rows) - 1] / 1e6)
        if rate > worst_rate:
            worst, worst_rate = name, rate

    with open(args.out, "w") as out:
        w = lambda s="": print(s, file=out)  # noqa: E731
        w(f"Command for each input: `{cmd_shown}`; inputs are single lines generated by "
          f"`benches/pathological.py` (seeded, fake credentials only) and deleted after each size.")
        w(f"N = {n / 1e6:g} MB (an input too slow for 8N to finish in time starts lower: column N). CPU = user + sys seconds of the scan (from `wait4`), the fastest of "
          f"{args.runs} run(s) per size; wall and peak RSS are of that run. Linear: CPU/MB at 8N ≤ "
          f"{args.limit} × CPU/MB at N. A run past {args.timeout:g} s stops its series and counts as super-linear.")
        w()
        w("| input | what it is | N MB | " + " | ".join(f"{f}N CPU s (wall s, RSS MiB)" for f in factors)
          + " | CPU ms/MB at N → 8N | growth | linear |")
        w("|---|---|---|" + "---|" * len(factors) + "---|---|---|")
        for name, rows in series.items():
            cells = []
            for i in range(len(factors)):
                if i < len(rows):
                    r = rows[i]
                    cells.append(f"> {args.timeout:g} (timeout)" if r is None else f"{r[1]:.3f} ({r[0]:.3f}, {r[2]:.0f})")
                else:
                    cells.append("—")
            growth, ok = verdict(name, rows)
            measured = [(f, r) for f, r in zip(factors, rows) if r is not None]
            if growth is None and len(measured) >= 2:
                mb = bases[name] / 1e6
                (f0, r0), (f1, r1) = measured[0], measured[-1]
                rates = f"{1000 * r0[1] / (f0 * mb):.1f} → {1000 * r1[1] / (f1 * mb):.1f} at {f1}N, then past the timeout"
                g = f"> {(r1[1] / f1) / (r0[1] / f0):.2f}x"
            elif growth is None:
                rates, g = "—", "—"
            else:
                mb = bases[name] / 1e6
                rates = f"{1000 * rows[0][1] / mb:.1f} → {1000 * rows[-1][1] / (8 * mb):.1f}"
                g = f"{growth:.2f}x"
            w(f"| `{name}` | {inputs[name][1]} | {bases[name] / 1e6:g} | " + " | ".join(cells) + f" | {rates} | {g} | {'yes' if ok else '**NO**'} |")
        w()
        w(f"Worst input (highest CPU per MB at its largest size): **`{worst}`**"
          + ("" if worst_rate == float("inf") else f", {1000 * worst_rate:.1f} ms of CPU per MB ({1 / worst_rate:.1f} MB/s of CPU)")
          + ".")
        w()
        if bad:
            w(f"**Super-linear: {', '.join(f'`{b}`' for b in bad)}.**")
        else:
            w(f"Every input in the series grows linearly (growth ≤ {args.limit}x).")
        w()
        w(f"<details><summary>Screening: all {len(screen)} inputs at N (one run each; the "
          f"{args.series_top} slowest rule inputs joined the series)</summary>\n")
        w("| input | CPU s | wall s | peak RSS MiB | CPU MB/s |")
        w("|---|---|---|---|---|")
        for name in sorted(screen, key=cost, reverse=True):
            r = screen[name]
            if r is None:
                w(f"| `{name}` | > {screen_timeout:g} (stopped) | | | |")
            else:
                w(f"| `{name}` | {r[1]:.3f} | {r[0]:.3f} | {r[2]:.0f} | {(n / 1e6) / r[1] if r[1] else float('inf'):.1f} |")
        w("\n</details>")
    log(f"pathological: {'super-linear: ' + ', '.join(bad) if bad else 'linear'}; worst {worst}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
