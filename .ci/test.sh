#!/usr/bin/env bash
# The README's test command: installs what the tests need, then runs the whole suite.
# Redis-backed tests start their own redis-server on a free loopback port; with
# MAAS_REQUIRE_REDIS=1 (set here) they fail instead of skipping when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Servers and the browser the tests drive: redis-server (cache tests), PostgreSQL (the
# catalog on PostgreSQL), Debian's chromium (widget tests through playwright).
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} (apt)"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev,postgres]'
# The widget's build toolchain (esbuild, pinned in its lockfile): the suite rebuilds the
# bundle and checks the committed one is current (MAAS_REQUIRE_NODE: fail, don't skip).
if command -v npm >/dev/null 2>&1; then
    npm ci --prefix maas/widget --no-audit --no-fund --loglevel=error
    export MAAS_REQUIRE_NODE=1
fi

# Compile the numba kernels once, up front (the cache lives next to the modules): a
# compile inside the suite holds the GIL for seconds and starves timing-sensitive tests.
warm=$(mktemp -d)
.venv/bin/maas synth --out "$warm" --stops 40 >/dev/null 2>&1
.venv/bin/maas build "$warm/synth.zip" --osm "$warm/streets.osm.pbf" --out "$warm/graph" >/dev/null 2>&1
.venv/bin/python -c "from routing.raptor import warm_up; warm_up()"
.venv/bin/python -c "from routing.analysis.kernel import warm_up; warm_up()"
rm -rf "$warm"

export MAAS_REQUIRE_REDIS=1 MAAS_REQUIRE_POSTGRES=1
exec .venv/bin/python -m pytest -q "$@"
