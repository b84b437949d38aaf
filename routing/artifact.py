"""The graph artifact on disk: a directory of ``.npy`` arrays plus ``manifest.json``.

Written atomically (a temp directory beside the target, then one ``rename``), read back
with ``numpy.load(mmap_mode="r")`` so several worker processes share the pages. Every
array's sha256, dtype and shape is in the manifest; :func:`read_artifact` refuses a
directory whose schema, files or checksums disagree, naming the bad file, and never
returns a half-loaded artifact.

Non-array content (ids, names, time zones) lives in JSON documents listed under
``documents`` in the manifest, checksummed the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from routing.errors import ArtifactError

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
_CHUNK = 1 << 20


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Artifact:
    """A loaded artifact: its manifest, arrays (read-only memory maps) and documents."""

    path: Path
    manifest: dict[str, Any]
    arrays: dict[str, np.ndarray]
    documents: dict[str, Any]

    @property
    def graph_version(self) -> str:
        return str(self.manifest["graph_version"])

    def group(self, prefix: str) -> dict[str, np.ndarray]:
        """Arrays saved under ``prefix.NAME``, keyed by NAME."""
        p = prefix + "."
        return {k[len(p):]: v for k, v in self.arrays.items() if k.startswith(p)}


def write_artifact(
    out: str | Path,
    arrays: Mapping[str, np.ndarray],
    documents: Mapping[str, Any],
    manifest_extra: Mapping[str, Any],
    *,
    replace: bool = True,
) -> Path:
    """Write an artifact to ``out`` atomically and return its path.

    ``graph_version`` is derived from the content (sha256 over array and document
    checksums), so the same inputs give the same version: caches keyed on it stay valid
    across rebuilds of identical data and move on whenever anything changes.
    """
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and not replace:
        raise ArtifactError(f"{out} exists")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        array_meta: dict[str, Any] = {}
        for name in sorted(arrays):
            arr = np.ascontiguousarray(arrays[name])
            if arr.dtype == object:
                raise ArtifactError(f"array {name} has dtype object; store strings in a document")
            f = tmp / f"{name}.npy"
            np.save(f, arr, allow_pickle=False)
            array_meta[name] = {"sha256": _sha256_file(f), "dtype": arr.dtype.str, "shape": list(arr.shape)}
        doc_meta: dict[str, Any] = {}
        for name in sorted(documents):
            f = tmp / f"{name}.json"
            f.write_text(json.dumps(documents[name], ensure_ascii=False, sort_keys=True, separators=(",", ":")))
            doc_meta[name] = {"sha256": _sha256_file(f)}
        h = hashlib.sha256()
        for name in sorted(array_meta):
            h.update(f"{name}:{array_meta[name]['sha256']}\n".encode())
        for name in sorted(doc_meta):
            h.update(f"doc:{name}:{doc_meta[name]['sha256']}\n".encode())
        manifest: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "graph_version": h.hexdigest()[:16],
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            **manifest_extra,
            "arrays": array_meta,
            "documents": doc_meta,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        if out.exists():
            # keep the previous version beside it for rollback; rename is atomic per step
            prev = out.with_name(out.name + ".prev")
            if prev.exists():
                shutil.rmtree(prev)
            out.rename(prev)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_manifest(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    mf = path / MANIFEST
    if not path.is_dir():
        raise ArtifactError(f"no artifact at {path}: not a directory (build one with `maas build`)")
    if not mf.is_file():
        raise ArtifactError(f"{mf} is missing: not a graph artifact, or a partial one")
    try:
        manifest = json.loads(mf.read_text())
    except (OSError, ValueError) as e:
        raise ArtifactError(f"{mf} is not valid JSON: {e}") from None
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{mf} is not a JSON object")
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ArtifactError(
            f"{mf}: schema_version {version!r}, this program reads {SCHEMA_VERSION}; rebuild with `maas build`"
        )
    for key in ("graph_version", "arrays", "documents"):
        if key not in manifest:
            raise ArtifactError(f"{mf}: key {key!r} missing")
    return manifest


def read_artifact(path: str | Path, *, verify: bool = True) -> Artifact:
    """Load an artifact; with ``verify`` every file's checksum is checked first.

    Raises :class:`ArtifactError` naming the first bad file; nothing is returned then.
    """
    path = Path(path).resolve()
    manifest = read_manifest(path)
    arrays: dict[str, np.ndarray] = {}
    for name, meta in manifest["arrays"].items():
        f = path / f"{name}.npy"
        if not f.is_file():
            raise ArtifactError(f"{f} is missing (listed in the manifest)")
        if verify and _sha256_file(f) != meta["sha256"]:
            raise ArtifactError(f"{f}: checksum mismatch, the file is corrupt or was modified")
        try:
            arr = np.load(f, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as e:
            raise ArtifactError(f"{f}: cannot be read ({e})") from None
        if arr.dtype.str != meta["dtype"] or list(arr.shape) != list(meta["shape"]):
            raise ArtifactError(
                f"{f}: dtype/shape {arr.dtype.str}{list(arr.shape)} != manifest {meta['dtype']}{meta['shape']}"
            )
        arrays[name] = arr
    documents: dict[str, Any] = {}
    for name, meta in manifest["documents"].items():
        f = path / f"{name}.json"
        if not f.is_file():
            raise ArtifactError(f"{f} is missing (listed in the manifest)")
        raw = f.read_bytes()
        if verify and hashlib.sha256(raw).hexdigest() != meta["sha256"]:
            raise ArtifactError(f"{f}: checksum mismatch, the file is corrupt or was modified")
        try:
            documents[name] = json.loads(raw)
        except ValueError as e:
            raise ArtifactError(f"{f}: not valid JSON ({e})") from None
    return Artifact(path=path, manifest=manifest, arrays=arrays, documents=documents)
