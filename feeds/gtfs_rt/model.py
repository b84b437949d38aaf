"""GTFS-Realtime, normalized: alerts, trip updates and vehicle positions of one feed.

Ids are namespaced ``FEED:ID`` with the id of the *static* feed they refer to (the
realtime feed of ``caltrain_ct`` speaks of ``caltrain_ct:124``), so they compare equal to
the ids of the graph. Times are POSIX seconds (UTC), as on the wire; service dates are
the local dates of the static feed. Enumerations keep the GTFS-RT names, lower-cased
(``"significant_delays"``, ``"canceled"``), so unknown future values still read well.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from feeds.quality import Notice


@dataclass(frozen=True, slots=True)
class Translation:
    text: str
    language: str = ""  # BCP-47, "" when the feed does not say


@dataclass(frozen=True, slots=True)
class TranslatedText:
    translations: tuple[Translation, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.translations)

    def text(self, lang: str | None = None) -> str:
        """The translation in ``lang`` (``en`` also matches ``en-US``), else the one without a
        language, else the first; "" when there is none."""
        if not self.translations:
            return ""
        if lang:
            want = lang.lower()
            for t in self.translations:
                if t.language.lower() == want:
                    return t.text
            for t in self.translations:
                if t.language.lower().split("-")[0] == want.split("-")[0]:
                    return t.text
        for t in self.translations:
            if not t.language:
                return t.text
        return self.translations[0].text


@dataclass(frozen=True, slots=True)
class TimeRange:
    """An active period; a missing end is open (the alert holds until removed)."""

    start: int | None = None
    end: int | None = None

    def contains(self, t: int) -> bool:
        return (self.start is None or self.start <= t) and (self.end is None or t <= self.end)

    def overlaps(self, begin: int, end: int) -> bool:
        return (self.start is None or self.start <= end) and (self.end is None or begin <= self.end)


@dataclass(frozen=True, slots=True)
class InformedEntity:
    """One EntitySelector: every field given must match (fields combine with AND)."""

    agency_id: str | None = None
    route_id: str | None = None
    route_type: int | None = None
    direction_id: int | None = None
    trip_id: str | None = None
    stop_id: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    id: str  # FEED:entity id
    feed_id: str
    cause: str  # unknown_cause, strike, accident, ...
    effect: str  # no_service, reduced_service, significant_delays, detour, ...
    severity: str  # unknown_severity, info, warning, severe
    header: TranslatedText
    description: TranslatedText
    url: TranslatedText
    active_periods: tuple[TimeRange, ...] = ()  # empty: in force as long as it is in the feed
    informed: tuple[InformedEntity, ...] = ()  # empty: the whole feed

    def active_at(self, t: int) -> bool:
        return not self.active_periods or any(p.contains(t) for p in self.active_periods)

    def active_during(self, begin: int, end: int) -> bool:
        return not self.active_periods or any(p.overlaps(begin, end) for p in self.active_periods)


@dataclass(frozen=True, slots=True)
class StopTimeEvent:
    delay: int | None = None  # seconds, relative to the schedule
    time: int | None = None  # POSIX seconds
    uncertainty: int | None = None


@dataclass(frozen=True, slots=True)
class StopTimeUpdate:
    stop_sequence: int | None
    stop_id: str | None  # namespaced
    arrival: StopTimeEvent | None
    departure: StopTimeEvent | None
    relationship: str = "scheduled"  # scheduled, skipped, no_data, unscheduled


@dataclass(frozen=True, slots=True)
class TripUpdate:
    entity_id: str
    trip_id: str | None  # namespaced; None for a trip given by route/direction/start only
    route_id: str | None
    start_date: dt.date | None  # the service date, when the feed gives it
    start_time: str | None  # HH:MM:SS, for frequency-based trips
    relationship: str  # scheduled, added, unscheduled, canceled, duplicated, deleted
    stop_time_updates: tuple[StopTimeUpdate, ...] = ()
    delay: int | None = None  # trip-level delay (applies where no stop update says otherwise)
    timestamp: int | None = None

    @property
    def cancelled(self) -> bool:
        return self.relationship in ("canceled", "deleted")


@dataclass(frozen=True, slots=True)
class VehiclePosition:
    entity_id: str
    trip_id: str | None
    route_id: str | None
    lat: float
    lon: float
    bearing: float | None = None
    timestamp: int | None = None


@dataclass(frozen=True)
class RealtimeFeed:
    """One FeedMessage, normalized. ``ok`` is False when nothing could be read (unreachable,
    not protobuf, unsupported version): the caller then keeps what it had before."""

    feed_id: str
    source: str
    ok: bool
    version: str = ""
    timestamp: int | None = None  # header timestamp, POSIX seconds
    entity_count: int = 0  # entities in the message, including those not kept
    alerts: tuple[Alert, ...] = ()
    trip_updates: tuple[TripUpdate, ...] = ()
    vehicles: tuple[VehiclePosition, ...] = ()
    notices: tuple[Notice, ...] = field(default_factory=tuple)
