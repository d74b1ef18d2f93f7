#!/usr/bin/env python3
"""Writes a `git fast-import` stream to stdout, for benches/git-history.sh.

    gen-git-history.py synthetic [--commits N] [--files N] [--lines N] [--seed N]
        A synthetic history: FILES source-like files in 100 directories, all added by the first
        commit (LINES lines each on average); each later commit edits 1-5
        of them (a few line ranges replaced or inserted), every 400th adds a file, every 700th
        deletes one; a feature branch of 5 commits is merged every 1,000 commits; 40 commits add
        a fake AWS key id (assembled at run time, never a real credential) on one line, and
        later edits may remove it again. Deterministic for a given seed.

    gen-git-history.py crates DIR
        A history made of real source: DIR holds unpacked crates (NAME-VERSION directories, as
        in ~/.cargo/registry/src/*); one commit per crate version, oldest version first, each
        replacing crates/NAME/ with that version's files, so later versions are real diffs.

`git fast-import` writes the objects straight into a pack, far faster than 20,000 `git commit`s.
"""

import argparse
import os
import random
import re
import sys

# Words that gitleaks' generic rule keys on; the filler avoids them so that neither tool spends
# the run on thousands of false positives that a real repository would not have.
NOISY = ("access", "auth", "api", "credential", "creds", "key", "passw", "secret", "token", "pwd")


def out(data):
    sys.stdout.buffer.write(data)


def blob_cmd(content):
    out(b"data %d\n" % len(content))
    out(content)
    out(b"\n")


def commit_header(ref, mark, who, when, message, parent=None, merge=None):
    out(b"commit %s\nmark :%d\n" % (ref.encode(), mark))
    out(b"author %s %d +0000\ncommitter %s %d +0000\n" % (who, when, who, when))
    msg = message.encode()
    out(b"data %d\n%s\n" % (len(msg), msg))
    if parent is not None:
        out(b"from :%d\n" % parent)
    if merge is not None:
        out(b"merge :%d\n" % merge)


def fake_key(rng):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "AK" + "IA" + "".join(rng.choice(alphabet) for _ in range(16))


