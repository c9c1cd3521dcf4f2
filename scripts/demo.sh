#!/usr/bin/env bash
# Builds Sightline and runs `sightline demo`: the Codex backend simulator with three simulated accounts
# and the proxy in front of it, on fixed local ports. Ctrl-C stops both. Extra arguments go to `demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
SIGHTLINE_SKIP_VENV=1 ./scripts/setup.sh
swift build -c release 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || { echo "build failed"; exit 1; }
exec "$(swift build -c release --show-bin-path)/sightline" demo "$@"
