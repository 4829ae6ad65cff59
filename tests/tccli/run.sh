#!/usr/bin/env bash
# The tccli flow: tccli (pinned in tests/tccli/requirements.txt) drives `refreshsim serve` with
# the signature check on (tests/tccli/flow.py), from the SDK suite's venv (target/sdk-venv, as
# tests/sdk/run.sh makes it): tests/sdk/requirements.txt and tests/tccli/requirements.txt are
# installed there when missing or changed. Builds nothing: it uses target/release/refreshsim (or
# $REFRESHSIM_BIN).
#
#   tests/tccli/run.sh       # prints each step of the flow and the script's own time
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)
venv="${REFRESHSIM_SDK_VENV:-target/sdk-venv}"
stamp="$venv/.requirements-tccli"
wanted=$(cat tests/sdk/requirements.txt tests/tccli/requirements.txt)
if [ ! -x "$venv/bin/tccli" ] || [ "$wanted" != "$(cat "$stamp" 2>/dev/null)" ]; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r tests/sdk/requirements.txt -r tests/tccli/requirements.txt
    printf '%s' "$wanted" > "$stamp"
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
timeout 600 "$venv/bin/python" tests/tccli/flow.py
echo "tests/tccli/run.sh took $(( $(date +%s) - started )) s"
