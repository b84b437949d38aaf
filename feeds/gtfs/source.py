"""Where one GTFS feed lives: a zip file or a directory, what files it holds, its hash.

Only this module touches ``zipfile`` and the file system directly; its errors become
:class:`~feeds.errors.FeedNotFound` / :class:`~feeds.errors.FeedFormatError` naming the path.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from feeds.errors import FeedFormatError, FeedNotFound

# Everything zipfile may raise on a damaged archive or member.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError)


@dataclass(frozen=True)
class FeedFiles:
    """The ``.txt`` files of one feed, by base name (``stops.txt``), with their sizes.

    gtfs-kit recognizes a table by its file's stem wherever it sits in a zip, so this
    listing does the same: ``gtfs/stops.txt`` counts as ``stops.txt``.
    """

    path: Path
    is_zip: bool
    sizes: dict[str, int]
    members: dict[str, str]  # base name -> member name in the zip, or file name in the dir

    @classmethod
    def open(cls, path: str | Path) -> FeedFiles:
        p = Path(path)
        if not p.exists():
            raise FeedNotFound(f"GTFS feed not found: {p}")
        sizes: dict[str, int] = {}
        members: dict[str, str] = {}
        if p.is_dir():
            try:
                for f in sorted(p.iterdir()):
                    if f.is_file() and f.suffix == ".txt":
                        sizes[f.name] = f.stat().st_size
                        members[f.name] = f.name
            except OSError as exc:
                raise FeedFormatError(f"cannot list GTFS directory {p}: {exc}") from exc
            return cls(p, False, sizes, members)
        try:
            with zipfile.ZipFile(p) as zf:
                infos = zf.infolist()
        except ZIP_ERRORS as exc:
            raise FeedFormatError(f"{p} is neither a GTFS directory nor a readable zip file ({exc})") from exc
        # Shallowest entry wins; macOS resource forks are not tables.
        for info in sorted(infos, key=lambda i: i.filename.count("/")):
            name = PurePosixPath(info.filename).name
            if info.is_dir() or not name.endswith(".txt") or info.filename.startswith("__MACOSX/"):
                continue
            if name not in sizes:
                sizes[name] = info.file_size
                members[name] = info.filename
        return cls(p, True, sizes, members)

    def has(self, name: str) -> bool:
        return name in self.sizes

    def read_bytes(self, name: str) -> bytes:
        """The raw bytes of ``name`` (e.g. ``stops.txt``)."""
        member = self.members[name]
        try:
            if not self.is_zip:
                return (self.path / member).read_bytes()
            with zipfile.ZipFile(self.path) as zf:
                return zf.read(member)
        except ZIP_ERRORS as exc:
            raise FeedFormatError(f"{self.path}: cannot read {name} ({exc})") from exc

    def sha256(self) -> str:
        """sha256 of the zip file; for a directory, over its sorted file names and contents
        (each as name, NUL, 8-byte length, bytes, so no two layouts hash alike)."""
        h = hashlib.sha256()
        try:
            if self.is_zip:
                with self.path.open("rb") as stream:
                    return hashlib.file_digest(stream, "sha256").hexdigest()
            for file in sorted(x for x in self.path.iterdir() if x.is_file()):
                data = file.read_bytes()
                h.update(file.name.encode())
                h.update(b"\0")
                h.update(len(data).to_bytes(8, "big"))
                h.update(data)
        except OSError as exc:
            raise FeedFormatError(f"cannot read {self.path} to hash it: {exc}") from exc
        return h.hexdigest()
