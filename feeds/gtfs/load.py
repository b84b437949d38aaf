"""GTFS feeds (zip files or directories) -> one :class:`~feeds.model.TransitData`.

Per feed: list the files (:mod:`.source`), read the tables with gtfs-kit
(:mod:`.tables`), resolve calendars (:mod:`.calendar`), stop times (:mod:`.stop_times`)
and frequencies (:mod:`.frequencies`) into columns with ids namespaced ``FEED:ID``;
then merge the feeds (:mod:`.merge`). Rows that cannot be used are dropped and
reported as notices; only a feed that cannot be read at all raises.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from feeds.errors import FeedDataError, FeedFormatError
from feeds.gtfs.calendar import resolve_calendar
from feeds.gtfs.columns import Obj, floats, ints, positions, row_numbers, text
from feeds.gtfs.frequencies import plan_trips
from feeds.gtfs.merge import merge_transit
from feeds.gtfs.notices import NoticeLog
from feeds.gtfs.route_types import route_mode
from feeds.gtfs.source import FeedFiles
from feeds.gtfs.stop_times import gather, read_stop_times
from feeds.gtfs.tables import Tables, read_tables
from feeds.model import (
    Agency,
    FeedSource,
    Route,
    Services,
    Shapes,
    Stops,
    Transfers,
    TransitData,
    Trips,
    ns,
)
from feeds.quality import Severity
from feeds.sources import check_feed_id, default_feed_id

FeedArg = str | Path | tuple[str | None, str | Path]
Progress = Callable[[str], None]


def load_gtfs(feeds: Sequence[FeedArg], *, progress: Progress | None = None) -> TransitData:
    """Load and merge GTFS feeds.

    Each feed is a path (zip file or directory) or ``(id or None, path)``. A plain
    string is a path (parse CLI ``ID=PATH`` arguments with
    :func:`feeds.sources.parse_feed_arg`). The id defaults to ``feed_info.feed_id``,
    else the file's stem.

    Raises FeedNotFound for a missing path, FeedFormatError for an unreadable feed
    (naming the file) or two feeds with one id, FeedDataError for content no row
    filter can save (no valid agency time zone, no service dates).
    """
    say: Progress = progress or (lambda _msg: None)
    if isinstance(feeds, str | Path):  # a lone path is a one-feed list, not characters
        feeds = [feeds]
    if not feeds:
        raise FeedFormatError("no GTFS feed given")
    seen: dict[str, Path] = {}
    parts: list[TransitData] = []
    for arg in feeds:
        explicit, path = (arg[0], Path(arg[1])) if isinstance(arg, tuple) else (None, Path(arg))
        say(f"reading GTFS {path}")
        raw = _open(path, explicit)
        if raw.feed_id in seen:
            raise FeedFormatError(
                f"two feeds have the id {raw.feed_id!r}: {seen[raw.feed_id]} and {path}; "
                "give one an explicit id as ID=PATH"
            )
        seen[raw.feed_id] = path
        parts.append(_build(raw, say))
    if len(parts) > 1:
        say(f"merging {len(parts)} feeds")
    return merge_transit(parts)


@dataclass(frozen=True)
class _RawFeed:
    files: FeedFiles
    tables: Tables
    feed_id: str
    info: dict[str, str]
    log: NoticeLog

    @property
    def where(self) -> str:
        return f"GTFS feed {self.feed_id!r} ({self.files.path})"


def _open(path: Path, explicit_id: str | None) -> _RawFeed:
    files = FeedFiles.open(path)
    log = NoticeLog()
    tables = read_tables(files, log)
    info = _feed_info(files)
    # A declared id is the publisher's, not the user's: make it usable rather than refuse it.
    declared = info.get("feed_id", "").replace(":", "_")
    feed_id = check_feed_id(explicit_id or declared or default_feed_id(path))
    log.feed_id = feed_id
    return _RawFeed(files, tables, feed_id, info, log)


def _feed_info(files: FeedFiles) -> dict[str, str]:
    """First row of feed_info.txt as text. Read directly rather than from gtfs-kit's
    table, whose type inference would turn a feed_id like ``01`` into the number 1."""
    if not files.has("feed_info.txt"):
        return {}
    try:
        reader = csv.DictReader(io.StringIO(files.read_bytes("feed_info.txt").decode("utf-8-sig")))
        row = next(reader, None)
    except (UnicodeDecodeError, csv.Error):
        return {}  # read_tables has already vetted the file; nothing better to say here
    if row is None:
        return {}
    return {k.strip(): (v or "").strip() for k, v in row.items() if isinstance(k, str) and isinstance(v, str)}


def _build(raw: _RawFeed, say: Progress) -> TransitData:
    fid, log, t = raw.feed_id, raw.log, raw.tables

    def nsa(local: Obj) -> tuple[str, ...]:
        return tuple(ns(fid, str(x)) for x in local)

    agencies, agency_index = _agencies(
        _unique(t["agency"], "agency_id", "agency.txt", log, blank_ok=True), raw
    )
    routes_df = _unique(t["routes"], "route_id", "routes.txt", log)
    routes = _routes(routes_df, fid, agency_index, log)
    route_index = pd.Index(text(routes_df, "route_id"))

    stops_df = _unique(t["stops"], "stop_id", "stops.txt", log)
    stops = _stops(stops_df, nsa, log)
    stop_index = pd.Index(text(stops_df, "stop_id"))

    say(f"{fid}: resolving service calendar")
    calendar = resolve_calendar(t.get("calendar"), t.get("calendar_dates"), log, raw.where)
    service_index = pd.Index(list(calendar.ids))
    services = Services(
        ids=tuple(ns(fid, x) for x in calendar.ids),
        base_date=dt.date.fromordinal(calendar.first_day),
        active=calendar.active,
    )

    shapes, shape_index = _shapes(t.get("shapes"), nsa, log)

    trips_df = _unique(t["trips"], "trip_id", "trips.txt", log)
    trip_ids = pd.Index(text(trips_df, "trip_id"))
    trip_rows = row_numbers(trips_df)
    route = _lookup(route_index, trips_df, "route_id", "trips.txt", "unknown_route_id", "routes.txt", log)
    service = _lookup(
        service_index,
        trips_df,
        "service_id",
        "trips.txt",
        "unknown_service_id",
        "calendar.txt / calendar_dates.txt",
        log,
    )
    shape = _lookup(
        shape_index,
        trips_df,
        "shape_id",
        "trips.txt",
        "unknown_shape_id",
        "shapes.txt",
        log,
        Severity.WARNING,
    )

    say(f"{fid}: ordering and interpolating stop times")
    st = read_stop_times(t["stop_times"], trip_ids, trip_rows, stop_index, log)
    usable = st.usable & (route >= 0) & (service >= 0)
    say(f"{fid}: expanding frequencies")
    src, shift, freq_start = plan_trips(t.get("frequencies"), trip_ids, st.first_departure(), usable, log)
    stop_times, st_offset = gather(st, src, shift)

    trip_ns = nsa(trip_ids.to_numpy(dtype=object))
    headsign = text(trips_df, "trip_headsign")
    wheelchair = ints(trips_df, "wheelchair_accessible", 0)
    wheelchair = np.where((wheelchair >= 0) & (wheelchair <= 2), wheelchair, 0)
    direction = ints(trips_df, "direction_id", -1)
    trips = Trips(
        ids=tuple(trip_ns[i] for i in src),
        route=route[src].astype(np.int32),
        service=service[src].astype(np.int32),
        headsign=tuple(str(headsign[i]) for i in src),
        direction=np.where((direction == 0) | (direction == 1), direction, -1)[src].astype(np.int8),
        shape=shape[src].astype(np.int32),
        wheelchair=wheelchair[src].astype(np.int8),
        freq_start=freq_start.astype(np.int32),
        st_offset=st_offset,
    )

    active_days = np.flatnonzero(calendar.active.any(axis=0))
    source = FeedSource(
        id=fid,
        kind="gtfs",
        path=str(raw.files.path),
        sha256=raw.files.sha256(),
        valid_from=dt.date.fromordinal(calendar.first_day + int(active_days[0]))
        if active_days.size
        else None,
        valid_to=dt.date.fromordinal(calendar.first_day + int(active_days[-1])) if active_days.size else None,
        publisher=raw.info.get("feed_publisher_name", ""),
        version=raw.info.get("feed_version", ""),
    )
    return TransitData(
        sources=(source,),
        agencies=agencies,
        routes=routes,
        stops=stops,
        trips=trips,
        stop_times=stop_times,
        services=services,
        shapes=shapes,
        transfers=_transfers(t.get("transfers"), stop_index, log),
        notices=log.notices(),
    )


def _unique(df: pd.DataFrame, key: str, file: str, log: NoticeLog, *, blank_ok: bool = False) -> pd.DataFrame:
    """Rows with a key, the first of each key (later duplicates reported and dropped)."""
    keys = text(df, key)
    blank = keys == ""
    if not blank_ok:
        log.rows(
            Severity.ERROR,
            "missing_required_field",
            f"rows have no {key} and were dropped",
            file=file,
            field=key,
            rows=row_numbers(df)[blank],
        )
        df, keys, blank = df[~blank], keys[~blank], blank[~blank]
    dup = pd.Index(keys).duplicated() & ~blank
    log.rows(
        Severity.ERROR,
        "duplicate_key",
        f"rows repeat a {key}; the first was kept",
        file=file,
        field=key,
        rows=row_numbers(df)[dup],
        examples=list(keys[dup][:3]),
    )
    unique: pd.DataFrame = df[~dup]
    return unique


def _lookup(
    index: pd.Index,
    df: pd.DataFrame,
    col: str,
    file: str,
    code: str,
    target: str,
    log: NoticeLog,
    severity: Severity = Severity.ERROR,
) -> np.ndarray:
    """Positions of ``df[col]`` in ``index``; -1 for blanks and unknown ids. Unknown ids
    are reported, and blanks too when the column is required (``severity`` ERROR)."""
    values = text(df, col)
    found = positions(index, values)
    required = severity is Severity.ERROR
    unknown = (found < 0) & ((values != "") | required)
    consequence = "the trips were dropped" if required else "ignored"
    log.rows(
        severity,
        code,
        f"{file} rows have a blank {col} or one missing from {target}; {consequence}",
        file=file,
        field=col,
        rows=row_numbers(df)[unknown],
        examples=list(values[unknown][:3]),
    )
    return found


def _agencies(df: pd.DataFrame, raw: _RawFeed) -> tuple[tuple[Agency, ...], dict[str, int]]:
    ids, names, urls, zones = (
        text(df, c) for c in ("agency_id", "agency_name", "agency_url", "agency_timezone")
    )
    rows = row_numbers(df)
    for tz, row in zip(zones, rows, strict=True):
        if tz and not _is_time_zone(str(tz)):
            raise FeedDataError(
                f"{raw.where}: agency.txt row {row + 1}: agency_timezone {tz!r} is not an IANA time zone"
            )
    named = [str(z) for z in zones if z]
    if not named:
        raise FeedDataError(f"{raw.where}: agency.txt gives no agency_timezone")
    blank_tz = zones == ""
    raw.log.rows(
        Severity.ERROR,
        "missing_required_field",
        f"agencies have no agency_timezone; {named[0]} (of another agency) was used",
        file="agency.txt",
        field="agency_timezone",
        rows=rows[blank_tz],
    )
    if len(set(named)) > 1:
        raw.log.add(
            Severity.WARNING,
            "inconsistent_agency_timezone",
            f"agencies of one feed name different time zones ({', '.join(sorted(set(named)))}); each route keeps its agency's",
            file="agency.txt",
            field="agency_timezone",
        )
    single = len(df) == 1
    local = [str(a) or (raw.feed_id if single else f"agency_{i + 1}") for i, a in enumerate(ids)]
    agencies = tuple(
        Agency(ns(raw.feed_id, lid), str(name), str(url), str(tz) or named[0], raw.feed_id)
        for lid, name, url, tz in zip(local, names, urls, zones, strict=True)
    )
    return agencies, {str(a): i for i, a in enumerate(ids) if a}


def _is_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _routes(df: pd.DataFrame, fid: str, agency_index: dict[str, int], log: NoticeLog) -> tuple[Route, ...]:
    rows = row_numbers(df)
    ids = text(df, "route_id")
    agency_ids = text(df, "agency_id")
    route_types = ints(df, "route_type", -1)
    short, long = text(df, "route_short_name"), text(df, "route_long_name")
    colors, text_colors = text(df, "route_color"), text(df, "route_text_color")
    several = len(agency_index) > 1
    no_agency: list[int] = []
    bad_agency: list[int] = []
    bad_type: list[int] = []
    bad_color: list[int] = []
    out: list[Route] = []
    for i in range(len(df)):
        aid = str(agency_ids[i])
        if not aid:
            agency = 0
            if several:
                no_agency.append(i)
        elif aid in agency_index:
            agency = agency_index[aid]
        else:
            agency = 0
            bad_agency.append(i)
        mode = route_mode(int(route_types[i]))
        if mode is None:
            mode = "bus"
            bad_type.append(i)
        color, text_color = _color(str(colors[i])), _color(str(text_colors[i]))
        if color is None or text_color is None:
            bad_color.append(i)
        out.append(
            Route(
                id=ns(fid, str(ids[i])),
                agency=agency,
                short_name=str(short[i]),
                long_name=str(long[i]),
                route_type=int(route_types[i]),
                mode=mode,
                color=color or "",
                text_color=text_color or "",
            )
        )
    log.rows(
        Severity.ERROR,
        "missing_required_field",
        "routes have no agency_id although the feed has several agencies; the first agency was used",
        file="routes.txt",
        field="agency_id",
        rows=rows[no_agency],
        examples=list(ids[no_agency][:3]),
    )
    log.rows(
        Severity.ERROR,
        "unknown_agency_id",
        "routes name an agency_id missing from agency.txt; the first agency was used",
        file="routes.txt",
        field="agency_id",
        rows=rows[bad_agency],
        examples=list(agency_ids[bad_agency][:3]),
    )
    log.rows(
        Severity.WARNING,
        "unknown_route_type",
        "routes have an unknown route_type and are treated as bus",
        file="routes.txt",
        field="route_type",
        rows=rows[bad_type],
        examples=[f"{ids[i]}={route_types[i]}" for i in bad_type[:3]],
    )
    log.rows(
        Severity.WARNING,
        "invalid_color",
        "routes have a route_color or route_text_color that is not 6 hex digits (dropped)",
        file="routes.txt",
        field="route_color",
        rows=rows[bad_color],
        examples=list(ids[bad_color][:3]),
    )
    return tuple(out)


def _color(value: str) -> str | None:
    """``RRGGBB`` upper-case, "" when blank, None when malformed."""
    v = value.strip().removeprefix("#").upper()
    if not v:
        return ""
    if len(v) == 6 and all(c in "0123456789ABCDEF" for c in v):
        return v
    return None


def _stops(df: pd.DataFrame, nsa: Callable[[Obj], tuple[str, ...]], log: NoticeLog) -> Stops:
    rows = row_numbers(df)
    ids = text(df, "stop_id")
    location_type = ints(df, "location_type", 0)
    bad_type = (location_type < 0) | (location_type > 4)
    log.rows(
        Severity.ERROR,
        "invalid_location_type",
        "stops have a location_type outside 0..4, read as 0",
        file="stops.txt",
        field="location_type",
        rows=rows[bad_type],
        examples=list(ids[bad_type][:3]),
    )
    location_type[bad_type] = 0
    parent_ids = text(df, "parent_station")
    parent = positions(pd.Index(ids), parent_ids)
    orphan = (parent < 0) & (parent_ids != "")
    log.rows(
        Severity.ERROR,
        "unknown_parent_station",
        "stops name a parent_station missing from stops.txt",
        file="stops.txt",
        field="parent_station",
        rows=rows[orphan],
        examples=list(parent_ids[orphan][:3]),
    )
    wheelchair = ints(df, "wheelchair_boarding", 0)
    wheelchair[(wheelchair < 0) | (wheelchair > 2)] = 0
    # 0 on a child means "as the parent"; boarding areas are two levels below a station.
    for _ in range(3):
        inherit = (wheelchair == 0) & (parent >= 0)
        if not inherit.any():
            break
        wheelchair[inherit] = wheelchair[parent[inherit]]
    lat, lon = floats(df, "stop_lat"), floats(df, "stop_lon")
    unplaced = (location_type <= 2) & ~(np.isfinite(lat) & np.isfinite(lon))
    log.rows(
        Severity.ERROR,
        "missing_stop_coordinates",
        "stops, stations or entrances have no stop_lat/stop_lon",
        file="stops.txt",
        field="stop_lat",
        rows=rows[unplaced],
        examples=list(ids[unplaced][:3]),
    )
    return Stops(
        ids=nsa(ids),
        names=tuple(str(x) for x in text(df, "stop_name")),
        lat=lat,
        lon=lon,
        location_type=location_type.astype(np.int8),
        parent=parent.astype(np.int32),
        wheelchair=wheelchair.astype(np.int8),
    )


def _shapes(
    df: pd.DataFrame | None, nsa: Callable[[Obj], tuple[str, ...]], log: NoticeLog
) -> tuple[Shapes, pd.Index]:
    if df is None:
        empty = np.zeros(0)
        return Shapes((), np.zeros(1, dtype=np.int64), empty, empty, empty.astype(np.float32)), pd.Index([])
    ids = text(df, "shape_id")
    seq, lat, lon = floats(df, "shape_pt_sequence"), floats(df, "shape_pt_lat"), floats(df, "shape_pt_lon")
    bad = (ids == "") | np.isnan(seq) | ~np.isfinite(lat) | ~np.isfinite(lon)
    log.rows(
        Severity.ERROR,
        "invalid_shape_point",
        "shape points lack a shape_id, sequence or coordinates and were dropped",
        file="shapes.txt",
        field="shape_pt_sequence",
        rows=row_numbers(df)[bad],
    )
    keep = np.flatnonzero(~bad)
    codes, uniques = pd.factorize(ids[keep])
    order = keep[np.lexsort((seq[keep], codes))]
    counts = np.bincount(codes, minlength=len(uniques))
    index = pd.Index(np.asarray(uniques, dtype=object))
    shapes = Shapes(
        ids=nsa(index.to_numpy(dtype=object)),
        offset=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
        lat=lat[order],
        lon=lon[order],
        dist=floats(df, "shape_dist_traveled")[order].astype(np.float32),
    )
    return shapes, index


def _transfers(df: pd.DataFrame | None, stop_index: pd.Index, log: NoticeLog) -> Transfers:
    if df is None:
        none = np.zeros(0, dtype=np.int32)
        return Transfers(none, none, none.astype(np.int8), none)
    from_stop = positions(stop_index, text(df, "from_stop_id"))
    to_stop = positions(stop_index, text(df, "to_stop_id"))
    bad = (from_stop < 0) | (to_stop < 0)
    log.rows(
        Severity.WARNING,
        "transfer_unknown_stop",
        "transfers rows name no known from/to stop (blank or unknown stop_id) and were dropped",
        file="transfers.txt",
        field="from_stop_id",
        rows=row_numbers(df)[bad],
    )
    keep = ~bad
    return Transfers(
        from_stop=from_stop[keep].astype(np.int32),
        to_stop=to_stop[keep].astype(np.int32),
        transfer_type=ints(df, "transfer_type", 0)[keep].astype(np.int8),
        min_time=ints(df, "min_transfer_time", -1)[keep].astype(np.int32),
    )