def synthetic(args):
    rng = random.Random(args.seed)
    syllables = [a + b for a in "bcdfghlmnprstvz" for b in "aeiou"] + ["ex", "or", "in", "al"]
    words = set()
    while len(words) < 4000:
        w = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if not any(n in w for n in NOISY):
            words.add(w)
    words = sorted(words)
    W = lambda: rng.choice(words)  # noqa: E731
    templates = [
        lambda: f"    {W()}_{W()} = {W()}({W()}, {rng.randint(0, 99999)})",
        lambda: f"# {W()} {W()} {W()} {W()} {W()} {W()}",
        lambda: f"def {W()}_{W()}({W()}, {W()}={rng.randint(0, 999)}):",
        lambda: f"        return {W()}.{W()}({W()}[{rng.randint(0, 64)}])",
        lambda: f"    if {W()} > {rng.randint(0, 4096)} and not {W()}.{W()}:",
        lambda: f'    log.info("{W()} {W()} %s", {W()})',
        lambda: f"class {W().capitalize()}{W().capitalize()}({W().capitalize()}):",
        lambda: "",
    ]
    pool = [rng.choice(templates)().encode() for _ in range(120_000)]

    def new_lines(n):
        return [pool[rng.randrange(len(pool))] for _ in range(n)]

    exts = [".py", ".rs", ".js", ".go", ".txt"]
    files = {}  # path -> list of lines
    names = []
    mark = 0
    when = 1_600_000_000
    people = [b"Dev %d <dev%d@example.invalid>" % (i, i) for i in range(25)]

    def add_file(i):
        path = f"d{i % 100:02d}/f{i}{exts[i % len(exts)]}"
        files[path] = new_lines(max(20, int(rng.gauss(args.lines, args.lines / 3))))
        names.append(path)
        return path

    def content(path):
        return b"\n".join(files[path]) + b"\n"

    key_commits = set(rng.sample(range(10, args.commits), 40))
    main_head = None
    commit_no = 0
    out(b"feature done\n")

    def commit_on(ref, parent, merge=None, extra_edit=None):
        nonlocal mark, when, commit_no
        changed = []
        if commit_no % 400 == 0:
            changed.append(add_file(len(names) + args.files))
        if commit_no % 700 == 699 and len(names) > 50:
            victim = names.pop(rng.randrange(len(names)))
            del files[victim]
            deleted = victim
        else:
            deleted = None
        for _ in range(min(5, max(1, int(rng.expovariate(1 / 2.5))))):
            path = rng.choice(names)
            lines = files[path]
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(lines) + 1)
                span = rng.randint(0, 8)
                lines[at : at + span] = new_lines(rng.randint(0, 10))
            changed.append(path)
        if commit_no in key_commits:
            path = changed[-1]
            files[path].insert(rng.randrange(len(files[path]) + 1), b"aws_access_key_id = " + fake_key(rng).encode())
        if extra_edit:
            extra_edit()
        mark += 1
        when += rng.randint(60, 7200)
        commit_header(ref, mark, rng.choice(people), when, f"change {commit_no}", parent, merge)
        if deleted:
            out(b"D %s\n" % deleted.encode())
        for path in dict.fromkeys(changed):
            if path in files:
                out(b"M 100644 inline %s\n" % path.encode())
                blob_cmd(content(path))
        out(b"\n")
        commit_no += 1
        return mark

    # The first commit adds every file; the rest edit them.
    for i in range(args.files):
        add_file(i)
    mark += 1
    commit_header("refs/heads/main", mark, people[0], when, "initial import")
    for path in names:
        out(b"M 100644 inline %s\n" % path.encode())
        blob_cmd(content(path))
    out(b"\n")
    main_head = mark
    commit_no = 1

    while commit_no < args.commits:
        if commit_no % 1000 == 500 and main_head is not None:
            branch = f"refs/heads/feature/{commit_no}"
            tip = main_head
            for _ in range(5):
                tip = commit_on(branch, tip)
            mark += 1
            when += 60
            commit_header("refs/heads/main", mark, people[0], when, f"merge {branch}", main_head, tip)
            out(b"\n")
            main_head = mark
            continue
        main_head = commit_on("refs/heads/main", main_head)
        if commit_no % 5000 == 0:
            out(b"reset refs/tags/v%d\nfrom :%d\n\n" % (commit_no // 5000, main_head))
    out(b"done\n")


def version_key(name):
    # NAME-1.2.3[-pre]: sort by name, then numerically by version.
    m = re.match(r"^(.*?)-(\d+)\.(\d+)\.(\d+)(.*)$", name)
    if not m:
        return (name, (0, 0, 0), "")
    return (m.group(1), tuple(int(g) for g in m.group(2, 3, 4)), m.group(5))


def crates(args):
    root = args.dir
    versions = sorted((d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))), key=version_key)
    out(b"feature done\n")
    mark, when, parent = 0, 1_600_000_000, None
    for d in versions:
        name = version_key(d)[0]
        entries = []
        for base, dirs, names in os.walk(os.path.join(root, d)):
            dirs[:] = sorted(x for x in dirs if x != ".git")
            for n in sorted(names):
                full = os.path.join(base, n)
                if os.path.islink(full) or not os.path.isfile(full):
                    continue
                rel = os.path.relpath(full, os.path.join(root, d)).replace(os.sep, "/")
                mode = b"100755" if os.access(full, os.X_OK) else b"100644"
                entries.append((rel, mode, full))
        mark += 1
        when += 3600
        commit_header("refs/heads/main", mark, b"Crate Importer <crates@example.invalid>", when, f"import {d}", parent)
        out(b"D crates/%s\n" % name.encode())
        for rel, mode, full in entries:
            with open(full, "rb") as f:
                data = f.read()
            out(b"M %s inline crates/%s/%s\n" % (mode, name.encode(), rel.encode()))
            blob_cmd(data)
        out(b"\n")
        parent = mark
    out(b"done\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="kind", required=True)
    s = sub.add_parser("synthetic")
    s.add_argument("--commits", type=int, default=20_000)
    s.add_argument("--files", type=int, default=2_000)
    s.add_argument("--lines", type=int, default=600, help="mean lines per file")
    s.add_argument("--seed", type=int, default=1)
    c = sub.add_parser("crates")
    c.add_argument("dir")
    args = p.parse_args()
    synthetic(args) if args.kind == "synthetic" else crates(args)


if __name__ == "__main__":
    main()
