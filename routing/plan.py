"""The one boundary every engine implements: ``JourneyPlanner.plan(request) -> PlanResult``.

Requests and results are frozen dataclasses; :func:`result_to_dict` renders a result in
the JSON contract of DESIGN.md section 4 (the gateway and ``maas plan --json`` share it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from routing.errors import BadRequest

TRANSIT_MODES = frozenset(
    {"bus", "tram", "subway", "rail", "ferry", "cable_car", "gondola", "funicular", "trolleybus", "monorail", "coach"}
)
STREET_MODES = frozenset({"walk", "bike", "bikeshare", "scooter", "ridehail", "car"})
ALL_MODES = TRANSIT_MODES | STREET_MODES | {"transit"}
DEFAULT_MODES = frozenset({"walk", "transit"})

Reason = Literal["outside_coverage", "no_service_on_date", "no_connection", "unknown_stop"]


@dataclass(frozen=True, slots=True)
class Place:
    """A coordinate, or a stop by its namespaced id (``stop:FEED:ID`` on the CLI)."""

    lat: float | None = None
    lon: float | None = None
    stop_id: str | None = None

    @classmethod
    def parse(cls, text: str, field_name: str = "place") -> Place:
        text = text.strip()
        if text.startswith("stop:"):
            sid = text[5:]
            if ":" not in sid:
                raise BadRequest(field_name, f"stop place must be stop:FEED:STOP_ID, got {text!r}")
            return cls(stop_id=sid)
        parts = text.split(",")
        if len(parts) != 2:
            raise BadRequest(field_name, f"expected LAT,LON or stop:FEED:STOP_ID, got {text!r}")
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            raise BadRequest(field_name, f"expected LAT,LON numbers, got {text!r}") from None
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise BadRequest(field_name, f"coordinates out of range: {text!r}")
        return cls(lat=lat, lon=lon)

    def __str__(self) -> str:
        return f"stop:{self.stop_id}" if self.stop_id else f"{self.lat},{self.lon}"


def parse_modes(text: str | None, field_name: str = "modes") -> frozenset[str]:
    if not text:
        return DEFAULT_MODES
    modes = frozenset(m.strip().lower() for m in text.split(",") if m.strip())
    unknown = modes - ALL_MODES
    if unknown:
        raise BadRequest(field_name, f"unknown mode(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(ALL_MODES))}")
    return modes


@dataclass(frozen=True, slots=True)
class PlanRequest:
    origin: Place
    destination: Place
    time: dt.datetime  # timezone-aware
    arrive_by: bool = False
    modes: frozenset[str] = DEFAULT_MODES
    window_s: int = 0  # range query: departures in [time, time + window_s]
    max_walk_m: float = 2000.0  # per access/egress/transfer walk
    num_itineraries: int = 5
    wheelchair: bool = False

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise BadRequest("time", "needs a UTC offset (ISO 8601, e.g. 2021-12-02T08:00:00-08:00)")
        if self.window_s < 0 or self.window_s > 6 * 3600:
            raise BadRequest("window_s", "must be between 0 and 21600")
        if not 1 <= self.num_itineraries <= 20:
            raise BadRequest("num_itineraries", "must be between 1 and 20")
        if self.max_walk_m < 0:
            raise BadRequest("max_walk_m", "must be >= 0")

    @property
    def transit_modes(self) -> frozenset[str]:
        """Transit sub-modes allowed ("transit" means all of them)."""
        if "transit" in self.modes:
            return TRANSIT_MODES
        return self.modes & TRANSIT_MODES


@dataclass(frozen=True, slots=True)
class LegPlace:
    name: str
    lat: float
    lon: float
    stop_id: str | None = None


@dataclass(frozen=True, slots=True)
class Money:
    amount: float
    currency: str


@dataclass(frozen=True, slots=True)
class RouteInfo:
    id: str
    short_name: str
    long_name: str
    type: int
    color: str
    agency: str


@dataclass(frozen=True, slots=True)
class Provider:
    id: str
    name: str
    deep_link: str | None = None


@dataclass(frozen=True, slots=True)
class VehicleInfo:
    """The vehicle type of a rental leg (GBFS vehicle_types)."""

    id: str
    name: str
    form_factor: str  # bicycle, scooter_standing, ...
    propulsion: str  # human, electric_assist, electric, ...


@dataclass(frozen=True, slots=True)
class LegAlert:
    """A service alert (GTFS-RT) in force on a transit leg."""

    id: str  # FEED:ALERT_ID
    header: str
    effect: str  # GTFS-RT Effect, lower-case: no_service, significant_delays, detour, ...
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Leg:
    mode: str  # walk, bike, car, bikeshare, scooter, ridehail, or a transit mode (bus, rail, ...)
    from_place: LegPlace
    to_place: LegPlace
    start_time: dt.datetime
    end_time: dt.datetime
    distance_m: float
    polyline: str  # Google encoded polyline
    precision: int = 5
    route: RouteInfo | None = None
    trip_id: str | None = None
    service_date: dt.date | None = None
    headsign: str | None = None
    intermediate_stops: tuple[LegPlace, ...] = ()
    delay_s: int | None = None
    cancelled: bool = False
    provider: Provider | None = None
    price: Money | None = None
    # shared mobility (written only when set)
    vehicle_type: VehicleInfo | None = None
    availability_known: bool | None = None  # False: the live feed is down, vehicles may not be there
    pickup_wait_s: int | None = None  # ride-hail: the leg starts this long after it was requested
    alerts: tuple[LegAlert, ...] = ()  # transit: service alerts in force (written only when any)


@dataclass(frozen=True, slots=True)
class Itinerary:
    legs: tuple[Leg, ...]
    transfers: int
    walk_distance_m: float
    price: Money | None = None
    co2_g: float | None = None

    @property
    def start_time(self) -> dt.datetime:
        return self.legs[0].start_time

    @property
    def end_time(self) -> dt.datetime:
        return self.legs[-1].end_time

    @property
    def duration_s(self) -> int:
        return int((self.end_time - self.start_time).total_seconds())


@dataclass(frozen=True, slots=True)
class PlanResult:
    itineraries: tuple[Itinerary, ...]
    graph_version: str
    realtime_epoch: int = 0
    reason: Reason | None = None
    timing_ms: dict[str, float] = field(default_factory=dict)


class JourneyPlanner(Protocol):
    """What every engine offers: the gateway, CLI, analysis and tests call only this."""

    name: str

    def plan(self, request: PlanRequest) -> PlanResult: ...


def _place(p: LegPlace) -> dict[str, Any]:
    d: dict[str, Any] = {"name": p.name, "lat": round(p.lat, 6), "lon": round(p.lon, 6)}
    if p.stop_id is not None:
        d["stop_id"] = p.stop_id
    return d


def _money(m: Money | None) -> dict[str, Any] | None:
    return None if m is None else {"amount": round(m.amount, 2), "currency": m.currency}


def leg_to_dict(leg: Leg) -> dict[str, Any]:
    d: dict[str, Any] = {
        "mode": leg.mode,
        "from": _place(leg.from_place),
        "to": _place(leg.to_place),
        "start_time": leg.start_time.isoformat(),
        "end_time": leg.end_time.isoformat(),
        "distance_m": round(leg.distance_m, 1),
        "geometry": {"polyline": leg.polyline, "precision": leg.precision},
        "price": _money(leg.price),
    }
    if leg.route is not None:
        r = leg.route
        d["route"] = {
            "id": r.id, "short_name": r.short_name, "long_name": r.long_name,
            "type": r.type, "color": r.color, "agency": r.agency,
        }
        d["trip_id"] = leg.trip_id
        d["service_date"] = leg.service_date.isoformat() if leg.service_date else None
        d["headsign"] = leg.headsign
        d["intermediate_stops"] = [_place(p) for p in leg.intermediate_stops]
        d["realtime"] = {"delay_s": leg.delay_s, "cancelled": leg.cancelled}
        if leg.alerts:
            d["alerts"] = [{"id": a.id, "header": a.header, "effect": a.effect, "url": a.url} for a in leg.alerts]
    if leg.provider is not None:
        d["provider"] = {"id": leg.provider.id, "name": leg.provider.name, "deep_link": leg.provider.deep_link}
    if leg.vehicle_type is not None:
        v = leg.vehicle_type
        d["vehicle_type"] = {"id": v.id, "name": v.name, "form_factor": v.form_factor, "propulsion": v.propulsion}
    if leg.availability_known is not None:
        d["availability_known"] = leg.availability_known
    if leg.pickup_wait_s is not None:
        d["pickup_wait_s"] = leg.pickup_wait_s
    return d


def itinerary_to_dict(it: Itinerary) -> dict[str, Any]:
    return {
        "start_time": it.start_time.isoformat(),
        "end_time": it.end_time.isoformat(),
        "duration_s": it.duration_s,
        "transfers": it.transfers,
        "walk_distance_m": round(it.walk_distance_m, 1),
        "price": _money(it.price),
        "co2_g": None if it.co2_g is None else round(it.co2_g, 1),
        "legs": [leg_to_dict(leg) for leg in it.legs],
    }


def result_to_dict(result: PlanResult) -> dict[str, Any]:
    return {
        "itineraries": [itinerary_to_dict(it) for it in result.itineraries],
        "reason": result.reason,
        "graph_version": result.graph_version,
        "realtime_epoch": result.realtime_epoch,
    }
