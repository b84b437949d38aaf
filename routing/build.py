"""Normalized model -> graph artifact: the pipeline behind ``maas build``.

Steps: load GTFS feeds, load OSM streets, link stops to the street network, compute
stop-to-stop walking transfers on it, build the timetable, write the artifact
atomically. Unlinked stops are reported by id, never dropped.
"""

from __future__ import annotations

import hashlib
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from feeds.errors import FeedDataError
from feeds.gtfs import load_gtfs
from feeds.model import FeedSource, StreetNetwork, TransitData
from feeds.osm import load_osm
from feeds.quality import Notice, Severity
from feeds.validate import validate_gtfs
from routing.artifact import read_manifest, write_artifact
from routing.linking import link_points, stop_transfers, straight_line_transfers
from routing.sharing.store import DOCUMENT as SHARING_DOCUMENT
from routing.sharing.store import read_sharing_inputs
from routing.spatial import NodeIndex
from routing.streets import WALK, StreetGraph, usable_nodes
from routing.timetable import build_timetable

FeedArg = str | Path | tuple[str | None, str | Path]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildOptions:
    walk_mps: float = 1.33
    max_transfer_s: float = 900.0  # longest stored stop-to-stop walk
    max_link_m: float = 300.0  # farther than this from any walkable street: unlinked
    validate: bool = True  # run the quality report first; refuse feeds with fatal errors


@dataclass(frozen=True)
class BuildReport:
    path: Path
    graph_version: str
    counts: dict[str, int]
    feeds: tuple[FeedSource, ...]
    notices: tuple[Notice, ...]
    unlinked_stops: tuple[str, ...]
    seconds: float
    peak_rss_mb: float
    step_seconds: dict[str, float] = field(default_factory=dict)
    quality: tuple[QualitySummary, ...] = ()


@dataclass(frozen=True)
class QualitySummary:
    feed_id: str
    grade: str
    errors: int
    warnings: int
    infos: int


def _validate(feeds: Sequence[FeedArg], say: Progress) -> tuple[tuple[QualitySummary, ...], list[Notice]]:
    """Quality reports of every GTFS feed; raises on errors that make routing wrong."""
    summaries: list[QualitySummary] = []
    notices: list[Notice] = []
    fatal: list[Notice] = []
    for spec in feeds:
        fid, path = spec if isinstance(spec, tuple) else (None, spec)
        say(f"validating {Path(path).name}")
        report = validate_gtfs(path, fid)
        summaries.append(QualitySummary(report.feed_id, report.grade, report.errors, report.warnings, report.infos))
        fatal.extend(report.fatal)
        notices.extend(n for n in report.notices if n.severity is Severity.ERROR)
    if fatal:
        lines = [
            f"{n.feed_id}: {n.file}" + (f" row {n.row}" if n.row is not None else "") + (f" field {n.field}" if n.field else "")
            + f": {n.code}: {n.message}"
            for n in fatal[:10]
        ]
        more = f" (and {len(fatal) - 10} more)" if len(fatal) > 10 else ""
        raise FeedDataError("refusing to build, the feed cannot be routed on:\n  " + "\n  ".join(lines) + more)
    return tuple(summaries), notices


def _feed_doc(src: FeedSource) -> dict[str, Any]:
    return {
        "id": src.id,
        "kind": src.kind,
        "sha256": src.sha256,
        "valid_from": src.valid_from.isoformat() if src.valid_from else None,
        "valid_to": src.valid_to.isoformat() if src.valid_to else None,
        "publisher": src.publisher,
        "version": src.version,
        "path": src.path.rstrip("/").rsplit("/", 1)[-1] if _is_url(src.path) else Path(src.path).name,
        # for engines that rebuild from sources (r5) and live overlays that refresh from them
        "source_path": src.path if _is_url(src.path) else str(Path(src.path).resolve()),
    }


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _osm_source(path: Path) -> FeedSource:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return FeedSource(id=path.name.split(".")[0], kind="osm", path=str(path), sha256=h.hexdigest())


