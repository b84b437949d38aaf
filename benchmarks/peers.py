"""Adapters that put peer engines behind one small interface for :mod:`benchmarks.engine`.

Every adapter offers::

    prepare(feeds, osm, day) -> dict          # load/build; returns timings and notes
    query(origin, destination, depart) -> float | None        # earliest arrival, POSIX s
    range_query(origin, destination, depart, window_s) -> list[Trip] | None

``feeds`` is a sequence of ``(feed_id, path to GTFS zip or dir)``; ``origin`` and
``destination`` are :class:`benchmarks.queries.StopRef` (a stop) or
:class:`benchmarks.queries.Coord` (an address). ``range_query`` returns the engine's own
Pareto set for departures in ``[depart, depart + window_s]`` (None: not supported).

Peers (PyPI, extra ``bench``): ferrobus (Rust RAPTOR + OSM walking) and pynigiri
(MOTIS's nigiri, C++). How their semantics differ from the project's engine is written
down in docs/bench-engine-notes.md.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import itertools
import json
import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

from benchmarks.queries import Coord, Endpoint, StopRef, feed_timezone, haversine_m

FeedSpec = tuple[str, Path]


class Trip(NamedTuple):
    depart: float  # POSIX seconds, leaving the origin
    arrive: float  # POSIX seconds, at the destination
    transfers: int


class Engine(Protocol):
    name: str

    def prepare(self, feeds: Sequence[FeedSpec], osm: Path | None, day: dt.date) -> dict[str, Any]: ...

    def query(self, origin: Endpoint, destination: Endpoint, depart: dt.datetime) -> float | None: ...

    def range_query(
        self, origin: Endpoint, destination: Endpoint, depart: dt.datetime, window_s: int
    ) -> list[Trip] | None: ...

    def close(self) -> None: ...


@contextlib.contextmanager
def quiet_stderr(log: Path) -> Iterator[None]:
    """Send file descriptor 2 to ``log``: both peers log from native code, not via Python."""
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    with log.open("ab") as fh:
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


# -- ferrobus -------------------------------------------------------------------------

# Columns holding ids that must not collide once several feeds share one ferrobus model
# (ferrobus keys stops, trips and services by their bare GTFS id).
_ID_COLUMNS = frozenset(
    {
        "stop_id",
        "parent_station",
        "trip_id",
        "route_id",
        "service_id",
        "shape_id",
        "agency_id",
        "from_stop_id",
        "to_stop_id",
        "from_trip_id",
        "to_trip_id",
        "from_route_id",
        "to_route_id",
        "block_id",
        "zone_id",
        "fare_id",
        "level_id",
    }
)
_FERROBUS_FILES = (
    "agency.txt",
    "stops.txt",
    "routes.txt",
    "trips.txt",
    "stop_times.txt",
    "calendar.txt",
    "calendar_dates.txt",
    "transfers.txt",
    "feed_info.txt",
)
_CONVERTER_VERSION = 1  # bump when ferrobus_feed_dir changes what it writes
_EMPTY_HEADERS = {
    "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n",
}


def _hms(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _secs(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + int(s)


def _read_table(feed: Path, name: str) -> tuple[list[str], list[dict[str, str]]] | None:
    if feed.is_dir():
        if not (feed / name).exists():
            return None
        text = (feed / name).read_text(encoding="utf-8-sig")
    else:
        with zipfile.ZipFile(feed) as zf:
            names = {Path(n).name: n for n in zf.namelist()}
            if name not in names:
                return None
            text = zf.read(names[name]).decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _interpolate(
    rows: list[dict[str, str]], stop_xy: dict[str, tuple[float, float]], by: str = "index"
) -> int:
    """Fill blank arrival/departure times of one trip between its timed stops.

    GTFS allows untimed intermediate stops (poa_eptc.zip leaves 96 % blank); ferrobus
    refuses an empty time, so the adapter fills them. ``by="index"`` spaces them evenly by
    stop position, as nigiri's loader does, so both peers ride the same timetable;
    ``by="distance"`` follows the spec's advice (straight-line distance between stops).
    Returns how many stops it filled.
    """
    cum = [0.0]
    for a, b in itertools.pairwise(rows):
        if by == "index":
            cum.append(cum[-1] + 1.0)
            continue
        pa, pb = stop_xy.get(a["stop_id"]), stop_xy.get(b["stop_id"])
        step = haversine_m(pa[0], pa[1], pb[0], pb[1]) if pa and pb else 0.0
        cum.append(cum[-1] + max(step, 1.0))  # 1 m floor: repeated coordinates still advance
    timed = [i for i, r in enumerate(rows) if r["arrival_time"].strip() or r["departure_time"].strip()]
    filled = 0
    for r in rows:  # a timed stop with one side blank takes the other side
        if not r["arrival_time"].strip():
            r["arrival_time"] = r["departure_time"]
        if not r["departure_time"].strip():
            r["departure_time"] = r["arrival_time"]
    for lo, hi in itertools.pairwise(timed):
        t0, t1 = _secs(rows[lo]["departure_time"]), _secs(rows[hi]["arrival_time"])
        assert t0 is not None and t1 is not None
        for i in range(lo + 1, hi):
            frac = (cum[i] - cum[lo]) / (cum[hi] - cum[lo])
            t = _hms(round(t0 + frac * (t1 - t0)))
            rows[i]["arrival_time"] = rows[i]["departure_time"] = t
            filled += 1
    return filled


def ferrobus_feed_dir(feed_id: str, feed: Path, out: Path, interpolate: str = "index") -> dict[str, int]:
    """Write ``feed`` as the plain directory ferrobus reads, fixing what it cannot parse.

    Ferrobus wants an unzipped directory, ``HH:MM:SS`` with two-digit hours, no blank
    times, ids unique across all feeds of one model (they are prefixed ``FEED:`` here),
    and it ignores frequencies.txt (headway trips are expanded into plain trips here).
    """
    out.mkdir(parents=True, exist_ok=True)
    stats = {"interpolated_stop_times": 0, "dropped_trips": 0, "frequency_trips": 0}
    tables = {name: _read_table(feed, name) for name in (*_FERROBUS_FILES, "frequencies.txt")}
    stop_xy: dict[str, tuple[float, float]] = {}
    for r in (tables["stops.txt"] or ([], []))[1]:
        with contextlib.suppress(ValueError, KeyError):
            stop_xy[r["stop_id"]] = (float(r["stop_lat"]), float(r["stop_lon"]))
    st, trips, freq = tables["stop_times.txt"], tables["trips.txt"], tables["frequencies.txt"]
    if st is not None:
        st = (st[0], _fix_stop_times(st[1], stop_xy, stats, interpolate))
        if freq is not None and trips is not None and freq[1]:
            trips_rows, st_rows = _expand_frequencies(trips[1], st[1], freq[1], stats)
            trips, st = (trips[0], trips_rows), (st[0], st_rows)
    tables["stop_times.txt"], tables["trips.txt"] = st, trips
    for name in _FERROBUS_FILES:
        table = tables[name]
        if table is None:
            if name in _EMPTY_HEADERS:
                (out / name).write_text(_EMPTY_HEADERS[name], encoding="utf-8")
            continue
        fields, rows = table
        for r in rows:
            for col in _ID_COLUMNS.intersection(r):
                if r[col]:
                    r[col] = f"{feed_id}:{r[col]}"
        with (out / name).open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    return stats


def _expand_frequencies(
    trips: list[dict[str, str]],
    stop_times: list[dict[str, str]],
    freq: list[dict[str, str]],
    stats: dict[str, int],
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """One plain trip per headway departure: template trip shifted to each start time."""
    windows: dict[str, list[tuple[int, int, int]]] = {}
    for f in freq:
        start, end = _secs(f["start_time"]), _secs(f["end_time"])
        if start is None or end is None or int(f["headway_secs"]) <= 0:
            continue
        windows.setdefault(f["trip_id"], []).append((start, end, int(f["headway_secs"])))
    template: dict[str, list[dict[str, str]]] = {}
    plain_st: list[dict[str, str]] = []
    for r in stop_times:
        (template.setdefault(r["trip_id"], []) if r["trip_id"] in windows else plain_st).append(r)
    out_trips: list[dict[str, str]] = []
    out_st = plain_st
    for t in trips:
        if t["trip_id"] not in windows:
            out_trips.append(t)
            continue
        rows = template.get(t["trip_id"], [])
        if not rows:
            continue
        first = _secs(rows[0]["departure_time"]) or 0
        k = 0
        for start, end, headway in sorted(windows[t["trip_id"]]):
            for dep in range(start, end, headway):
                tid = f"{t['trip_id']}#{k}"
                k += 1
                out_trips.append({**t, "trip_id": tid})
                for r in rows:
                    shift = dep - first
                    out_st.append(
                        {
                            **r,
                            "trip_id": tid,
                            "arrival_time": _hms((_secs(r["arrival_time"]) or 0) + shift),
                            "departure_time": _hms((_secs(r["departure_time"]) or 0) + shift),
                        }
                    )
        stats["frequency_trips"] += k
    return out_trips, out_st


def _fix_stop_times(
    rows: list[dict[str, str]], stop_xy: dict[str, tuple[float, float]], stats: dict[str, int], by: str
) -> list[dict[str, str]]:
    by_trip: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_trip.setdefault(r["trip_id"], []).append(r)
    out: list[dict[str, str]] = []
    for trip_rows in by_trip.values():
        trip_rows.sort(key=lambda r: int(r["stop_sequence"]))
        ends = (trip_rows[0], trip_rows[-1])
        if not all(e["arrival_time"].strip() or e["departure_time"].strip() for e in ends):
            stats["dropped_trips"] += 1  # first/last stop untimed: invalid GTFS, skip the trip
            continue
        stats["interpolated_stop_times"] += _interpolate(trip_rows, stop_xy, by)
        for r in trip_rows:  # "5:06:00" -> "05:06:00"
            for col in ("arrival_time", "departure_time"):
                s = _secs(r[col])
                assert s is not None
                r[col] = _hms(s)
        out.extend(trip_rows)
    return out


def _convert_in_child(feed_id: str, feed: Path, out: Path, interpolate: str) -> dict[str, int]:
    """Run :func:`ferrobus_feed_dir` in a child process: the rewrite holds a whole feed
    as Python dicts, which would otherwise stay in this process's heap and blur the RSS
    measured for the engines afterwards."""
    import subprocess
    import sys

    code = (
        "import json, sys; from pathlib import Path; from benchmarks.peers import ferrobus_feed_dir; "
        "print(json.dumps(ferrobus_feed_dir(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, feed_id, str(feed), str(out), interpolate],
        capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"converting {feed} for ferrobus failed: {proc.stderr.strip().splitlines()[-1:]}")
    stats: dict[str, int] = json.loads(proc.stdout.strip().splitlines()[-1])
    return stats


class FerrobusPeer:
    """ferrobus: RAPTOR on a single service day, walking on the OSM graph at 1.4 m/s.

    It has no stop-id input: a stop is a ``TransitPoint`` created at the stop's
    coordinates (a street search); for scenario A those points are made once per stop
    in :meth:`prepare_points` and reused, for addresses they are part of every query.
    """

    name = "ferrobus"

    def __init__(
        self,
        max_transfers: int = 6,
        max_walk_s: int = 1200,
        nearest_stops: int = 10,
        max_transfer_s: int = 1200,
        interpolate: str = "index",
        log: Path | None = None,
        cache_dir: Path | None = Path(tempfile.gettempdir()) / "maas-bench-cache" / "ferrobus",
    ) -> None:
        self.max_transfers = max_transfers
        self.cache_dir = cache_dir
        self.interpolate = interpolate
        self.max_walk_s = max_walk_s
        self.nearest_stops = nearest_stops
        self.max_transfer_s = max_transfer_s
        self._tmp = Path(tempfile.mkdtemp(prefix="bench-ferrobus-"))
        self._log = log or self._tmp / "ferrobus.log"
        self._model: Any = None
        self._midnight = 0.0
        self._points: dict[tuple[float, float], Any] = {}

    def prepare(self, feeds: Sequence[FeedSpec], osm: Path | None, day: dt.date) -> dict[str, Any]:
        import time

        import ferrobus

        if osm is None:
            raise RuntimeError("ferrobus needs an OSM .pbf (it walks on the street graph only)")
        t = time.perf_counter()
        dirs, conv = [], {}
        for feed_id, path in feeds:
            d, stats = self._converted(feed_id, path)
            conv[feed_id] = stats
            dirs.append(str(d))
        convert_s = time.perf_counter() - t
        t = time.perf_counter()
        with quiet_stderr(self._log):
            self._model = ferrobus.create_transit_model(str(osm), dirs, day, self.max_transfer_s)
        load_s = time.perf_counter() - t
        tz = feed_timezone(feeds[0][1])
        # ferrobus counts seconds from midnight of the model's day (local time, no DST here)
        self._midnight = dt.datetime.combine(day, dt.time(0), tzinfo=tz).timestamp()
        return {"prepare_s": load_s, "convert_s": convert_s, "model": repr(self._model), "feed_fixes": conv}

    def _converted(self, feed_id: str, path: Path) -> tuple[Path, dict[str, Any]]:
        """The ferrobus copy of a feed, cached by content: big feeds take seconds to rewrite."""
        if path.is_dir() or self.cache_dir is None:
            d = self._tmp / feed_id
            return d, _convert_in_child(feed_id, path, d, self.interpolate)
        import hashlib

        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        d = self.cache_dir / f"{feed_id}-{digest}-{self.interpolate}-v{_CONVERTER_VERSION}"
        done = d / "converted.json"
        if done.exists():
            return d, {**json.loads(done.read_text()), "cached": True}
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        part = self.cache_dir / f".{d.name}.{os.getpid()}"
        shutil.rmtree(part, ignore_errors=True)
        stats = _convert_in_child(feed_id, path, part, self.interpolate)
        (part / "converted.json").write_text(json.dumps(stats))
        shutil.rmtree(d, ignore_errors=True)
        part.rename(d)  # atomic: a half-written copy is never taken for a cached one
        return d, stats

    def _point(self, lat: float, lon: float) -> Any:
        import ferrobus

        try:
            return ferrobus.create_transit_point(lat, lon, self._model, self.max_walk_s, self.nearest_stops)
        except (ValueError, RuntimeError):
            return None

    def prepare_points(self, stops: Sequence[StopRef]) -> None:
        for s in stops:
            if (s.lat, s.lon) not in self._points:
                self._points[(s.lat, s.lon)] = self._point(s.lat, s.lon)

    def _endpoint(self, e: Endpoint) -> Any:
        if isinstance(e, StopRef) and (e.lat, e.lon) in self._points:
            return self._points[(e.lat, e.lon)]
        return self._point(e.lat, e.lon)

    def query(self, origin: Endpoint, destination: Endpoint, depart: dt.datetime) -> float | None:
        import ferrobus

        a, b = self._endpoint(origin), self._endpoint(destination)
        if a is None or b is None:
            return None
        dep = int(depart.timestamp() - self._midnight)
        res = ferrobus.find_route(self._model, a, b, dep, self.max_transfers)
        if res is None:
            return None
        return self._midnight + dep + int(res["travel_time_seconds"])

    def range_query(
        self, origin: Endpoint, destination: Endpoint, depart: dt.datetime, window_s: int
    ) -> list[Trip] | None:
        import ferrobus

        a, b = self._endpoint(origin), self._endpoint(destination)
        if a is None or b is None:
            return []
        dep = int(depart.timestamp() - self._midnight)
        res = ferrobus.pareto_range_multimodal_routing(
            self._model, a, b, (dep, dep + window_s), self.max_transfers
        )
        return [
            Trip(
                self._midnight + j["departure_time"], self._midnight + j["arrival_time"], int(j["transfers"])
            )
            for j in json.loads(res.as_json())["journeys"]
        ]

    def close(self) -> None:
        self._model = None
        self._points.clear()
        shutil.rmtree(self._tmp, ignore_errors=True)


# -- pynigiri -------------------------------------------------------------------------


def _minute_ceil(t: dt.datetime) -> int:
    """nigiri's time: whole minutes since the epoch; round up so no earlier trip is boarded."""
    return -(-int(t.timestamp()) // 60)


class NigiriPeer:
    """pynigiri: nigiri's RAPTOR over a multi-day timetable, minute resolution, no streets.

    Footpaths come from transfers.txt and from linking stops within
    ``link_stop_distance`` (nigiri's loader default 100 m); there is no OSM. Addresses are
    turned into start/destination offsets here: every stop within ``radius_m`` in a
    straight line, walking ``distance x detour / walk_mps`` rounded up to whole minutes.
    """

    name = "pynigiri"

    def __init__(
        self,
        max_transfers: int = 6,
        radius_m: float = 1000.0,
        detour: float = 1.3,
        walk_mps: float = 1.33,
        max_offsets: int = 40,
        link_stop_m: int = 1000,
        log: Path | None = None,
    ) -> None:
        self.max_transfers = max_transfers
        self.link_stop_m = link_stop_m
        self.radius_m = radius_m
        self.detour = detour
        self.walk_mps = walk_mps
        self.max_offsets = max_offsets
        self._log = log or Path(tempfile.gettempdir()) / "bench-pynigiri.log"
        self._tt: Any = None
        self._src: dict[str, Any] = {}
        self._loc: dict[tuple[str, str], Any] = {}
        self._lat = np.zeros(0)
        self._lon = np.zeros(0)
        self._idx = np.zeros(0, dtype=np.int64)

    def prepare(self, feeds: Sequence[FeedSpec], osm: Path | None, day: dt.date) -> dict[str, Any]:
        import time

        import pynigiri as ng

        t = time.perf_counter()
        config = ng.LoaderConfig()
        config.link_stop_distance = self.link_stop_m
        sources = [ng.TimetableSource(fid, str(path), config) for fid, path in feeds]
        # one day either side: trips after midnight and queries near midnight stay in range
        with quiet_stderr(self._log):
            self._tt = ng.load_timetable(
                sources, (day - dt.timedelta(days=1)).isoformat(), (day + dt.timedelta(days=2)).isoformat()
            )
        load_s = time.perf_counter() - t
        self._src = {fid: ng.SourceIdx(i) for i, (fid, _p) in enumerate(feeds)}
        t = time.perf_counter()
        lats, lons, idx = [], [], []
        for i in range(self._tt.n_locations()):
            li = ng.LocationIdx(i)
            ll = self._tt.get_location_coords(li)
            if ll.lat == 0.0 and ll.lng == 0.0:  # START, END, VIA0..6 specials
                continue
            lats.append(ll.lat)
            lons.append(ll.lng)
            idx.append(i)
        self._lat, self._lon, self._idx = np.radians(lats), np.radians(lons), np.asarray(idx)
        index_s = time.perf_counter() - t
        return {
            "prepare_s": load_s,
            "offset_index_s": index_s,
            "locations": int(self._tt.n_locations()),
            "transports": int(self._tt.n_transports()),
        }

    def _location(self, s: StopRef) -> Any:
        key = (s.feed_id, s.stop_id)
        if key not in self._loc:
            self._loc[key] = self._tt.find_location(s.stop_id, self._src[s.feed_id])
        return self._loc[key]

    def _offsets(self, c: Coord) -> list[Any]:
        import pynigiri as ng

        p, lam = math.radians(c.lat), math.radians(c.lon)
        a = (
            np.sin((self._lat - p) / 2) ** 2
            + np.cos(p) * np.cos(self._lat) * np.sin((self._lon - lam) / 2) ** 2
        )
        d = 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
        near = np.flatnonzero(d <= self.radius_m)
        near = near[np.argsort(d[near])][: self.max_offsets]
        mins = np.ceil(d[near] * self.detour / self.walk_mps / 60.0).astype(int)
        return [
            ng.Offset(ng.LocationIdx(int(self._idx[k])), int(m), 0) for k, m in zip(near, mins, strict=True)
        ]

    def _query(self, origin: Endpoint, destination: Endpoint, start: Any) -> Any:
        import pynigiri as ng

        q = ng.Query()
        q.start_time = start
        q.max_transfers = self.max_transfers
        for end, is_start in ((origin, True), (destination, False)):
            if isinstance(end, StopRef):
                loc = self._location(end)
                if loc is None:
                    return None
                offs, mode = [ng.Offset(loc, 0, 0)], ng.LocationMatchMode.EXACT
            else:
                offs, mode = self._offsets(end), ng.LocationMatchMode.INTERMODAL
                if not offs:
                    return None
            if is_start:
                q.start, q.start_match_mode = offs, mode
            else:
                q.destination, q.dest_match_mode = offs, mode
        # walking on from a start stop is nigiri's footpath graph; from an address the
        # offsets already are the walk (with both, nigiri logs "reconstruct failed")
        q.use_start_footpaths = isinstance(origin, StopRef)
        return q

    def query(self, origin: Endpoint, destination: Endpoint, depart: dt.datetime) -> float | None:
        import pynigiri as ng

        q = self._query(origin, destination, _minute_ceil(depart))
        if q is None:
            return None
        journeys = ng.route(self._tt, q)
        if not journeys:
            return None
        return 60.0 * float(min(j.arrival_time() for j in journeys))

    def range_query(
        self, origin: Endpoint, destination: Endpoint, depart: dt.datetime, window_s: int
    ) -> list[Trip] | None:
        import pynigiri as ng

        m0 = _minute_ceil(depart)
        q = self._query(origin, destination, (m0, m0 + window_s // 60))
        if q is None:
            return []
        return [
            Trip(60.0 * j.departure_time(), 60.0 * j.arrival_time(), int(j.transfers))
            for j in ng.route(self._tt, q)
        ]

    def close(self) -> None:
        self._tt = None
        self._loc.clear()


PEERS: dict[str, type[FerrobusPeer] | type[NigiriPeer]] = {"ferrobus": FerrobusPeer, "pynigiri": NigiriPeer}
