"""The synthetic city's public transport: stops, lines, patterns and timetables.

Bus and tram stops are the stop lattice (see :mod:`feeds.synth.grid`). Lines:

- one metro line (``M1``, route_type 1) beneath the main diagonal avenue, with parent
  stations and a platform per direction, when the city has room for it;
- "horizontal" bus lines: a snake through every lattice row, cut into equal pieces,
  so every stop is served;
- "vertical" lines along lattice columns, spread over the city, giving the transfers;
  the first one or two are trams.

Timetables: explicit trips with time-of-day headways (5-20 min) from about 05:00 to
25:30 on weekdays and weekends; one line (a tram if there is one) runs by
frequencies.txt (``exact_times=1`` on weekdays, ``0`` at weekends); the first bus line
gets express trips that skip every other stop at the peaks; an event service adds
late metro trips on one Saturday (calendar_dates only).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from feeds.geo import haversine_m
from feeds.model import F64, I64
from feeds.synth.grid import Grid
from feeds.synth.streets import StreetPlan

H = 3600
M = 60

# (start, end, period) windows of a service day, in seconds after midnight.
WEEKDAY_WINDOWS = (
    (5 * H, 7 * H, "early"),
    (7 * H, 9 * H + 30 * M, "peak"),
    (9 * H + 30 * M, 16 * H + 30 * M, "off"),
    (16 * H + 30 * M, 19 * H + 30 * M, "peak"),
    (19 * H + 30 * M, 22 * H, "eve"),
    (22 * H, 25 * H + 30 * M, "night"),
)
WEEKEND_WINDOWS = (
    (6 * H, 9 * H, "early"),
    (9 * H, 20 * H, "off"),
    (20 * H, 25 * H + 30 * M, "night"),
)
OUTER_SPAN = (5 * H + 30 * M, 24 * H + 30 * M)  # outer bus lines start later, end earlier
EVENT_WINDOW = (25 * H + 30 * M, 27 * H, 15 * M)  # extra late metro trips on the event night

HEADWAY_MIN: dict[str, dict[str, int]] = {
    "subway": {"early": 10, "peak": 5, "off": 7, "eve": 10, "night": 15},
    "tram": {"early": 12, "peak": 6, "off": 10, "eve": 12, "night": 20},
    "bus_inner": {"early": 15, "peak": 8, "off": 12, "eve": 15, "night": 20},
    "bus_outer": {"early": 20, "peak": 12, "off": 20, "eve": 20, "night": 20},
}
# cruise speed (m/s) and dwell (s) per mode
SPEED = {"subway": (12.0, 25), "tram": (7.5, 20), "bus": (7.0, 20)}
VERTICAL_MAX_STOPS = 30  # lines along columns are cut to at most this many stops

STYLE = {  # agency, route_type, color, text color
    "subway": ("MET", 1, "E2001A", "FFFFFF"),
    "tram": ("ATS", 0, "F39200", "000000"),
    "bus": ("ATS", 3, "0064B0", "FFFFFF"),
}
AGENCIES = (
    ("ATS", "Azienda Trasporti Synth", "https://synth.example/ats"),
    ("MET", "Metropolitana di Synth", "https://synth.example/metro"),
)


@dataclass
class StopTable:
    ids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    location_type: list[int] = field(default_factory=list)
    parent: list[str] = field(default_factory=list)
    wheelchair: list[int] = field(default_factory=list)
    platform_code: list[str] = field(default_factory=list)

    def add(
        self,
        stop_id: str,
        name: str,
        lat: float,
        lon: float,
        *,
        location_type: int = 0,
        parent: str = "",
        wheelchair: int = 0,
        platform_code: str = "",
    ) -> int:
        self.ids.append(stop_id)
        self.names.append(name)
        self.lat.append(lat)
        self.lon.append(lon)
        self.location_type.append(location_type)
        self.parent.append(parent)
        self.wheelchair.append(wheelchair)
        self.platform_code.append(platform_code)
        return len(self.ids) - 1

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Route:
    id: str
    agency: str
    short_name: str
    long_name: str
    route_type: int
    color: str
    text_color: str
    kind: str  # subway, tram, bus
    sort_order: int


@dataclass(frozen=True)
class Shape:
    id: str
    lat: F64
    lon: F64
    dist: F64  # meters along the shape


@dataclass(frozen=True)
class Pattern:
    """One stop sequence of a route in one direction, with its running times."""

    route: int
    direction: int
    stops: tuple[int, ...]  # rows of the stop table
    shape: str
    dist: F64  # shape distance at each stop
    arrival: I64  # seconds after the trip's first departure
    departure: I64
    headsign: str


@dataclass(frozen=True)
class TripBlock:
    """Trips of one pattern on one service: ``trip_ids[k]`` leaves at ``starts[k]``."""

    pattern: Pattern
    service: str
    trip_ids: tuple[str, ...]
    starts: tuple[int, ...]
    wheelchair: int
    bikes: int


@dataclass(frozen=True)
class Frequency:
    trip_id: str
    start: int
    end: int
    headway: int
    exact_times: int


@dataclass(frozen=True)
class Calendar:
    start: dt.date
    end: dt.date
    holiday: dt.date | None  # weekday service removed, weekend service added
    event_day: dt.date | None  # a Saturday with extra late metro trips


@dataclass
class TransitPlan:
    stops: StopTable
    routes: list[Route]
    shapes: list[Shape]
    blocks: list[TripBlock]
    frequencies: list[Frequency]
    transfers: list[tuple[str, str, int]]  # from, to, min_transfer_time (transfer_type 2)
    calendar: Calendar


def subway_size(stops: int, routes: int) -> int:
    """Stations of the metro line (0: no metro) for a city of that size."""
    if routes < 2 or stops < 30:
        return 0
    return min(40, max(3, round(math.sqrt(stops) / 2.5)))


def service_calendar(start: dt.date, days: int) -> Calendar:
    end = start + dt.timedelta(days=days - 1)
    holiday = _first_day(start + dt.timedelta(days=min(9, days - 1)), end, weekend=False)
    holiday = holiday or _first_day(start, end, weekend=False)
    event = _first_day(start, end, weekend=True, weekday=5)
    return Calendar(start, end, holiday, event)


def _first_day(start: dt.date, end: dt.date, *, weekend: bool, weekday: int | None = None) -> dt.date | None:
    day = start
    while day <= end:
        if (day.weekday() >= 5) == weekend and (weekday is None or day.weekday() == weekday):
            return day
        day += dt.timedelta(days=1)
    return None


def _spread_order(n: int) -> list[int]:
    """0..n-1 ordered so that every prefix is spread evenly, starting in the middle."""
    order: list[int] = []
    seen: set[int] = set()
    i = 0
    while len(order) < n:
        x, denom, k = 0.0, 1.0, i
        while k:  # van der Corput in base 2
            denom *= 2
            x += (k & 1) / denom
            k >>= 1
        index = int(((x + 0.5) % 1.0) * n)
        if index not in seen:
            seen.add(index)
            order.append(index)
        i += 1
    return order


def _lines(a: I64, b: I64, horizontal: int, vertical: int) -> tuple[list[list[int]], list[list[int]]]:
    """Lattice-index sequences of the horizontal (snake) and vertical (column) lines."""
    rows: dict[int, list[int]] = {}
    for index in np.lexsort((a, b)).tolist():
        rows.setdefault(int(b[index]), []).append(index)
    snake: list[int] = []
    for k, row in enumerate(rows[key] for key in sorted(rows)):
        snake.extend(row if k % 2 == 0 else row[::-1])
    pieces = [list(map(int, piece)) for piece in np.array_split(np.asarray(snake), horizontal)]

    columns: dict[int, list[int]] = {}
    for index in np.lexsort((b, a)).tolist():
        columns.setdefault(int(a[index]), []).append(index)
    keys = sorted(key for key in columns if len(columns[key]) >= 2)
    segments: list[list[int]] = []
    for position in _spread_order(len(keys)):
        column = columns[keys[position]]
        parts = math.ceil(len(column) / VERTICAL_MAX_STOPS)
        chunks = np.array_split(np.asarray(column), parts)
        segments.extend(list(map(int, chunk)) for chunk in chunks if len(chunk) >= 2)
    if not segments:
        segments = [list(piece) for piece in pieces]
    verticals = [segments[k % len(segments)] for k in range(vertical)]
    return pieces, verticals


def _street_path(points: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], list[int]]:
    """Street nodes (grid coordinates) visiting lattice points in order, and the index
    of each point among them; turns go along the column first, then the row."""
    nodes = [(2 * points[0][0], 2 * points[0][1])]
    at = [0]
    for a, b in points[1:]:
        x, y = nodes[-1]
        tx, ty = 2 * a, 2 * b
        while y != ty:
            y += 1 if ty > y else -1
            nodes.append((x, y))
        while x != tx:
            x += 1 if tx > x else -1
            nodes.append((x, y))
        at.append(len(nodes) - 1)
    return nodes, at


def _cumulative(lat: F64, lon: F64) -> F64:
    steps = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    return np.concatenate([[0.0], np.cumsum(steps)])


def _running_times(dist: F64, kind: str) -> tuple[I64, I64]:
    """Arrival and departure offsets at stops ``dist`` meters along the line: cruise
    speed between stops plus a dwell (the metro shows it as departure - arrival)."""
    speed, dwell = SPEED[kind]
    run = np.round(np.diff(dist) / speed).astype(np.int64)
    n = dist.size
    arrival = np.zeros(n, dtype=np.int64)
    departure = np.zeros(n, dtype=np.int64)
    for j in range(1, n):
        arrival[j] = departure[j - 1] + run[j - 1]
        if kind == "subway":
            departure[j] = arrival[j] + (dwell if j < n - 1 else 0)
        else:  # buses and trams: dwell folded into the running time, one time per stop
            arrival[j] += dwell
            departure[j] = arrival[j]
    return arrival, departure


def _departures(windows: list[tuple[int, int, int]], phase: int) -> list[int]:
    out: list[int] = []
    t = windows[0][0] + phase
    for start, end, headway in windows:
        t = max(t, start)
        while t < end:
            out.append(t)
            t += headway
    return out


def _windows(
    template: tuple[tuple[int, int, str], ...], headways: dict[str, int], span: tuple[int, int] | None
) -> list[tuple[int, int, int]]:
    out = []
    for start, end, period in template:
        if span is not None:
            start, end = max(start, span[0]), min(end, span[1])
        if end > start:
            out.append((start, end, headways[period] * M))
    return out


class _Builder:
    """Accumulates the tables of a :class:`TransitPlan` while lines are laid out."""

    def __init__(self, grid: Grid, calendar: Calendar) -> None:
        self.grid = grid
        self.stops = StopTable()
        self.routes: list[Route] = []
        self.shapes: list[Shape] = []
        self.blocks: list[TripBlock] = []
        self.frequencies: list[Frequency] = []
        self.transfers: list[tuple[str, str, int]] = []
        self.calendar = calendar

    def plan(self) -> TransitPlan:
        return TransitPlan(
            self.stops, self.routes, self.shapes, self.blocks, self.frequencies, self.transfers, self.calendar
        )

    def add_route(self, kind: str, short_name: str, long_name: str) -> int:
        agency, route_type, color, text = STYLE[kind]
        route_id = f"B{short_name}" if kind == "bus" else short_name
        self.routes.append(
            Route(
                route_id, agency, short_name, long_name, route_type, color, text, kind, len(self.routes) + 1
            )
        )
        return len(self.routes) - 1

    def add_shape(self, shape_id: str, nodes: list[tuple[int, int]]) -> Shape:
        xs = np.asarray([p[0] for p in nodes], dtype=np.float64)
        ys = np.asarray([p[1] for p in nodes], dtype=np.float64)
        lat, lon = np.round(self.grid.lat(ys), 6), np.round(self.grid.lon(xs), 6)
        shape = Shape(shape_id, lat, lon, _cumulative(lat, lon))
        self.shapes.append(shape)
        return shape

    def patterns(
        self,
        route: int,
        nodes: list[tuple[int, int]],
        at: list[int],
        stops: tuple[list[int], list[int]],
        headsigns: tuple[str, str],
    ) -> tuple[Pattern, Pattern]:
        """Both directions of a line along street ``nodes``; ``at[k]`` is the node of
        stop ``k`` in direction 0, ``stops`` the stop rows per direction."""
        rid, kind = self.routes[route].id, self.routes[route].kind
        out = []
        for direction in (0, 1):
            path = nodes if direction == 0 else nodes[::-1]
            index = at if direction == 0 else [len(nodes) - 1 - k for k in at[::-1]]
            shape = self.add_shape(f"{rid}.{direction}", path)
            dist = shape.dist[index]
            arrival, departure = _running_times(dist, kind)
            out.append(
                Pattern(
                    route,
                    direction,
                    tuple(stops[direction]),
                    shape.id,
                    dist,
                    arrival,
                    departure,
                    headsigns[direction],
                )
            )
        return out[0], out[1]

    def bus_stops(self, streets: StreetPlan, a: I64, b: I64, rng: np.random.Generator) -> None:
        """One stop per lattice point, on the corner of its intersection."""
        node_lat = self.grid.lat((2 * b).astype(np.float64))
        node_lon = self.grid.lon((2 * a).astype(np.float64))
        lat, lon = self.grid.shift(node_lat, node_lon, 12.0, 9.0)
        accessible = rng.random(a.size) < 0.85
        for i in range(a.size):
            name = f"{streets.horizontal[int(2 * b[i])]} / {streets.vertical[int(2 * a[i])]}"
            self.stops.add(
                f"S{i + 1}",
                name,
                round(float(lat[i]), 6),
                round(float(lon[i]), 6),
                wheelchair=1 if accessible[i] else 2,
            )

    def metro(self, streets: StreetPlan, a: I64, b: I64, stations: int) -> tuple[Pattern, Pattern]:
        """The metro beneath the main diagonal: parent stations beside lattice points
        (p, p), a platform per direction, timed transfers to the bus stop above."""
        on_diagonal = sorted(int(a[i]) for i in range(a.size) if a[i] == b[i])
        spread = np.round(np.linspace(0, len(on_diagonal) - 1, stations))
        picks = sorted({on_diagonal[int(k)] for k in spread})
        lattice_index = {(int(a[i]), int(b[i])): i for i in range(a.size)}
        platforms: tuple[list[int], list[int]] = ([], [])
        names = []
        for k, p in enumerate(picks):
            bus_stop = f"S{lattice_index[(p, p)] + 1}"
            name = f"Piazza {streets.vertical[2 * p].split(' ', 1)[1]}"
            names.append(name)
            node_lat, node_lon = self.grid.lat(2.0 * p), self.grid.lon(2.0 * p)
            lat, lon = self.grid.shift(node_lat, node_lon, -25.0, 20.0)
            parent = f"M{k + 1}"
            wheelchair = 2 if k == len(picks) // 2 else 1  # the old central station has no lift
            self.stops.add(
                parent,
                name,
                round(float(lat), 6),
                round(float(lon), 6),
                location_type=1,
                wheelchair=wheelchair,
            )
            for side, east in ((1, -8.0), (2, 8.0)):
                plat_lat, plat_lon = self.grid.shift(lat, lon, east, 0.0)
                platform = f"{parent}.{side}"
                row = self.stops.add(
                    platform,
                    name,
                    round(float(plat_lat), 6),
                    round(float(plat_lon), 6),
                    parent=parent,
                    platform_code=str(side),
                )
                platforms[side - 1].append(row)
                self.transfers += [(platform, bus_stop, 180), (bus_stop, platform, 180)]
            self.transfers += [(f"{parent}.1", f"{parent}.2", 90), (f"{parent}.2", f"{parent}.1", 90)]
        route = self.add_route("subway", "M1", f"{names[0]} - {names[-1]}")
        first, last = 2 * picks[0], 2 * picks[-1]
        nodes = [(g, g) for g in range(first, last + 1)]
        at = [2 * p - first for p in picks]
        return self.patterns(route, nodes, at, (platforms[0], platforms[1][::-1]), (names[-1], names[0]))

    def surface_line(
        self, kind: str, short_name: str, sequence: list[int], a: I64, b: I64
    ) -> tuple[Pattern, Pattern]:
        """A bus or tram line through lattice points ``sequence`` (stop rows too)."""
        first, last = self.stops.names[sequence[0]], self.stops.names[sequence[-1]]
        route = self.add_route(kind, short_name, f"{first} - {last}")
        nodes, at = _street_path([(int(a[i]), int(b[i])) for i in sequence])
        return self.patterns(route, nodes, at, (sequence, sequence[::-1]), (last, first))

    def timetable(
        self, pair: tuple[Pattern, Pattern], profile: str, frequency_based: bool, rng: np.random.Generator
    ) -> None:
        """Weekday and weekend trips of a line (or frequency templates)."""
        route = self.routes[pair[0].route]
        jitter = int(rng.integers(-1, 3))  # minutes; keeps lines from running in lockstep
        headways = {
            period: min(20, max(5, minutes + (jitter if period in ("peak", "off") else 0)))
            for period, minutes in HEADWAY_MIN[profile].items()
        }
        span = OUTER_SPAN if profile == "bus_outer" else None
        wheelchair = 2 if route.short_name == "T2" else 1  # the old tram stock has steps
        bikes = 1 if route.kind == "subway" else 2
        for service, template in (("WD", WEEKDAY_WINDOWS), ("WE", WEEKEND_WINDOWS)):
            day_headways = dict(headways)
            if service == "WE":
                day_headways["off"] = min(20, headways["off"] + 3)
            windows = _windows(template, day_headways, span)
            for pattern in pair:
                phase = int(rng.integers(0, 5)) * M
                prefix = f"{route.id}.{service}.{pattern.direction}"
                if frequency_based:
                    trip_id = f"{prefix}.F"
                    first = windows[0][0] + phase
                    self.blocks.append(TripBlock(pattern, service, (trip_id,), (first,), wheelchair, bikes))
                    exact = 1 if service == "WD" else 0
                    self.frequencies += [
                        Frequency(trip_id, max(start, first), end, headway, exact)
                        for start, end, headway in windows
                    ]
                    continue
                starts = _departures(windows, phase)
                ids = tuple(f"{prefix}.{k + 1}" for k in range(len(starts)))
                self.blocks.append(TripBlock(pattern, service, ids, tuple(starts), wheelchair, bikes))

    def express(self, pair: tuple[Pattern, Pattern]) -> None:
        """Peak-hour weekday trips serving every other stop of a bus line."""
        route = self.routes[pair[0].route]
        for pattern in pair:
            n = len(pattern.stops)
            keep = [j for j in range(n) if j in (0, n - 1) or j % 2 == 0]
            dist = pattern.dist[keep]
            arrival, departure = _running_times(dist, "bus")
            express = Pattern(
                pattern.route,
                pattern.direction,
                tuple(pattern.stops[j] for j in keep),
                pattern.shape,
                dist,
                arrival,
                departure,
                f"{pattern.headsign} (Express)",
            )
            windows = [(start, end, 15 * M) for start, end, period in WEEKDAY_WINDOWS if period == "peak"]
            starts = _departures(windows, 7 * M)
            ids = tuple(f"{route.id}X.WD.{pattern.direction}.{k + 1}" for k in range(len(starts)))
            self.blocks.append(TripBlock(express, "WD", ids, tuple(starts), 1, 2))

    def event(self, pair: tuple[Pattern, Pattern]) -> None:
        """Extra trips after the usual last departure on the event night."""
        route = self.routes[pair[0].route]
        start, end, headway = EVENT_WINDOW
        starts = _departures([(start, end, headway)], 0)
        for pattern in pair:
            ids = tuple(f"{route.id}.EV.{pattern.direction}.{k + 1}" for k in range(len(starts)))
            self.blocks.append(TripBlock(pattern, "EV", ids, tuple(starts), 1, 1))


def plan_transit(
    grid: Grid,
    streets: StreetPlan,
    lattice: tuple[I64, I64],
    stations: int,
    routes: int,
    calendar: Calendar,
    rng: np.random.Generator,
) -> TransitPlan:
    """Stops, ``routes`` lines and their timetables for a city (``stations`` metro
    stations, 0 for none; every other stop is a point of ``lattice``)."""
    a, b = lattice
    builder = _Builder(grid, calendar)
    builder.bus_stops(streets, a, b, rng)
    metro = builder.metro(streets, a, b, stations) if stations else None

    surface = routes - (1 if stations else 0)
    horizontal = min(surface - round(surface / 3), max(1, a.size // 2))
    vertical = surface - horizontal
    pieces, columns = _lines(a, b, horizontal, vertical)
    trams = min(vertical, 1 if surface < 8 else 2)
    radius = math.sqrt(a.size / math.pi)

    lines: list[tuple[tuple[Pattern, Pattern], str]] = []  # patterns, headway profile
    if metro is not None:
        lines.append((metro, "subway"))
    for k, sequence in enumerate(pieces):
        pair = builder.surface_line("bus", str(k + 1), sequence, a, b)
        inner = float(np.mean(np.hypot(a[sequence], b[sequence]))) <= 0.5 * radius
        lines.append((pair, "bus_inner" if inner else "bus_outer"))
    for k, sequence in enumerate(columns):
        if k < trams:
            lines.append((builder.surface_line("tram", f"T{k + 1}", sequence, a, b), "tram"))
            continue
        pair = builder.surface_line("bus", str(horizontal + k - trams + 1), sequence, a, b)
        inner = float(np.mean(np.hypot(a[sequence], b[sequence]))) <= 0.5 * radius
        lines.append((pair, "bus_inner" if inner else "bus_outer"))

    # one line runs by frequencies.txt: the first tram, else the last "horizontal" bus
    first_bus = lines[1 if metro is not None else 0][0]
    first_column = len(lines) - len(columns)
    by_frequency = lines[first_column if trams else first_column - 1][0][0].route
    for pair, profile in lines:
        builder.timetable(pair, profile, pair[0].route == by_frequency, rng)
    if len(first_bus[0].stops) >= 4:
        builder.express(first_bus)
    if calendar.event_day is not None:
        builder.event(metro if metro is not None else first_bus)
    return builder.plan()
