#!/usr/bin/env bash
# The Node.js SDK flow: Tencent Cloud's Node.js SDK (tencentcloud-sdk-nodejs, pinned in
# tests/node/package.json and package-lock.json, installed with `npm ci`) drives
# `refreshsim serve` with the signature check on (tests/node/flow.js). Builds nothing: it uses
# target/release/refreshsim (or $REFRESHSIM_BIN), which .ci/run builds before. Node.js and npm
# come from Debian when missing.
#
#   tests/node/run.sh        # prints each step of the flow and the script's own time
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)
export REFRESHSIM_BIN="${REFRESHSIM_BIN:-target/release/refreshsim}"
if [ ! -x "$REFRESHSIM_BIN" ]; then
    echo "error: $REFRESHSIM_BIN not found: run cargo build --release first" >&2
    exit 2
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
# The SDK as pinned; reinstalled when the lock file changes.
stamp=tests/node/node_modules/.package-lock.json.ci
if [ ! -d tests/node/node_modules/tencentcloud-sdk-nodejs ] || ! cmp -s tests/node/package-lock.json "$stamp"; then
    (cd tests/node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    cp tests/node/package-lock.json "$stamp"
fi
# The SDK is given serve as its proxy explicitly; nothing else may go through one.
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
timeout 300 node tests/node/flow.js
echo "tests/node/run.sh took $(( $(date +%s) - started )) s"
