#!/usr/bin/env bash
# Step "scan": one keysweep run over what the range step chose, writing every report at once:
# annotations on stdout (the runner turns them into annotations), SARIF, the step summary
# (Markdown) and a JSON report the outputs are counted from. Sets the outputs `findings`
# (distinct secrets), `live` (of them, verified live) and `sarif-file`.
#
# keysweep's exit 2 (nothing found, but an input could not be read, or misuse) fails the step
# whatever fail-on says: a partial scan must not pass as a clean one.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case ${INPUT_VERIFY:-false} in
  true) verify=(--verify) ;;
  false | '') verify=() ;;
  *) die "verify must be true or false, not '$INPUT_VERIFY'" ;;
esac

cd "$GITHUB_WORKSPACE"
dir="$RUNNER_TEMP/keysweep"
mkdir -p "$dir"
sarif=${INPUT_SARIF_FILE:-$dir/keysweep.sarif}
[[ $sarif == /* ]] || sarif="$GITHUB_WORKSPACE/$sarif"
mkdir -p "$(dirname "$sarif")"
json="$dir/keysweep.json"
summary="$dir/summary.md"
rm -f "$json" "$summary"

args=(git "${INPUT_PATH:-.}" --no-progress --format github
  --report "sarif=$sarif" --report "markdown=$summary" --report "json=$json")
if [[ -n ${RANGE:-} ]]; then
  args+=(--range "$RANGE")
fi
if [[ -n ${INPUT_BASELINE:-} ]]; then
  args+=(--baseline "$INPUT_BASELINE")
fi
# `args` is split on white space (no quoting), as documented in the README.
read -r -a extra <<<"${INPUT_ARGS:-}"

status=0
"$KEYSWEEP" "${args[@]}" "${verify[@]}" "${extra[@]}" || status=$?

[[ -f $json ]] || die "keysweep failed (exit $status) before writing its reports; see above"
findings=$(jq '.findings | length' "$json")
live=$(jq '[.findings[] | select(.verification.status? == "live")] | length' "$json")
cat "$summary" >>"$GITHUB_STEP_SUMMARY"
set_output findings "$findings"
set_output live "$live"
set_output sarif-file "$sarif"

if ((status > 1)); then
  die "keysweep could not read every input (exit $status); see the errors above"
fi
