#!/usr/bin/env bash
# Builds Sightline and runs `sightline demo`: the Codex backend simulator with three simulated accounts
# and the proxy in front of it, on fixed local ports. Ctrl-C stops both. Extra arguments go to `demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
SIGHTLINE_SKIP_VENV=1 ./scripts/setup.sh
echo "demo: building a release binary (a few minutes the first time)"
build_log=$(mktemp)
if ! swift build -c release --product sightline >"$build_log" 2>&1; then
    grep -vE '^\[[0-9]+/[0-9]+\]' "$build_log"
    echo "build failed"
    exit 1
fi
rm -f "$build_log"
exec "$(swift build -c release --show-bin-path)/sightline" demo "$@"
