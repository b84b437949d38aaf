"""The normalized model: what every loader produces and what ``routing.build`` consumes.

Columnar (numpy arrays + tuples of strings), nigiri-style: an entity is an index into
its table, ids are namespaced ``FEED:ID`` so several feeds never collide. Times in
stop_times are seconds after the *service day's* local noon minus 12 h, exactly as in
GTFS (so they may exceed 24 h); they become UTC only when combined with a service date
and the route's time zone (see ``Agency.timezone``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from feeds.quality import Notice

F64 = NDArray[np.float64]
F32 = NDArray[np.float32]
I64 = NDArray[np.int64]
I32 = NDArray[np.int32]
I8 = NDArray[np.int8]
U8 = NDArray[np.uint8]
Bool = NDArray[np.bool_]


def ns(feed_id: str, local_id: str) -> str:
    """The project-wide id of an entity of one feed."""
    return f"{feed_id}:{local_id}"


@dataclass(frozen=True, slots=True)
class FeedSource:
    """One input feed: where it came from and what it covers."""

    id: str
    kind: str  # gtfs, osm, gbfs, gofs
    path: str
    sha256: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    publisher: str = ""
    version: str = ""


@dataclass(frozen=True, slots=True)
class Agency:
    id: str  # namespaced
    name: str
    url: str
    timezone: str  # IANA name
    feed_id: str


@dataclass(frozen=True, slots=True)
class Route:
    id: str  # namespaced
    agency: int  # index into TransitData.agencies
    short_name: str
    long_name: str
    route_type: int  # GTFS (basic or extended) route_type as given
    mode: str  # bus, tram, subway, rail, ferry, cable_car, gondola, funicular, trolleybus, monorail, coach
    color: str  # 6 hex digits, no '#'; "" when absent
    text_color: str


@dataclass(frozen=True)
class Stops:
    """Stops, stations, entrances: one row each (location_type kept)."""

    ids: tuple[str, ...]  # namespaced
    names: tuple[str, ...]
    lat: F64
    lon: F64
    location_type: I8  # GTFS 0..4
    parent: I32  # index of parent station, -1 when none
    wheelchair: I8  # 0 unknown, 1 accessible, 2 not (inherited from parent when 0)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Trips:
    """Trips, frequency templates already expanded into one row per departure.

    ``ids`` keeps the GTFS trip id (namespaced); expanded frequency trips share it and
    differ by ``freq_start``. Stop times of trip ``t`` are rows
    ``st_offset[t] : st_offset[t + 1]`` of :class:`StopTimes`.
    """

    ids: tuple[str, ...]
    route: I32
    service: I32  # index into Services
    headsign: tuple[str, ...]
    direction: I8  # -1 unknown
    shape: I32  # index into Shapes, -1 when none
    wheelchair: I8  # 0 unknown, 1 accessible, 2 not
    freq_start: I32  # -1 for scheduled trips, else the expanded start (s)
    st_offset: I64  # len(ids) + 1

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class StopTimes:
    """Flat stop times, grouped by trip in stop_sequence order; times already
    interpolated where the feed left them blank."""

    stop: I32
    arrival: I32
    departure: I32
    pickup: I8  # GTFS pickup_type (0 regular, 1 none, 2 phone, 3 driver)
    drop_off: I8
    shape_dist: F32  # NaN when absent


@dataclass(frozen=True)
class Services:
    """Service calendars resolved to days: ``active[s, d]`` is True when service
    ``s`` runs on ``base_date + d`` (calendar + calendar_dates applied)."""

    ids: tuple[str, ...]  # namespaced
    base_date: dt.date
    active: Bool  # shape (n_services, n_days)

    @property
    def n_days(self) -> int:
        return int(self.active.shape[1])

    def dates(self) -> tuple[dt.date, dt.date] | None:
        """First and last day with at least one active service."""
        days = np.flatnonzero(self.active.any(axis=0))
        if days.size == 0:
            return None
        return (
            self.base_date + dt.timedelta(days=int(days[0])),
            self.base_date + dt.timedelta(days=int(days[-1])),
        )


@dataclass(frozen=True)
class Shapes:
    """Shape polylines in CSR: points of shape ``k`` are ``offset[k]:offset[k+1]``."""

    ids: tuple[str, ...]
    offset: I64
    lat: F64
    lon: F64
    dist: F32  # shape_dist_traveled, NaN when absent


@dataclass(frozen=True)
class Transfers:
    """transfers.txt rows (stop indices); type 2 carries ``min_time``."""

    from_stop: I32
    to_stop: I32
    transfer_type: I8
    min_time: I32  # -1 when absent


@dataclass(frozen=True)
class TransitData:
    """Everything routing needs from one or several GTFS feeds, merged."""

    sources: tuple[FeedSource, ...]
    agencies: tuple[Agency, ...]
    routes: tuple[Route, ...]
    stops: Stops
    trips: Trips
    stop_times: StopTimes
    services: Services
    shapes: Shapes
    transfers: Transfers
    notices: tuple[Notice, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class StreetNetwork:
    """Directed street graph in CSR (edges of node ``u`` are ``offset[u]:offset[u+1]``).

    A two-way street is two edges. ``flags`` bits: 1 walk, 2 bike, 4 car.
    Node coordinates give edge geometry (every OSM node of a way is a graph node).
    """

    node_osm_id: I64
    lat: F64
    lon: F64
    offset: I64
    target: I32
    length_m: F32
    flags: U8
    car_speed_mps: F32  # from maxspeed / highway class; 0 where cars may not go
    name: I32  # index into names, -1 unnamed
    names: tuple[str, ...]

    WALK = 1
    BIKE = 2
    CAR = 4

    @property
    def n_nodes(self) -> int:
        return int(self.lat.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.target.shape[0])
