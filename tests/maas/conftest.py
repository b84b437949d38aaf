"""Fixtures of the gateway tests: a real redis-server, a small real graph artifact, app clients.

redis-server is started by the fixture on a free loopback port with persistence off, and
stopped (killed if need be) at the end; tests needing it are skipped, with the reason, only
when no redis-server binary exists (CI installs one). The graph is a synthetic city built
once per session with the real pipeline (``feeds.synth`` + ``routing.build``).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest

from maas.app import create_app
from maas.settings import Settings

# -- redis-server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _redis_command(port: int, *args: str, timeout: float = 0.5) -> bytes:
    """One RESP command over a raw socket (no client library involved)."""
    payload = f"*{len(args)}\r\n".encode() + b"".join(f"${len(a.encode())}\r\n{a}\r\n".encode() for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        return s.recv(65536)


class RedisServer:
    """A redis-server process this test session owns."""

    def __init__(self, binary: str, port: int | None = None) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            return _redis_command(self.port, "PING").startswith(b"+PONG")
        except OSError:
            return False

    def start(self, timeout: float = 10.0) -> RedisServer:
        assert self.proc is None, "already running"
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError(f"redis-server exited at start (port {self.port} taken?)")
            if self.ping():
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer PING on port {self.port} within {timeout} s")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)  # in case a test paused it
            proc.kill()
        proc.wait(timeout=10)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open, calls hang -- a slow Redis."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def flush(self) -> None:
        assert _redis_command(self.port, "FLUSHALL").startswith(b"+OK")

    def keys(self, pattern: str = "*") -> int:
        reply = _redis_command(self.port, "KEYS", pattern)
        return int(reply.split(b"\r\n", 1)[0][1:])


@pytest.fixture(scope="session")
def redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (apt-get install redis-server); CI installs it"
        if os.environ.get("MAAS_REQUIRE_REDIS") == "1":  # set by .ci/test.sh: never skip there
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="session")
def _session_redis(redis_binary: str) -> Iterator[RedisServer]:
    server = RedisServer(redis_binary).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(_session_redis: RedisServer) -> RedisServer:
    """The session's redis-server, emptied for this test."""
    _session_redis.flush()
    return _session_redis


@pytest.fixture
def own_redis(redis_binary: str) -> Iterator[RedisServer]:
    """A redis-server of this test alone: free to kill, pause and restart."""
    server = RedisServer(redis_binary).start()
    try:
        yield server
    finally:
        server.stop()


# -- graph ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    """A built synthetic city and queries known to work on it."""

    path: Path
    graph: Any  # routing.graph.Graph
    origin: str  # LAT,LON
    destination: str  # LAT,LON
    time: str  # ISO with offset, on a service day
    stop_id: str  # a stop with departures
    other_stop_id: str


def _build_city(root: Path, seed: int, stops: int) -> Path:
    from feeds.synth import synth_city
    from routing.build import build_graph

    city = synth_city(root / "city", stops=stops, seed=seed)
    report = build_graph([city.gtfs], osm=city.osm, out=root / "graph")
    return Path(report.path)


def _describe(path: Path) -> City:
    """Two served stops far apart (as coordinates a little off them), 08:00 on a weekday of service."""
    from routing.graph import Graph

    graph = Graph.load(path)
    served = np.zeros(graph.n_stops, dtype=bool)
    served[np.asarray(graph.timetable.pattern_stops)] = True
    idx = np.flatnonzero(served)
    lat, lon = np.asarray(graph.stop_lat)[idx], np.asarray(graph.stop_lon)[idx]
    a, b = int(idx[np.argmin(lat + lon)]), int(idx[np.argmax(lat + lon)])
    start = graph.meta.base_date
    day = start + dt.timedelta(days=(7 - start.weekday()) % 7 + 1)  # a Tuesday
    when = dt.datetime(day.year, day.month, day.day, 8, tzinfo=ZoneInfo(graph.timezone))
    sa, sb = graph.stop(a), graph.stop(b)
    return City(
        path=path,
        graph=graph,
        origin=f"{sa.lat + 0.0004:.6f},{sa.lon:.6f}",
        destination=f"{sb.lat - 0.0004:.6f},{sb.lon:.6f}",
        time=when.isoformat(),
        stop_id=sa.id,
        other_stop_id=sb.id,
    )


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return _describe(_build_city(tmp_path_factory.mktemp("city1"), seed=1, stops=60))


@pytest.fixture(scope="session")
def other_city(tmp_path_factory: pytest.TempPathFactory) -> City:
    """Another artifact (other seed): another graph_version."""
    return _describe(_build_city(tmp_path_factory.mktemp("city2"), seed=2, stops=60))


# -- apps and clients -------------------------------------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


_DATA_ROOT = tempfile.mkdtemp(prefix="maas-test-data-")
atexit.register(shutil.rmtree, _DATA_ROOT, ignore_errors=True)


def settings(**overrides: Any) -> Settings:
    # the catalog and published graphs live in the data dir: never the working directory's
    base: dict[str, Any] = {"graph": None, "redis_url": None, "cors_origins": [], "log_json": True,
                            "data_dir": Path(tempfile.mkdtemp(prefix="data-", dir=_DATA_ROOT))}
    base.update(overrides)
    return Settings(**base)


@contextlib.asynccontextmanager
async def client_for(app: Any, *, raise_app_exceptions: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the app in process, with its lifespan running."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://maas.test") as c:
        yield c


@pytest.fixture
async def client(city: City) -> AsyncIterator[httpx.AsyncClient]:
    """The real app on the small city, in-process LRU cache."""
    async with client_for(create_app(settings(), graph=city.graph)) as c:
        yield c


@pytest.fixture(autouse=True)
def _no_maas_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's MAAS_* variables must not leak into the tests' settings."""
    for key in list(os.environ):
        if key.startswith("MAAS_"):
            monkeypatch.delenv(key)
