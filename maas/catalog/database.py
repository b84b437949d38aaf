"""The catalog database: SQLite in ``MAAS_DATA_DIR`` by default, PostgreSQL by ``MAAS_DATABASE_URL``.

:meth:`Database.open` creates the engine and applies the migrations shipped in the package
(``alembic upgrade head``, under a lock so that workers starting together migrate once).
Reads use :meth:`Database.read`; writes use :meth:`Database.write`, which on SQLite starts with
``BEGIN IMMEDIATE`` -- a deferred transaction that reads then writes can fail with "database is
locked" instead of waiting its turn. :meth:`Database.lock` is a named lock across processes
(a PostgreSQL advisory lock, or ``flock`` on a file in the data dir for SQLite): the graph lock
serializes publishes, rollbacks and backups.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from maas.catalog.errors import CatalogError

log = logging.getLogger("maas.catalog")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_NAME = "catalog.sqlite"


def database_url(data_dir: Path, url: str | None) -> str:
    """The SQLAlchemy URL: ``url`` with the psycopg 3 driver named, or SQLite in ``data_dir``."""
    if not url:
        return f"sqlite:///{(Path(data_dir) / SQLITE_NAME).resolve()}"
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


class Database:
    def __init__(self, url: str, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            # driver in autocommit mode: SQLAlchemy's "begin" event below issues BEGIN itself
            self.engine: Engine = create_engine(url, connect_args={"isolation_level": None, "timeout": 30})
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)

    @classmethod
    def open(cls, data_dir: Path, url: str | None = None) -> Database:
        """Connect and migrate to the newest schema; raises :class:`CatalogError` when unreachable."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        db = cls(database_url(data_dir, url), data_dir)
        try:
            db.migrate()
        except CatalogError:
            db.dispose()
            raise
        except Exception as e:  # a driver error (server down, bad URL): no traceback to the user
            db.dispose()
            raise CatalogError(f"cannot open the catalog database {make_url(db.url)!r}: {type(e).__name__}: {e}") from None
        return db

    def migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        with self.lock("migrate"), self.engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction, committed on success; on SQLite it holds the write lock from the start."""
        with self.engine.connect() as conn:
            conn.info["immediate"] = True
            try:
                with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                    yield session
            finally:
                conn.info.pop("immediate", None)

    @contextlib.contextmanager
    def lock(self, name: str, *, wait: bool = True) -> Iterator[bool]:
        """Hold the named lock across every process using this catalog. With ``wait=False``
        it is only tried: the context yields whether it is held (False: someone else has it)."""
        if self.is_sqlite:
            lock_dir = self.data_dir / "locks"
            lock_dir.mkdir(parents=True, exist_ok=True)
            with (lock_dir / f"{name}.lock").open("a+") as fh:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield False
                    return
                try:
                    yield True
                finally:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return
        key = int.from_bytes(hashlib.sha256(f"maas:{name}".encode()).digest()[:8], "big", signed=True)
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            elif not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                yield False
                return
            try:
                yield True
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("immediate") else "BEGIN")
