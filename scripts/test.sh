#!/usr/bin/env bash
# Installs everything the tests need on a bare Debian machine with Rust, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v git >/dev/null || ! command -v python3 >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq git python3 python3-pip
fi
# The sweep tests (tests/sweep.rs) serve repositories with `git daemon`, part of Debian's git.
# The registry tests (tests/image/registry.rs): a local registry, skopeo to push to it, and
# htpasswd (bcrypt) for its basic-auth configuration.
if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null \
  || ! command -v htpasswd >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq docker-registry skopeo apache2-utils
fi
# The GitHub Action's scripts read event payloads and reports with jq (as on GitHub's runners).
if ! command -v jq >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq jq
fi
# The HTML report's browser test (tests/html.rs) opens the page in headless Chromium.
if ! command -v chromium >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq chromium
fi
# action-validator checks action.yml and the example workflow (tests/action.rs); about 2.5
# minutes to build on two cores.
if ! command -v action-validator >/dev/null && [[ ! -x ${CARGO_HOME:-$HOME/.cargo}/bin/action-validator ]]; then
  cargo install action-validator --locked --version 0.9.0
fi
# Supply chain (deny.toml): every dependency's license, duplicate versions and source. The
# advisories check clones the RustSec database from GitHub; KEYSWEEP_DENY_ADVISORIES=1 adds it
# where that is reachable. Installing cargo-deny (once a machine) costs about 240 CPU-seconds;
# built without its release profile's fat LTO and single codegen unit, whose last step runs on
# one core, it checks the same; the check itself takes about two seconds.
CARGO_DENY_VERSION=0.20.2
if [[ $(cargo deny --version 2>/dev/null) != "cargo-deny $CARGO_DENY_VERSION" ]]; then
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-deny --locked --version "$CARGO_DENY_VERSION"
fi
deny_checks=(licenses bans sources)
if [[ ${KEYSWEEP_DENY_ADVISORIES:-0} == 1 ]]; then
  deny_checks+=(advisories)
fi
cargo deny --locked check "${deny_checks[@]}"
python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt \
  || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages -r tests/requirements.txt

cargo test --all-targets --locked
