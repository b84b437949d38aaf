"""Isochrones: where one origin gets within each of a few travel-time limits, as GeoJSON.

Like r5py's ``Isochrones``: one departure per minute of the window, and per place the
percentile (default the median) of its per-minute travel times. The places are the
stops (reached by transit or on foot) and the street nodes: a node's time is the
shorter of the direct walk from the origin (within ``max_walk_m``) and the walk from a
reached stop (a multi-source street search seeded with every stop's time). Each limit
becomes one (Multi)Polygon: the union of discs around the places within it, a disc's
radius being how far one still walks in the time left (between :data:`MIN_RADIUS_M`,
so a place reached just in time is inside, and :data:`MAX_RADIUS_M`, so the shape
follows the streets rather than growing into blocks no street reaches).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from feeds.geo import EARTH_RADIUS_M
from routing.analysis.matrix import TravelTimeComputer
from routing.analysis.points import Points
from routing.errors import BadRequest
from routing.raptor_kernels import INF
from routing.streets import WALK, shortest_times

MIN_RADIUS_M = 25.0
MAX_RADIUS_M = 150.0
SIMPLIFY_M = 5.0
_M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0


def check_minutes(minutes: Sequence[int], max_time_s: int) -> list[int]:
    """Distinct ascending limits in minutes, each within ``max_time``."""
    if not minutes:
        raise BadRequest("minutes", "give at least one limit")
    if any(int(m) != m or not 1 <= m <= max_time_s // 60 for m in minutes):
        raise BadRequest("minutes", f"each must be a whole number of minutes between 1 and {max_time_s // 60}")
    return sorted({int(m) for m in minutes})


def place_seconds(
    computer: TravelTimeComputer, lat: float, lon: float, percentile: int = 50
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Travel seconds (the percentile over the window's minutes; inf when not reached
    within max_time) to every stop and to every street node (empty without streets)."""
    if not 1 <= percentile <= 99:
        raise BadRequest("percentile", "must be between 1 and 99")
    g, o = computer.graph, computer.options
    empty = computer.destinations(Points((), np.zeros(0), np.zeros(0)))
    res = computer.origin_seconds(lat, lon, empty, keep_stops=True)
    per_minute = np.sort(res.stop_seconds, axis=0)
    n = per_minute.shape[0]
    stop_s = per_minute[max(0, math.ceil(percentile / 100 * n) - 1)].astype(np.float64)
    stop_s[stop_s >= INF] = np.inf
    streets = g.streets
    if streets is None:
        return stop_s, np.zeros(0)
    node_s = np.full(streets.n_nodes, np.inf)
    if res.street_times is not None:
        node_s = np.asarray(res.street_times, dtype=np.float64).copy()
    node = np.asarray(g.stop_node)
    seeds = np.flatnonzero(np.isfinite(stop_s) & (node >= 0))
    if seeds.size:
        link_s = np.asarray(g.stop_link_m, dtype=np.float64)[seeds] / o.walk_mps
        times, _ = shortest_times(
            streets, node[seeds].astype(np.int32), stop_s[seeds] + link_s, WALK, o.walk_mps, float(o.max_time_s)
        )
        node_s = np.minimum(node_s, np.asarray(times, dtype=np.float64))
    return stop_s, node_s


def isochrones(
    computer: TravelTimeComputer, lat: float, lon: float, minutes: Sequence[int], percentile: int = 50
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: one feature per limit (ascending), properties
    ``travel_time`` (minutes); the geometry is null when nothing is within the limit."""
    limits = check_minutes(minutes, computer.options.max_time_s)
    g = computer.graph
    stop_s, node_s = place_seconds(computer, lat, lon, percentile)
    lats = [np.asarray(g.stop_lat, dtype=np.float64)]
    lons = [np.asarray(g.stop_lon, dtype=np.float64)]
    secs = [stop_s]
    if g.streets is not None:
        lats.append(np.asarray(g.streets.lat))
        lons.append(np.asarray(g.streets.lon))
        secs.append(node_s)
    p_lat, p_lon, p_s = np.concatenate(lats), np.concatenate(lons), np.concatenate(secs)
    keep = np.isfinite(p_s) & (p_s <= limits[-1] * 60)
    p_lat, p_lon, p_s = p_lat[keep], p_lon[keep], p_s[keep]
    lat0 = lat
    kx = _M_PER_DEG * math.cos(math.radians(lat0))
    x, y = (p_lon - lon) * kx, (p_lat - lat0) * _M_PER_DEG
    features = []
    for limit in limits:
        inside = p_s <= limit * 60
        geometry = None
        if inside.any():
            radius = np.clip((limit * 60 - p_s[inside]) * computer.options.walk_mps, MIN_RADIUS_M, MAX_RADIUS_M)
            discs = shapely.buffer(shapely.points(x[inside], y[inside]), radius, quad_segs=4)
            shape = shapely.simplify(shapely.union_all(discs), SIMPLIFY_M)
            shape = shapely.transform(shape, lambda xy: np.column_stack((xy[:, 0] / kx + lon, xy[:, 1] / _M_PER_DEG + lat0)))
            # 1e-6 degrees (~0.1 m) is plenty and keeps the GeoJSON small; set_precision keeps it valid
            shape = shapely.set_precision(shape, 1e-6)
            geometry = shapely.geometry.mapping(shape)
        features.append({"type": "Feature", "properties": {"travel_time": limit}, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}
