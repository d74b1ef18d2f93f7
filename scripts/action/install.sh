#!/usr/bin/env bash
# Step "install": puts keysweep on the runner and sets the output `bin`.
#   KEYSWEEP_BIN set      use that binary (the tests point it at the binary they built)
#   INPUT_VERSION set     download keysweep-<version>-x86_64-unknown-linux-gnu.tar.gz from the
#                         release tagged v<version> of KEYSWEEP_REPOSITORY (Linux x64 only)
#   otherwise             cargo build --release --locked the action's own source into
#                         KEYSWEEP_TARGET_DIR (which actions/cache restored)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -n ${KEYSWEEP_BIN:-} ]]; then
  [[ -x $KEYSWEEP_BIN ]] || die "KEYSWEEP_BIN=$KEYSWEEP_BIN is not an executable file"
  bin=$KEYSWEEP_BIN
elif [[ -n ${INPUT_VERSION:-} ]]; then
  [[ ${RUNNER_OS:-} == Linux && ${RUNNER_ARCH:-} == X64 ]] \
    || die "version: release binaries exist for Linux x64 only; leave version empty to build"
  version=${INPUT_VERSION#v}
  asset="keysweep-$version-x86_64-unknown-linux-gnu.tar.gz"
  repository=${KEYSWEEP_REPOSITORY:-keysweep/keysweep}
  url="${GITHUB_SERVER_URL:-https://github.com}/$repository/releases/download/v$version/$asset"
  dir="$RUNNER_TEMP/keysweep-$version"
  mkdir -p "$dir"
  curl --fail --silent --show-error --location --retry 3 --output "$dir/$asset" "$url" \
    || die "cannot download $url"
  tar -xzf "$dir/$asset" -C "$dir"
  bin=$(find "$dir" -type f -name keysweep -perm -u+x -print -quit)
  [[ -n $bin ]] || die "$asset holds no executable named keysweep"
else
  command -v cargo >/dev/null || die "cargo is not installed: install Rust first, or set version"
  cargo build --release --locked --manifest-path "$GITHUB_ACTION_PATH/Cargo.toml" \
    --target-dir "$KEYSWEEP_TARGET_DIR"
  bin="$KEYSWEEP_TARGET_DIR/release/keysweep"
fi
"$bin" --version
set_output bin "$bin"
