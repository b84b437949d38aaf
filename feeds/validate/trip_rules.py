"""Timetable rules, vectorised over the whole stop_times table with numpy.

Stop times are sorted once by (trip, stop_sequence); every rule then works on
neighbouring rows: order of times along a trip, first/last stop times, implausible speed
between consecutive timed stops, and the distance of each stop to its trip's shape
(computed once per (shape, stop) pair, against all the shape's segments at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from feeds.geo import EARTH_RADIUS_M, haversine_m
from feeds.validate.collector import NoticeCollector
from feeds.validate.fields import (
    BLANK_TIME,
    codes,
    first_index,
    float_array,
    int_array,
    is_blank,
    time_array,
)
from feeds.validate.gtfs_rules import GtfsTables
from feeds.validate.reader import Table
from feeds.validate.schema import UNKNOWN_MODE_MAX_SPEED_KMH, max_speed_kmh

# Best practice: a shape passes within 100 m of the stops its trips serve.
MAX_STOP_TO_SHAPE_M = 100.0
# Elements per (stops x segments) block when measuring stops against a shape.
_BLOCK = 1_000_000

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
_T = TypeVar("_T", bound=np.generic)


@dataclass(frozen=True)
class Timetable:
    """stop_times sorted by (trip, stop_sequence); arrays are in that order."""

    table: Table
    order: I64  # record index in stop_times.txt of each sorted row
    trip: I64  # code of the row's trip_id (index into trip_ids)
    trip_ids: list[str]
    arrival: NDArray[np.int32]  # seconds, -1 when blank or invalid
    departure: NDArray[np.int32]
    stop: I64  # index into stops.txt, -1 when unknown or blank
    flex: NDArray[np.bool_]  # served by a pickup/drop-off window instead of times
    in_file_order: bool = False  # order is the identity: the file was sorted already

    @property
    def size(self) -> int:
        return len(self.order)

    def row(self, k: int) -> int:
        """stop_times.txt notice row of sorted row ``k``."""
        return self.table.row(int(self.order[k]))

    def in_file_order_of(self, rows: NDArray[np.bool_]) -> I64:
        """The sorted rows flagged in ``rows``, in the order of the file's records."""
        if self.in_file_order:
            return np.flatnonzero(rows)
        position = np.empty(self.size, dtype=np.int64)  # inverse of the sort permutation
        position[self.order] = np.arange(self.size, dtype=np.int64)
        return position[rows[position]]

    def first_of_trip(self) -> NDArray[np.bool_]:
        first = np.ones(self.size, dtype=bool)
        first[1:] = self.trip[1:] != self.trip[:-1]
        return first

    def last_of_trip(self) -> NDArray[np.bool_]:
        last = np.ones(self.size, dtype=bool)
        last[:-1] = self.trip[1:] != self.trip[:-1]
        return last


def build_timetable(feed: GtfsTables, stop_index: dict[str, int]) -> Timetable | None:
    st = feed.get("stop_times.txt")
    if st is None or st.size == 0 or not st.has("trip_id"):
        return None
    trip_values = st.column("trip_id")
    trip = trip_values.codes  # codes number trips in order of first appearance
    order, identity = _trip_order(trip, int_array(st.column("stop_sequence")))

    def by_trip(values: NDArray[_T]) -> NDArray[_T]:
        return values if identity else values[order]

    window = st.column("start_pickup_drop_off_window")
    return Timetable(
        table=st,
        order=order,
        trip=by_trip(trip).astype(np.int64),
        trip_ids=trip_values.values,
        arrival=by_trip(time_array(st.column("arrival_time"))),
        departure=by_trip(time_array(st.column("departure_time"))),
        stop=by_trip(codes(st.column("stop_id"), stop_index)),
        flex=by_trip(window.mapped(~window.per_value(is_blank))),
        in_file_order=identity,
    )


def _trip_order(trip: NDArray[np.int32], seq: I64) -> tuple[I64, bool]:
    """``np.lexsort((seq, trip))`` and whether it is the identity: files are usually in
    that order already, and then nothing needs sorting."""
    step = np.diff(trip)
    if ((step > 0) | ((step == 0) & (seq[1:] >= seq[:-1]))).all():
        return np.arange(len(trip), dtype=np.int64), True
    return np.lexsort((seq, trip)), False


