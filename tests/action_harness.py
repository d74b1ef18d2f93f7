#!/usr/bin/env python3
"""Runs a composite GitHub Action's steps here, as the Actions runner would (tests/action.rs).

    action_harness.py ACTION_DIR RESULT_JSON [--input NAME=VALUE]...

The environment must hold what the runner sets for a job: GITHUB_EVENT_NAME, GITHUB_EVENT_PATH
(the event payload), GITHUB_WORKSPACE, RUNNER_TEMP, RUNNER_OS, RUNNER_ARCH and so on.
GITHUB_ACTION_PATH is set to ACTION_DIR.

Each `run:` step of ACTION_DIR/action.yml runs in order with its `shell` (bash as the runner
runs it: `bash --noprofile --norc -eo pipefail FILE`), its `env`, and `${{ inputs.X }}`,
`${{ github.X }}`, `${{ runner.X }}`, `${{ env.X }}` and `${{ steps.ID.outputs.X }}` replaced.
Every step gets its own GITHUB_OUTPUT and GITHUB_STEP_SUMMARY file, and its outputs are parsed
from it (`name=value` and `name<<DELIMITER` forms). `uses:` steps (actions/cache) are skipped;
a `run:` step with an `if:` is refused, because this harness does not evaluate conditions and
the action keeps its logic in scripts. The first failing step stops the run, as on GitHub.

RESULT_JSON receives: status (success/failure), the steps (id, name, skipped, exit code, the
paths of their stdout, output and summary files, outputs) and the action's outputs.
Exit status: 0 when the action succeeded, 1 when a step failed, 2 when the action or an
expression is something this harness cannot run.
"""

import json
import os
import re
import subprocess
import sys

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
REFERENCE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*")
SHELLS = {
    "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"],
    "sh": ["sh", "-e", "{0}"],
    "python": ["python3", "{0}"],
}


class Unsupported(Exception):
    """The action uses something this harness does not implement."""


def lookup(path, context):
    """The value of a dotted context reference such as `steps.scan.outputs.findings`."""
    head, *rest = path.split(".")
    if head == "inputs":
        table = context["inputs"]
    elif head == "steps":
        table = context["steps"]
    elif head == "env":
        table = context["env"]
    elif head == "github":
        if rest[:1] == ["event"]:
            value = context["event"]
            for key in rest[1:]:
                value = value.get(key, "") if isinstance(value, dict) else ""
            return value
        return os.environ.get("GITHUB_" + "_".join(rest).upper(), "")
    elif head == "runner":
        return os.environ.get("RUNNER_" + "_".join(rest).upper(), "")
    else:
        raise Unsupported(f"context {head!r} in {path!r}")
    value = table
    for key in rest:
        if not isinstance(value, dict):
            return ""
        if head == "inputs" and key not in value:
            raise Unsupported(f"no input {key!r}")
        value = value.get(key, "")
    return value


def substitute(text, context):
    """Replaces every `${{ reference }}`; anything but a plain reference is unsupported."""

    def one(match):
        expression = match.group(1)
        if not REFERENCE.fullmatch(expression):
            raise Unsupported(f"expression {expression!r}")
        value = lookup(expression, context)
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    return EXPRESSION.sub(one, str(text))


def parse_outputs(path):
    """Parses a GITHUB_OUTPUT file: `name=value` lines and `name<<DELIMITER` blocks."""
    outputs = {}
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            while lines[index] != delimiter:
                value.append(lines[index])
                index += 1
            index += 1
            outputs[name] = "\n".join(value)
        else:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


