#!/usr/bin/env bash
# Step "range": decides which commits to scan, fetches what the clone lacks, and sets the
# outputs `mode` (pr, push or full) and `range` (BASE..HEAD, or empty for the whole history).
#
#   pr    the pull request's commits: pull_request.base.sha..pull_request.head.sha
#   push  the pushed commits: before..after; a new branch (before = 000…0) scans the commits
#         not on the default branch, or, when that cannot be fetched or the branch is the
#         default branch itself, the whole history
#   full  the whole history (a shallow clone is unshallowed first)
#
# Missing commits are fetched from `origin` by id; a shallow clone is deepened (64, 256, 1024,
# 4096 commits, then unshallowed) until the base and the head share history, so that keysweep
# can tell the pull request's commits from the base's. KEYSWEEP_FETCH_DEPTH (default 50) is
# the depth of the first fetch into a shallow clone.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Bad choices fail here, before anything slow runs.
check_choice verify "${INPUT_VERIFY:-false}" true false
check_choice fail-on "${INPUT_FAIL_ON:-any}" any live none
if [[ ${INPUT_FAIL_ON:-any} == live && ${INPUT_VERIFY:-false} != true ]]; then
  warning "fail-on: live without verify: true never fails: no key is verified"
fi

cd "$GITHUB_WORKSPACE"
cd "${INPUT_PATH:-.}"
git rev-parse --git-dir >/dev/null 2>&1 || die "path ${INPUT_PATH:-.} is not a git repository"

readonly ZERO=0000000000000000000000000000000000000000

is_shallow() { [[ $(git rev-parse --is-shallow-repository) == true ]]; }
have_commit() { git cat-file -e "$1^{commit}" 2>/dev/null; }

# Fetches the given commits (ids or refspecs) that the clone lacks.
fetch() {
  local missing=() want
  for want in "$@"; do
    have_commit "${want##*:}" || missing+=("$want")
  done
  ((${#missing[@]})) || return 0
  local depth=()
  is_shallow && depth=(--depth="${KEYSWEEP_FETCH_DEPTH:-50}")
  git fetch --no-tags --quiet "${depth[@]}" origin "${missing[@]}"
}

# Deepens a shallow clone until commits $1 and $2 have a merge base; $3... are what to fetch
# from origin to deepen (default: $1 and $2).
reach_merge_base() {
  local base=$1 head=$2 deepen
  shift 2
  (($#)) || set -- "$base" "$head"
  for deepen in 64 256 1024 4096; do
    git merge-base "$base" "$head" >/dev/null 2>&1 && return 0
    is_shallow || return 0
    git fetch --no-tags --quiet --deepen="$deepen" origin "$@"
  done
  git merge-base "$base" "$head" >/dev/null 2>&1 || ! is_shallow \
    || git fetch --no-tags --quiet --unshallow origin "$@"
}

mode=${INPUT_MODE:-}
if [[ -z $mode ]]; then
  case ${GITHUB_EVENT_NAME:-} in
    pull_request | pull_request_target) mode="pr" ;;
    push) mode=push ;;
    *) mode=full ;;
  esac
fi

range=
case $mode in
  pr)
    base=$(event_field .pull_request.base.sha)
    head=$(event_field .pull_request.head.sha)
    [[ -n $base && -n $head ]] \
      || die "mode pr needs a pull_request event with pull_request.base.sha and head.sha"
    fetch "$base" "$head" || die "cannot fetch the pull request's base $base and head $head"
    reach_merge_base "$base" "$head"
    range="$base..$head"
    ;;
  push)
    before=$(event_field .before)
    after=$(event_field .after)
    [[ -n $after && $after != "$ZERO" ]] || die "mode push needs a push event with an after commit"
    fetch "$after" || die "cannot fetch the pushed commit $after"
    if [[ -z $before || $before == "$ZERO" ]]; then
      default=$(event_field .repository.default_branch)
      tracking="refs/remotes/origin/$default"
      if [[ -n $default && $(event_field .ref) != "refs/heads/$default" ]] \
        && fetch "+refs/heads/$default:$tracking"; then
        reach_merge_base "$tracking" "$after" "+refs/heads/$default:$tracking" "$after"
        range="$tracking..$after"
      else
        notice "a new branch with no default branch to compare with: scanning the whole history"
      fi
    elif fetch "$before"; then
      reach_merge_base "$before" "$after"
      range="$before..$after"
    else
      warning "the commit before the push ($before) is gone (a force push?): scanning the whole history"
    fi
    ;;
  full) ;;
  *) die "mode must be pr, push or full, not '$mode'" ;;
esac

if [[ -z $range ]] && is_shallow; then
  git fetch --no-tags --quiet --unshallow origin "$(git rev-parse HEAD)" \
    || warning "cannot unshallow the clone: only the fetched history is scanned (use fetch-depth: 0)"
fi

echo "keysweep: mode $mode, ${range:-the whole history}"
set_output mode "$mode"
set_output range "$range"
