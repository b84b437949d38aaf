"""The realtime overlay: service alerts and trip updates (GTFS-RT) over a graph's schedule.

:class:`RealtimeOverlay` polls its sources (``FEED=PATH_OR_URL``: several per static feed,
e.g. one for trip updates and one for alerts) and holds the last good message of each in an
immutable :class:`RealtimeSnapshot`, swapped in one assignment (readers never wait for I/O,
like :class:`routing.sharing.overlay.SharingOverlay`). A source that fails keeps its last good
message; :attr:`RealtimeOverlay.token` changes exactly when a new message was taken, which is
when the gateway bumps its realtime epoch.

The planner keeps planning on the schedule. :meth:`RealtimeOverlay.annotate` post-processes
its result: each transit leg gets the delay at its boarding stop, whether the trip (or its
boarding or alighting stop) is cancelled, and the alerts that apply to it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from zoneinfo import ZoneInfo

import httpx
import numpy as np

from feeds.gtfs_rt import (
    DEFAULT_MAX_AGE_S,
    Alert,
    InformedEntity,
    RealtimeFeed,
    ScheduledStop,
    StopDelay,
    TripDelays,
    TripUpdate,
    check_against_static,
    parse_feed_message,
    propagate_delays,
    read_source,
)
from feeds.quality import Notice, Severity
from routing.errors import BadRequest
from routing.graph import Graph
from routing.plan import Itinerary, Leg, LegAlert, PlanResult
from routing.service_days import service_day_start_utc

Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class RealtimeSource:
    feed_id: str  # the static feed the realtime ids belong to
    location: str  # path or http(s) URL

    @classmethod
    def parse(cls, text: str) -> RealtimeSource:
        """``FEED=PATH_OR_URL``."""
        feed_id, sep, location = text.strip().partition("=")
        feed_id, location = feed_id.strip(), location.strip()
        if not sep or not feed_id or not location or ":" in feed_id:
            raise BadRequest("gtfs_rt", f"expected FEED=PATH_OR_URL (a feed id without ':'), got {text!r}")
        return cls(feed_id, location)


# -- the static side: schedules, routes and stops of the served graph ------------------------------


class GraphSchedule:
    """What the overlay needs from a graph: a trip's scheduled stops on a date, route facts."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.version = graph.version

    @cached_property
    def _trip_rows(self) -> dict[str, int]:
        """trip id -> timetable trip (the first, for frequency templates)."""
        out: dict[str, int] = {}
        ids = self.graph.trip_ids
        for t, src in enumerate(np.asarray(self.graph.timetable.trip_source).tolist()):
            out.setdefault(ids[src], t)
        return out

    @cached_property
    def _route_rows(self) -> dict[str, int]:
        return {r["id"]: i for i, r in enumerate(self.graph.routes)}

    @cached_property
    def trip_ids(self) -> frozenset[str]:
        return frozenset(self.graph.trip_ids)

    @cached_property
    def stop_ids(self) -> frozenset[str]:
        return frozenset(self.graph.stop_ids)

    @cached_property
    def route_ids(self) -> frozenset[str]:
        return frozenset(self._route_rows)

    def has_trip(self, trip_id: str) -> bool:
        return trip_id in self._trip_rows

    def scheduled_stops(self, trip_id: str, service_date: dt.date) -> list[ScheduledStop] | None:
        t = self._trip_rows.get(trip_id)
        if t is None:
            return None
        tt = self.graph.timetable
        p = int(np.searchsorted(tt.pattern_trip_offset, t, side="right")) - 1
        stops = tt.pattern_stops[tt.pattern_stop_offset[p] : tt.pattern_stop_offset[p + 1]].tolist()
        base = int(tt.trip_time_offset[t])
        arr = tt.arr[base : base + len(stops)].tolist()
        dep = tt.dep[base : base + len(stops)].tolist()
        day = service_day_start_utc(service_date, self.graph.meta.tz_names[int(tt.pattern_tz[p])])
        ids = self.graph.stop_ids
        return [ScheduledStop(ids[s], day + a, day + d) for s, a, d in zip(stops, arr, dep, strict=True)]

    def route_facts(self, route_id: str) -> tuple[str | None, int | None]:
        """(agency id, route_type) of a route, (None, None) when unknown."""
        r = self._route_rows.get(route_id)
        if r is None:
            return None, None
        route = self.graph.routes[r]
        agency = self.graph.agencies[route["agency"]]["id"] if self.graph.agencies else None
        return agency, int(route["route_type"])

    def trip_route(self, trip_id: str) -> str | None:
        t = self._trip_rows.get(trip_id)
        if t is None:
            return None
        src = int(self.graph.timetable.trip_source[t])
        return str(self.graph.routes[int(self.graph.trip_route[src])]["id"])

    def stop_family(self, stop_id: str) -> frozenset[str]:
        """The stop, its parent station and, for a station, its platforms."""
        i = self.graph.stop_index(stop_id)
        if i is None:
            return frozenset({stop_id})
        out = {self.graph.stop_ids[j] for j in self.graph.members(i)}
        parent = self.graph.stop(i).parent_id
        if parent is not None:
            out.add(parent)
        return frozenset(out)