def run_step(number, step, context, workdir):
    """Runs one `run:` step; returns its record."""
    step_id = step.get("id", f"__step{number}")
    if "if" in step:
        raise Unsupported(f"step {step_id}: `if:` on a run step")
    shell = step.get("shell")
    if shell not in SHELLS:
        raise Unsupported(f"step {step_id}: shell {shell!r}")
    files = {kind: os.path.join(workdir, f"{number:02}-{step_id}.{kind}") for kind in
             ("script", "stdout", "stderr", "output", "summary")}
    with open(files["script"], "w", encoding="utf-8") as handle:
        handle.write(substitute(step["run"], context))
    for kind in ("output", "summary"):
        open(files[kind], "w", encoding="utf-8").close()
    env = dict(os.environ)
    env.update(context["env"])
    env.update({key: substitute(value, context) for key, value in step.get("env", {}).items()})
    env["GITHUB_OUTPUT"] = files["output"]
    env["GITHUB_STEP_SUMMARY"] = files["summary"]
    command = [part.replace("{0}", files["script"]) for part in SHELLS[shell]]
    cwd = step.get("working-directory")
    cwd = substitute(cwd, context) if cwd else os.environ["GITHUB_WORKSPACE"]
    with open(files["stdout"], "wb") as out, open(files["stderr"], "wb") as err:
        code = subprocess.run(command, env=env, cwd=cwd, stdout=out, stderr=err, check=False).returncode
    outputs = parse_outputs(files["output"])
    context["steps"][step_id] = {"outputs": outputs, "outcome": "success" if code == 0 else "failure"}
    record = {"id": step.get("id"), "name": step.get("name", ""), "skipped": False, "exit_code": code,
              "outputs": outputs}
    record.update({kind: files[kind] for kind in ("stdout", "stderr", "output", "summary")})
    return record


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    action_dir, result_path = sys.argv[1], sys.argv[2]
    given = {}
    rest = sys.argv[3:]
    while rest:
        if rest[0] != "--input" or len(rest) < 2 or "=" not in rest[1]:
            sys.exit(f"want --input NAME=VALUE, got {rest[:2]}")
        name, value = rest[1].split("=", 1)
        given[name] = value
        rest = rest[2:]
    with open(os.path.join(action_dir, "action.yml"), encoding="utf-8") as handle:
        action = yaml.safe_load(handle)
    os.environ["GITHUB_ACTION_PATH"] = os.path.abspath(action_dir)
    declared = action.get("inputs", {})
    unknown = set(given) - set(declared)
    if unknown:
        print(f"harness: unknown inputs {sorted(unknown)}", file=sys.stderr)
        return 2
    inputs = {name: str(given.get(name, spec.get("default", ""))) for name, spec in declared.items()}
    event = {}
    if os.environ.get("GITHUB_EVENT_PATH"):
        with open(os.environ["GITHUB_EVENT_PATH"], encoding="utf-8") as handle:
            event = json.load(handle)
    context = {"inputs": inputs, "steps": {}, "env": {}, "event": event}
    workdir = os.path.join(os.environ["RUNNER_TEMP"], "_harness")
    os.makedirs(workdir, exist_ok=True)
    runs = action["runs"]
    if runs.get("using") != "composite":
        print("harness: not a composite action", file=sys.stderr)
        return 2
    records, status = [], "success"
    try:
        for number, step in enumerate(runs["steps"]):
            if "uses" in step:
                # Not run, but its `with:` expressions must resolve.
                given_with = {key: substitute(value, context)
                              for key, value in step.get("with", {}).items()}
                records.append({"id": step.get("id"), "name": step.get("name", ""),
                                "skipped": True, "uses": step["uses"], "with": given_with})
                continue
            if status == "failure":
                records.append({"id": step.get("id"), "name": step.get("name", ""), "skipped": True})
                continue
            record = run_step(number, step, context, workdir)
            records.append(record)
            if record["exit_code"] != 0:
                status = "failure"
        outputs = {name: substitute(spec["value"], context)
                   for name, spec in action.get("outputs", {}).items()}
    except Unsupported as error:
        print(f"harness: unsupported: {error}", file=sys.stderr)
        return 2
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump({"status": status, "steps": records, "outputs": outputs}, handle, indent=2)
    return 0 if status == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
