"""A loaded graph artifact: timetable, streets and the stop/route/trip tables around them.

``Graph.load`` validates the artifact (schema, checksums) and maps its arrays read-only;
everything else here is a cheap view used by planners and the gateway.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from feeds.geo import haversine_m
from routing.artifact import Artifact, read_artifact
from routing.errors import ArtifactError
from routing.plan import RouteInfo
from routing.service_days import service_day_context
from routing.spatial import NodeIndex
from routing.stop_search import StopNameIndex
from routing.streets import WALK, StreetGraph, usable_nodes
from routing.timetable import Timetable, TimetableMeta


@dataclass(frozen=True, slots=True)
class StopView:
    id: str
    name: str
    lat: float
    lon: float
    parent_id: str | None
    wheelchair: int
    location_type: int


@dataclass(frozen=True, slots=True)
class Departure:
    stop_id: str
    time: dt.datetime
    route: RouteInfo
    trip_id: str
    headsign: str
    service_date: dt.date


class Graph:
    """Everything a planner needs, loaded from one artifact directory."""

    def __init__(self, art: Artifact) -> None:
        self.artifact = art
        self.path = art.path
        self.manifest = art.manifest
        self.version = art.graph_version
        docs = art.documents
        try:
            self.timetable = Timetable.from_arrays(art.group("tt"))
            m = docs["meta"]
            self.meta = TimetableMeta(
                tz_names=tuple(m["tz_names"]),
                base_date=dt.date.fromisoformat(m["base_date"]),
                mode_names=tuple(m["mode_names"]),
            )
            street_arrays = art.group("streets")
            self.streets: StreetGraph | None = StreetGraph.from_arrays(street_arrays) if street_arrays else None
            self.stop_ids: tuple[str, ...] = tuple(docs["stops"]["ids"])
            self.stop_names: tuple[str, ...] = tuple(docs["stops"]["names"])
            self.stop_lat = art.arrays["stops.lat"]
            self.stop_lon = art.arrays["stops.lon"]
            self.stop_parent = art.arrays["stops.parent"]
            self.stop_location_type = art.arrays["stops.location_type"]
            self.stop_wheelchair = art.arrays["stops.wheelchair"]
            self.stop_node = art.arrays["stops.node"]
            self.stop_link_m = art.arrays["stops.link_m"]
            self.routes: list[dict[str, Any]] = docs["routes"]
            self.agencies: list[dict[str, Any]] = docs["agencies"]
            self.trip_ids: tuple[str, ...] = tuple(docs["trips"]["ids"])
            self.trip_headsigns: tuple[str, ...] = tuple(docs["trips"]["headsigns"])
            self.trip_route = art.arrays["trips.route"]
            self.trip_shape = art.arrays["trips.shape"]
            self.shape_offset = art.arrays["shapes.offset"]
            self.shape_lat = art.arrays["shapes.lat"]
            self.shape_lon = art.arrays["shapes.lon"]
            self.street_names: tuple[str, ...] = tuple(docs["street_names"])
        except KeyError as e:
            raise ArtifactError(f"{art.path}: artifact lacks {e}; rebuild it with `maas build`") from None
        self.timezone: str = self.agencies[0]["timezone"] if self.agencies else "UTC"
        self._stop_by_id = {sid: i for i, sid in enumerate(self.stop_ids)}

    @classmethod
    def load(cls, path: str | Path, *, verify: bool = True) -> Graph:
        return cls(read_artifact(path, verify=verify))

    # -- stops ---------------------------------------------------------------------

    @property
    def n_stops(self) -> int:
        return len(self.stop_ids)

    def stop_index(self, stop_id: str) -> int | None:
        return self._stop_by_id.get(stop_id)

    @cached_property
    def _stop_rows(self) -> tuple[list[float], list[float], list[int], list[int], list[int]]:
        # plain lists: itineraries read a few hundred stops each, and indexing a memmap
        # one element at a time costs ~1 us per access
        return (
            np.asarray(self.stop_lat).tolist(),
            np.asarray(self.stop_lon).tolist(),
            np.asarray(self.stop_parent).tolist(),
            np.asarray(self.stop_wheelchair).tolist(),
            np.asarray(self.stop_location_type).tolist(),
        )

    def stop(self, i: int) -> StopView:
        lat, lon, parents, wheelchair, location_type = self._stop_rows
        parent = parents[i]
        return StopView(
            id=self.stop_ids[i],
            name=self.stop_names[i],
            lat=lat[i],
            lon=lon[i],
            parent_id=self.stop_ids[parent] if parent >= 0 else None,
            wheelchair=wheelchair[i],
            location_type=location_type[i],
        )

    @cached_property
    def _children(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for child, parent in enumerate(self._stop_rows[2]):
            if parent >= 0:
                out.setdefault(parent, []).append(child)
        return out

    def members(self, i: int) -> list[int]:
        """Stop ``i`` and, when it is a station, its platforms (the places one boards at)."""
        return [i, *self._children.get(i, ())]

    def stops_near(self, lat: float, lon: float, radius_m: float, limit: int = 20) -> list[tuple[StopView, float]]:
        d = haversine_m(lat, lon, self.stop_lat, self.stop_lon)
        idx = np.flatnonzero(d <= radius_m)
        idx = idx[np.argsort(d[idx], kind="stable")][:limit]
        return [(self.stop(int(i)), float(d[i])) for i in idx]

    @cached_property
    def stop_name_index(self) -> StopNameIndex:
        """The name search index, built on first use (~0.1 s for 20,000 stops)."""
        return StopNameIndex(self.stop_names, np.asarray(self.stop_parent) >= 0)

    def search_stops(self, q: str, limit: int = 10) -> list[StopView]:
        """Name search, accent- and case-insensitive: every query token must prefix a word of
        the name. Ranked by exact match, then whole-name prefix, then stations before platforms,
        then length; one entry per name and station (a station's platforms are not repeated)."""
        seen: set[str] = set()
        out: list[StopView] = []
        for i in self.stop_name_index.search(q).tolist():
            view = self.stop(i)
            key = f"{view.name}|{view.parent_id or view.id}"
            if key in seen:
                continue
            seen.add(key)
            out.append(view)
            if len(out) >= limit:
                break
        return out

    # -- routes and trips --------------------------------------------------------------

    def route_info(self, r: int) -> RouteInfo:
        route = self.routes[r]
        return RouteInfo(
            id=route["id"],
            short_name=route["short_name"],
            long_name=route["long_name"],
            type=int(route["route_type"]),
            color=route["color"],
            agency=self.agencies[route["agency"]]["name"],
        )

    def route_mode(self, r: int) -> str:
        return str(self.routes[r]["mode"])

    @cached_property
    def street_index(self) -> NodeIndex | None:
        if self.streets is None:
            return None
        # only nodes a pedestrian may use: never snap a place onto a motorway
        return NodeIndex(np.asarray(self.streets.lat), np.asarray(self.streets.lon), mask=usable_nodes(self.streets, WALK))

    # -- departures --------------------------------------------------------------------

    def departures(self, i: int, after: dt.datetime, limit: int = 10) -> list[Departure]:
        """Next departures from stop ``i`` (and its child stops when it is a station)."""
        if after.tzinfo is None:
            raise ValueError("after must be timezone-aware")
        tt = self.timetable
        stops = set(self.members(i))
        ref = int(after.timestamp())
        local = after.astimezone(ZoneInfo(self.timezone)).date()
        ctx = service_day_context(tt, self.meta, local, ref)
        found: list[tuple[int, int, int, int]] = []  # (abs time, trip, k, stop)
        for s in sorted(stops):
            for p in tt.stop_patterns[tt.stop_pattern_offset[s] : tt.stop_pattern_offset[s + 1]]:
                p = int(p)
                pstops = tt.pattern_stops[tt.pattern_stop_offset[p] : tt.pattern_stop_offset[p + 1]]
                positions = np.flatnonzero(pstops == s)
                tz = int(tt.pattern_tz[p])
                for t in range(int(tt.pattern_trip_offset[p]), int(tt.pattern_trip_offset[p + 1])):
                    svc = int(tt.trip_service[t])
                    base = int(tt.trip_time_offset[t])
                    for pos in positions:
                        if pos == len(pstops) - 1 or not tt.board_ok[base + pos]:
                            continue
                        dep = int(tt.dep[base + pos])
                        for k in range(ctx.day_active.shape[0]):
                            if not ctx.day_active[k, svc]:
                                continue
                            rel = int(ctx.day_offset[k, tz]) + dep
                            if rel >= 0:
                                found.append((rel, t, k, s))
        found.sort()
        out: list[Departure] = []
        zone = ZoneInfo(self.timezone)
        for rel, t, k, s in found[:limit]:
            src = int(tt.trip_source[t])
            out.append(
                Departure(
                    stop_id=self.stop_ids[s],
                    time=dt.datetime.fromtimestamp(ref + rel, zone),
                    route=self.route_info(int(self.trip_route[src])),
                    trip_id=self.trip_ids[src],
                    headsign=self.trip_headsigns[src],
                    service_date=local + dt.timedelta(days=k - 1),
                )
            )
        return out
