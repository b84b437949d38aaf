"""The GOFS v1.0 model: an on-demand service (taxi, microtransit, ride-hail) as zones,
operating rules, calendars, fares and booking rules, plus the wait times of its dynamic
``wait_time`` query.

Ids are namespaced ``FEED:ID`` like everywhere in :mod:`feeds`. Times of day are seconds
from "noon minus 12 h" of the service day and may pass 24 h (``25:00:00``), as in GTFS.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from feeds.gbfs.documents import Polygon


@dataclass(frozen=True, slots=True)
class GofsSystem:
    name: str
    timezone: str  # IANA name
    language: str = ""
    short_name: str = ""
    operator: str = ""
    url: str = ""
    phone_number: str = ""
    email: str = ""
    version: str = ""


@dataclass(frozen=True, slots=True)
class ServiceBrand:
    id: str  # namespaced
    name: str
    color: str = ""  # RRGGBB
    text_color: str = ""


@dataclass(frozen=True, slots=True)
class GofsVehicleType:
    id: str  # namespaced
    max_capacity: int | None = None
    wheelchair_boarding: str = ""  # boarding_accessible, boarding_inaccessible, ...


@dataclass(frozen=True, slots=True)
class Zone:
    id: str  # namespaced
    name: str
    polygons: tuple[Polygon, ...]  # exterior ring then holes, (lon, lat) pairs


@dataclass(frozen=True, slots=True)
class OperatingRule:
    """Service from one zone to another on some calendars, inside a pickup window."""

    from_zone_id: str  # namespaced
    to_zone_id: str
    calendar_ids: tuple[str, ...]
    vehicle_type_ids: tuple[str, ...] = ()
    brand_id: str | None = None  # None: every brand
    fare_id: str | None = None
    start_pickup_s: int | None = None  # None (all three): any time of day
    end_pickup_s: int | None = None
    end_dropoff_s: int | None = None

    @property
    def all_day(self) -> bool:
        return self.start_pickup_s is None

    def pickup_open(self, seconds: float) -> bool:
        """Is pickup possible ``seconds`` after the service day's start?"""
        if self.start_pickup_s is None:
            return 0 <= seconds < 86_400
        end = self.end_pickup_s if self.end_pickup_s is not None else self.end_dropoff_s
        return self.start_pickup_s <= seconds and (end is None or seconds < end)

    def dropoff_open(self, seconds: float) -> bool:
        return self.end_dropoff_s is None or seconds <= self.end_dropoff_s


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class GofsCalendar:
    id: str  # namespaced
    start_date: dt.date
    end_date: dt.date
    days: frozenset[int] = frozenset(range(7))  # 0 = Monday, as date.weekday()
    excepted_dates: frozenset[dt.date] = frozenset()

    def active_on(self, day: dt.date) -> bool:
        return (
            self.start_date <= day <= self.end_date
            and day.weekday() in self.days
            and day not in self.excepted_dates
        )

    @staticmethod
    def day_numbers(names: tuple[str, ...]) -> frozenset[int]:
        return frozenset(_DAYS.index(n) for n in names if n in _DAYS)


@dataclass(frozen=True, slots=True)
class FareSegment:
    """One Fare object: ``amount`` per unit of its key (km, minute, rider, luggage),
    charged every ``interval`` units from ``start`` to ``end``."""

    amount: float
    start: float | None = None
    end: float | None = None
    interval: float | None = None


@dataclass(frozen=True, slots=True)
class Fare:
    id: str  # namespaced
    currency: str
    kilometer: tuple[FareSegment, ...] = ()
    minute: tuple[FareSegment, ...] = ()
    active_minute: tuple[FareSegment, ...] = ()
    idle_minute: tuple[FareSegment, ...] = ()
    rider: tuple[FareSegment, ...] = ()
    luggage: tuple[FareSegment, ...] = ()


@dataclass(frozen=True, slots=True)
class BookingRule:
    from_zone_ids: tuple[str, ...]  # namespaced
    to_zone_ids: tuple[str, ...] | None  # None: any destination
    booking_type: int  # 0 real time, 1 same day with notice, 2 up to prior day(s)
    prior_notice_duration_min: int | None = None  # minutes
    prior_notice_duration_max: int | None = None
    prior_notice_last_day: int | None = None
    prior_notice_last_time_s: int | None = None
    prior_notice_start_day: int | None = None
    prior_notice_start_time_s: int | None = None
    message: str = ""
    phone_number: str = ""
    info_url: str = ""
    booking_url: str = ""

    def covers(self, from_zone_id: str, to_zone_id: str) -> bool:
        return from_zone_id in self.from_zone_ids and (
            self.to_zone_ids is None or to_zone_id in self.to_zone_ids
        )


@dataclass(frozen=True, slots=True)
class RealtimeBooking:
    """One entry of a ``realtime_booking`` query response."""

    brand_id: str  # namespaced
    wait_s: int
    travel_time_s: int | None = None
    travel_cost: float | None = None
    currency: str = ""
    service_name: str = ""
    android_uri: str = ""
    ios_uri: str = ""
    web_uri: str = ""
    phone_number: str = ""


@dataclass(frozen=True)
class GofsFeed:
    id: str  # namespace of every id below
    source: str
    system: GofsSystem
    brands: tuple[ServiceBrand, ...] = ()
    vehicle_types: tuple[GofsVehicleType, ...] = ()
    zones: tuple[Zone, ...] = ()
    operating_rules: tuple[OperatingRule, ...] = ()
    calendars: tuple[GofsCalendar, ...] = ()
    fares: tuple[Fare, ...] = ()
    booking_rules: tuple[BookingRule, ...] = ()
    # (namespaced brand id, seconds): a recorded answer of the dynamic wait_time query
    wait_times: tuple[tuple[str, int], ...] = ()

    @cached_property
    def brands_by_id(self) -> dict[str, ServiceBrand]:
        return {b.id: b for b in self.brands}

    @cached_property
    def calendars_by_id(self) -> dict[str, GofsCalendar]:
        return {c.id: c for c in self.calendars}

    @cached_property
    def fares_by_id(self) -> dict[str, Fare]:
        return {f.id: f for f in self.fares}

    @cached_property
    def wait_time_by_brand(self) -> dict[str, int]:
        return dict(self.wait_times)
