"""Golden path text for itineraries on real feeds, and the timetable facts that back it.

:func:`golden_text` renders an :class:`~routing.plan.Itinerary` as one line in the style of
OTP's raptor tests. It is :func:`maas.cli.describe_itinerary` (what ``maas plan`` prints)
with the stop id added to every stop name, framed by the origin and the destination and
followed by ``[start end Ntx]`` like ``tests/routing/text_timetable.py``::

    Hollywood/NE 42nd Ave TC MAX Station (trimet:8344) ~ TRAM MAX Green Line 00:10 00:27
        ~ Lents/SE Foster Rd MAX Station (trimet:13128) [00:10 00:27 0tx]

(one line in reality). :class:`GtfsTimetable` reads a GTFS feed with ``zipfile`` and
``csv`` only, sharing no code with ``feeds`` or ``routing``, so what it says about a trip
is an independent reading of the published timetable:

- times of a trip at its stops, blanks interpolated linearly by position between the
  timed rows around them (GTFS leaves the method to the consumer; the only feed here
  with blanks, EPTC, has no ``shape_dist_traveled``, so position is all there is);
- frequency-based trips: run ``n`` of a ``frequencies.txt`` row departs its first stop at
  ``start_time + n * headway_secs`` for every such time ``< end_time`` and keeps the
  template's offsets between stops;
- service days from ``calendar.txt`` and ``calendar_dates.txt``; times count from "noon
  minus 12 h" of the service day in the agency's time zone (so 24:10:15 is 00:10:15
  the next morning).

:func:`itinerary_problems` checks an itinerary against those feeds: legs in time order
without overlap and joined end to start, every ride on a trip of the feed that runs on
the leg's service date with exactly the stop times (plus the frequency offset) of the
boarding and alighting stops, and no walk faster than 2.5 m/s in a straight line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import zipfile
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from maas.cli import describe_itinerary
from routing.plan import Itinerary, Leg, LegPlace, PlanResult

MAX_WALK_MPS = 2.5  # straight-line speed no walk leg may beat
EARTH_R = 6_371_008.8


# -- golden text ------------------------------------------------------------------------


def place_text(p: LegPlace) -> str:
    return f"{p.name} ({p.stop_id})" if p.stop_id else p.name


def golden_text(it: Itinerary) -> str:
    """One line: origin ~ describe_itinerary (stop names with ids) ~ destination [start end Ntx]."""
    labelled = tuple(
        replace(leg, to_place=replace(leg.to_place, name=place_text(leg.to_place))) for leg in it.legs
    )
    body = describe_itinerary(replace(it, legs=labelled))
    first, last = it.legs[0].from_place, it.legs[-1].to_place
    return f"{place_text(first)} ~ {body} ~ {place_text(last)} [{it.start_time:%H:%M} {it.end_time:%H:%M} {it.transfers}tx]"


def golden_texts(result: PlanResult) -> list[str]:
    return [golden_text(it) for it in result.itineraries]


# -- an independent reading of a GTFS feed ------------------------------------------------


def seconds(text: str) -> int | None:
    """GTFS time (may pass 24:00:00) -> seconds; None for a blank."""
    text = text.strip()
    if not text:
        return None
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_R * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class Call:
    stop_id: str
    arrival: int  # seconds from the service day's reference (noon - 12 h)
    departure: int


@dataclass(frozen=True)
class Ride:
    """One run of a trip from one stop to a later one, in absolute time."""

    trip_id: str  # namespaced FEED:ID, as the engine reports it
    service_date: dt.date
    departure: dt.datetime
    arrival: dt.datetime
    run_offset_s: int  # 0, or n * headway (+ window start - template start) for frequency trips


class GtfsTimetable:
    """What a GTFS feed says, read with csv only. Ids are the feed's own (not namespaced)."""

    def __init__(self, path: Path, feed_id: str) -> None:
        self.path = path
        self.feed_id = feed_id
        agencies = list(self._rows("agency.txt"))
        self.zone = ZoneInfo(agencies[0]["agency_timezone"])
        self.stops = {r["stop_id"]: r for r in self._rows("stops.txt")}
        self.routes = {r["route_id"]: r for r in self._rows("routes.txt")}
        self.trips = {r["trip_id"]: r for r in self._rows("trips.txt")}
        rows: dict[str, list[tuple[int, str, int | None, int | None]]] = defaultdict(list)
        for r in self._rows("stop_times.txt"):
            rows[r["trip_id"]].append(
                (
                    int(r["stop_sequence"]),
                    r["stop_id"],
                    seconds(r["arrival_time"]),
                    seconds(r["departure_time"]),
                )
            )
        self._calls = {trip: _interpolated(sorted(rs)) for trip, rs in rows.items()}
        self._by_stop: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for trip, calls in self._calls.items():
            for pos, c in enumerate(calls):
                self._by_stop[c.stop_id].append((trip, pos))
        self._freq: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        for r in self._rows("frequencies.txt"):
            start, end = seconds(r["start_time"]), seconds(r["end_time"])
            assert start is not None and end is not None
            self._freq[r["trip_id"]].append((start, end, int(r["headway_secs"])))
        self._calendar = {r["service_id"]: r for r in self._rows("calendar.txt")}
        self._exceptions: dict[tuple[str, str], str] = {
            (r["service_id"], r["date"]): r["exception_type"] for r in self._rows("calendar_dates.txt")
        }

    def _rows(self, name: str) -> Iterator[dict[str, str]]:
        if self.path.is_dir():
            f = self.path / name
            if not f.exists():
                return
            with f.open(encoding="utf-8-sig", newline="") as fh:
                yield from _records(fh)
            return
        with zipfile.ZipFile(self.path) as z:
            if name not in z.namelist():
                return
            with z.open(name) as raw:
                yield from _records(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))

    # -- questions ---------------------------------------------------------------------

    def calls(self, trip_id: str) -> list[Call]:
        return self._calls[trip_id]

    def runs_on(self, trip_id: str, date: dt.date) -> bool:
        sid = self.trips[trip_id]["service_id"]
        key = date.strftime("%Y%m%d")
        exc = self._exceptions.get((sid, key))
        if exc is not None:
            return exc == "1"
        cal = self._calendar.get(sid)
        if cal is None or not cal["start_date"] <= key <= cal["end_date"]:
            return False
        return cal[date.strftime("%A").lower()] == "1"

    def run_offsets(self, trip_id: str) -> list[int]:
        """Seconds added to the template's times for each run (just [0] without frequencies)."""
        windows = self._freq.get(trip_id)
        if not windows:
            return [0]
        first = self._calls[trip_id][0].departure
        out: list[int] = []
        for start, end, headway in windows:
            t = start
            while t < end:
                out.append(t - first)
                t += headway
        return sorted(out)

    def reference(self, date: dt.date) -> int:
        """Epoch seconds of "noon minus 12 h" on a service day, in the agency's zone."""
        noon = dt.datetime.combine(date, dt.time(12), tzinfo=self.zone)
        return int(noon.timestamp()) - 12 * 3600

    def at(self, date: dt.date, secs: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.reference(date) + secs, self.zone)

    def rides(self, from_stop: str, to_stop: str, after: dt.datetime, dates: Iterable[dt.date]) -> list[Ride]:
        """Every run that calls at from_stop and later at to_stop, leaving at or after ``after``
        on one of the service dates, by arrival then departure."""
        out: list[Ride] = []
        t_after = int(after.timestamp())
        for trip, pos in self._by_stop.get(from_stop, []):
            calls = self._calls[trip]
            later = [j for j in range(pos + 1, len(calls)) if calls[j].stop_id == to_stop]
            if not later:
                continue
            j = later[0]
            for date in dates:
                if not self.runs_on(trip, date):
                    continue
                ref = self.reference(date)
                for off in self.run_offsets(trip):
                    dep = ref + calls[pos].departure + off
                    if dep >= t_after:
                        out.append(
                            Ride(
                                f"{self.feed_id}:{trip}",
                                date,
                                dt.datetime.fromtimestamp(dep, self.zone),
                                dt.datetime.fromtimestamp(ref + calls[j].arrival + off, self.zone),
                                off,
                            )
                        )
        out.sort(key=lambda r: (r.arrival, r.departure))
        return out

    def first_ride(self, from_stop: str, to_stop: str, after: dt.datetime) -> Ride:
        """The earliest arrival among direct rides (service days: the day before and the day of ``after``)."""
        day = after.astimezone(self.zone).date()
        rides = self.rides(from_stop, to_stop, after, (day - dt.timedelta(days=1), day))
        assert rides, f"no ride {from_stop} -> {to_stop} after {after}"
        return rides[0]


