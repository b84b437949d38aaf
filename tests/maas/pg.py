"""A throwaway PostgreSQL cluster for the catalog tests (``postgres`` fixture, session scope).

initdb's a cluster in a temp dir and starts it on a free loopback port with trust auth; as root
the server runs as user ``postgres`` (``runuser -u postgres --``) in a dir it owns. Skipped with
the reason when the binaries are missing (CI: apt-get install postgresql); ``MAAS_REQUIRE_POSTGRES=1``
turns the skip into a failure.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.maas.conftest import free_port


def pg_bin() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class PgServer:
    bindir: Path
    root: Path
    port: int
    as_postgres: bool

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [*(["runuser", "-u", "postgres", "--"] if self.as_postgres else []), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> None:
        data = self.root / "data"
        r = self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                      "--no-sync")
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr[-2000:]}")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        r = self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(self.root / "log"),
                      "-w", "-t", "30", "start")
        if r.returncode != 0:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise RuntimeError(f"postgres did not start: {r.stderr[-1000:]} {log[-2000:]}")

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> str:
        r = self._run(str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        if r.returncode != 0:
            raise RuntimeError(f"createdb {name}: {r.stderr}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PgServer]:
    bindir = pg_bin()
    if bindir is None:
        message = "PostgreSQL binaries not found (apt-get install postgresql); CI installs them"
        if os.environ.get("MAAS_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    as_postgres = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="maas-pg-"))
    if as_postgres:
        shutil.chown(root, "postgres", "postgres")
    server = PgServer(bindir, root, free_port(), as_postgres)
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"could not start a PostgreSQL cluster: {e}")
    try:
        yield server
    finally:
        server.stop()
        for _ in range(50):  # pg_ctl -w returns when the postmaster is gone
            if not (root / "data" / "postmaster.pid").exists():
                break
            time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


_counter = iter(range(1_000_000))


@pytest.fixture
def pg_url(postgres: PgServer) -> str:
    """A new empty database on the session's cluster."""
    return postgres.create_database(f"maas_test_{os.getpid()}_{next(_counter)}")
