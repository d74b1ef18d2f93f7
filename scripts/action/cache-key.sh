#!/usr/bin/env bash
# Step "cache key": the key actions/cache stores the cargo build under (runner OS and
# architecture, and the hash of the action's Cargo.lock), and the target directory it caches.
# hashFiles() cannot be used: it only reads files in the workspace, not the action's own.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

lock=$(sha256sum "$GITHUB_ACTION_PATH/Cargo.lock" | cut -d' ' -f1)
set_output key "keysweep-${RUNNER_OS:-unknown}-${RUNNER_ARCH:-unknown}-$lock"
set_output target-dir "$RUNNER_TEMP/keysweep-target"
