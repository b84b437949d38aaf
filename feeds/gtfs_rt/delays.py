"""Per-stop delays of one trip, from its TripUpdate and its schedule (GTFS-RT propagation).

The rule of the GTFS-realtime reference (TripUpdate, "delay propagation"):

- a StopTimeUpdate gives the delay at its stop: ``delay`` when present, else ``time``
  minus the scheduled time (feeds such as Caltrain's send absolute times only);
  an update with only an arrival (or only a departure) uses it for both;
- a stop without an update takes the last known delay from upstream (the departure
  delay of the previous update); stops before the first update take the trip-level
  ``delay`` when given, else stay unknown;
- ``SKIPPED``: the vehicle does not stop there; the delay still propagates over it;
- ``NO_DATA``: no prediction from that stop on, until the next update with data;
- a ``CANCELED`` (or ``DELETED``) trip is cancelled at every stop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from feeds.gtfs_rt.model import StopTimeEvent, TripUpdate
from feeds.quality import Notice, Severity


@dataclass(frozen=True, slots=True)
class ScheduledStop:
    """One stop of a trip on one service date, as the static feed has it."""

    stop_id: str  # namespaced
    arrival: int  # POSIX seconds
    departure: int
    stop_sequence: int | None = None  # GTFS stop_sequence when the schedule kept it


@dataclass(frozen=True, slots=True)
class StopDelay:
    stop_id: str
    arrival_delay: int | None  # None: no prediction
    departure_delay: int | None
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class TripDelays:
    trip_id: str
    service_date: dt.date
    cancelled: bool
    stops: tuple[StopDelay, ...]  # aligned with the schedule

    def at(self, stop_id: str) -> StopDelay | None:
        for s in self.stops:
            if s.stop_id == stop_id:
                return s
        return None


def _delay(event: StopTimeEvent | None, scheduled: int) -> int | None:
    if event is None:
        return None
    if event.delay is not None:
        return event.delay
    if event.time is not None:
        return event.time - scheduled
    return None


def _match(update_stop: str | None, update_seq: int | None, schedule: Sequence[ScheduledStop], start: int) -> int | None:
    """Position of an update in the schedule, searching forward from ``start`` (a trip may
    visit a stop twice; the updates come in stop order)."""
    for i in range(start, len(schedule)):
        s = schedule[i]
        if update_seq is not None and s.stop_sequence is not None:
            if s.stop_sequence == update_seq and (update_stop is None or update_stop == s.stop_id):
                return i
        elif update_stop is not None and s.stop_id == update_stop:
            return i
    return None


def propagate_delays(
    update: TripUpdate, schedule: Sequence[ScheduledStop], service_date: dt.date
) -> tuple[TripDelays, tuple[Notice, ...]]:
    """The delay at every stop of ``schedule`` (see the module doc for the rule)."""
    trip_id = update.trip_id or update.entity_id
    if update.cancelled:
        stops = tuple(StopDelay(s.stop_id, None, None, skipped=True) for s in schedule)
        return TripDelays(trip_id, service_date, True, stops), ()
    notices: list[Notice] = []
    by_position: dict[int, int] = {}  # schedule position -> index of its update
    cursor = 0
    for k, stu in enumerate(update.stop_time_updates):
        i = _match(stu.stop_id, stu.stop_sequence, schedule, cursor)
        if i is None:
            what = stu.stop_id or f"stop_sequence {stu.stop_sequence}"
            notices.append(Notice(Severity.WARNING, "unmatched_stop_time_update",
                                  f"trip {trip_id}: update for {what} matches no later stop of the schedule",
                                  field="stop_time_update"))
            continue
        by_position[i] = k
        cursor = i + 1
    current: int | None = update.delay
    out: list[StopDelay] = []
    for i, s in enumerate(schedule):
        pos = by_position.get(i)
        if pos is None:
            out.append(StopDelay(s.stop_id, current, current))
            continue
        stu = update.stop_time_updates[pos]
        if stu.relationship == "no_data":
            current = None
            out.append(StopDelay(s.stop_id, None, None))
            continue
        arrival: int | None = _delay(stu.arrival, s.arrival)
        departure: int | None = _delay(stu.departure, s.departure)
        if arrival is None:
            arrival = departure if departure is not None else current
        if departure is None:
            departure = arrival
        skipped = stu.relationship == "skipped"
        out.append(StopDelay(s.stop_id, arrival, departure, skipped=skipped))
        if departure is not None:
            current = departure
    return TripDelays(trip_id, service_date, False, tuple(out)), tuple(notices)
