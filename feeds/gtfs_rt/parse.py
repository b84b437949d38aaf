"""FeedMessage protobuf bytes -> :class:`RealtimeFeed`, with notices instead of exceptions.

The bindings (``gtfs-realtime-bindings``) decode; everything after that reads plain
fields, so one malformed entity costs a notice, never the whole feed. What makes the
whole message unusable -- not protobuf, an unsupported major version, a DIFFERENTIAL
feed (only full datasets are applied) -- gives ``ok=False`` and an error notice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2 as pb

from feeds.gtfs_rt.model import (
    Alert,
    InformedEntity,
    RealtimeFeed,
    StopTimeEvent,
    StopTimeUpdate,
    TimeRange,
    TranslatedText,
    Translation,
    TripUpdate,
    VehiclePosition,
)
from feeds.model import ns
from feeds.quality import Notice, Severity

SUPPORTED_MAJOR_VERSIONS = frozenset({"1", "2"})
DEFAULT_MAX_AGE_S = 300.0  # a header older than this is reported as stale (still applied)


def parse_feed_message(
    data: bytes,
    feed_id: str,
    *,
    source: str = "",
    now: dt.datetime | None = None,
    max_age_s: float = DEFAULT_MAX_AGE_S,
) -> RealtimeFeed:
    """Decode one FeedMessage of the realtime feed of static feed ``feed_id``."""
    notices: list[Notice] = []

    def note(severity: Severity, code: str, message: str) -> None:
        notices.append(Notice(severity, code, message, file=source, feed_id=feed_id))

    message = pb.FeedMessage()
    try:
        message.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError) as exc:  # the C decoder raises more than DecodeError
        note(Severity.ERROR, "invalid_protobuf", f"not a GTFS-realtime FeedMessage: {type(exc).__name__}: {exc}")
        return RealtimeFeed(feed_id, source, ok=False, notices=tuple(notices))
    header = message.header
    version = str(header.gtfs_realtime_version)
    if version.split(".")[0] not in SUPPORTED_MAJOR_VERSIONS:
        note(Severity.ERROR, "unsupported_version", f"gtfs_realtime_version {version!r}: only 1.x and 2.x are read")
        return RealtimeFeed(feed_id, source, ok=False, version=version, notices=tuple(notices))
    if header.incrementality == pb.FeedHeader.DIFFERENTIAL:
        note(Severity.ERROR, "unsupported_incrementality", "DIFFERENTIAL feeds are not supported (FULL_DATASET only)")
        return RealtimeFeed(feed_id, source, ok=False, version=version, notices=tuple(notices))
    timestamp = int(header.timestamp) if header.HasField("timestamp") and header.timestamp > 0 else None
    if timestamp is None:
        note(Severity.WARNING, "missing_timestamp", "the header has no timestamp: its age cannot be checked")
    elif now is not None:
        age = now.timestamp() - timestamp
        if age > max_age_s:
            when = dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()
            note(Severity.WARNING, "stale_feed", f"header timestamp {when} is {age:.0f} s old (limit {max_age_s:.0f} s)")
        elif age < -60:
            note(Severity.WARNING, "timestamp_in_future", f"header timestamp is {-age:.0f} s ahead of the clock")

    alerts: list[Alert] = []
    updates: list[TripUpdate] = []
    vehicles: list[VehiclePosition] = []
    for entity in message.entity:
        eid = str(entity.id)
        if entity.is_deleted:
            continue  # only meaningful in DIFFERENTIAL feeds
        try:
            if entity.HasField("alert"):
                alerts.append(_alert(feed_id, eid, entity.alert))
            if entity.HasField("trip_update"):
                updates.append(_trip_update(feed_id, eid, entity.trip_update))
            if entity.HasField("vehicle"):
                vp = _vehicle(feed_id, eid, entity.vehicle)
                if vp is not None:
                    vehicles.append(vp)
        except ValueError as exc:
            note(Severity.WARNING, "invalid_entity", f"entity {eid!r} skipped: {exc}")
    return RealtimeFeed(
        feed_id=feed_id,
        source=source,
        ok=True,
        version=version,
        timestamp=timestamp,
        entity_count=len(message.entity),
        alerts=tuple(alerts),
        trip_updates=tuple(updates),
        vehicles=tuple(vehicles),
        notices=tuple(notices),
    )


def _enum(enum_type: Any, value: int) -> str:
    try:
        return str(enum_type.Name(value)).lower()
    except ValueError:
        return f"unknown_{value}"


def _text(ts: Any) -> TranslatedText:
    return TranslatedText(tuple(Translation(str(t.text), str(t.language)) for t in ts.translation))


def _opt_id(feed_id: str, msg: Any, name: str) -> str | None:
    return ns(feed_id, str(getattr(msg, name))) if msg.HasField(name) and getattr(msg, name) else None


def _alert(feed_id: str, eid: str, a: Any) -> Alert:
    periods = tuple(
        TimeRange(int(p.start) if p.HasField("start") and p.start else None,
                  int(p.end) if p.HasField("end") and p.end else None)
        for p in a.active_period
    )
    informed = []
    for sel in a.informed_entity:
        trip = sel.trip if sel.HasField("trip") else None
        trip_id = _opt_id(feed_id, trip, "trip_id") if trip is not None else None
        route_id = _opt_id(feed_id, sel, "route_id") or (_opt_id(feed_id, trip, "route_id") if trip is not None else None)
        informed.append(
            InformedEntity(
                agency_id=_opt_id(feed_id, sel, "agency_id"),
                route_id=route_id,
                route_type=int(sel.route_type) if sel.HasField("route_type") else None,
                direction_id=int(sel.direction_id) if sel.HasField("direction_id") else None,
                trip_id=trip_id,
                stop_id=_opt_id(feed_id, sel, "stop_id"),
            )
        )
    return Alert(
        id=ns(feed_id, eid),
        feed_id=feed_id,
        cause=_enum(pb.Alert.Cause, a.cause),
        effect=_enum(pb.Alert.Effect, a.effect),
        severity=_enum(pb.Alert.SeverityLevel, a.severity_level),
        header=_text(a.header_text),
        description=_text(a.description_text),
        url=_text(a.url),
        active_periods=periods,
        informed=tuple(informed),
    )


def _event(e: Any) -> StopTimeEvent:
    return StopTimeEvent(
        delay=int(e.delay) if e.HasField("delay") else None,
        time=int(e.time) if e.HasField("time") and e.time else None,
        uncertainty=int(e.uncertainty) if e.HasField("uncertainty") else None,
    )


def _service_date(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"start_date {text!r} is not YYYYMMDD") from None


def _trip_update(feed_id: str, eid: str, tu: Any) -> TripUpdate:
    trip = tu.trip
    stus = tuple(
        StopTimeUpdate(
            stop_sequence=int(s.stop_sequence) if s.HasField("stop_sequence") else None,
            stop_id=_opt_id(feed_id, s, "stop_id"),
            arrival=_event(s.arrival) if s.HasField("arrival") else None,
            departure=_event(s.departure) if s.HasField("departure") else None,
            relationship=_enum(pb.TripUpdate.StopTimeUpdate.ScheduleRelationship, s.schedule_relationship),
        )
        for s in tu.stop_time_update
    )
    return TripUpdate(
        entity_id=eid,
        trip_id=_opt_id(feed_id, trip, "trip_id"),
        route_id=_opt_id(feed_id, trip, "route_id"),
        start_date=_service_date(str(trip.start_date)),
        start_time=str(trip.start_time) or None,
        relationship=_enum(pb.TripDescriptor.ScheduleRelationship, trip.schedule_relationship),
        stop_time_updates=stus,
        delay=int(tu.delay) if tu.HasField("delay") else None,
        timestamp=int(tu.timestamp) if tu.HasField("timestamp") and tu.timestamp else None,
    )


def _vehicle(feed_id: str, eid: str, v: Any) -> VehiclePosition | None:
    if not v.HasField("position"):
        return None
    trip = v.trip if v.HasField("trip") else None
    return VehiclePosition(
        entity_id=eid,
        trip_id=_opt_id(feed_id, trip, "trip_id") if trip is not None else None,
        route_id=_opt_id(feed_id, trip, "route_id") if trip is not None else None,
        lat=float(v.position.latitude),
        lon=float(v.position.longitude),
        bearing=float(v.position.bearing) if v.position.HasField("bearing") else None,
        timestamp=int(v.timestamp) if v.HasField("timestamp") and v.timestamp else None,
    )
