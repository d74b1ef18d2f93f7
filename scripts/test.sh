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
python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt \
  || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages -r tests/requirements.txt

cargo test --all-targets --locked