def build_graph(
    feeds: Sequence[FeedArg],
    *,
    osm: str | Path | None = None,
    out: str | Path,
    options: BuildOptions = BuildOptions(),
    progress: Progress | None = None,
    gbfs: Sequence[str | Path] = (),
    gofs: Sequence[str | Path] = (),
) -> BuildReport:
    """Build an artifact; ``gbfs`` (directories or gbfs.json URLs) and ``gofs``
    (directories) add shared mobility: their static files and a first availability
    snapshot go into the artifact, their problems into the notices."""
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    steps: dict[str, float] = {}

    def step(name: str, start: float) -> float:
        now = time.perf_counter()
        steps[name] = round(now - start, 3)
        return now

    quality: tuple[QualitySummary, ...] = ()
    validation_notices: list[Notice] = []
    t = t0
    if options.validate:
        quality, validation_notices = _validate(feeds, say)
        t = step("validate", t)
    say("loading GTFS")
    data = load_gtfs(list(feeds), progress=progress)
    t = step("gtfs", t)
    stops = data.stops
    n_stops = len(stops)
    notices: list[Notice] = list(data.notices) + validation_notices
    sources = list(data.sources)

    net: StreetNetwork | None = None
    if osm is not None:
        say("loading OSM streets")
        net = load_osm(osm, progress=progress)
        sources.append(_osm_source(Path(osm)))
        t = step("osm", t)

    if net is not None and net.n_nodes > 0:
        say("linking stops to streets")
        streets: StreetGraph | None = StreetGraph.from_network(net)
        assert streets is not None
        index = NodeIndex(np.asarray(streets.lat), np.asarray(streets.lon), mask=usable_nodes(streets, WALK))
        stop_node, link_m = link_points(streets, index, stops.lat, stops.lon, WALK, options.max_link_m)
        t = step("link", t)
        say("computing walking transfers")
        tf_from, tf_to, tf_s = stop_transfers(
            streets, stop_node, link_m, max_s=options.max_transfer_s, walk_mps=options.walk_mps,
            stop_lat=stops.lat, stop_lon=stops.lon,
        )
        t = step("transfers", t)
    else:
        streets = None
        stop_node = np.full(n_stops, -1, dtype=np.int32)
        link_m = np.full(n_stops, np.inf, dtype=np.float32)
        say("computing straight-line transfers (no OSM given)")
        tf_from, tf_to, tf_s = straight_line_transfers(
            stops.lat, stops.lon, options.max_transfer_s * options.walk_mps, options.walk_mps
        )
        t = step("transfers", t)

    # Stations (location_type 1) and entrances are not boarding points: only report
    # unlinked platforms/stops, which is what a rider would walk to.
    boarding = np.asarray(stops.location_type) == 0
    unlinked_idx = np.flatnonzero((np.asarray(stop_node) < 0) & boarding)
    unlinked = tuple(stops.ids[i] for i in unlinked_idx)
    if streets is not None and unlinked:
        notices.append(
            Notice(
                Severity.WARNING,
                "stop_not_linked_to_streets",
                f"{len(unlinked)} of {int(boarding.sum())} stops are farther than {options.max_link_m:.0f} m "
                f"from a walkable street of the OSM extract; they connect by straight-line walks only "
                f"(first: {', '.join(unlinked[:5])})",
                file="stops.txt",
            )
        )

    sharing = None
    if gbfs or gofs:
        say("loading GBFS/GOFS")
        sharing = read_sharing_inputs(gbfs, gofs)
        sources.extend(sharing.sources)
        notices.extend(sharing.notices)
        t = step("sharing", t)

    say("building timetable")
    tt, meta = build_timetable(data, tf_from, tf_to, tf_s)
    t = step("timetable", t)

    arrays: dict[str, np.ndarray] = {f"tt.{k}": v for k, v in tt.arrays().items()}
    if streets is not None:
        arrays.update({f"streets.{k}": v for k, v in streets.arrays().items()})
    arrays.update(_table_arrays(data, stop_node, link_m))
    documents = _documents(data, net, meta.tz_names, meta.base_date.isoformat(), meta.mode_names, notices, unlinked)
    counts = {
        "stops": n_stops,
        "trips": len(data.trips),
        "patterns": int(tt.pattern_route.shape[0]),
        "street_nodes": net.n_nodes if net is not None else 0,
        "street_edges": net.n_edges if net is not None else 0,
        "transfers": int(tf_from.shape[0]),
        "unlinked_stops": len(unlinked),
    }
    if sharing is not None:
        documents[SHARING_DOCUMENT] = sharing.document
        counts.update(sharing.counts)
    say("writing artifact")
    path = write_artifact(
        out,
        arrays,
        documents,
        {"feeds": [_feed_doc(s) for s in sources], "counts": counts, "options": options.__dict__},
    )
    step("write", t)
    version = str(read_manifest(path)["graph_version"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return BuildReport(
        path=path,
        graph_version=version,
        counts=counts,
        feeds=tuple(sources),
        notices=tuple(notices),
        unlinked_stops=unlinked,
        seconds=round(time.perf_counter() - t0, 3),
        peak_rss_mb=round(peak, 1),
        step_seconds=steps,
        quality=quality,
    )


def _table_arrays(data: TransitData, stop_node: np.ndarray, link_m: np.ndarray) -> dict[str, np.ndarray]:
    s, tr, sh = data.stops, data.trips, data.shapes
    return {
        "stops.lat": np.asarray(s.lat, dtype=np.float64),
        "stops.lon": np.asarray(s.lon, dtype=np.float64),
        "stops.parent": np.asarray(s.parent, dtype=np.int32),
        "stops.location_type": np.asarray(s.location_type, dtype=np.int8),
        "stops.wheelchair": np.asarray(s.wheelchair, dtype=np.int8),
        "stops.node": np.asarray(stop_node, dtype=np.int32),
        "stops.link_m": np.asarray(link_m, dtype=np.float32),
        "trips.route": np.asarray(tr.route, dtype=np.int32),
        "trips.shape": np.asarray(tr.shape, dtype=np.int32),
        "trips.service": np.asarray(tr.service, dtype=np.int32),
        "trips.freq_start": np.asarray(tr.freq_start, dtype=np.int32),
        "shapes.offset": np.asarray(sh.offset, dtype=np.int64),
        "shapes.lat": np.asarray(sh.lat, dtype=np.float64),
        "shapes.lon": np.asarray(sh.lon, dtype=np.float64),
        "shapes.dist": np.asarray(sh.dist, dtype=np.float32),
        "stop_times.shape_dist": np.asarray(data.stop_times.shape_dist, dtype=np.float32),
    }


def _documents(
    data: TransitData,
    net: StreetNetwork | None,
    tz_names: tuple[str, ...],
    base_date: str,
    mode_names: tuple[str, ...],
    notices: list[Notice],
    unlinked: tuple[str, ...],
) -> dict[str, Any]:
    return {
        "meta": {"tz_names": list(tz_names), "base_date": base_date, "mode_names": list(mode_names)},
        "stops": {"ids": list(data.stops.ids), "names": list(data.stops.names)},
        "trips": {"ids": list(data.trips.ids), "headsigns": list(data.trips.headsign)},
        "routes": [
            {
                "id": r.id, "agency": r.agency, "short_name": r.short_name, "long_name": r.long_name,
                "route_type": r.route_type, "mode": r.mode, "color": r.color, "text_color": r.text_color,
            }
            for r in data.routes
        ],
        "agencies": [
            {"id": a.id, "name": a.name, "url": a.url, "timezone": a.timezone, "feed_id": a.feed_id}
            for a in data.agencies
        ],
        "street_names": list(net.names) if net is not None else [],
        "notices": [
            {
                "severity": n.severity.value, "code": n.code, "message": n.message, "file": n.file,
                "row": n.row, "field": n.field, "feed_id": n.feed_id,
            }
            for n in notices
        ],
        "unlinked_stops": list(unlinked),
    }
