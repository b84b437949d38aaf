"""The ``r5`` engine: r5py's R5 behind :class:`routing.plan.JourneyPlanner`.

R5 builds its own ``TransportNetwork`` from the GTFS and OSM files the artifact was
built from (the manifest records their paths and sha256; a changed file is refused,
so R5 and the artifact describe the same network). Requests become r5py
``DetailedItineraries`` queries; the frames become itineraries in
:mod:`routing.r5.convert`. ``travel_times`` runs r5py's ``TravelTimeMatrix`` for analysis.

What R5 does not do is said, not faked: wheelchair routing and the sharing/ride-hail
modes are a :class:`~routing.errors.BadRequest`; arrive-by is answered by searching the
hour before the arrival time (R5 plans forward only) and keeping what arrives in time.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib
import io
import shutil
import tempfile
import time
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from routing.errors import BadRequest, EngineUnavailable
from routing.graph import Graph
from routing.plan import (
    DEFAULT_MODES,
    TRANSIT_MODES,
    Itinerary,
    LegPlace,
    Place,
    PlanRequest,
    PlanResult,
    Reason,
    RouteInfo,
)
from routing.r5.config import R5Config, find_java, import_r5py
from routing.r5.config import availability as _availability
from routing.r5.convert import ConvertContext, itineraries, pareto, travel_time_matrix

SNAP_MAX_M = 500.0  # as the raptor engine: farther than this from any street is outside coverage
MIN_WINDOW_S = 600  # r5py warns below 5 minutes; its default is 10
ARRIVE_BY_LOOKBACK_S = 3600
# project transit modes -> R5 TransitModes (R5 itself folds trolleybus/coach into BUS, monorail into RAIL)
R5_TRANSIT: dict[str, str] = {
    "bus": "BUS", "trolleybus": "BUS", "coach": "BUS", "tram": "TRAM", "subway": "SUBWAY",
    "rail": "RAIL", "monorail": "RAIL", "ferry": "FERRY", "cable_car": "CABLE_CAR",
    "gondola": "GONDOLA", "funicular": "FUNICULAR",
}
R5_STREET: dict[str, str] = {"walk": "WALK", "bike": "BICYCLE", "car": "CAR"}
SUPPORTED_MODES = frozenset(R5_STREET) | frozenset(R5_TRANSIT) | {"transit"}


def availability(classpath: str | None = None, *, max_memory: str | None = None,
                 java_home: str | None = None) -> str | None:
    """None when the r5 engine can run here; else what is missing and how to provide it.

    Unset arguments come from ``MAAS_R5_CLASSPATH``, ``MAAS_R5_MAX_MEMORY`` and
    ``MAAS_R5_JAVA_HOME``. Nothing is imported or started.
    """
    return _availability(R5Config.from_env(classpath, max_memory, java_home))


# -- sources ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class R5Sources:
    """The inputs R5 builds its network from: GTFS feeds by artifact feed id, one OSM extract."""

    gtfs: tuple[tuple[str, Path], ...]
    osm: Path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _manifest_sources(graph: Graph) -> list[dict[str, Any]]:
    """Feed entries with an absolute source path: ``feeds[*].source_path``, or ``sources``."""
    feeds = [dict(f) for f in graph.manifest.get("feeds", []) if f.get("source_path")]
    if feeds:
        return [{**f, "path": f["source_path"]} for f in feeds]
    return [dict(s) for s in graph.manifest.get("sources", []) if s.get("path")]


def sources_for(graph: Graph, gtfs: Sequence[str | Path | tuple[str, str | Path]] | None = None,
                osm: str | Path | None = None) -> R5Sources:
    """The GTFS and OSM files of ``graph``: explicit arguments, else the manifest's records.

    Files recorded with a sha256 must still match it: R5 routing on other data than the
    artifact's would name stops and routes the artifact does not know.
    """
    recorded = _manifest_sources(graph)
    feeds: list[tuple[str, Path]] = []
    if gtfs is not None:
        for item in gtfs:
            fid, path = item if isinstance(item, tuple) else (None, item)
            p = Path(path)
            feeds.append((fid or _default_id(p, graph), p))
    else:
        for s in recorded:
            if s.get("kind") == "gtfs":
                feeds.append((str(s["id"]), Path(s["path"])))
    osm_path: Path | None = Path(osm) if osm is not None else None
    if osm_path is None:
        osm_path = next((Path(s["path"]) for s in recorded if s.get("kind") == "osm"), None)
    if not feeds or osm_path is None:
        what = " and ".join(w for w, miss in (("GTFS", not feeds), ("OSM", osm_path is None)) if miss)
        raise EngineUnavailable(
            f"the r5 engine needs the {what} file(s) the artifact {graph.path} was built from, and its manifest "
            "does not record them: rebuild it with `maas build ... --osm F.pbf`, or pass gtfs=/osm= to the engine"
        )
    digests = {str(s["path"]): s.get("sha256") for s in recorded}
    for _, p in [*feeds, ("osm", osm_path)]:
        if not p.exists():
            raise EngineUnavailable(f"the r5 engine needs {p}, which the artifact was built from; it is gone")
        want = digests.get(str(p))
        if want and p.is_file() and _sha256(p) != want:
            raise EngineUnavailable(f"{p} changed since the artifact {graph.path} was built; rebuild the artifact")
    return R5Sources(tuple(feeds), osm_path)


def _default_id(path: Path, graph: Graph) -> str:
    from feeds.sources import default_feed_id

    ids = [str(f["id"]) for f in graph.manifest.get("feeds", []) if f.get("kind") == "gtfs"]
    return ids[0] if len(ids) == 1 else default_feed_id(path)


def r5_feed_name(zip_path: Path) -> str:
    """The feed id R5 scopes this GTFS zip's ids with: ``feed_info.feed_id``, else the
    file name without ``.zip`` (com.conveyal.gtfs.GTFSFeed.loadFromFile); r5py keeps
    what stands before the first ``:``."""
    try:
        with zipfile.ZipFile(zip_path) as z:
            names = {Path(n).name: n for n in z.namelist()}
            if "feed_info.txt" in names:
                text = z.read(names["feed_info.txt"]).decode("utf-8-sig", errors="replace")
                first = next(csv.DictReader(io.StringIO(text)), None)
                declared = (first or {}).get("feed_id", "") or ""
                if declared.strip():
                    return declared.strip().split(":")[0]
    except (OSError, zipfile.BadZipFile, StopIteration):
        pass
    name = zip_path.name
    return (name[: -len(".zip")] if name.endswith(".zip") else name).split(":")[0]


def as_zip(feed_id: str, path: Path, workdir: Path) -> Path:
    """R5 reads GTFS from zip files only: a feed directory is zipped as ``FEED.zip``."""
    if path.is_file():
        return path
    out = workdir / f"{feed_id}.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(path.iterdir()):
            if f.is_file() and f.suffix == ".txt":
                z.write(f, f.name)
    return out


def context_for(graph: Graph, feed_ids: Mapping[str, str]) -> ConvertContext:
    """Resolve r5py rows against ``graph``: stop names/coordinates and route details."""
    route_index = {str(r["id"]): i for i, r in enumerate(graph.routes)}

    def stop(stop_id: str) -> LegPlace | None:
        i = graph.stop_index(stop_id)
        if i is None:
            return None
        v = graph.stop(i)
        return LegPlace(v.name, v.lat, v.lon, v.id)

    def route(route_id: str) -> tuple[RouteInfo, str] | None:
        i = route_index.get(route_id)
        return None if i is None else (graph.route_info(i), graph.route_mode(i))

    return ConvertContext(timezone=graph.timezone, feed_ids=dict(feed_ids), stop=stop, route=route)


def r5_modes(modes: frozenset[str]) -> tuple[list[str], list[str]]:
    """(transport modes, access/egress modes) of r5py for the request's modes."""
    unsupported = modes - SUPPORTED_MODES
    if unsupported:
        raise BadRequest(
            "modes",
            f"the r5 engine does not offer {', '.join(sorted(unsupported))}; it routes walk, bike, car and "
            "transit (use engine raptor for sharing and ride-hail)",
        )
    transit = ["TRANSIT"] if "transit" in modes else sorted({R5_TRANSIT[m] for m in modes & TRANSIT_MODES})
    street = [R5_STREET[m] for m in ("walk", "bike", "car") if m in modes]
    access = ["WALK", "BICYCLE"] if "bike" in modes else ["WALK"]
    return transit + street, access if transit else []


