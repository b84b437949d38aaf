"""The GBFS model: one system's static part (:class:`GbfsFeed`, built into the artifact)
and its live part (:class:`GbfsStatus`, an overlay refreshed without rebuilding).

Every id is namespaced ``SYSTEM:ID`` (:func:`feeds.model.ns`), the way GTFS ids are
namespaced by feed, so two systems never collide. Coordinates are WGS 84 degrees,
distances metres, times aware UTC datetimes, money a :class:`Price` in the plan's
currency. Versions 1.x-3.0 all load into the same shapes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from feeds.gbfs.documents import Polygon


class FormFactor(StrEnum):
    BICYCLE = "bicycle"
    CARGO_BICYCLE = "cargo_bicycle"
    CAR = "car"
    MOPED = "moped"
    SCOOTER_STANDING = "scooter_standing"  # also v2.0-v2.2 "scooter"
    SCOOTER_SEATED = "scooter_seated"
    OTHER = "other"


class Propulsion(StrEnum):
    HUMAN = "human"
    ELECTRIC_ASSIST = "electric_assist"
    ELECTRIC = "electric"
    COMBUSTION = "combustion"
    COMBUSTION_DIESEL = "combustion_diesel"
    HYBRID = "hybrid"
    PLUG_IN_HYBRID = "plug_in_hybrid"
    HYDROGEN_FUEL_CELL = "hydrogen_fuel_cell"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Price:
    """An amount of money; what GBFS pricing and ride-hail estimates produce."""

    amount: float
    currency: str  # ISO 4217


@dataclass(frozen=True, slots=True)
class RentalUris:
    """Deep links into the operator's app for one station or vehicle."""

    android: str = ""
    ios: str = ""
    web: str = ""


@dataclass(frozen=True, slots=True)
class System:
    id: str  # system_id, the namespace of every other id
    name: str
    timezone: str  # IANA name ("" when the feed has none)
    version: str = ""  # declared GBFS version, "" for v1.x feeds without one
    short_name: str = ""
    operator: str = ""
    url: str = ""
    languages: tuple[str, ...] = ()
    license_url: str = ""
    opening_hours: str = ""  # v3.0, OSM opening_hours syntax
    feed_contact_email: str = ""


@dataclass(frozen=True, slots=True)
class VehicleType:
    id: str  # namespaced
    form_factor: FormFactor
    propulsion: Propulsion
    max_range_m: float | None = None
    name: str = ""
    max_permitted_speed_kph: float | None = None
    return_constraint: str = ""  # free_floating, roundtrip_station, any_station, hybrid
    default_pricing_plan_id: str | None = None  # namespaced
    pricing_plan_ids: tuple[str, ...] = ()  # namespaced

    @property
    def motorized(self) -> bool:
        return self.propulsion not in (Propulsion.HUMAN, Propulsion.UNKNOWN)


@dataclass(frozen=True, slots=True)
class Station:
    id: str  # namespaced SYSTEM:ID
    name: str
    lat: float
    lon: float
    capacity: int | None = None
    is_virtual: bool = False
    short_name: str = ""
    address: str = ""
    region_id: str = ""
    rental_uris: RentalUris = RentalUris()


@dataclass(frozen=True, slots=True)
class StationStatus:
    station_id: str  # namespaced
    num_vehicles_available: int
    num_docks_available: int | None
    is_installed: bool
    is_renting: bool
    is_returning: bool
    # (namespaced vehicle type id, count), when the feed breaks availability down by type
    vehicles_available_by_type: tuple[tuple[str, int], ...] = ()
    last_reported: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class FreeVehicle:
    """A rentable vehicle of free_bike_status (v2) / vehicle_status (v3). Vehicles parked
    at a station carry that station's id and position."""

    id: str  # namespaced
    lat: float
    lon: float
    vehicle_type_id: str | None  # namespaced; None: the feed has no types (a plain bicycle)
    is_reserved: bool = False
    is_disabled: bool = False
    range_m: float | None = None
    station_id: str | None = None  # namespaced
    pricing_plan_id: str | None = None  # namespaced
    rental_uris: RentalUris = RentalUris()

    @property
    def rentable(self) -> bool:
        return not (self.is_reserved or self.is_disabled)


@dataclass(frozen=True, slots=True)
class PricingSegment:
    """One element of ``per_min_pricing`` / ``per_km_pricing`` (see feeds.gbfs.pricing)."""

    start: float
    rate: float
    interval: float
    end: float | None = None


@dataclass(frozen=True, slots=True)
class PricingPlan:
    id: str  # namespaced
    name: str
    currency: str
    price: float  # base price: the unlock fee when segments follow, else the total
    is_taxable: bool
    description: str = ""
    per_min_pricing: tuple[PricingSegment, ...] = ()
    per_km_pricing: tuple[PricingSegment, ...] = ()
    surge_pricing: bool = False
    url: str = ""


@dataclass(frozen=True, slots=True)
class GeofencingRule:
    """What a zone (or the system, for global rules) allows. ``None`` means the rule does
    not say, so a rule further down the precedence order decides."""

    vehicle_type_ids: tuple[str, ...] = ()  # namespaced; empty: every vehicle type
    ride_start_allowed: bool | None = None
    ride_end_allowed: bool | None = None
    ride_through_allowed: bool | None = None
    maximum_speed_kph: float | None = None
    station_parking: bool | None = None

    @property
    def ride_allowed(self) -> bool | None:
        """The v2.x field: a ride may start *and* end here."""
        if self.ride_start_allowed is None or self.ride_end_allowed is None:
            return None
        return self.ride_start_allowed and self.ride_end_allowed

    def applies_to(self, vehicle_type_id: str | None) -> bool:
        return not self.vehicle_type_ids or vehicle_type_id in self.vehicle_type_ids