def _records(fh: Iterable[str]) -> Iterator[dict[str, str]]:
    """csv rows with header names stripped (TRENSURB's agency.txt has " agency_name")."""
    reader = csv.reader(fh)
    header = [h.strip() for h in next(reader, [])]
    for row in reader:
        if row:
            yield dict(zip(header, row, strict=False))


def _interpolated(rows: list[tuple[int, str, int | None, int | None]]) -> list[Call]:
    arr = [a if a is not None else d for _, _, a, d in rows]
    dep = [d if d is not None else a for _, _, a, d in rows]
    timed = [i for i, a in enumerate(arr) if a is not None]
    for i in range(len(rows)):
        if arr[i] is not None:
            continue
        k = bisect_left(timed, i)
        prev, nxt = timed[k - 1], timed[k]
        d_prev, a_next = dep[prev], arr[nxt]
        assert d_prev is not None and a_next is not None
        t = d_prev + round((i - prev) / (nxt - prev) * (a_next - d_prev))
        arr[i] = dep[i] = t
    return [
        Call(stop, a, d)
        for (_, stop, _, _), a, d in zip(rows, arr, dep, strict=True)
        if a is not None and d is not None
    ]


# -- checks ---------------------------------------------------------------------------


def _split(namespaced: str) -> tuple[str, str]:
    feed, _, raw = namespaced.partition(":")
    return feed, raw


