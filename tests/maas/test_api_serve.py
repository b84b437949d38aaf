"""``run_server``: several uvicorn workers on one artifact, and a bad artifact refused up front."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from maas.serve import run_server
from maas.settings import Settings
from routing.errors import ArtifactError
from tests.maas.conftest import City, free_port

REPO = Path(__file__).resolve().parents[2]


def test_a_corrupt_artifact_is_refused_before_any_worker_starts(city: City, tmp_path: Path) -> None:
    broken = tmp_path / "graph"
    shutil.copytree(city.path, broken)
    victim = next(p for p in sorted(broken.rglob("*.npy")))
    victim.write_bytes(victim.read_bytes()[:-8] + b"\x00" * 8)
    with pytest.raises(ArtifactError):
        run_server(Settings(graph=broken), port=free_port(), workers=2)


def test_two_workers_serve_one_artifact(city: City) -> None:
    port = free_port()
    code = (
        "from maas.serve import run_server\n"
        "from maas.settings import Settings\n"
        "if __name__ == '__main__':\n"
        f"    run_server(Settings(graph={str(city.path)!r}), host='127.0.0.1', port={port}, workers=2)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAAS_", "PROMETHEUS_"))}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "server exited"
            try:
                if httpx.get(f"{base}/v1/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "not ready within 60 s"
            time.sleep(0.2)
        params = {"from": city.origin, "to": city.destination, "time": city.time}
        with httpx.Client(base_url=base, timeout=30) as c:
            bodies = {c.get("/v1/plan", params=params).content for _ in range(6)}
            assert len(bodies) == 1  # every worker answers the same (each has its own LRU here)
            assert c.get("/v1/ready").json()["graph_version"] == city.graph.version
            metrics = c.get("/metrics").text
        # one exposition for all workers: counts add up across processes
        line = next(x for x in metrics.splitlines()
                    if x.startswith('maas_http_requests_total{method="GET",route="/v1/plan",status="200"}'))
        assert float(line.rsplit(" ", 1)[1]) == 6
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
