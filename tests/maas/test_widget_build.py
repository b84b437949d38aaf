"""The widget's JavaScript: its unit tests (``node --test``) and the committed bundle being the build
of its sources (``npm run check`` rebuilds it with the pinned esbuild and compares bytes).

Both need node; the bundle check also needs ``npm ci`` run in maas/widget (esbuild from npm, no
network here). Without them the tests are skipped with the reason -- unless
``MAAS_REQUIRE_NODE=1`` (CI), where a missing tool is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

WIDGET = Path(__file__).resolve().parents[2] / "maas" / "widget"
STATIC = WIDGET.parent / "static"


def _need(tool: str | None, message: str) -> str:
    if tool is None:
        if os.environ.get("MAAS_REQUIRE_NODE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return tool


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NODE_")}
    return subprocess.run(args, cwd=WIDGET, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_widget_unit_tests_pass_in_node() -> None:
    node = _need(shutil.which("node"), "node is not installed (apt-get install nodejs; CI has node 20)")
    done = _run(node, "--test", "test/")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    passed = re.search(r"^# pass (\d+)$", done.stdout, re.M)
    failed = re.search(r"^# fail (\d+)$", done.stdout, re.M)
    assert passed and failed, done.stdout[-2000:]
    assert int(passed.group(1)) >= 10 and int(failed.group(1)) == 0


def test_committed_bundle_is_the_build_of_the_sources() -> None:
    npm = _need(shutil.which("npm"), "npm is not installed (CI has node 20 + npm)")
    _need(shutil.which("esbuild", path=str(WIDGET / "node_modules" / ".bin")),
          "esbuild is not installed: run `npm ci` in maas/widget (CI does before the tests)")
    done = _run(npm, "run", "--silent", "check")
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    manifest = json.loads((STATIC / "widget.json").read_text())
    assert manifest["hash"] in done.stdout
    assert manifest["gzip_bytes"] <= 30 * 1024