# -- alert matching ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """Filters of ``alerts``; every one given must hold. Ids are namespaced."""

    feed: str | None = None
    route: str | None = None
    stop: str | None = None
    trip: str | None = None
    agency: str | None = None


def _feed_of(entity_id: str) -> str:
    return entity_id.split(":", 1)[0]


def _wide(sel: InformedEntity) -> bool:
    """A selector about a whole agency or mode (no route, trip or stop named)."""
    return sel.route_id is None and sel.trip_id is None and sel.stop_id is None


def _selector_matches(sel: InformedEntity, q: AlertQuery, schedule: GraphSchedule | None,
                      stops: frozenset[str]) -> bool:
    agency, route_type = schedule.route_facts(q.route) if schedule is not None and q.route else (None, None)
    if q.agency is not None and sel.agency_id is not None and sel.agency_id != q.agency:
        return False
    if q.route is not None:
        sel_route = sel.route_id
        if sel_route is None and sel.trip_id is not None and schedule is not None:
            sel_route = schedule.trip_route(sel.trip_id)
        if sel_route is not None:
            if sel_route != q.route:
                return False
        elif sel.stop_id is not None:
            return False  # a stop alert is not an alert of every route through the stop
        elif (sel.agency_id is not None and sel.agency_id != agency) or (
            sel.route_type is not None and sel.route_type != route_type
        ):
            return False
    if q.trip is not None and sel.trip_id is not None and sel.trip_id != q.trip:
        return False
    if q.stop is not None:
        if sel.stop_id is not None:
            if sel.stop_id not in stops:
                return False
        elif not _wide(sel) and q.route is None and q.trip is None:
            return False  # a route or trip alert is not an alert of every stop it serves
    return True


def _leg_selector_matches(sel: InformedEntity, leg: LegFacts) -> bool:
    return (
        (sel.agency_id is None or sel.agency_id == leg.agency_id)
        and (sel.route_id is None or sel.route_id == leg.route_id)
        and (sel.route_type is None or sel.route_type == leg.route_type)
        and (sel.trip_id is None or sel.trip_id == leg.trip_id)
        and (sel.stop_id is None or sel.stop_id in leg.stops)
    )


@dataclass(frozen=True, slots=True)
class LegFacts:
    feed_id: str
    agency_id: str | None
    route_id: str
    route_type: int | None
    trip_id: str | None
    stops: frozenset[str]  # boarding and alighting stops with their stations
    begin: int
    end: int


# -- the overlay -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RealtimeSnapshot:
    """The last good message of every source, indexed. Immutable; swapped whole."""

    feeds: tuple[RealtimeFeed | None, ...] = ()  # per source, None before the first good read
    digests: tuple[str, ...] = ()
    alerts: tuple[Alert, ...] = ()
    updates: dict[tuple[str, dt.date | None], TripUpdate] = field(default_factory=dict)
    _delays: dict[tuple[str, str, dt.date], TripDelays | None] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, feeds: Sequence[RealtimeFeed | None], digests: Sequence[str]) -> RealtimeSnapshot:
        alerts: list[Alert] = []
        updates: dict[tuple[str, dt.date | None], TripUpdate] = {}
        for feed in feeds:
            if feed is None:
                continue
            alerts.extend(feed.alerts)
            for tu in feed.trip_updates:
                if tu.trip_id is not None:
                    updates[(tu.trip_id, tu.start_date)] = tu
        return cls(tuple(feeds), tuple(digests), tuple(alerts), updates)


