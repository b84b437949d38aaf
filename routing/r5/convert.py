"""r5py result frames -> the project's itineraries and travel-time arrays (pure functions).

The schemas are r5py 1.x's (read in r5py 1.1.7):

- ``DetailedItineraries`` (``r5py/r5/detailed_itineraries.py``, ``trip.py``,
  ``trip_leg.py``, ``trip_planner.py``): one row per segment, columns ``from_id, to_id,
  option, segment, transport_mode, departure_time, distance, travel_time, wait_time,
  feed, agency_id, route_id, start_stop_id, end_stop_id, geometry``. ``option`` numbers
  the alternatives of one origin/destination pair (street-only trips first), ``segment``
  the legs of one option. ``transport_mode`` is an ``r5py.TransportMode``;
  ``departure_time`` a naive local datetime (midnight of the request's date + R5
  seconds), ``NaT`` on street-only trips; ``distance`` metres; ``travel_time`` and
  ``wait_time`` timedeltas (``wait_time`` precedes the leg's departure); ``feed`` is R5's
  feed id (``feed_info.feed_id``, else the GTFS file name without ``.zip``); stop and
  route ids are the feed's own, not namespaced; ``geometry`` a shapely LineString in
  WGS84 (x = lon, y = lat).
- ``TravelTimeMatrix`` (``r5py/r5/travel_time_matrix.py``): ``from_id, to_id`` and
  ``travel_time`` (minutes, NaN when unreachable) when only the median is asked for,
  else one ``travel_time_p{N}`` column per percentile.

Nothing here imports r5py: modes are read from an enum's ``name`` or from text, so the
functions run (and are tested) on frames recorded with that schema.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from feeds.geo import haversine_m
from feeds.model import ns
from routing.errors import EngineUnavailable
from routing.plan import Itinerary, Leg, LegPlace, RouteInfo
from routing.polyline import encode

ITINERARY_COLUMNS = (
    "from_id", "to_id", "option", "segment", "transport_mode", "departure_time", "distance",
    "travel_time", "wait_time", "feed", "agency_id", "route_id", "start_stop_id", "end_stop_id", "geometry",
)
MATRIX_KEY_COLUMNS = ("from_id", "to_id")

# r5py.TransportMode names -> leg modes of the contract (DESIGN.md section 4)
LEG_MODES: dict[str, str] = {
    "WALK": "walk",
    "BICYCLE": "bike",
    "CAR": "car",
    "CAR_PARK": "car",
    "BICYCLE_RENT": "bikeshare",
    "BUS": "bus",
    "TRAM": "tram",
    "SUBWAY": "subway",
    "RAIL": "rail",
    "FERRY": "ferry",
    "CABLE_CAR": "cable_car",
    "GONDOLA": "gondola",
    "FUNICULAR": "funicular",
    "AIR": "air",
    "TRANSIT": "transit",
}
STREET_R5_MODES = frozenset({"WALK", "BICYCLE", "CAR", "CAR_PARK", "BICYCLE_RENT"})


def r5_mode_name(value: object) -> str:
    """``TransportMode.WALK`` (enum member, its ``str()`` or a bare ``WALK``) -> ``"WALK"``."""
    name = getattr(value, "name", None)
    text = str(name if isinstance(name, str) else value).strip()
    return text.rsplit(".", 1)[-1].upper()


def leg_mode(value: object) -> str:
    name = r5_mode_name(value)
    try:
        return LEG_MODES[name]
    except KeyError:
        raise EngineUnavailable(f"r5py returned an unknown transport mode {name!r}") from None


@dataclass(frozen=True)
class ConvertContext:
    """What a frame's rows are resolved against: the graph's time zone, feeds, stops, routes.

    ``feed_ids`` maps R5's feed names to the artifact's feed ids; ``stop`` and ``route``
    look namespaced ids up (``FEED:ID``) and return None for an id the graph lacks.
    """

    timezone: str
    feed_ids: Mapping[str, str]
    stop: Callable[[str], LegPlace | None]
    route: Callable[[str], tuple[RouteInfo, str] | None]  # (info, leg mode)

    def feed_id(self, r5_feed: object) -> str:
        name = _text(r5_feed)
        if name in self.feed_ids:
            return self.feed_ids[name]
        if len(set(self.feed_ids.values())) == 1:  # a single feed: R5's name for it cannot be anything else
            return next(iter(self.feed_ids.values()))
        return name or "r5"


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


def _missing(value: object) -> bool:
    return value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _seconds(value: object) -> float:
    """A timedelta cell (Timedelta, timedelta, or seconds) in seconds; 0 when missing."""
    if _missing(value):
        return 0.0
    if isinstance(value, dt.timedelta):  # pd.Timedelta is a subclass
        return value.total_seconds()
    return float(pd.Timedelta(str(value)).total_seconds()) if isinstance(value, str) else float(str(value))


def _local(value: object, zone: ZoneInfo) -> dt.datetime | None:
    """A naive local time cell (r5py's ``departure_time``) as an aware datetime."""
    if _missing(value):
        return None
    ts: Any = pd.Timestamp(str(value)) if isinstance(value, str) else pd.Timestamp(value)  # type: ignore[arg-type]
    if pd.isna(ts):
        return None
    py: dt.datetime = ts.to_pydatetime()
    return py.astimezone(zone) if py.tzinfo is not None else py.replace(tzinfo=zone)


def _coords(geometry: object) -> tuple[list[float], list[float]]:
    """Latitudes and longitudes of a LineString-like cell (``.coords`` of (x, y))."""
    if _missing(geometry):
        return [], []
    try:
        pts = list(geometry.coords)  # type: ignore[attr-defined]
    except (AttributeError, NotImplementedError):  # empty or multi-part geometry
        parts = getattr(geometry, "geoms", ())
        pts = [p for g in parts for p in g.coords]
    return [float(p[1]) for p in pts], [float(p[0]) for p in pts]


def _length_m(lats: Sequence[float], lons: Sequence[float]) -> float:
    if len(lats) < 2:
        return 0.0
    a, b = np.asarray(lats, dtype=np.float64), np.asarray(lons, dtype=np.float64)
    return float(haversine_m(a[:-1], b[:-1], a[1:], b[1:]).sum())


def check_columns(frame: pd.DataFrame, required: Iterable[str], what: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise EngineUnavailable(
            f"r5py's {what} lacks column(s) {', '.join(missing)} (has: {', '.join(map(str, frame.columns))}); "
            "this r5py version is not supported"
        )


# -- itineraries ---------------------------------------------------------------------------


@dataclass
class _Row:
    mode: str  # leg mode
    transit: bool
    start: dt.datetime | None  # r5py's departure_time, when given
    travel_s: float
    distance: float
    lats: list[float]
    lons: list[float]
    from_place: LegPlace | None = None  # stops of transit legs
    to_place: LegPlace | None = None
    route: RouteInfo | None = None


def _row(rec: Mapping[Any, Any], ctx: ConvertContext, zone: ZoneInfo) -> _Row | None:
    name = r5_mode_name(rec["transport_mode"])
    route_id = _text(rec.get("route_id"))
    transit = name not in STREET_R5_MODES
    lats, lons = _coords(rec.get("geometry"))
    dist = float(rec["distance"]) if not _missing(rec.get("distance")) else math.nan
    if transit and not route_id:
        # r5py's placeholder for an origin equal to its destination: no vehicle, no leg
        return None
    row = _Row(leg_mode(name), transit, _local(rec.get("departure_time"), zone), _seconds(rec.get("travel_time")),
               dist, lats, lons)
    if transit:
        feed = ctx.feed_id(rec.get("feed"))
        found = ctx.route(ns(feed, route_id))
        if found is not None:
            row.route, row.mode = found
        else:
            row.route = RouteInfo(id=ns(feed, route_id), short_name=route_id, long_name="", type=-1, color="",
                                  agency=_text(rec.get("agency_id")))
        for attr, col, end in (("from_place", "start_stop_id", 0), ("to_place", "end_stop_id", -1)):
            sid = _text(rec.get(col))
            place = ctx.stop(ns(feed, sid)) if sid else None
            if place is None and lats:
                place = LegPlace(sid or "stop", lats[end], lons[end], ns(feed, sid) if sid else None)
            setattr(row, attr, place)
    return row


def _times(rows: list[_Row], anchor: dt.datetime, arrive_by: bool) -> list[tuple[dt.datetime, dt.datetime]]:
    """Start and end of each leg: r5py's departure times where given, chained otherwise.

    Legs without a departure time take the end of the leg before; leading ones end where
    the first timed leg starts. A street-only trip has none: it starts at ``anchor``, or
    ends there when ``arrive_by``.
    """
    starts: list[dt.datetime | None] = [r.start for r in rows]
    first = next((i for i, s in enumerate(starts) if s is not None), None)
    if first is None:
        total = sum(r.travel_s for r in rows)
        t = anchor - dt.timedelta(seconds=total) if arrive_by else anchor
        first = 0
        starts[0] = t
    for i in range(first - 1, -1, -1):  # back from the first timed leg
        nxt = starts[i + 1]
        assert nxt is not None
        starts[i] = nxt - dt.timedelta(seconds=rows[i].travel_s)
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for i, r in enumerate(rows):
        s = starts[i]
        if s is None:
            s = out[-1][1]
        out.append((s, s + dt.timedelta(seconds=r.travel_s)))
    return out


def _legs(rows: list[_Row], times: list[tuple[dt.datetime, dt.datetime]], origin: LegPlace,
          destination: LegPlace, service_date: dt.date) -> list[Leg]:
    legs: list[Leg] = []
    n = len(rows)
    for i, (r, (start, end)) in enumerate(zip(rows, times, strict=True)):
        if r.transit:
            a = r.from_place or origin
            b = r.to_place or destination
        else:
            a = legs[-1].to_place if legs else origin
            nxt = rows[i + 1] if i + 1 < n else None
            if nxt is None:
                b = destination
            elif nxt.transit and nxt.from_place is not None:
                b = nxt.from_place
            elif r.lats:
                b = LegPlace("", r.lats[-1], r.lons[-1])
            else:
                b = destination
        lats, lons = (r.lats, r.lons) if len(r.lats) >= 2 else ([a.lat, b.lat], [a.lon, b.lon])
        dist = r.distance if math.isfinite(r.distance) else _length_m(lats, lons)
        legs.append(
            Leg(
                mode=r.mode,
                from_place=a,
                to_place=b,
                start_time=start,
                end_time=end,
                distance_m=dist,
                polyline=encode(np.asarray(lats), np.asarray(lons)),
                route=r.route,
                service_date=service_date if r.transit else None,
            )
        )
    return legs


def itineraries(
    frame: pd.DataFrame,
    ctx: ConvertContext,
    *,
    origin: LegPlace,
    destination: LegPlace,
    anchor: dt.datetime,
    arrive_by: bool = False,
    service_date: dt.date | None = None,
) -> list[Itinerary]:
    """The options of a ``DetailedItineraries`` frame as itineraries, in option order.

    ``anchor`` (timezone-aware) is the request's time: street-only options start there
    (end there when ``arrive_by``). ``service_date`` is the local date R5 searched
    (default: the anchor's). Transfers count transit legs minus one.
    """
    check_columns(frame, ITINERARY_COLUMNS, "DetailedItineraries")
    zone = ZoneInfo(ctx.timezone)
    anchor = anchor.astimezone(zone)
    day = service_date or anchor.date()
    out: list[Itinerary] = []
    if frame.empty:
        return out
    ordered = frame.sort_values(["from_id", "to_id", "option", "segment"], kind="stable")
    for _, group in ordered.groupby(["from_id", "to_id", "option"], sort=False):
        rows = [r for rec in group.to_dict("records") if (r := _row(rec, ctx, zone)) is not None]
        if not rows:
            continue
        legs = _legs(rows, _times(rows, anchor, arrive_by), origin, destination, day)
        transit = sum(1 for r in rows if r.transit)
        out.append(
            Itinerary(
                legs=tuple(legs),
                transfers=max(transit - 1, 0),
                walk_distance_m=sum(leg.distance_m for leg in legs if leg.mode == "walk"),
            )
        )
    return out


def pareto(its: Sequence[Itinerary], arrive_by: bool = False) -> list[Itinerary]:
    """Drop duplicates and options another one beats on departure, arrival and transfers.

    R5 reports a journey once per departure minute of its window; a rider wants the
    Pareto set (leave later, arrive earlier, change less), ordered by arrival (by
    departure, latest first, when ``arrive_by``).
    """
    def key(it: Itinerary) -> tuple[float, float, int]:
        return (-it.start_time.timestamp(), it.end_time.timestamp(), it.transfers)

    keep: list[Itinerary] = []
    seen: set[tuple[float, float, int, tuple[tuple[str, str], ...]]] = set()
    for it in its:
        k = key(it)
        sig = (*k, tuple((leg.mode, leg.route.id if leg.route else "") for leg in it.legs))
        if sig in seen:
            continue
        dominated = any(
            all(a <= b for a, b in zip(key(o), k, strict=True)) and key(o) != k for o in its
        )
        if not dominated:
            seen.add(sig)
            keep.append(it)
    if arrive_by:
        keep.sort(key=lambda it: (-it.start_time.timestamp(), it.end_time.timestamp(), it.transfers))
    else:
        keep.sort(key=lambda it: (it.end_time.timestamp(), -it.start_time.timestamp(), it.transfers))
    return keep


# -- travel-time matrices ----------------------------------------------------------------------


def percentile_columns(frame: pd.DataFrame, percentiles: Sequence[int]) -> list[str]:
    """The frame's column for each percentile: ``travel_time`` for a lone median, else
    ``travel_time_p{N}`` (r5py writes ``{N:d}``; its docstring says ``{N:02d}``, both read)."""
    cols: list[str] = []
    for p in percentiles:
        names = [f"travel_time_p{p:d}", f"travel_time_p{p:02d}"]
        if list(percentiles) == [50]:
            names.insert(0, "travel_time")
        col = next((c for c in names if c in frame.columns), None)
        if col is None:
            check_columns(frame, names[:1], "TravelTimeMatrix")
        assert col is not None
        cols.append(col)
    return cols


def travel_time_matrix(
    frame: pd.DataFrame,
    origin_ids: Sequence[object],
    destination_ids: Sequence[object],
    percentiles: Sequence[int] = (50,),
) -> np.ndarray:
    """A ``TravelTimeMatrix`` frame as float64 seconds, shape (percentiles, origins,
    destinations), NaN where R5 found no connection (or reported no row)."""
    check_columns(frame, MATRIX_KEY_COLUMNS, "TravelTimeMatrix")
    cols = percentile_columns(frame, percentiles)
    out = np.full((len(cols), len(origin_ids), len(destination_ids)), np.nan, dtype=np.float64)
    if frame.empty:
        return out
    o_index = {str(o): i for i, o in enumerate(origin_ids)}
    d_index = {str(d): i for i, d in enumerate(destination_ids)}
    oi = np.array([o_index.get(str(v), -1) for v in frame["from_id"]], dtype=np.int64)
    di = np.array([d_index.get(str(v), -1) for v in frame["to_id"]], dtype=np.int64)
    ok = (oi >= 0) & (di >= 0)
    for k, col in enumerate(cols):
        minutes = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        out[k, oi[ok], di[ok]] = minutes[ok] * 60.0
    return out
