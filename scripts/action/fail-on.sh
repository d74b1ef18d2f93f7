#!/usr/bin/env bash
# Step "fail-on": fails the job per the fail-on input, from the scan step's counts.
#   any   a secret was found          live   a verified-live key was found          none   never
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case ${INPUT_FAIL_ON:-any} in
  any)
    if ((FINDINGS > 0)); then
      die "$FINDINGS secret(s) found (fail-on: any)"
    fi
    ;;
  live)
    if ((LIVE > 0)); then
      die "$LIVE live key(s) found (fail-on: live)"
    fi
    ;;
  none) ;;
  *) die "fail-on must be any, live or none, not '$INPUT_FAIL_ON'" ;;
esac
