"""``MAAS_DATA_DIR/current.json``: which artifact every worker serves.

Written by replacing the file in one ``rename`` (readers see the old or the new pointer, never a
half-written one); workers poll its ``stat`` -- a cheap system call -- and load the artifact it
names when it changes. The artifact path is stored relative to the data dir when inside it, so a
restored backup points at its own copy.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

POINTER = "current.json"


@dataclass(frozen=True)
class Pointer:
    graph_version: str
    artifact: Path  # absolute
    deployment_id: int | None


def stored_path(data_dir: Path, path: str | Path) -> str:
    """``path`` relative to the data dir when inside it, else absolute; URLs as they are."""
    if str(path).startswith(("http://", "https://")):
        return str(path)
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path(data_dir).resolve()))
    except ValueError:
        return str(p)


def resolve_path(data_dir: Path, stored: str) -> Path:
    """The absolute path of a stored path (not meant for URLs: see :func:`stored_path`)."""
    p = Path(stored)
    return p if p.is_absolute() else Path(data_dir).resolve() / p


def write_pointer(data_dir: Path, graph_version: str, artifact: Path, deployment_id: int | None) -> None:
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    doc = {"graph_version": graph_version, "artifact": stored_path(data_dir, artifact), "deployment_id": deployment_id}
    fd, tmp = tempfile.mkstemp(prefix=".current.", dir=data_dir)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, data_dir / POINTER)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_pointer(data_dir: Path) -> Pointer | None:
    """The pointer, or None when nothing was deployed through the catalog (or it is unreadable)."""
    try:
        doc = json.loads((Path(data_dir) / POINTER).read_text())
        return Pointer(str(doc["graph_version"]), resolve_path(data_dir, str(doc["artifact"])),
                       doc.get("deployment_id"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pointer_stamp(data_dir: Path) -> tuple[int, int, int] | None:
    """What changes when the pointer is replaced (inode, mtime, size); None when absent."""
    try:
        st = os.stat(Path(data_dir) / POINTER)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def current_artifact(data_dir: Path) -> Path | None:
    p = read_pointer(data_dir)
    return p.artifact if p is not None and p.artifact.is_dir() else None
