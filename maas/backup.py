"""``maas backup --to DIR`` / ``maas restore --from DIR``: artifacts, uploaded feeds and the catalog.

A backup directory holds ``data/`` (the data dir's ``artifacts/``, ``feeds/`` and ``current.json``),
the catalog (``catalog.sqlite`` made with SQLite's online backup API, or ``catalog.json`` with
every row, dumped through SQLAlchemy, for PostgreSQL) and ``backup.json``: the sha256 and size of
every file. It is taken under the graph lock, so no publish lands halfway through it.

:func:`restore` checks every file against ``backup.json`` first and refuses a backup with a
missing, extra or modified file, naming it; then it fills an empty data dir (and catalog
database), so a server started on it serves the same graph and answers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Date, Integer, create_engine, func, insert, select, text
from sqlalchemy.engine import Connection

from maas.catalog import audit
from maas.catalog.database import SQLITE_NAME, Database
from maas.catalog.errors import BackupError
from maas.catalog.feeds import current_deployment, sha256_file
from maas.catalog.tables import Base, UTCDateTime
from maas.publish.pointer import POINTER, read_pointer, resolve_path, write_pointer

FORMAT = 1
MANIFEST = "backup.json"
DATA = "data"
SQLITE_BACKUP = "catalog.sqlite"
JSON_BACKUP = "catalog.json"
_DATA_PARTS = ("artifacts", "feeds", POINTER)


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    files: int
    bytes: int
    graph_version: str | None
    database: str  # sqlite | json


def _data_files(data_dir: Path) -> Iterator[Path]:
    """Files of the data dir worth keeping: not temp dirs (``.build-*``), locks or uploads in flight."""
    for part in _DATA_PARTS:
        root = data_dir / part
        if root.is_file():
            yield root
            continue
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not d.endswith(".prev"))
            for name in sorted(filenames):
                if not name.startswith("."):
                    yield Path(dirpath) / name


def backup(db: Database, to: Path) -> BackupSummary:
    """Write a backup of ``db`` and its data dir into ``to`` (absent or empty)."""
    to = Path(to)
    if to.exists() and any(to.iterdir()):
        raise BackupError(f"{to} is not empty; back up into a new directory")
    to.mkdir(parents=True, exist_ok=True)
    data_dir = db.data_dir.resolve()
    with db.lock("graph"):
        for src in _data_files(data_dir):
            dst = to / DATA / src.relative_to(data_dir)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)  # a real copy: the data dir hard-links artifacts
        if db.is_sqlite:
            kind = "sqlite"
            src_path = Path(db.engine.url.database or "")
            src_conn, dst_conn = sqlite3.connect(src_path), sqlite3.connect(to / SQLITE_BACKUP)
            try:
                src_conn.backup(dst_conn)  # a consistent copy while others read and write
            finally:
                dst_conn.close()
                src_conn.close()
        else:
            kind = "json"
            with db.engine.connect() as conn:
                (to / JSON_BACKUP).write_text(json.dumps(dump_rows(conn), sort_keys=True))
        with db.read() as s:
            dep = current_deployment(s)
            version = dep.graph_version if dep else None
    files: dict[str, dict[str, Any]] = {str(p.relative_to(to)): {"sha256": sha256_file(p), "size": p.stat().st_size}
             for p in sorted(to.rglob("*")) if p.is_file()}
    manifest = {"format": FORMAT, "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "database": kind, "graph_version": version, "files": files}
    (to / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return BackupSummary(to, len(files), sum(int(f["size"]) for f in files.values()), version, kind)


def dump_rows(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for table in Base.metadata.sorted_tables:
        out[table.name] = [
            {k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in row._mapping.items()}
            for row in conn.execute(select(table).order_by(*table.primary_key.columns))
        ]
    return out


def _load_value(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return dt.date.fromisoformat(value)
    return value


def verify(frm: Path) -> dict[str, Any]:
    """``backup.json`` of a complete, unmodified backup; raises :class:`BackupError` naming a bad file."""
    frm = Path(frm)
    try:
        manifest: dict[str, Any] = json.loads((frm / MANIFEST).read_text())
    except (OSError, ValueError) as e:
        raise BackupError(f"{frm / MANIFEST}: not a readable backup manifest ({e})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{frm / MANIFEST}: format {manifest.get('format')!r}, this program reads {FORMAT}")
    listed: dict[str, Any] = manifest.get("files", {})
    present = {str(p.relative_to(frm)) for p in frm.rglob("*") if p.is_file()} - {MANIFEST}
    for name in sorted(set(listed) - present):
        raise BackupError(f"backup is incomplete: {frm / name} is missing")
    for name in sorted(present - set(listed)):
        raise BackupError(f"backup was modified: {frm / name} is not in {MANIFEST}")
    for name in sorted(listed):
        p = frm / name
        if p.stat().st_size != listed[name]["size"] or sha256_file(p) != listed[name]["sha256"]:
            raise BackupError(f"backup was modified: checksum mismatch in {p}")
    return manifest


def restore(frm: Path, data_dir: Path, database_url: str | None = None, *, actor: str = "cli") -> BackupSummary:
    """Restore a verified backup into an empty ``data_dir`` (and empty catalog database)."""
    frm = Path(frm)
    manifest = verify(frm)
    data_dir = Path(data_dir)
    candidates = [data_dir / POINTER, data_dir / "artifacts", data_dir / "feeds"]
    if database_url is None:
        candidates.append(data_dir / SQLITE_NAME)
    occupied = [p for p in candidates if p.exists() and (p.is_file() or any(p.iterdir()))]
    if occupied:
        raise BackupError(f"{data_dir} is not empty ({occupied[0].name}); restore into an empty data dir")
    data_dir.mkdir(parents=True, exist_ok=True)
    if manifest["database"] == "sqlite" and database_url is None:
        # the same engine on both sides: the file itself (then migrated forward if older)
        shutil.copy2(frm / SQLITE_BACKUP, data_dir / SQLITE_NAME)
        db = Database.open(data_dir)
    else:
        db = Database.open(data_dir, database_url)
        rows = _backup_rows(frm, manifest["database"])
        with db.lock("graph"), db.write() as s:
            conn = s.connection()
            if any(conn.execute(select(func.count()).select_from(t)).scalar() for t in Base.metadata.sorted_tables):
                db.dispose()
                raise BackupError("the catalog database is not empty; restore into an empty one")
            for table in Base.metadata.sorted_tables:
                records = [{k: _load_value(table.c[k], v) for k, v in r.items() if k in table.c}
                           for r in rows.get(table.name, [])]
                if records:
                    conn.execute(insert(table), records)
            if not db.is_sqlite:  # serial columns continue after the restored ids
                for table in Base.metadata.sorted_tables:
                    pk = list(table.primary_key.columns)
                    if len(pk) == 1 and isinstance(pk[0].type, Integer) and rows.get(table.name):
                        conn.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                            f"(SELECT MAX({pk[0].name}) FROM {table.name}))"))
    try:
        for p in sorted((frm / DATA).rglob("*")):
            if p.is_file():
                dst = data_dir / p.relative_to(frm / DATA)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(p, dst)
        with db.read() as s:
            dep = current_deployment(s)
        if dep is not None and read_pointer(data_dir) is None:  # a catalog only seeded: point at its graph
            artifact = resolve_path(data_dir, dep.artifact_path)
            if (artifact / "manifest.json").is_file():
                write_pointer(data_dir, dep.graph_version, artifact, dep.id)
        with db.write() as s:
            audit.record(s, actor, "restore", str(manifest.get("graph_version")), source=str(frm.resolve()),
                         created_at=manifest.get("created_at"))
    finally:
        db.dispose()
    files = manifest["files"]
    return BackupSummary(frm, len(files), sum(int(f["size"]) for f in files.values()), manifest.get("graph_version"),
                         manifest["database"])


def _backup_rows(frm: Path, kind: str) -> dict[str, list[dict[str, Any]]]:
    if kind == "json":
        rows: dict[str, list[dict[str, Any]]] = json.loads((frm / JSON_BACKUP).read_text())
        return rows
    engine = create_engine(f"sqlite:///{(frm / SQLITE_BACKUP).resolve()}")
    try:
        with engine.connect() as conn:
            return dump_rows(conn)
    finally:
        engine.dispose()