@dataclass(frozen=True, slots=True)
class GeofencingZone:
    name: str
    polygons: tuple[Polygon, ...]  # each: exterior ring, then holes; (lon, lat) pairs
    rules: tuple[GeofencingRule, ...]
    start: dt.datetime | None = None  # active window; None: always
    end: dt.datetime | None = None

    def active(self, when: dt.datetime | None) -> bool:
        if when is None:
            return True
        return (self.start is None or self.start <= when) and (self.end is None or when < self.end)


@dataclass(frozen=True)
class Geofencing:
    """All zones of a system in file order, the global rules, and how overlaps resolve.

    ``first_zone_wins`` is the v3.0 precedence (earlier polygon wins, field by field);
    for v2.x feeds the loader sets it False and the most restrictive overlapping rule
    applies, because real v2.x feeds (TIER Oslo) list the operating area *before* the
    no-ride zones inside it and a literal first-wins reading would void those zones.
    """

    zones: tuple[GeofencingZone, ...] = ()
    global_rules: tuple[GeofencingRule, ...] = ()
    first_zone_wins: bool = True


@dataclass(frozen=True, slots=True)
class AlertTime:
    start: dt.datetime
    end: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    id: str  # namespaced
    type: str  # system_closure, station_closure, station_move, other
    summary: str
    description: str = ""
    url: str = ""
    station_ids: tuple[str, ...] = ()  # namespaced
    region_ids: tuple[str, ...] = ()
    times: tuple[AlertTime, ...] = ()
    last_updated: dt.datetime | None = None

    def in_force(self, when: dt.datetime) -> bool:
        if not self.times:
            return True
        return any(t.start <= when and (t.end is None or when < t.end) for t in self.times)


@dataclass(frozen=True, slots=True)
class SystemHours:
    """One row of v1.x/v2.x system_hours.json (v3.0 uses System.opening_hours)."""

    user_types: tuple[str, ...]  # member, nonmember
    days: tuple[str, ...]  # mon..sun
    start_time: str  # HH:MM:SS local
    end_time: str  # HH:MM:SS, may pass 24:00:00


DEFAULT_VEHICLE_TYPE_ID = "default"


@dataclass(frozen=True)
class GbfsFeed:
    """The static part of one system: what the graph artifact holds."""

    system: System
    source: str  # directory or gbfs.json URL it was loaded from
    vehicle_types: tuple[VehicleType, ...] = ()
    stations: tuple[Station, ...] = ()
    pricing_plans: tuple[PricingPlan, ...] = ()
    geofencing: Geofencing = Geofencing()
    alerts: tuple[Alert, ...] = ()
    system_hours: tuple[SystemHours, ...] = ()
    # spec file name -> where it was read (paths or URLs; several for split example files)
    locations: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def id(self) -> str:
        return self.system.id

    @property
    def version(self) -> str:
        return self.system.version

    def location(self, name: str) -> tuple[str, ...]:
        return next((where for n, where in self.locations if n == name), ())

    @cached_property
    def stations_by_id(self) -> dict[str, Station]:
        return {s.id: s for s in self.stations}

    @cached_property
    def vehicle_types_by_id(self) -> dict[str, VehicleType]:
        return {t.id: t for t in self.vehicle_types}

    @cached_property
    def pricing_plans_by_id(self) -> dict[str, PricingPlan]:
        return {p.id: p for p in self.pricing_plans}

    def vehicle_type(self, vehicle_type_id: str | None) -> VehicleType:
        """The type of a vehicle; a feed without vehicle_types.json has only plain
        bicycles (the specification's default)."""
        found = self.vehicle_types_by_id.get(vehicle_type_id or "")
        if found is not None:
            return found
        return VehicleType(f"{self.id}:{DEFAULT_VEHICLE_TYPE_ID}", FormFactor.BICYCLE, Propulsion.HUMAN)

    def pricing_plan_for(self, vehicle: FreeVehicle) -> PricingPlan | None:
        """The vehicle's own plan, else its type's default plan, else the only plan."""
        plans = self.pricing_plans_by_id
        for plan_id in (
            vehicle.pricing_plan_id,
            self.vehicle_type(vehicle.vehicle_type_id).default_pricing_plan_id,
        ):
            if plan_id and plan_id in plans:
                return plans[plan_id]
        return self.pricing_plans[0] if len(self.pricing_plans) == 1 else None


@dataclass(frozen=True)
class GbfsStatus:
    """The live part of one system: availability at ``last_updated``.

    ``stale`` says the data is older than its ttl promised when it was read;
    ``availability_known`` turns False when a refresh failed and the last good snapshot
    has outlived its ttl, so a planner should not trust the counts any more.
    """

    system_id: str
    stations: tuple[StationStatus, ...] = ()
    vehicles: tuple[FreeVehicle, ...] = ()
    last_updated: dt.datetime | None = None  # oldest last_updated of the status files
    ttl: int = 0  # smallest ttl of the status files
    fetched_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    stale: bool = False
    availability_known: bool = True

    def expires_at(self, grace_s: float) -> dt.datetime:
        """When this snapshot stops being trustworthy without a refresh."""
        base = self.last_updated or self.fetched_at
        return base + dt.timedelta(seconds=self.ttl + grace_s)

    @cached_property
    def stations_by_id(self) -> dict[str, StationStatus]:
        return {s.station_id: s for s in self.stations}
