#!/usr/bin/env bash
# Browser test of report.html: headless Chromium (Debian's `chromium` package) driven by
# playwright-core (pinned in tests/browser/package.json and package-lock.json, installed with
# `npm ci`; it downloads no browser). Builds nothing: it uses target/release/refreshsim (or
# $REFRESHSIM_BIN), which .ci/run builds before.
#
#   tests/browser/run.sh        # prints each check, the load times and the script's own time
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)
bin="${REFRESHSIM_BIN:-target/release/refreshsim}"
if [ ! -x "$bin" ]; then
    echo "error: $bin not found: run cargo build --release first" >&2
    exit 2
fi
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM:-}" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# playwright-core as pinned; reinstalled when the lock file changes.
stamp=tests/browser/node_modules/.package-lock.json.ci
if [ ! -d tests/browser/node_modules/playwright-core ] || ! cmp -s tests/browser/package-lock.json "$stamp"; then
    (cd tests/browser && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    cp tests/browser/package-lock.json "$stamp"
fi
out="${CARGO_TARGET_DIR:-target}/browser"
rm -rf "$out"
mkdir -p "$out"
"$bin" run scenarios/tencent-documented-example.toml --out "$out/doc" -q
"$bin" run scenarios/large-2000-probabilistic.toml --out "$out/large" -q
"$bin" sweep scenarios/sweep-batch-surge.toml --out "$out/sweep" --runs 3 \
    --vary RollingUpdateSettings.BatchNumber=5,10,20 --vary MaxSurge=0,batch/2,batch -q
# advise exits 1 when nothing is feasible; this request has an answer (exit 0).
"$bin" advise scenarios/tencent-documented-example.toml --min-in-service 60% \
    --allow MaxSurge=0..=2:1 --out "$out/advise" -q
# The pages are opened from file:// with the network cut off; nothing may go through a proxy.
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
node tests/browser/check.mjs "$out"
echo "tests/browser/run.sh took $(( $(date +%s) - started )) s"
