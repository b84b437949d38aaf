"""GBFS and GOFS in the graph artifact: what a build stores and how a server reads it back.

A build reads each system once and keeps the bodies of every file it read (document
``sharing``: per system its source and ``name -> [[location, text], ...]``). Loading
parses those bodies again with the same loaders (:func:`feeds.gbfs.load_gbfs` /
:func:`feeds.gofs.load_gofs` with ``files=``), so the artifact holds exactly what the
feeds said and nothing is serialised twice. The status files recorded at build time are
the live overlay's first snapshot; refreshes go to the original source.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feeds.gbfs import GbfsFeed, GbfsStatus, load_gbfs
from feeds.gbfs.documents import RawFiles
from feeds.gofs import GofsFeed, load_gofs
from feeds.model import FeedSource
from feeds.quality import Notice

DOCUMENT = "sharing"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class SharingInputs:
    """What a build read: the artifact document, feed records and notices."""

    document: dict[str, Any]
    sources: tuple[FeedSource, ...]
    notices: tuple[Notice, ...]
    counts: dict[str, int]


def _sha256(files: RawFiles) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        for _, body in files[name]:
            h.update(name.encode() + b"\0" + body + b"\0")
    return h.hexdigest()


def _as_text(files: RawFiles) -> dict[str, list[list[str]]]:
    return {name: [[loc, body.decode("utf-8", errors="replace")] for loc, body in bodies] for name, bodies in files.items()}


def _as_bytes(doc: Mapping[str, Sequence[Sequence[str]]]) -> RawFiles:
    return {name: [(str(loc), str(text).encode("utf-8")) for loc, text in bodies] for name, bodies in doc.items()}


def _source_text(source: str | Path) -> str:
    text = str(source)
    return text if text.startswith(("http://", "https://")) else str(Path(text).resolve())


def read_sharing_inputs(
    gbfs: Sequence[str | Path] = (), gofs: Sequence[str | Path] = (), *, now: dt.datetime | None = None
) -> SharingInputs:
    """Load every GBFS source (directory or gbfs.json URL) and GOFS directory once.

    Never raises for a bad feed (its problems are notices); a missing local directory
    raises :class:`feeds.errors.FeedNotFound` like a missing GTFS file.
    """
    systems: list[dict[str, Any]] = []
    services: list[dict[str, Any]] = []
    sources: list[FeedSource] = []
    notices: list[Notice] = []
    counts = {"gbfs_systems": 0, "gbfs_stations": 0, "gbfs_vehicles": 0, "gbfs_zones": 0, "gofs_zones": 0}
    for src in gbfs:
        record: RawFiles = {}
        feed, status, found = load_gbfs(src, now=now, record=record)
        notices.extend(found)
        where = _source_text(src)
        systems.append({"id": feed.id, "source": where, "files": _as_text(record)})
        sources.append(FeedSource(id=feed.id, kind="gbfs", path=where, sha256=_sha256(record), version=feed.version,
                                  publisher=feed.system.operator or feed.system.name))
        counts["gbfs_systems"] += 1
        counts["gbfs_stations"] += len(feed.stations)
        counts["gbfs_vehicles"] += len(status.vehicles)
        counts["gbfs_zones"] += len(feed.geofencing.zones)
    for src in gofs:
        grecord: RawFiles = {}
        gfeed, gfound = load_gofs(src, record=grecord)
        notices.extend(gfound)
        where = _source_text(src)
        services.append({"id": gfeed.id, "source": where, "files": _as_text(grecord)})
        sources.append(FeedSource(id=gfeed.id, kind="gofs", path=where, sha256=_sha256(grecord),
                                  version=gfeed.system.version, publisher=gfeed.system.operator or gfeed.system.name))
        counts["gofs_zones"] += len(gfeed.zones)
    return SharingInputs({"gbfs": systems, "gofs": services}, tuple(sources), tuple(notices), counts)


@dataclass(frozen=True)
class StoredSharing:
    """The sharing feeds of an artifact, parsed."""

    gbfs: tuple[tuple[GbfsFeed, GbfsStatus], ...]
    gofs: tuple[GofsFeed, ...]


def load_stored_sharing(document: Mapping[str, Any] | None, *, now: dt.datetime | None = None) -> StoredSharing:
    """Parse the ``sharing`` document of an artifact (empty when there is none)."""
    if not document:
        return StoredSharing((), ())
    systems = []
    for entry in document.get("gbfs", ()):
        feed, status, _ = load_gbfs(entry["source"], system_id=entry["id"], files=_as_bytes(entry["files"]), now=now)
        # the snapshot is as old as the feed said when it was built, not as old as this
        # load: a live overlay refreshes it at once, and cannot trust it past its ttl
        status = dataclasses.replace(status, fetched_at=status.last_updated or _EPOCH)
        systems.append((feed, status))
    services = []
    for entry in document.get("gofs", ()):
        gfeed, _ = load_gofs(entry["source"], feed_id=entry["id"], files=_as_bytes(entry["files"]))
        services.append(gfeed)
    return StoredSharing(tuple(systems), tuple(services))
