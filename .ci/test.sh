#!/usr/bin/env bash
# The README's test command: installs what the tests need, then runs the whole suite.
# Redis-backed tests start their own redis-server on a free loopback port; with
# MAAS_REQUIRE_REDIS=1 (set here) they fail instead of skipping when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
    echo "installing redis-server (apt)"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq redis-server >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'

export MAAS_REQUIRE_REDIS=1
exec .venv/bin/python -m pytest -q "$@"