def ride_problems(leg: Leg, feeds: Mapping[str, GtfsTimetable]) -> list[str]:
    """What about a transit leg does not match its trip in the feed (empty when all does)."""
    if leg.trip_id is None or leg.route is None:
        return [f"{leg.mode} leg without trip or route"]
    feed_id, trip = _split(leg.trip_id)
    feed = feeds.get(feed_id)
    if feed is None or trip not in feed.trips:
        return [f"trip {leg.trip_id} is not in any feed"]
    out: list[str] = []
    route = feed.routes[feed.trips[trip]["route_id"]]
    if leg.route.id != f"{feed_id}:{route['route_id']}":
        out.append(f"route {leg.route.id}, the trip's is {route['route_id']}")
    if (leg.route.short_name, leg.route.long_name) != (route["route_short_name"], route["route_long_name"]):
        out.append(f"route names {leg.route.short_name!r}/{leg.route.long_name!r} differ from routes.txt")
    if leg.service_date is None or not feed.runs_on(trip, leg.service_date):
        return [*out, f"trip {leg.trip_id} does not run on {leg.service_date}"]
    a, b = leg.from_place.stop_id, leg.to_place.stop_id
    if a is None or b is None or _split(a)[0] != feed_id or _split(b)[0] != feed_id:
        return [*out, f"ride {a} -> {b} is not between stops of feed {feed_id}"]
    calls = feed.calls(trip)
    ref = feed.reference(leg.service_date)
    start, end = int(leg.start_time.timestamp()), int(leg.end_time.timestamp())
    inter = [p.stop_id for p in leg.intermediate_stops]
    for i, ci in enumerate(calls):
        if ci.stop_id != _split(a)[1]:
            continue
        for j in range(i + 1, len(calls)):
            if calls[j].stop_id != _split(b)[1]:
                continue
            for off in feed.run_offsets(trip):
                if ref + ci.departure + off == start and ref + calls[j].arrival + off == end:
                    want = [f"{feed_id}:{c.stop_id}" for c in calls[i + 1 : j]]
                    if inter != want:
                        out.append(f"intermediate stops {inter} != stop_times {want}")
                    return out
    return [
        *out,
        f"no run of {leg.trip_id} on {leg.service_date} leaves {a} at {leg.start_time:%H:%M:%S} "
        f"and reaches {b} at {leg.end_time:%H:%M:%S}",
    ]


def itinerary_problems(it: Itinerary, feeds: Mapping[str, GtfsTimetable]) -> list[str]:
    out: list[str] = []
    for n, (x, y) in enumerate(zip(it.legs, it.legs[1:], strict=False)):
        if x.end_time > y.start_time:
            out.append(f"legs {n} and {n + 1} overlap: {x.end_time:%H:%M:%S} > {y.start_time:%H:%M:%S}")
        p, q = x.to_place, y.from_place
        joined = (
            p.stop_id == q.stop_id
            if p.stop_id and q.stop_id
            else haversine_m(p.lat, p.lon, q.lat, q.lon) < 1.0
        )
        if not joined:
            out.append(f"leg {n} ends at {place_text(p)}, leg {n + 1} starts at {place_text(q)}")
    for n, leg in enumerate(it.legs):
        secs = (leg.end_time - leg.start_time).total_seconds()
        if secs < 0:
            out.append(f"leg {n} ends before it starts")
        if leg.route is not None:
            out += [f"leg {n}: {p}" for p in ride_problems(leg, feeds)]
        elif leg.mode == "walk":
            d = haversine_m(leg.from_place.lat, leg.from_place.lon, leg.to_place.lat, leg.to_place.lon)
            if d > MAX_WALK_MPS * secs + 1.0:
                out.append(f"leg {n} walks {d:.0f} m (straight line) in {secs:.0f} s")
    return out
