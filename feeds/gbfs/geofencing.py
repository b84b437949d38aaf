"""Which geofencing rules hold at a point, for one vehicle type.

:func:`rules_at` answers one point, :func:`rules_at_points` many at once (numpy, even-odd
ray casting over all ring edges of the candidate zones, after a bounding-box cut), so a
few hundred queries over a city's zones take milliseconds. Build a :class:`ZoneIndex`
once and pass it instead of the :class:`Geofencing` when querying repeatedly.

Precedence, field by field (``ride_start_allowed``, ``ride_end_allowed``,
``ride_through_allowed``, ``maximum_speed_kph``, ``station_parking``):

- within a zone, the earliest rule that names the vehicle type (or names no type) and
  sets the field;
- v3.0 (``Geofencing.first_zone_wins``): the earliest active zone containing the point
  that sets the field, else the global rules, else the default (allowed, no limit);
- v2.x: every containing zone counts and the most restrictive value wins (any ``false``
  forbids, the lowest speed limit applies), else the default — see
  :class:`feeds.gbfs.model.Geofencing` for why.

Holes are honoured (even-odd rule over all rings); ring orientation is ignored, as
feeds get it wrong as often as right.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from feeds.gbfs.documents import Polygon
from feeds.gbfs.model import Geofencing, GeofencingRule

F64 = NDArray[np.float64]
Bool = NDArray[np.bool_]
I8 = NDArray[np.int8]
I64 = NDArray[np.int64]

_UNSET = -1
# Cap on points x edges per vectorised step (memory stays around tens of MB).
_CHUNK = 2_000_000


@dataclass(frozen=True, slots=True)
class EffectiveRule:
    """What holds at one point for one vehicle type after precedence is applied."""

    ride_start_allowed: bool
    ride_end_allowed: bool
    ride_through_allowed: bool
    maximum_speed_kph: float | None
    station_parking: bool
    zone: str | None  # name of the first containing zone with a rule for this type

    @property
    def ride_allowed(self) -> bool:
        """v2.x meaning: a ride may start and end here (i.e. parking is allowed)."""
        return self.ride_start_allowed and self.ride_end_allowed


@dataclass(frozen=True)
class RuleArrays:
    """:class:`EffectiveRule` for many points, one array per field."""

    ride_start_allowed: Bool
    ride_end_allowed: Bool
    ride_through_allowed: Bool
    maximum_speed_kph: F64  # NaN: no limit
    station_parking: Bool
    zone: I64  # index into Geofencing.zones, -1: none

    def __len__(self) -> int:
        return len(self.zone)


class RegionIndex:
    """Point-in-polygon over regions, each a set of polygons with holes."""

    def __init__(self, regions: Sequence[Sequence[Polygon]]) -> None:
        # per region: bbox and per polygon (bbox, edges x1, y1, x2, y2)
        self._regions: list[tuple[F64, list[tuple[F64, F64]]]] = []
        for polygons in regions:
            parts = []
            for polygon in polygons:
                edges = _edges(polygon)
                if len(edges):
                    parts.append((_bbox(edges), edges))
            if parts:
                bbox = np.array(
                    [
                        min(b[0] for b, _ in parts),
                        min(b[1] for b, _ in parts),
                        max(b[2] for b, _ in parts),
                        max(b[3] for b, _ in parts),
                    ]
                )
            else:
                bbox = np.array([np.inf, np.inf, -np.inf, -np.inf])
            self._regions.append((bbox, parts))

    def __len__(self) -> int:
        return len(self._regions)

    def contains(self, lat: ArrayLike, lon: ArrayLike) -> Bool:
        """``inside[i, r]``: point ``i`` lies in region ``r``."""
        y = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        x = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        if x.shape != y.shape:
            raise ValueError(f"lat and lon differ in shape: {y.shape} vs {x.shape}")
        inside = np.zeros((len(x), len(self._regions)), dtype=np.bool_)
        for r, (bbox, parts) in enumerate(self._regions):
            candidates = np.flatnonzero(_in_bbox(bbox, x, y))
            for poly_bbox, edges in parts:
                if not len(candidates):
                    break
                idx = candidates[_in_bbox(poly_bbox, x[candidates], y[candidates])]
                if len(idx):
                    hit = _even_odd(edges, x[idx], y[idx])
                    inside[idx[hit], r] = True
                    candidates = candidates[~inside[candidates, r]]
        return inside


def _edges(polygon: Polygon) -> F64:
    """All ring edges of one polygon as rows (x1, y1, x2, y2); rings are closed here."""
    rows = []
    for ring in polygon:
        pts = np.asarray(ring, dtype=np.float64)
        if len(pts) >= 3:
            rows.append(np.hstack([pts, np.roll(pts, -1, axis=0)]))
    return np.vstack(rows) if rows else np.empty((0, 4))


def _bbox(edges: F64) -> F64:
    return np.array([edges[:, 0].min(), edges[:, 1].min(), edges[:, 0].max(), edges[:, 1].max()])


def _in_bbox(bbox: F64, x: F64, y: F64) -> Bool:
    result: Bool = (x >= bbox[0]) & (x <= bbox[2]) & (y >= bbox[1]) & (y <= bbox[3])
    return result


def _even_odd(edges: F64, x: F64, y: F64) -> Bool:
    """Ray casting towards +x: odd crossings = inside (holes cancel out)."""
    x1, y1, x2, y2 = (edges[:, k] for k in range(4))
    step = max(1, _CHUNK // max(len(edges), 1))
    out = np.empty(len(x), dtype=np.bool_)
    with np.errstate(divide="ignore", invalid="ignore"):
        for lo in range(0, len(x), step):
            px, py = x[lo : lo + step, None], y[lo : lo + step, None]
            straddles = (y1 > py) != (y2 > py)
            x_cross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            out[lo : lo + step] = np.count_nonzero(straddles & (px < x_cross), axis=1) % 2 == 1
    return out


class ZoneIndex:
    """A :class:`Geofencing` prepared for queries (polygon edges as arrays)."""

    def __init__(self, geofencing: Geofencing) -> None:
        self.geofencing = geofencing
        self.regions = RegionIndex([z.polygons for z in geofencing.zones])

    def contains(self, lat: ArrayLike, lon: ArrayLike, when: dt.datetime | None = None) -> Bool:
        inside = self.regions.contains(lat, lon)
        if when is not None:
            inside &= np.array([z.active(when) for z in self.geofencing.zones], dtype=np.bool_)
        return inside


def rules_at_points(
    zones: Geofencing | ZoneIndex,
    lat: ArrayLike,
    lon: ArrayLike,
    vehicle_type_id: str | None = None,
    *,
    when: dt.datetime | None = None,
) -> RuleArrays:
    """The effective rules at many points for ``vehicle_type_id`` (namespaced; None: a
    vehicle of no particular type, to which only rules naming no type apply)."""
    index = zones if isinstance(zones, ZoneIndex) else ZoneIndex(zones)
    fencing = index.geofencing
    inside = index.contains(lat, lon, when)
    n = inside.shape[0]
    per_zone = [_zone_fields(z.rules, vehicle_type_id) for z in fencing.zones]
    global_fields = _zone_fields(fencing.global_rules, vehicle_type_id)
    first = fencing.first_zone_wins

    def flag(k: int, default: bool) -> Bool:
        spec = np.array([f[k] for f in per_zone], dtype=np.int8).reshape(-1)
        fallback = default if global_fields[k] == _UNSET else bool(global_fields[k])
        return _resolve_flag(inside, spec, first, fallback)

    speeds = np.array([f[3] for f in per_zone], dtype=np.float64).reshape(-1)
    has_rule = np.array([f[5] for f in per_zone], dtype=np.bool_).reshape(-1)
    ruled = inside & has_rule
    zone = np.where(ruled.any(axis=1), ruled.argmax(axis=1), -1) if len(per_zone) else np.full(n, -1)
    return RuleArrays(
        ride_start_allowed=flag(0, True),
        ride_end_allowed=flag(1, True),
        ride_through_allowed=flag(2, True),
        maximum_speed_kph=_resolve_speed(inside, speeds, first, float(global_fields[3])),
        station_parking=flag(4, False),
        zone=zone.astype(np.int64),
    )


def rules_at(
    zones: Geofencing | ZoneIndex,
    lat: float,
    lon: float,
    vehicle_type_id: str | None = None,
    *,
    when: dt.datetime | None = None,
) -> EffectiveRule:
    """The effective rule at one point for ``vehicle_type_id``."""
    index = zones if isinstance(zones, ZoneIndex) else ZoneIndex(zones)
    arrays = rules_at_points(index, [lat], [lon], vehicle_type_id, when=when)
    speed = float(arrays.maximum_speed_kph[0])
    zone = int(arrays.zone[0])
    return EffectiveRule(
        ride_start_allowed=bool(arrays.ride_start_allowed[0]),
        ride_end_allowed=bool(arrays.ride_end_allowed[0]),
        ride_through_allowed=bool(arrays.ride_through_allowed[0]),
        maximum_speed_kph=None if np.isnan(speed) else speed,
        station_parking=bool(arrays.station_parking[0]),
        zone=index.geofencing.zones[zone].name if zone >= 0 else None,
    )


def _zone_fields(
    rules: Sequence[GeofencingRule], vehicle_type_id: str | None
) -> tuple[int, int, int, float, int, bool]:
    """(start, end, through, speed, station_parking, has a rule for the type) of one rule
    list: each field from the earliest applicable rule that sets it; -1 / NaN: unset."""
    applicable = [r for r in rules if r.applies_to(vehicle_type_id)]

    def first_flag(values: list[bool | None]) -> int:
        return next((int(v) for v in values if v is not None), _UNSET)

    speed = next((r.maximum_speed_kph for r in applicable if r.maximum_speed_kph is not None), None)
    return (
        first_flag([r.ride_start_allowed for r in applicable]),
        first_flag([r.ride_end_allowed for r in applicable]),
        first_flag([r.ride_through_allowed for r in applicable]),
        float("nan") if speed is None else speed,
        first_flag([r.station_parking for r in applicable]),
        bool(applicable),
    )


def _resolve_flag(inside: Bool, spec: I8, first_wins: bool, fallback: bool) -> Bool:
    n = inside.shape[0]
    if not len(spec):
        return np.full(n, fallback, dtype=np.bool_)
    if first_wins:
        mask = inside & (spec >= 0)
        chosen = spec[mask.argmax(axis=1)] == 1
        return np.where(mask.any(axis=1), chosen, fallback)
    any_false = (inside & (spec == 0)).any(axis=1)
    any_true = (inside & (spec == 1)).any(axis=1)
    return np.where(any_false, False, np.where(any_true, True, fallback))


def _resolve_speed(inside: Bool, speeds: F64, first_wins: bool, fallback: float) -> F64:
    n = inside.shape[0]
    if not len(speeds):
        return np.full(n, fallback)
    mask = inside & ~np.isnan(speeds)
    chosen = speeds[mask.argmax(axis=1)] if first_wins else np.where(mask, speeds, np.inf).min(axis=1)
    return np.where(mask.any(axis=1), chosen, fallback)
