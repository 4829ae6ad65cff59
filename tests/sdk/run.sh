#!/usr/bin/env bash
# Runs the SDK suite: the real Tencent Cloud Python SDK against `refreshsim serve`.
#
#   tests/sdk/run.sh                 # venv in target/sdk-venv, binary target/release/refreshsim
#   REFRESHSIM_BIN=target/debug/refreshsim tests/sdk/run.sh -k signature
#
# Creates the venv and installs tests/sdk/requirements.txt when they are missing or changed;
# builds nothing (build the binary first: cargo build --release). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${REFRESHSIM_SDK_VENV:-target/sdk-venv}"
requirements=tests/sdk/requirements.txt
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$stamp"; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
fi
export REFRESHSIM_BIN="${REFRESHSIM_BIN:-target/release/refreshsim}"
if [ ! -x "$REFRESHSIM_BIN" ]; then
    echo "error: $REFRESHSIM_BIN not found: run cargo build --release first" >&2
    exit 2
fi
# The server is on loopback: never send its traffic through a proxy.
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" -m pytest tests/sdk -q -p no:cacheprovider "$@"
