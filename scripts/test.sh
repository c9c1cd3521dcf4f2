#!/usr/bin/env bash
# Runs every Sightline test on a fresh machine: installs what is needed (scripts/setup.sh), builds, then
# runs the whole suite (unit, artifact and integration tests with the real Codex CLI, the OpenAI SDK and
# Prometheus). Exit status is non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export SIGHTLINE_VENV="$PWD/.venv"
echo "swift format: linting"
swift format lint --strict -r Sources Tests bench/Sources
build_log=$(mktemp)
if ! swift build --build-tests >"$build_log" 2>&1; then
    grep -vE '^\[[0-9]+/[0-9]+\]' "$build_log"
    echo "build failed"
    exit 1
fi
tail -n 1 "$build_log"
rm -f "$build_log"
export SIGHTLINE_BIN="$(swift build --show-bin-path)/sightline"
if [ -d alerts/tests ] && command -v promtool >/dev/null; then
    echo "promtool: checking alert rules"
    promtool check rules alerts/*.yml
    (cd alerts/tests && promtool test rules *.yml)
fi
swift test --skip-build