def check_stop_time_order(tt: Timetable, sink: NoticeCollector) -> None:
    """Times present in pairs, departure not before arrival, arrival not before the
    previous departure, and both times at the first and last stop of every trip."""
    name = "stop_times.txt"
    # Written (maybe invalid: reported as invalid_time) versus usable times.
    set_a, set_d = tt.arrival != BLANK_TIME, tt.departure != BLANK_TIME
    has_a, has_d = tt.arrival >= 0, tt.departure >= 0
    for k in np.flatnonzero(set_a != set_d).tolist():
        missing = "departure_time" if set_a[k] else "arrival_time"
        sink.error(
            "stop_time_with_only_arrival_or_departure_time",
            f"trip {tt.trip_ids[tt.trip[k]]}: {missing} is empty while the other time is set",
            name,
            tt.row(k),
            missing,
        )
    for k in np.flatnonzero(has_a & has_d & (tt.departure < tt.arrival)).tolist():
        sink.error(
            "start_and_end_range_out_of_order",
            f"trip {tt.trip_ids[tt.trip[k]]}: departure_time {_hms(tt.departure[k])} is before "
            f"arrival_time {_hms(tt.arrival[k])}",
            name,
            tt.row(k),
            "departure_time",
        )
    # Previous row of the same trip with a departure time (times may be omitted between timepoints).
    n = tt.size
    with_dep = np.where(has_d, np.arange(n), -1)
    last_dep = np.maximum.accumulate(with_dep)
    prev = np.full(n, -1, dtype=np.int64)
    prev[1:] = last_dep[:-1]
    safe = np.maximum(prev, 0)
    valid = (prev >= 0) & (tt.trip[safe] == tt.trip) & has_a
    for k in np.flatnonzero(valid & (tt.arrival < tt.departure[safe])).tolist():
        p = int(prev[k])
        sink.error(
            "stop_time_with_arrival_before_previous_departure_time",
            f"trip {tt.trip_ids[tt.trip[k]]}: arrival_time {_hms(tt.arrival[k])} is before the departure "
            f"{_hms(tt.departure[p])} of row {tt.row(p)}",
            name,
            tt.row(k),
            "arrival_time",
        )
    first = tt.first_of_trip()
    edge = (first | tt.last_of_trip()) & ~tt.flex & ~set_a & ~set_d
    for k in np.flatnonzero(edge).tolist():
        missing = "arrival_time"
        sink.error(
            "missing_trip_edge",
            f"trip {tt.trip_ids[tt.trip[k]]}: its {'first' if first[k] else 'last'} stop time "
            "has neither arrival_time nor departure_time",
            name,
            tt.row(k),
            missing,
        )


def check_trip_usage(feed: GtfsTables, tt: Timetable | None, sink: NoticeCollector) -> None:
    """Trips with no stop time (unused) or a single one (unusable)."""
    trips = feed.get("trips.txt")
    if trips is None or not trips.has("trip_id") or "stop_times.txt" not in feed.tables:
        return
    counts: dict[str, int] = {}
    if tt is not None:
        per_code = np.bincount(tt.trip, minlength=len(tt.trip_ids))
        counts = dict(zip(tt.trip_ids, per_code.tolist(), strict=True))
    ids = trips.column("trip_id")
    count = ids.mapped(np.array([counts.get(t, 0) for t in ids.values], dtype=np.int64))
    for i in np.flatnonzero(count <= 1).tolist():
        t, c = ids[i], int(count[i])
        if c == 0:
            sink.warning("unused_trip", f"trip {t} has no stop times", "trips.txt", trips.row(i), "trip_id")
        elif c == 1:
            sink.warning(
                "unusable_trip", f"trip {t} has a single stop time", "trips.txt", trips.row(i), "trip_id"
            )


@dataclass(frozen=True)
class StopPoints:
    ids: Sequence[str]
    lat: F64  # NaN where unknown; platforms without a position take their parent's
    lon: F64


