"""Reading the JSON documents of GBFS and GOFS: envelope, field types, where they come from.

Both specifications share one envelope (``last_updated``, ``ttl``, ``version``, ``data``)
and one way of publishing (a discovery file naming every other file, or files side by side
in a directory). Parsing here is lenient on purpose: a v1.x feed writes booleans as
``0``/``1``, v2.x writes POSIX integers and plain strings, v3.0 writes RFC 3339 strings
and localized-text arrays; each reader accepts all of them and the loaders report what
does not match the declared version as notices instead of failing.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from feeds.quality import Notice, Severity

JsonObject = dict[str, Any]
# (lon, lat) pairs as in GeoJSON; a polygon is its exterior ring followed by its holes
Ring = tuple[tuple[float, float], ...]
Polygon = tuple[Ring, ...]

# Short timeouts: a slow provider must not hold a build or a refresh loop for long.
HTTP_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
_EXAMPLES = 3
_SPLIT_SUFFIX = re.compile(r"-(\d+)$")


class NoticeLog:
    """Notices of one feed; problems repeated over many records become one notice per
    (code, file) with a count, the first record and a few example ids."""

    def __init__(self, feed_id: str = "") -> None:
        self.feed_id = feed_id
        self._items: list[Notice] = []
        self._grouped: dict[tuple[str, str], _Group] = {}

    def add(self, severity: Severity, code: str, message: str, *, file: str = "", field: str = "") -> None:
        self._items.append(Notice(severity, code, message, file, None, field))

    def record(
        self, severity: Severity, code: str, what: str, *, file: str, row: int, example: str = ""
    ) -> None:
        """One offending record (``row`` 1-based in the file's main array); summarised later."""
        group = self._grouped.setdefault((code, file), _Group(severity, what, row))
        group.count += 1
        if example and len(group.examples) < _EXAMPLES:
            group.examples.append(example)

    def extend(self, notices: Iterable[Notice]) -> None:
        self._items.extend(notices)

    def notices(self) -> tuple[Notice, ...]:
        out = [
            Notice(n.severity, n.code, n.message, n.file, n.row, n.field, self.feed_id) for n in self._items
        ]
        for (code, file), g in self._grouped.items():
            more = f" (e.g. {', '.join(g.examples)})" if g.examples else ""
            out.append(
                Notice(g.severity, code, f"{g.count} {g.what}{more}", file, g.first_row, "", self.feed_id)
            )
        return tuple(out)


@dataclass
class _Group:
    severity: Severity
    what: str
    first_row: int
    count: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    """One parsed file: its envelope and its ``data`` object."""

    name: str  # spec file name without extension, e.g. "station_status"
    location: str  # path or URL it was read from
    data: JsonObject
    version: str | None
    last_updated: dt.datetime | None
    ttl: int | None


@dataclass(frozen=True)
class Fetched:
    """What reading one spec file gave: zero or more raw bodies, or why it failed."""

    bodies: tuple[tuple[str, bytes], ...] = ()  # (location, bytes); several for split example files
    error: str = ""  # set when the source could not be read (as opposed to: file absent)

    @property
    def found(self) -> bool:
        return bool(self.bodies)


class DirectoryReader:
    """Spec files by name from a directory (``NAME.json``, or the split example files
    ``NAME-1.json``, ``NAME-2.json``... of the specification repositories)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return str(self.root)

    def read(self, name: str) -> Fetched:
        try:
            if not self.root.is_dir():
                return Fetched(error=f"directory {self.root} is not readable")
            exact = self.root / f"{name}.json"
            paths = [exact] if exact.is_file() else split_files(self.root, name)
            return Fetched(tuple((str(p), p.read_bytes()) for p in paths))
        except OSError as exc:
            return Fetched(error=f"{type(exc).__name__}: {exc}")


# name -> (location, body) of every file read: what a build stores in the artifact
RawFiles = dict[str, list[tuple[str, bytes]]]


class MemoryReader:
    """Spec files from memory (what a build recorded), keyed by name."""

    def __init__(self, files: Mapping[str, Sequence[tuple[str, bytes]]], where: str = "artifact") -> None:
        self.files = {name: tuple(bodies) for name, bodies in files.items()}
        self.where = where

    def describe(self) -> str:
        return self.where

    def read(self, name: str) -> Fetched:
        return Fetched(self.files.get(name, ()))


class RecordingReader:
    """Wraps a reader and keeps every body it returns in ``record`` (name -> bodies)."""

    def __init__(self, inner: Any, record: RawFiles) -> None:
        self.inner = inner
        self.record = record

    def read(self, name: str) -> Fetched:
        fetched: Fetched = self.inner.read(name)
        if fetched.bodies:
            self.record[name] = list(fetched.bodies)
        return fetched


def split_files(root: Path, name: str) -> list[Path]:
    """``NAME-1.json``, ``NAME-2.json``... sorted by number (the spec examples' layout)."""
    found: list[tuple[int, Path]] = []
    for p in root.glob(f"{name}-*.json"):
        m = _SPLIT_SUFFIX.search(p.stem)
        if m and p.stem[: m.start()] == name:
            found.append((int(m.group(1)), p))
    return [p for _, p in sorted(found)]


class HttpReader:
    """Spec files by URL, as named by a discovery file."""

    def __init__(self, urls: Mapping[str, str], client: httpx.Client) -> None:
        self.urls = dict(urls)
        self.client = client

    def describe(self) -> str:
        return ", ".join(sorted(self.urls.values()))[:200]

    def read(self, name: str) -> Fetched:
        url = self.urls.get(name)
        if url is None:
            return Fetched()
        return fetch_url(self.client, url)


def fetch_url(client: httpx.Client, url: str) -> Fetched:
    """GET one URL; 404/410 is an absent file, every other failure an error."""
    try:
        response = client.get(url, timeout=HTTP_TIMEOUT, follow_redirects=True)
    except httpx.HTTPError as exc:
        return Fetched(error=f"{type(exc).__name__}: {exc}")
    if response.status_code in (404, 410):
        return Fetched()
    if response.status_code >= 400:
        return Fetched(error=f"HTTP {response.status_code}")
    return Fetched(((url, response.content),))


def parse_document(name: str, location: str, raw: bytes, log: NoticeLog, file: str) -> Document | None:
    """The envelope of one file, or None (with an ``invalid_json`` notice) when unusable."""
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        log.add(Severity.ERROR, "invalid_json", f"{location}: not valid JSON ({exc})", file=file)
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        log.add(
            Severity.ERROR, "invalid_json", f"{location}: expected an object with a 'data' object", file=file
        )
        return None
    version = doc.get("version")
    ttl = doc.get("ttl")
    return Document(
        name=name,
        location=location,
        data=doc["data"],
        version=str(version) if version is not None else None,
        last_updated=parse_timestamp(doc.get("last_updated")),
        ttl=int(ttl) if isinstance(ttl, int | float) and not isinstance(ttl, bool) and ttl >= 0 else None,
    )


def parse_timestamp(value: object) -> dt.datetime | None:
    """POSIX seconds (v1/v2) or an RFC 3339 string (v3.0) as an aware UTC datetime."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return parse_timestamp(int(text))
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)
    return None


def localized(value: object, language: str) -> str:
    """A plain string (v2.x), or the text for ``language`` from a v3.0 localized-text
    array ``[{text, language}]`` (exact tag, then primary subtag, then the first)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = [(str(v.get("language", "")), str(v.get("text", ""))) for v in value if isinstance(v, dict)]
        if not texts:
            return ""
        want = language.lower()
        for lang, text in texts:
            if lang.lower() == want:
                return text
        for lang, text in texts:
            if lang.lower().split("-")[0] == want.split("-")[0]:
                return text
        return texts[0][1]
    return ""


def as_bool(value: object) -> bool | None:
    """JSON booleans, and the ``0``/``1`` and ``"true"``/``"false"`` of older feeds."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "0", "1"):
        return value.lower() in ("true", "1")
    return None


def as_float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def as_int(value: object) -> int | None:
    number = as_float(value)
    return int(number) if number is not None and number == int(number) else None


def as_str(value: object) -> str:
    """An id or a plain field as a string ('' when absent); ids may be written as numbers."""
    if value is None or isinstance(value, bool | dict | list):
        return ""
    return str(value).strip() if isinstance(value, str) else str(value)


def as_str_list(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(s for s in (as_str(v) for v in value) if s)
    return ()


def records(data: JsonObject, key: str) -> list[JsonObject]:
    """``data[key]`` as a list of objects (non-objects are skipped)."""
    value = data.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def parse_polygons(geometry: object) -> tuple[Polygon, ...] | None:
    """A GeoJSON Polygon or MultiPolygon as polygons of closed rings, or None when the
    geometry is missing or malformed. Rings keep GeoJSON's (lon, lat) order."""
    if not isinstance(geometry, dict):
        return None
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list):
        return None
    if kind == "Polygon":
        raw_polygons: Sequence[object] = [coords]
    elif kind == "MultiPolygon":
        raw_polygons = coords
    else:
        return None
    polygons: list[Polygon] = []
    for raw in raw_polygons:
        if not isinstance(raw, list) or not raw:
            return None
        rings: list[Ring] = []
        for raw_ring in raw:
            ring = _ring(raw_ring)
            if ring is None:
                return None
            rings.append(ring)
        polygons.append(tuple(rings))
    return tuple(polygons) if polygons else None


def _ring(raw: object) -> Ring | None:
    if not isinstance(raw, list):
        return None
    points: list[tuple[float, float]] = []
    for p in raw:
        if not isinstance(p, list) or len(p) < 2:
            return None
        lon, lat = as_float(p[0]), as_float(p[1])
        if lon is None or lat is None:
            return None
        points.append((lon, lat))
    if len(points) >= 2 and points[0] == points[-1]:
        points.pop()  # stored open; the point-in-polygon test closes it
    return tuple(points) if len(points) >= 3 else None


def is_stale(doc: Document, now: dt.datetime, grace_s: float) -> bool:
    """Older than its own ``ttl`` promises (plus ``grace_s`` of publishing slack)."""
    if doc.last_updated is None:
        return False
    age = (now - doc.last_updated).total_seconds()
    return age > (doc.ttl or 0) + grace_s