class RealtimeOverlay:
    """Latest alerts and trip updates of several GTFS-RT sources. Thread-safe: readers take the
    current snapshot; one refresh runs at a time."""

    def __init__(
        self,
        sources: Sequence[RealtimeSource],
        *,
        graph: Graph | None = None,
        client: httpx.Client | None = None,
        clock: Clock = _utc_now,
        max_age_s: float = DEFAULT_MAX_AGE_S,
    ) -> None:
        self.sources = tuple(sources)
        self._client = client
        self._clock = clock
        self._max_age_s = max_age_s
        self._refreshing = threading.Lock()
        self._schedule: GraphSchedule | None = GraphSchedule(graph) if graph is not None else None
        self._snapshot = RealtimeSnapshot.of([None] * len(self.sources), [""] * len(self.sources))
        self._notices: tuple[Notice, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sources)

    # -- state ------------------------------------------------------------------------------

    @property
    def snapshot(self) -> RealtimeSnapshot:
        return self._snapshot

    @property
    def token(self) -> tuple[str, ...]:
        """Changes exactly when a source gave a new message (or the graph changed)."""
        schedule = self._schedule
        return (*self._snapshot.digests, schedule.version if schedule is not None else "")

    @property
    def notices(self) -> tuple[Notice, ...]:
        """What the last refresh reported (unreachable sources, bad messages, unknown ids)."""
        return self._notices

    def bind(self, graph: Graph) -> None:
        """Resolve trips and stops against ``graph`` from now on (after a graph swap)."""
        if self._schedule is None or self._schedule.version != graph.version:
            self._schedule = GraphSchedule(graph)

    # -- refresh ----------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Re-read every source; True when any gave a new message. Never raises: a source that
        fails keeps its last good message (and says why in :attr:`notices`)."""
        with self._refreshing:
            old = self._snapshot
            feeds = list(old.feeds)
            digests = list(old.digests)
            notices: list[Notice] = []
            now = self._clock()
            for i, src in enumerate(self.sources):
                try:
                    data = read_source(src.location, client=self._client)
                except (OSError, httpx.HTTPError) as exc:
                    notices.append(Notice(Severity.ERROR, "unreachable_feed",
                                          f"{src.location}: {type(exc).__name__}: {exc} (last good message kept)",
                                          file=src.location, feed_id=src.feed_id))
                    continue
                digest = hashlib.sha256(data).hexdigest()
                if digest == digests[i]:
                    continue
                feed = parse_feed_message(data, src.feed_id, source=src.location, now=now, max_age_s=self._max_age_s)
                notices.extend(feed.notices)
                if not feed.ok:
                    continue  # keep the last good message
                feeds[i], digests[i] = feed, digest
            schedule = self._schedule
            if schedule is not None:
                for kept in feeds:
                    if kept is not None:
                        notices.extend(check_against_static(kept, trip_ids=schedule.trip_ids,
                                                            stop_ids=schedule.stop_ids, route_ids=schedule.route_ids))
            self._notices = tuple(notices)
            if digests == list(old.digests):
                return False
            self._snapshot = RealtimeSnapshot.of(feeds, digests)
            return True

    # -- alerts -----------------------------------------------------------------------------

    def alerts(self, at: dt.datetime | None = None, query: AlertQuery | None = None) -> list[Alert]:
        """Alerts in force at ``at`` (None: any time) matching ``query``."""
        q = query or AlertQuery()
        schedule = self._schedule
        stops = (schedule.stop_family(q.stop) if schedule is not None else frozenset({q.stop})) if q.stop else frozenset()
        t = int(at.timestamp()) if at is not None else None
        out = []
        for alert in self._snapshot.alerts:
            if t is not None and not alert.active_at(t):
                continue
            if q.feed is not None and alert.feed_id != q.feed:
                continue
            for id_ in (q.route, q.stop, q.trip, q.agency):
                if id_ is not None and _feed_of(id_) != alert.feed_id:
                    break
            else:
                if not alert.informed or any(_selector_matches(s, q, schedule, stops) for s in alert.informed):
                    out.append(alert)
        return out

    def leg_alerts(self, leg: LegFacts) -> list[Alert]:
        """Alerts of the leg's feed in force during the leg that name its agency, route, route
        type, trip or boarding/alighting stop (every field of a selector must match)."""
        out = []
        for alert in self._snapshot.alerts:
            if alert.feed_id != leg.feed_id or not alert.active_during(leg.begin, leg.end):
                continue
            if not alert.informed or any(_leg_selector_matches(s, leg) for s in alert.informed):
                out.append(alert)
        return out

    # -- trip updates -----------------------------------------------------------------------

    def trip_update(self, trip_id: str, service_date: dt.date) -> TripUpdate | None:
        updates = self._snapshot.updates
        tu = updates.get((trip_id, service_date))
        if tu is None:
            tu = updates.get((trip_id, None))
            if tu is not None and self._inferred_date(tu) != service_date:
                return None
        return tu

    def _inferred_date(self, tu: TripUpdate) -> dt.date | None:
        """The service date of an update without ``start_date``: the one whose schedule its
        first absolute time is closest to (the day before or of that time, in the trip's zone)."""
        schedule = self._schedule
        if schedule is None or tu.trip_id is None:
            return None
        times = [e.time for s in tu.stop_time_updates for e in (s.arrival, s.departure) if e is not None and e.time]
        ref = times[0] if times else int(self._clock().timestamp())
        zone = ZoneInfo(schedule.graph.timezone)
        local = dt.datetime.fromtimestamp(ref, zone).date()
        best: tuple[int, dt.date] | None = None
        for day in (local - dt.timedelta(days=1), local):
            stops = schedule.scheduled_stops(tu.trip_id, day)
            if not stops:
                return None
            gap = min(abs(ref - s.departure) for s in stops)
            if best is None or gap < best[0]:
                best = (gap, day)
        return best[1] if best is not None else None

    def trip_delays(self, trip_id: str, service_date: dt.date) -> TripDelays | None:
        """Per-stop delays of the trip on that date (None without an update or a schedule)."""
        snapshot, schedule = self._snapshot, self._schedule
        if schedule is None:
            return None
        key = (schedule.version, trip_id, service_date)
        if key in snapshot._delays:
            return snapshot._delays[key]
        tu = self.trip_update(trip_id, service_date)
        result: TripDelays | None = None
        if tu is not None:
            stops = schedule.scheduled_stops(trip_id, service_date)
            if stops is not None:
                result, _ = propagate_delays(tu, stops, service_date)
            elif tu.cancelled:
                result = TripDelays(trip_id, service_date, True, ())
        snapshot._delays[key] = result  # a cache per snapshot: dropped with it
        return result

    def delay_at(self, trip_id: str, service_date: dt.date, stop_id: str) -> StopDelay | None:
        delays = self.trip_delays(trip_id, service_date)
        if delays is None:
            return None
        at = delays.at(stop_id)
        if at is None and delays.cancelled:
            return StopDelay(stop_id, None, None, skipped=True)
        return at

    # -- itineraries ------------------------------------------------------------------------

    def annotate(self, result: PlanResult) -> PlanResult:
        """``result`` with realtime delays, cancellations and alerts on its transit legs."""
        if not self._snapshot.updates and not self._snapshot.alerts:
            return result
        return dataclasses.replace(result, itineraries=tuple(self._annotate_itinerary(it) for it in result.itineraries))

    def _annotate_itinerary(self, it: Itinerary) -> Itinerary:
        legs = tuple(self._annotate_leg(leg) for leg in it.legs)
        return dataclasses.replace(it, legs=legs) if legs != it.legs else it

    def _annotate_leg(self, leg: Leg) -> Leg:
        if leg.route is None or leg.trip_id is None:
            return leg
        changes: dict[str, object] = {}
        board, alight = leg.from_place.stop_id, leg.to_place.stop_id
        if leg.service_date is not None:
            delays = self.trip_delays(leg.trip_id, leg.service_date)
            if delays is not None:
                at_board = delays.at(board) if board else None
                at_alight = delays.at(alight) if alight else None
                cancelled = delays.cancelled or any(s is not None and s.skipped for s in (at_board, at_alight))
                delay = at_board.departure_delay if at_board is not None else None
                changes.update(delay_s=delay, cancelled=cancelled)
        schedule = self._schedule
        agency, route_type = schedule.route_facts(leg.route.id) if schedule is not None else (None, leg.route.type)
        stops: set[str] = set()
        for sid in (board, alight):
            if sid:
                stops |= schedule.stop_family(sid) if schedule is not None else {sid}
        facts = LegFacts(
            feed_id=_feed_of(leg.route.id), agency_id=agency, route_id=leg.route.id,
            route_type=route_type if route_type is not None else leg.route.type, trip_id=leg.trip_id,
            stops=frozenset(stops), begin=int(leg.start_time.timestamp()), end=int(leg.end_time.timestamp()),
        )
        alerts = self.leg_alerts(facts)
        if alerts:
            changes["alerts"] = tuple(leg_alert(a) for a in alerts)
        return dataclasses.replace(leg, **changes) if changes else leg  # type: ignore[arg-type]


def leg_alert(alert: Alert, lang: str | None = None) -> LegAlert:
    return LegAlert(
        id=alert.id,
        header=alert.header.text(lang),
        effect=alert.effect,
        url=alert.url.text(lang) or None,
    )


def overlay_from_specs(
    specs: Iterable[str],
    *,
    graph: Graph | None = None,
    client: httpx.Client | None = None,
    clock: Clock = _utc_now,
    max_age_s: float = DEFAULT_MAX_AGE_S,
) -> RealtimeOverlay:
    """An overlay over ``FEED=PATH_OR_URL`` specs (:class:`BadRequest` on a malformed one)."""
    return RealtimeOverlay([RealtimeSource.parse(s) for s in specs], graph=graph, client=client,
                           clock=clock, max_age_s=max_age_s)
