"""Readable text timetables for routing tests (OTP raptor style) and golden path strings.

    feed = parse('''
        route R1 bus: A 10:00 B 10:10 C 10:20
        route R1 bus: A 10:30 B 10:40 C 10:50
        route R2 tram: C 10:25 D 10:35
        walk C D 300
    ''')
    journeys = feed.search("A", "D", "10:00")
    assert feed.text(journeys[0]) == "A ~ BUS R1 10:00 10:20 ~ C ~ Walk 5m ~ D [10:00 10:25 0tx]"

Lines (``#`` starts a comment):

- ``feed F tz=Europe/Berlin``: the following lines belong to feed F (default feed ``T``,
  time zone UTC). Ids are namespaced ``F:NAME``; stop names must be unique overall.
- ``days 2021-11-06 2021-11-08``: calendar range (default: DEFAULT_DATE - 1 .. + 1).
- ``service WK 2021-11-06 2021-11-08``: dates on which service WK runs; without
  ``service=`` a trip runs on every day of the calendar.
- ``stop A wheelchair=2``: stop attributes (stops are otherwise created on first use).
- ``route R1 bus [service=WK] [wheelchair=1]: A 10:00 B 10:10-10:12 C 25:20``: one trip;
  a time is ``arrival-departure`` or one time for both; ``A/nb`` forbids boarding at A
  (pickup_type 1), ``A/na`` alighting (drop_off_type 1).
- ``walk C D 300`` a footpath both ways, ``walk C -> D 300`` one way (seconds).
- ``change C 120``: transfers.txt type 2 from C to C (minimum change time);
  ``transfer C D 2 60`` / ``transfer C D 3``: transfers.txt rows.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from feeds.model import (
    Agency,
    FeedSource,
    Route,
    Services,
    Shapes,
    Stops,
    StopTimes,
    Transfers,
    TransitData,
    Trips,
    ns,
)
from routing.raptor import Journey, TransitQuery, search
from routing.service_days import ServiceDayContext, service_day_context
from routing.timetable import MODE_NAMES, Timetable, TimetableMeta, build_timetable

DEFAULT_DATE = dt.date(2024, 3, 5)
ROUTE_TYPES = {
    "bus": 3,
    "tram": 0,
    "subway": 1,
    "rail": 2,
    "ferry": 4,
    "cable_car": 5,
    "gondola": 6,
    "funicular": 7,
    "trolleybus": 11,
    "monorail": 12,
    "coach": 200,
}


def hms(text: str) -> int:
    parts = [int(x) for x in text.split(":")]
    if len(parts) == 2:
        parts.append(0)
    h, m, s = parts
    return h * 3600 + m * 60 + s


@dataclass
class _Trip:
    feed: str
    route: str
    mode: str
    service: str | None
    wheelchair: int
    stops: list[str]
    arr: list[int]
    dep: list[int]
    pickup: list[int]
    drop_off: list[int]


@dataclass
class TextFeed:
    """A parsed text timetable: the model, the footpaths, and search helpers."""

    data: TransitData
    walk_from: np.ndarray
    walk_to: np.ndarray
    walk_s: np.ndarray
    stop_index: dict[str, int]
    tz: str  # the first feed's zone: where times in helpers are read and shown
    _built: tuple[Timetable, TimetableMeta] | None = field(default=None, repr=False)

    @property
    def timetable(self) -> Timetable:
        return self.build()[0]

    @property
    def meta(self) -> TimetableMeta:
        return self.build()[1]

    def build(self) -> tuple[Timetable, TimetableMeta]:
        if self._built is None:
            self._built = build_timetable(self.data, self.walk_from, self.walk_to, self.walk_s)
        return self._built

    def stop(self, name: str) -> int:
        return self.stop_index[name]

    def stop_name(self, index: int) -> str:
        return self.data.stops.names[index]

    def ref_utc(self, date: dt.date = DEFAULT_DATE) -> int:
        """Local midnight of ``date`` in the display zone, as POSIX seconds."""
        return int(dt.datetime.combine(date, dt.time(0), tzinfo=ZoneInfo(self.tz)).timestamp())

    def context(self, date: dt.date = DEFAULT_DATE) -> ServiceDayContext:
        return service_day_context(self.timetable, self.meta, date, self.ref_utc(date))

    def local(self, clock: str, date: dt.date = DEFAULT_DATE) -> int:
        """``HH:MM`` wall clock on ``date`` in the display zone, rel. ref_utc(date)."""
        h, m, s = (int(x) for x in (clock + ":0").split(":")[:3])
        wall = dt.datetime.combine(date, dt.time(h, m, s), tzinfo=ZoneInfo(self.tz))
        return int(wall.timestamp()) - self.ref_utc(date)

    def search(
        self,
        origin: str | dict[str, int],
        destination: str | dict[str, int],
        clock: str,
        date: dt.date = DEFAULT_DATE,
        **options: object,
    ) -> list[Journey]:
        """Stops by name (0 s access/egress) or ``{name: seconds}``; ``clock`` local."""
        acc = {origin: 0} if isinstance(origin, str) else origin
        egr = {destination: 0} if isinstance(destination, str) else destination
        q = TransitQuery(
            access_stops=np.array([self.stop(n) for n in acc], np.int32),
            access_s=np.array(list(acc.values()), np.int32),
            egress_stops=np.array([self.stop(n) for n in egr], np.int32),
            egress_s=np.array(list(egr.values()), np.int32),
            time=self.local(clock, date),
            **options,  # type: ignore[arg-type]
        )
        return search(self.timetable, self.context(date), q)

    def text(self, j: Journey, date: dt.date = DEFAULT_DATE) -> str:
        return journey_to_text(j, self, date)

    def texts(self, journeys: list[Journey], date: dt.date = DEFAULT_DATE) -> list[str]:
        return [journey_to_text(j, self, date) for j in journeys]


def parse(text: str) -> TextFeed:
    feed, tz = "T", "UTC"
    feeds: dict[str, str] = {}
    days: tuple[dt.date, dt.date] = (DEFAULT_DATE - dt.timedelta(days=1), DEFAULT_DATE + dt.timedelta(days=1))
    services: dict[str, list[dt.date]] = {}
    stop_attr: dict[str, dict[str, int]] = {}
    stop_feed: dict[str, str] = {}
    trips: list[_Trip] = []
    walks: list[tuple[str, str, int]] = []
    transfers: list[tuple[str, str, int, int]] = []

    def use_stop(name: str) -> str:
        stop_feed.setdefault(name, feed)
        return name

    for raw in textwrap.dedent(text).splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        word, *rest = line.split()
        if word == "feed":
            feed = rest[0]
            opts = dict(o.split("=", 1) for o in rest[1:])
            tz = opts.get("tz", "UTC")
            feeds[feed] = tz
        elif word == "days":
            days = (dt.date.fromisoformat(rest[0]), dt.date.fromisoformat(rest[1]))
        elif word == "service":
            services[ns(feed, rest[0])] = [dt.date.fromisoformat(d) for d in rest[1:]]
        elif word == "stop":
            use_stop(rest[0])
            stop_attr[rest[0]] = {k: int(v) for k, v in (o.split("=", 1) for o in rest[1:])}
        elif word == "route":
            head, _, body = line.partition(":")
            _, route, mode, *opts_list = head.split()
            assert mode in MODE_NAMES, mode
            opts = dict(o.split("=", 1) for o in opts_list)
            tokens = body.split()
            assert len(tokens) % 2 == 0, f"stop/time pairs expected: {line}"
            t = _Trip(
                feed, route, mode, opts.get("service"), int(opts.get("wheelchair", 0)), [], [], [], [], []
            )
            for name, times in zip(tokens[0::2], tokens[1::2], strict=True):
                flags = name.split("/")[1:]
                t.stops.append(use_stop(name.split("/")[0]))
                a, _, d = times.partition("-")
                t.arr.append(hms(a))
                t.dep.append(hms(d or a))
                t.pickup.append(1 if "nb" in flags else 0)
                t.drop_off.append(1 if "na" in flags else 0)
            trips.append(t)
        elif word == "walk":
            if len(rest) == 4 and rest[1] == "->":
                walks.append((use_stop(rest[0]), use_stop(rest[2]), int(rest[3])))
            else:
                a, b, s = use_stop(rest[0]), use_stop(rest[1]), int(rest[2])
                walks += [(a, b, s), (b, a, s)]
        elif word == "change":
            transfers.append((use_stop(rest[0]), use_stop(rest[0]), 2, int(rest[1])))
        elif word == "transfer":
            kind = int(rest[2])
            transfers.append(
                (use_stop(rest[0]), use_stop(rest[1]), kind, int(rest[3]) if len(rest) > 3 else -1)
            )
        else:
            raise ValueError(f"cannot read line: {raw!r}")
    feeds.setdefault("T", "UTC")
    used_feeds = sorted({t.feed for t in trips} | set(stop_feed.values()))
    return _to_model(feeds, used_feeds, days, services, stop_attr, stop_feed, trips, walks, transfers)


def _to_model(
    feeds: dict[str, str],
    used_feeds: list[str],
    days: tuple[dt.date, dt.date],
    services: dict[str, list[dt.date]],
    stop_attr: dict[str, dict[str, int]],
    stop_feed: dict[str, str],
    trips: list[_Trip],
    walks: list[tuple[str, str, int]],
    transfers: list[tuple[str, str, int, int]],
) -> TextFeed:
    names = list(stop_feed)
    stop_index = {n: i for i, n in enumerate(names)}
    stops = Stops(
        ids=tuple(ns(stop_feed[n], n) for n in names),
        names=tuple(names),
        lat=np.linspace(0.0, 0.01, len(names)),
        lon=np.zeros(len(names)),
        location_type=np.zeros(len(names), np.int8),
        parent=np.full(len(names), -1, np.int32),
        wheelchair=np.array([stop_attr.get(n, {}).get("wheelchair", 0) for n in names], np.int8),
    )
    agencies = tuple(
        Agency(ns(f, "AG"), f"Agency {f}", "https://example.org", feeds[f], f) for f in used_feeds
    )
    agency_index = {f: i for i, f in enumerate(used_feeds)}
    route_keys: dict[tuple[str, str], int] = {}
    routes: list[Route] = []
    for t in trips:
        if (t.feed, t.route) not in route_keys:
            route_keys[(t.feed, t.route)] = len(routes)
            routes.append(
                Route(
                    ns(t.feed, t.route),
                    agency_index[t.feed],
                    t.route,
                    "",
                    ROUTE_TYPES[t.mode],
                    t.mode,
                    "",
                    "",
                )
            )
    n_days = (days[1] - days[0]).days + 1
    service_ids = [ns(f, "ALL") for f in used_feeds] + list(services)
    active = np.zeros((len(service_ids), n_days), bool)
    for i, sid in enumerate(service_ids):
        if sid.endswith(":ALL") and sid not in services:
            active[i] = True
        for d in services.get(sid, []):
            active[i, (d - days[0]).days] = True
    service_index = {sid: i for i, sid in enumerate(service_ids)}
    lengths = [len(t.stops) for t in trips]
    cat = lambda key: np.array([v for t in trips for v in getattr(t, key)], np.int32)  # noqa: E731
    data = TransitData(
        sources=tuple(FeedSource(f, "gtfs", "<text>", "") for f in used_feeds),
        agencies=agencies,
        routes=tuple(routes),
        stops=stops,
        trips=Trips(
            ids=tuple(ns(t.feed, f"{t.route}-{i}") for i, t in enumerate(trips)),
            route=np.array([route_keys[(t.feed, t.route)] for t in trips], np.int32),
            service=np.array([service_index[ns(t.feed, t.service or "ALL")] for t in trips], np.int32),
            headsign=tuple(t.stops[-1] for t in trips),
            direction=np.full(len(trips), -1, np.int8),
            shape=np.full(len(trips), -1, np.int32),
            wheelchair=np.array([t.wheelchair for t in trips], np.int8),
            freq_start=np.full(len(trips), -1, np.int32),
            st_offset=np.r_[0, np.cumsum(lengths)].astype(np.int64),
        ),
        stop_times=StopTimes(
            stop=np.array([stop_index[s] for t in trips for s in t.stops], np.int32),
            arrival=cat("arr"),
            departure=cat("dep"),
            pickup=cat("pickup").astype(np.int8),
            drop_off=cat("drop_off").astype(np.int8),
            shape_dist=np.full(sum(lengths), np.nan, np.float32),
        ),
        services=Services(ids=tuple(service_ids), base_date=days[0], active=active),
        shapes=Shapes((), np.zeros(1, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.float32)),
        transfers=Transfers(
            from_stop=np.array([stop_index[a] for a, _, _, _ in transfers], np.int32),
            to_stop=np.array([stop_index[b] for _, b, _, _ in transfers], np.int32),
            transfer_type=np.array([k for _, _, k, _ in transfers], np.int8),
            min_time=np.array([m for _, _, _, m in transfers], np.int32),
        ),
    )
    return TextFeed(
        data=data,
        walk_from=np.array([stop_index[a] for a, _, _ in walks], np.int32),
        walk_to=np.array([stop_index[b] for _, b, _ in walks], np.int32),
        walk_s=np.array([s for _, _, s in walks], np.int32),
        stop_index=stop_index,
        tz=feeds[used_feeds[0]] if used_feeds else "UTC",
    )


def duration(seconds: int) -> str:
    h, rem = divmod(int(seconds), 3600)
    m, s = divmod(rem, 60)
    out = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s else "")
    return out or "0s"


def clock(t: int, feed: TextFeed, date: dt.date) -> str:
    """A time rel. ref_utc(date) as local ``HH:MM[:SS]``, ``+1d`` when on a later date."""
    when = dt.datetime.fromtimestamp(feed.ref_utc(date) + t, ZoneInfo(feed.tz))
    text = when.strftime("%H:%M:%S" if when.second else "%H:%M")
    shift = (when.date() - date).days
    return text + (f"{shift:+d}d" if shift else "")


def journey_to_text(j: Journey, feed: TextFeed, date: dt.date = DEFAULT_DATE) -> str:
    """OTP-style path string, e.g. ``Walk 2m ~ A ~ BUS R1 10:00 10:20 ~ C [09:58 10:20 0tx]``.

    Zero-length access and egress walks are left out; times are local in the feed's zone."""
    tt = feed.timetable
    parts: list[str] = []
    for s in j.segments:
        if s.kind == "ride":
            route = feed.data.routes[int(tt.pattern_route[s.pattern])]
            what = f"{route.mode.upper()} {route.short_name} {clock(s.dep, feed, date)} {clock(s.arr, feed, date)}"
        elif s.kind in ("access", "egress") and s.arr == s.dep:
            what = ""
        else:
            what = f"Walk {duration(s.arr - s.dep)}"
        if s.from_stop >= 0 and (not parts or parts[-1] != feed.stop_name(s.from_stop)):
            parts.append(feed.stop_name(s.from_stop))
        if what:
            parts.append(what)
        if s.to_stop >= 0:
            parts.append(feed.stop_name(s.to_stop))
    return " ~ ".join(parts) + f" [{clock(j.dep, feed, date)} {clock(j.arr, feed, date)} {j.transfers}tx]"
