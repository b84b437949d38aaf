"""Seeded random query sets, shared by every engine in a benchmark run.

Queries are drawn from the raw GTFS files (not from any engine's model), so every engine
answers exactly the same questions:

* :func:`stop_pairs` — scenario A, stop to stop: two distinct served stops at least
  ``min_sep_m`` apart, departure uniform in a time band of one service day;
* :func:`address_pairs` — scenario B, address to address: two coordinates 50–300 m off
  random served stops (random bearing), same time band.

Departure times are half past a whole minute (``hh:mm:30``). Timetables here are in whole
minutes, so no departure ties with the query time: an engine that adds a few seconds of
walking from a point to its stop (ferrobus) would otherwise miss the very departure an
engine that starts at the stop itself catches. nigiri counts in minutes and is asked for
the next whole minute, which boards exactly the same trips.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

EARTH_R = 6_371_008.8


@dataclass(frozen=True, slots=True)
class StopRef:
    """A served stop (location_type 0) of one feed, with its feed-local id."""

    feed_id: str
    stop_id: str
    lat: float
    lon: float

    @property
    def key(self) -> str:
        """The project's namespaced id ``FEED:ID``."""
        return f"{self.feed_id}:{self.stop_id}"


@dataclass(frozen=True, slots=True)
class Coord:
    lat: float
    lon: float


Endpoint = StopRef | Coord


@dataclass(frozen=True, slots=True)
class Query:
    idx: int
    origin: Endpoint
    destination: Endpoint
    depart: dt.datetime  # timezone-aware, hh:mm:30
    near_origin: StopRef | None = None  # for address queries: the stop the coordinate was drawn around
    near_destination: StopRef | None = None


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_R * math.asin(min(1.0, math.sqrt(a)))


def offset(lat: float, lon: float, distance_m: float, bearing_rad: float) -> tuple[float, float]:
    """The point ``distance_m`` from (lat, lon) along ``bearing_rad`` (spherical earth)."""
    d = distance_m / EARTH_R
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing_rad))
    l2 = l1 + math.atan2(
        math.sin(bearing_rad) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    return math.degrees(p2), math.degrees(l2)


# -- reading the raw feeds ------------------------------------------------------------


def _rows(feed: Path, name: str) -> Iterator[dict[str, str]]:
    """Rows of one GTFS table from a zip or a directory; nothing when the table is absent."""
    if feed.is_dir():
        path = feed / name
        if not path.exists():
            return
        with path.open(encoding="utf-8-sig", newline="") as fh:
            yield from csv.DictReader(fh)
        return
    with zipfile.ZipFile(feed) as zf:
        names = {Path(n).name: n for n in zf.namelist()}
        if name not in names:
            return
        with zf.open(names[name]) as raw:
            yield from csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))


def feed_timezone(feed: Path) -> ZoneInfo:
    for row in _rows(feed, "agency.txt"):
        tz = (row.get("agency_timezone") or "").strip()
        if tz:
            return ZoneInfo(tz)
    raise ValueError(f"{feed}: agency.txt declares no agency_timezone")


def served_stops(
    feeds: Sequence[tuple[str, Path]], bbox: tuple[float, float, float, float] | None = None
) -> list[StopRef]:
    """Stops some trip calls at, optionally inside ``bbox`` = (west, south, east, north)."""
    out: list[StopRef] = []
    for feed_id, path in feeds:
        called = {row["stop_id"] for row in _rows(path, "stop_times.txt")}
        for row in _rows(path, "stops.txt"):
            if (row.get("location_type") or "0").strip() not in ("", "0") or row["stop_id"] not in called:
                continue
            try:
                lat, lon = float(row["stop_lat"]), float(row["stop_lon"])
            except (KeyError, ValueError):
                continue
            if bbox is not None and not (bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]):
                continue
            out.append(StopRef(feed_id, row["stop_id"], lat, lon))
    out.sort(key=lambda s: (s.feed_id, s.stop_id))  # seed-stable order, whatever the file order
    return out


def osm_bbox(osm: Path, margin_m: float = 200.0) -> tuple[float, float, float, float]:
    """Extent of the OSM nodes, shrunk by ``margin_m`` (stops at the very edge link badly)."""
    import osmium

    class _Box(osmium.SimpleHandler):
        def __init__(self) -> None:
            super().__init__()
            self.w, self.s, self.e, self.n = 180.0, 90.0, -180.0, -90.0

        def node(self, n: osmium.osm.Node) -> None:
            if n.location.valid():
                lon, lat = n.location.lon, n.location.lat
                self.w, self.e = min(self.w, lon), max(self.e, lon)
                self.s, self.n = min(self.s, lat), max(self.n, lat)

    box = _Box()
    box.apply_file(str(osm))
    dlat = margin_m / 111_320.0
    dlon = dlat / max(0.1, math.cos(math.radians((box.s + box.n) / 2)))
    return box.w + dlon, box.s + dlat, box.e - dlon, box.n - dlat


# -- drawing queries --------------------------------------------------------------------


def _departure(rng: random.Random, day: dt.date, band: tuple[dt.time, dt.time], tz: ZoneInfo) -> dt.datetime:
    start = dt.datetime.combine(day, band[0], tzinfo=tz)
    minutes = int((dt.datetime.combine(day, band[1], tzinfo=tz) - start).total_seconds() // 60)
    return start + dt.timedelta(minutes=rng.randrange(max(1, minutes)), seconds=30)


def _pair(rng: random.Random, stops: Sequence[StopRef], min_sep_m: float) -> tuple[StopRef, StopRef]:
    for _ in range(1000):  # bounded: a tiny feed may have no pair that far apart
        i, j = rng.sample(range(len(stops)), 2)
        a, b = stops[i], stops[j]
        if haversine_m(a.lat, a.lon, b.lat, b.lon) >= min_sep_m:
            return a, b
    raise ValueError(f"no two stops {min_sep_m:.0f} m apart among {len(stops)}")


def stop_pairs(
    stops: Sequence[StopRef],
    n: int,
    *,
    seed: int,
    day: dt.date,
    band: tuple[dt.time, dt.time],
    tz: ZoneInfo,
    min_sep_m: float = 500.0,
) -> list[Query]:
    """Scenario A: ``n`` stop-to-stop queries; the same seed gives the same list."""
    if len(stops) < 2:
        raise ValueError("need at least two served stops")
    rng = random.Random(f"stop-pairs:{seed}")
    out = []
    for i in range(n):
        a, b = _pair(rng, stops, min_sep_m)
        out.append(Query(i, a, b, _departure(rng, day, band, tz)))
    return out


def address_pairs(
    stops: Sequence[StopRef],
    n: int,
    *,
    seed: int,
    day: dt.date,
    band: tuple[dt.time, dt.time],
    tz: ZoneInfo,
    off_m: tuple[float, float] = (50.0, 300.0),
    min_sep_m: float = 800.0,
) -> list[Query]:
    """Scenario B: ``n`` coordinate-to-coordinate queries, each point 50–300 m off a stop."""
    if len(stops) < 2:
        raise ValueError("need at least two served stops")
    rng = random.Random(f"address-pairs:{seed}")
    out = []
    for i in range(n):
        a, b = _pair(rng, stops, min_sep_m)
        ends = []
        for s in (a, b):
            lat, lon = offset(s.lat, s.lon, rng.uniform(*off_m), rng.uniform(0.0, 2 * math.pi))
            ends.append(Coord(round(lat, 6), round(lon, 6)))
        out.append(
            Query(i, ends[0], ends[1], _departure(rng, day, band, tz), near_origin=a, near_destination=b)
        )
    return out