# -- planner ----------------------------------------------------------------------------------


class R5Planner:
    """R5 (through r5py) as a journey planner over the artifact's own source files."""

    name = "r5"

    def __init__(
        self,
        graph: Graph,
        *,
        classpath: str | None,
        max_memory: str | None = None,
        java_home: str | None = None,
        gtfs: Sequence[str | Path | tuple[str, str | Path]] | None = None,
        osm: str | Path | None = None,
        walk_mps: float = 1.33,
        bike_mps: float = 4.5,
        max_transfers: int = 6,
    ) -> None:
        self.graph = graph
        self.config = R5Config.from_env(classpath, max_memory, java_home)
        problem = _availability(self.config)
        if problem is not None:
            raise EngineUnavailable(problem)
        self.sources = sources_for(graph, gtfs, osm)
        self.walk_mps, self.bike_mps, self.max_transfers = walk_mps, bike_mps, max_transfers
        self.zone = ZoneInfo(graph.timezone)
        java, _ = find_java(self.config.java_home)
        assert java is not None  # availability() found it
        self._r5py: ModuleType = import_r5py(self.config, java)
        self._workdir = Path(tempfile.mkdtemp(prefix="maas-r5-"))  # zipped GTFS directories
        zips = [(fid, as_zip(fid, p, self._workdir)) for fid, p in self.sources.gtfs]
        self.context = context_for(graph, {r5_feed_name(z): fid for fid, z in zips})
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self.network = self._r5py.TransportNetwork(
                    str(self.sources.osm), [str(z) for _, z in zips], allow_errors=True
                )
            except Exception as e:  # R5/JVM errors: foreign, translated here
                self.close()
                raise EngineUnavailable(
                    f"R5 could not build a network from {self.sources.osm} and "
                    f"{', '.join(str(z) for _, z in zips)} ({type(e).__name__}: {e})"
                ) from None
        # R5's complaints about the feeds (allow_errors=True keeps going, as `maas build` did)
        self.build_notes: list[str] = [str(w.message) for w in caught]
        self.build_seconds = round(time.perf_counter() - t0, 3)

    def close(self) -> None:
        shutil.rmtree(self._workdir, ignore_errors=True)

    # -- places -------------------------------------------------------------------------

    def _place(self, place: Place, default_name: str) -> LegPlace | Reason:
        g = self.graph
        if place.stop_id is not None:
            i = g.stop_index(place.stop_id)
            if i is None:
                return "unknown_stop"
            v = g.stop(i)
            return LegPlace(v.name, v.lat, v.lon, v.id)
        assert place.lat is not None and place.lon is not None
        if g.street_index is not None:
            node, _ = g.street_index.nearest(place.lat, place.lon, SNAP_MAX_M)
            if node < 0:
                return "outside_coverage"
        return LegPlace(default_name, place.lat, place.lon)

    @staticmethod
    def _points(places: Sequence[tuple[float, float]], prefix: str) -> Any:
        """Points as r5py wants them. Origin and destination ids differ (``o0``, ``d0``):
        r5py's TravelTimeMatrix zeroes every cell whose ``from_id`` equals its ``to_id``."""
        gpd = importlib.import_module("geopandas")
        shapely = importlib.import_module("shapely")
        return gpd.GeoDataFrame(
            {"id": [f"{prefix}{i}" for i in range(len(places))]},
            geometry=[shapely.Point(lon, lat) for lat, lon in places],
            crs="EPSG:4326",
        )

    def _task(self, departure: dt.datetime, window_s: int, modes: frozenset[str], max_walk_m: float) -> dict[str, Any]:
        transport, access = r5_modes(modes)
        task: dict[str, Any] = {
            "departure": departure.astimezone(self.zone).replace(tzinfo=None),  # R5 takes local wall time
            "departure_time_window": dt.timedelta(seconds=max(window_s, MIN_WINDOW_S)),
            "transport_modes": transport,
            "max_time_walking": dt.timedelta(seconds=max_walk_m / self.walk_mps),
            "speed_walking": self.walk_mps * 3.6,
            "speed_cycling": self.bike_mps * 3.6,
            "max_public_transport_rides": self.max_transfers + 1,
        }
        if access:
            task["access_modes"] = access
            task["egress_modes"] = access
        return task

    def _run(self, kind: str, **kwargs: Any) -> tuple[pd.DataFrame, list[str]]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = getattr(self._r5py, kind)(self.network, **kwargs)
            except (BadRequest, EngineUnavailable):
                raise
            except Exception as e:  # R5/JVM errors: foreign, translated here
                raise EngineUnavailable(f"R5 failed on this request ({type(e).__name__}: {e})") from None
        return pd.DataFrame(result), [str(w.message) for w in caught]

    # -- JourneyPlanner ---------------------------------------------------------------

    def plan(self, request: PlanRequest) -> PlanResult:
        t0 = time.perf_counter()
        if request.wheelchair:
            raise BadRequest("wheelchair", "the r5 engine does not route for wheelchairs; use engine raptor")
        r5_modes(request.modes)  # a BadRequest before any work
        origin = self._place(request.origin, "Origin")
        if isinstance(origin, str):
            return self._empty(origin)
        dest = self._place(request.destination, "Destination")
        if isinstance(dest, str):
            return self._empty(dest)

        local = request.time.astimezone(self.zone)
        if request.arrive_by:
            lookback = max(request.window_s, ARRIVE_BY_LOOKBACK_S)
            departure, window = local - dt.timedelta(seconds=lookback), lookback
        else:
            departure, window = local, request.window_s
        frame, notes = self._run(
            "DetailedItineraries",
            origins=self._points([(origin.lat, origin.lon)], "o"),
            destinations=self._points([(dest.lat, dest.lon)], "d"),
            **self._task(departure, window, request.modes, request.max_walk_m),
        )
        t_r5 = time.perf_counter()
        found = itineraries(frame, self.context, origin=origin, destination=dest, anchor=local,
                            arrive_by=request.arrive_by, service_date=departure.date())
        found = [it for it in found if self._acceptable(it, request)]
        chosen = pareto(found, request.arrive_by)[: request.num_itineraries]
        reason: Reason | None = None
        if not chosen:
            no_service = any("do not define any services" in n for n in notes)
            reason = "no_service_on_date" if no_service else "no_connection"
        return PlanResult(
            itineraries=tuple(chosen),
            graph_version=self.graph.version,
            reason=reason,
            timing_ms={
                "r5": round((t_r5 - t0) * 1e3, 3),
                "total": round((time.perf_counter() - t0) * 1e3, 3),
            },
        )

    @staticmethod
    def _acceptable(it: Itinerary, request: PlanRequest) -> bool:
        if request.arrive_by and it.end_time > request.time:
            return False
        street_only = all(leg.route is None for leg in it.legs)
        # R5 reports the direct walk whatever its length; the request caps walking
        return not (street_only and it.walk_distance_m > request.max_walk_m and len(it.legs) == 1
                    and it.legs[0].mode == "walk")

    def _empty(self, reason: Reason) -> PlanResult:
        return PlanResult(itineraries=(), graph_version=self.graph.version, reason=reason)

    # -- analysis -----------------------------------------------------------------------

    def travel_times(
        self,
        origins: Sequence[tuple[float, float]],
        destinations: Sequence[tuple[float, float]],
        time: dt.datetime,
        *,
        modes: frozenset[str] = DEFAULT_MODES,
        window_s: int = 3600,
        percentiles: Sequence[int] = (50,),
        max_walk_m: float = 2000.0,
    ) -> np.ndarray:
        """Travel times in seconds, shape (percentiles, origins, destinations), NaN when
        unreachable: r5py's ``TravelTimeMatrix`` over departures in ``[time, time + window_s]``.
        Places are ``(lat, lon)``."""
        if time.tzinfo is None:
            raise BadRequest("time", "needs a UTC offset")
        if not percentiles or any(not 1 <= p <= 99 for p in percentiles):
            raise BadRequest("percentiles", "each must be between 1 and 99")
        if not origins or not destinations:
            return np.full((len(percentiles), len(origins), len(destinations)), np.nan)
        frame, _ = self._run(
            "TravelTimeMatrix",
            origins=self._points(origins, "o"),
            destinations=self._points(destinations, "d"),
            percentiles=list(percentiles),
            **self._task(time, window_s, modes, max_walk_m),
        )
        return travel_time_matrix(
            frame, [f"o{i}" for i in range(len(origins))], [f"d{j}" for j in range(len(destinations))], percentiles
        )
