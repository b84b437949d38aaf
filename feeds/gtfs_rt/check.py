"""Realtime ids against the static feed: which trips, stops and routes it does not know.

Unknown ids are warnings (the realtime feed may run ahead of the static one); trips marked
ADDED are expected to be absent from the schedule and only counted. At most
``MAX_LISTED`` ids are named per notice, so a feed of thousands of strangers stays readable.
"""

from __future__ import annotations

from collections.abc import Container, Iterable

from feeds.gtfs_rt.model import RealtimeFeed
from feeds.quality import Notice, Severity

MAX_LISTED = 10


def _listed(ids: Iterable[str]) -> str:
    ids = sorted(set(ids))
    head = ", ".join(ids[:MAX_LISTED])
    return head + (f" and {len(ids) - MAX_LISTED} more" if len(ids) > MAX_LISTED else "")


def check_against_static(
    feed: RealtimeFeed,
    *,
    trip_ids: Container[str],
    stop_ids: Container[str],
    route_ids: Container[str] | None = None,
) -> tuple[Notice, ...]:
    """Notices for trip/stop/route ids of ``feed`` that the static feed lacks."""
    notices: list[Notice] = []

    def note(severity: Severity, code: str, message: str, field: str) -> None:
        notices.append(Notice(severity, code, message, file=feed.source, field=field, feed_id=feed.feed_id))

    unknown_trips: list[str] = []
    added = 0
    unknown_stops: set[str] = set()
    for tu in feed.trip_updates:
        if tu.relationship in ("added", "unscheduled", "duplicated"):
            added += 1
        elif tu.trip_id is not None and tu.trip_id not in trip_ids:
            unknown_trips.append(tu.trip_id)
        unknown_stops.update(s.stop_id for s in tu.stop_time_updates if s.stop_id and s.stop_id not in stop_ids)
    for alert in feed.alerts:
        for sel in alert.informed:
            if sel.stop_id and sel.stop_id not in stop_ids:
                unknown_stops.add(sel.stop_id)
            if sel.trip_id and sel.trip_id not in trip_ids:
                unknown_trips.append(sel.trip_id)
            if route_ids is not None and sel.route_id and sel.route_id not in route_ids:
                note(Severity.WARNING, "unknown_route", f"alert {alert.id}: route {sel.route_id} is not in the static feed",
                     "informed_entity.route_id")
    if unknown_trips:
        note(Severity.WARNING, "unknown_trip",
             f"{len(set(unknown_trips))} trip id(s) not in the static feed: {_listed(unknown_trips)}", "trip.trip_id")
    if unknown_stops:
        note(Severity.WARNING, "unknown_stop",
             f"{len(unknown_stops)} stop id(s) not in the static feed: {_listed(unknown_stops)}", "stop_id")
    if added:
        note(Severity.INFO, "added_trips", f"{added} trip(s) added outside the schedule (not applied)", "trip")
    return tuple(notices)