def stop_points(feed: GtfsTables) -> tuple[StopPoints, dict[str, int]]:
    stops = feed.get("stops.txt")
    if stops is None:
        return StopPoints((), np.empty(0), np.empty(0)), {}
    index = first_index(stops.column("stop_id"))
    lat = float_array(stops.column("stop_lat"))
    lon = float_array(stops.column("stop_lon"))
    with np.errstate(invalid="ignore"):
        bad = ~((np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    lat[bad] = np.nan
    lon[bad] = np.nan
    parent = codes(stops.column("parent_station"), index)
    fill = np.flatnonzero(np.isnan(lat) & (parent >= 0))
    lat[fill], lon[fill] = lat[parent[fill]], lon[parent[fill]]
    return StopPoints(stops.column("stop_id"), lat, lon), index


def trip_route_types(feed: GtfsTables, tt: Timetable) -> I64:
    """route_type per trip code; -1 when the trip or its route is unknown."""
    trips, routes = feed.get("trips.txt"), feed.get("routes.txt")
    if trips is None or routes is None:
        return np.full(len(tt.trip_ids), -1, dtype=np.int64)
    route_type = dict(
        zip(routes.column("route_id"), int_array(routes.column("route_type")).tolist(), strict=True)
    )
    route_of_trip = dict(zip(trips.column("trip_id"), trips.column("route_id"), strict=True))
    return np.array([route_type.get(route_of_trip.get(t, ""), -1) for t in tt.trip_ids], dtype=np.int64)


def check_travel_speed(feed: GtfsTables, tt: Timetable, stops: StopPoints, sink: NoticeCollector) -> None:
    """fast_travel_between_consecutive_stops, as the canonical validator measures it:
    straight-line distance over (arrival - previous departure), a zero or negative time
    counted as one minute, and one extra minute when both times are whole minutes
    (scheduling systems that round to the minute)."""
    if len(stops.lat) == 0:
        return
    # Timed rows at a known position; consecutive such rows of one trip make a hop.
    placed = ~np.isnan(stops.lat)
    timed = (tt.arrival >= 0) | (tt.departure >= 0)
    rows = np.flatnonzero(timed & (tt.stop >= 0) & placed[np.maximum(tt.stop, 0)])
    if len(rows) < 2:
        return
    p, q = rows[:-1], rows[1:]
    same_trip = tt.trip[p] == tt.trip[q]
    p, q = p[same_trip], q[same_trip]
    route_type_of_trip = trip_route_types(feed, tt)
    # A block of hops at a time: a dozen float arrays per hop, not per stop time of the feed.
    for lo in range(0, len(p), _HOP_BLOCK):
        hops = slice(lo, lo + _HOP_BLOCK)
        _report_fast_hops(tt, stops, p[hops], q[hops], route_type_of_trip, sink)


_HOP_BLOCK = 1 << 20


def _report_fast_hops(
    tt: Timetable, stops: StopPoints, p: I64, q: I64, route_type_of_trip: I64, sink: NoticeCollector
) -> None:
    """The hops from sorted row p[j] to q[j] that are too fast for their route_type."""
    arr_q = np.where(tt.arrival[q] >= 0, tt.arrival[q], tt.departure[q]).astype(np.int64)
    dep_p = np.where(tt.departure[p] >= 0, tt.departure[p], tt.arrival[p]).astype(np.int64)
    dt = arr_q - dep_p
    seconds = np.where(dt <= 0, 60, dt)
    seconds = np.where((dt > 0) & (arr_q % 60 == 0) & (dep_p % 60 == 0), seconds + 60, seconds)
    from_stop, to_stop = tt.stop[p], tt.stop[q]
    dist = haversine_m(stops.lat[from_stop], stops.lon[from_stop], stops.lat[to_stop], stops.lon[to_stop])
    speed = dist / 1000.0 * 3600.0 / seconds
    route_type = route_type_of_trip[tt.trip[q]]
    kinds, kind = np.unique(route_type, return_inverse=True)
    limits = [max_speed_kmh(rt) if rt >= 0 else UNKNOWN_MODE_MAX_SPEED_KMH for rt in kinds.tolist()]
    limit = np.array(limits, dtype=np.float64)[kind]
    for j in sink.capped("fast_travel_between_consecutive_stops", np.flatnonzero(speed > limit)):
        a, b = int(p[j]), int(q[j])
        rt = int(route_type[j])
        sink.warning(
            "fast_travel_between_consecutive_stops",
            f"trip {tt.trip_ids[tt.trip[b]]}: {dist[j] / 1000:.2f} km from stop {stops.ids[tt.stop[a]]} to "
            f"{stops.ids[tt.stop[b]]} in {int(dt[j])} s is {speed[j]:.0f} km/h, above {limit[j]:.0f} km/h "
            f"for route_type {rt if rt >= 0 else 'unknown'}",
            "stop_times.txt",
            tt.row(b),
            "arrival_time",
        )


@dataclass(frozen=True)
class ShapeLines:
    ids: list[str]
    start: I64  # first point of shape s is lat[start[s]]; points of s end at start[s + 1]
    lat: F64
    lon: F64


def shape_lines(feed: GtfsTables) -> ShapeLines | None:
    """Points of every shape in sequence order (unparsable points dropped)."""
    shapes = feed.get("shapes.txt")
    if shapes is None or shapes.size == 0 or not shapes.has("shape_id"):
        return None
    ids = shapes.column("shape_id")
    shape = ids.codes.astype(np.int64)  # shapes numbered in order of first appearance
    lat = float_array(shapes.column("shape_pt_lat"))
    lon = float_array(shapes.column("shape_pt_lon"))
    seq = int_array(shapes.column("shape_pt_sequence"))
    with np.errstate(invalid="ignore"):
        ok = (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    keep = np.flatnonzero(ok)
    order = keep[np.lexsort((seq[keep], shape[keep]))]
    start = np.searchsorted(shape[order], np.arange(len(ids.values) + 1))
    return ShapeLines(ids.values, start.astype(np.int64), lat[order], lon[order])


def check_stops_near_shapes(
    feed: GtfsTables, tt: Timetable, stops: StopPoints, sink: NoticeCollector
) -> None:
    """stop_too_far_from_shape: each (shape, stop) pair served by a trip, measured once."""
    trips = feed.get("trips.txt")
    lines = shape_lines(feed)
    if trips is None or lines is None or not trips.has("shape_id") or len(stops.lat) == 0:
        return
    shape_index = {s: i for i, s in enumerate(lines.ids)}
    shape_of_trip = dict(zip(trips.column("trip_id"), trips.column("shape_id"), strict=True))
    trip_shape = np.array(
        [shape_index.get(shape_of_trip.get(t, ""), -1) for t in tt.trip_ids], dtype=np.int64
    )
    shape = trip_shape[tt.trip]
    placed = ~np.isnan(stops.lat)
    usable = (shape >= 0) & (tt.stop >= 0) & placed[np.maximum(tt.stop, 0)]
    if not usable.any():
        return
    n_stops = len(stops.lat)
    # First occurrence (by file row) of each pair names the row of the notice.
    by_row = tt.in_file_order_of(usable)
    pair_keys, first = np.unique(shape[by_row] * n_stops + tt.stop[by_row], return_index=True)
    pair_shape, pair_stop, pair_row = pair_keys // n_stops, pair_keys % n_stops, by_row[first]
    bounds = np.searchsorted(pair_shape, np.arange(len(lines.ids) + 1))
    for s in np.flatnonzero(np.diff(bounds) > 0).tolist():
        a, b = int(lines.start[s]), int(lines.start[s + 1])
        if b - a < 2:
            continue  # a shape of one point has no line to be near
        sel = slice(int(bounds[s]), int(bounds[s + 1]))
        st = pair_stop[sel]
        dist = distance_to_polyline_m(stops.lat[st], stops.lon[st], lines.lat[a:b], lines.lon[a:b])
        for j in np.flatnonzero(dist > MAX_STOP_TO_SHAPE_M).tolist():
            k = int(pair_row[sel][j])
            sink.warning(
                "stop_too_far_from_shape",
                f"stop {stops.ids[int(st[j])]} is {dist[j]:.0f} m from shape {lines.ids[s]} of trip "
                f"{tt.trip_ids[tt.trip[k]]} (more than {MAX_STOP_TO_SHAPE_M:.0f} m)",
                "stop_times.txt",
                tt.row(k),
                "stop_id",
            )


def distance_to_polyline_m(lat: F64, lon: F64, line_lat: F64, line_lon: F64) -> F64:
    """Distance in metres from each point to the nearest segment of the polyline.

    Each point is measured in its own local equirectangular frame (metres east/north of
    it), exact enough at the 100 m scale this is used for.
    """
    out = np.empty(len(lat), dtype=np.float64)
    m = len(line_lat) - 1
    step = max(1, _BLOCK // max(m, 1))
    ky = np.radians(1.0) * EARTH_RADIUS_M
    for lo in range(0, len(lat), step):
        plat, plon = lat[lo : lo + step, None], lon[lo : lo + step, None]
        kx = ky * np.cos(np.radians(plat))
        ax, ay = (line_lon[None, :-1] - plon) * kx, (line_lat[None, :-1] - plat) * ky
        bx, by = (line_lon[None, 1:] - plon) * kx, (line_lat[None, 1:] - plat) * ky
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(length2 > 0, -(ax * dx + ay * dy) / length2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        cx, cy = ax + t * dx, ay + t * dy
        out[lo : lo + step] = np.sqrt((cx * cx + cy * cy).min(axis=1))
    return out


def _hms(seconds: int | np.integer) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
