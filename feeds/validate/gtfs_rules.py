"""Rules over single files and references between them (the canonical validator's
structural notices): files, columns, required values, value formats, keys, references,
and the per-entity rules of agency, stops, routes, calendar and frequencies.

Timetable rules (stop time order, speed, shapes) are in :mod:`feeds.validate.trip_rules`,
service-date rules in :mod:`feeds.validate.calendar_rules`.
"""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from feeds.validate.collector import NoticeCollector
from feeds.validate.columns import Column, Rows
from feeds.validate.fields import (
    float_array,
    int_array,
    is_blank,
    is_color,
    parse_date,
    parse_float,
    parse_int,
    parse_time,
)
from feeds.validate.reader import Data, Table
from feeds.validate.schema import (
    CALENDAR_FILES,
    COLOR_COLUMNS,
    DATE_COLUMNS,
    ENUM_FILES,
    ENUMS,
    FOREIGN_KEYS,
    INT_COLUMNS,
    KNOWN_FILES,
    LATITUDE_COLUMNS,
    LONGITUDE_COLUMNS,
    NON_NEGATIVE_FLOAT_COLUMNS,
    NON_NEGATIVE_INT_COLUMNS,
    REQUIRED_FILES,
    TIME_COLUMNS,
    TIMEZONE_COLUMNS,
    FileSpec,
    is_valid_route_type,
)

T = TypeVar("T")


@dataclass
class GtfsTables:
    """What was read from one feed."""

    tables: dict[str, Table] = field(default_factory=dict)
    # Every member present at the root, readable or not (so a missing parent is not
    # confused with an unreadable one).
    present: set[str] = field(default_factory=set)
    # Feature ids of locations.geojson; None when the file is absent or unreadable.
    location_ids: set[str] | None = None

    def get(self, name: str) -> Table | None:
        return self.tables.get(name)


# --- files -------------------------------------------------------------------------------


def check_files(names: Sequence[str], nested: Sequence[str], sink: NoticeCollector) -> None:
    """Required files, the calendar pair, files in a subfolder and unknown files."""
    present = set(names)
    for name in REQUIRED_FILES:
        if name in present:
            continue
        if name == "stops.txt" and "locations.geojson" in present:
            continue  # a Flex-only feed may define its stops as GeoJSON zones
        if name in nested:
            sink.error(
                "invalid_input_files_in_subfolder",
                f"{name} is in a subfolder of the archive; GTFS files must be at its root",
                file=name,
            )
        else:
            sink.error("missing_required_file", f"required file {name} is missing", file=name)
    in_subfolder = [n for n in CALENDAR_FILES if n in nested]
    if not present.intersection(CALENDAR_FILES) and in_subfolder:
        sink.error(
            "invalid_input_files_in_subfolder",
            f"{in_subfolder[0]} is in a subfolder of the archive; GTFS files must be at its root",
            file=in_subfolder[0],
        )
    elif not present.intersection(CALENDAR_FILES):
        sink.error(
            "missing_calendar_and_calendar_date_files",
            "neither calendar.txt nor calendar_dates.txt is present: no service day is defined",
        )
    for name in names:
        if name not in KNOWN_FILES:
            sink.info("unknown_file", f"{name} is not a GTFS file; ignored", file=name)


def check_not_empty(table: Table, sink: NoticeCollector) -> None:
    if table.size == 0 and table.name in REQUIRED_FILES:
        sink.error("empty_file", f"required file {table.name} has a header but no data rows", file=table.name)


# --- columns and values ---------------------------------------------------------------------


def check_columns(table: Table, spec: FileSpec, sink: NoticeCollector) -> None:
    name = table.name
    for col in spec.required_columns:
        if not table.has(col):
            sink.error("missing_required_column", f"{name} has no column {col}", file=name, row=0, field=col)
    if spec.columns is not None:
        for col in table.header:
            if col not in spec.columns:
                sink.info("unknown_column", f"{name} column {col} is not in the GTFS reference", name, 0, col)


def check_required_values(table: Table, spec: FileSpec, sink: NoticeCollector) -> None:
    for col in spec.required_values:
        if table.has(col):
            _report_blank(table, col, sink, f"{col} is required and empty")


def _report_blank(
    table: Table, col: str, sink: NoticeCollector, message: str, rows: Sequence[int] | None = None
) -> None:
    """missing_required_field for each blank value of ``col`` (in ``rows``, ascending, when given)."""
    values = table.column(col)
    hits = values.rows_where(values.per_value(is_blank))
    if rows is not None:
        hits = hits[np.isin(hits, np.asarray(rows, dtype=np.int64))]
    for i in sink.capped("missing_required_field", hits):
        sink.error("missing_required_field", message, file=table.name, row=table.row(i), field=col)


def check_value_formats(table: Table, sink: NoticeCollector) -> None:
    """Times, dates, numbers, coordinates, colours, time zones and enumerations."""
    for col in table.header:
        if col in TIME_COLUMNS:
            _check_parse(table, col, parse_time, "invalid_time", "is not a time H:MM:SS", sink)
        elif col in DATE_COLUMNS:
            _check_parse(table, col, parse_date, "invalid_date", "is not a date YYYYMMDD", sink)
        elif col in LATITUDE_COLUMNS:
            _check_range(table, col, -90.0, 90.0, sink)
        elif col in LONGITUDE_COLUMNS:
            _check_range(table, col, -180.0, 180.0, sink)
        elif col in NON_NEGATIVE_INT_COLUMNS:
            _check_parse(table, col, parse_int, "invalid_integer", "is not an integer", sink)
            _check_non_negative(table, col, parse_int, sink)
        elif col in INT_COLUMNS:
            _check_parse(table, col, parse_int, "invalid_integer", "is not an integer", sink)
        elif col in NON_NEGATIVE_FLOAT_COLUMNS:
            _check_parse(table, col, parse_float, "invalid_float", "is not a number", sink)
            _check_non_negative(table, col, parse_float, sink)
        elif col in COLOR_COLUMNS:
            _check_parse(table, col, _color, "invalid_color", "is not a colour RRGGBB", sink)
        elif col in TIMEZONE_COLUMNS:
            _check_parse(table, col, _timezone, "invalid_timezone", "is not an IANA time zone", sink)
        elif col == "route_type" and table.name == "routes.txt":
            _check_enum(table, col, is_valid_route_type, sink)
        elif col in ENUMS and table.name in ENUM_FILES:
            _check_enum(table, col, _member_of(ENUMS[col]), sink)


def _member_of(allowed: frozenset[str]) -> Callable[[int], bool]:
    return lambda value: str(value) in allowed


def _color(value: str) -> bool | None:
    return True if is_color(value) else None


def _timezone(value: str) -> bool | None:
    try:
        zoneinfo.ZoneInfo(value.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return True


def _hits(column: Column, parse: Callable[[str], T | None], test: Callable[[T], bool]) -> Rows:
    """Rows whose non-blank value parses to something passing ``test``, each distinct
    value parsed once."""
    parsed = [None if is_blank(v) else parse(v) for v in column.values]
    hit = np.fromiter((p is not None and test(p) for p in parsed), dtype=bool, count=len(parsed))
    return column.rows_where(hit)


def _check_parse(
    table: Table,
    col: str,
    parse: Callable[[str], object | None],
    code: str,
    what: str,
    sink: NoticeCollector,
) -> None:
    values = table.column(col)
    bad = values.per_value(lambda v: not is_blank(v) and parse(v) is None)
    for i in sink.capped(code, values.rows_where(bad)):
        sink.error(code, f"{col} '{values[i]}' {what}", file=table.name, row=table.row(i), field=col)


def _check_non_negative(
    table: Table, col: str, parse: Callable[[str], float | None], sink: NoticeCollector
) -> None:
    values = table.column(col)
    for i in sink.capped("number_out_of_range", _hits(values, parse, lambda p: p < 0)):
        sink.error(
            "number_out_of_range", f"{col} {values[i]} must not be negative", table.name, table.row(i), col
        )


def _check_range(table: Table, col: str, low: float, high: float, sink: NoticeCollector) -> None:
    _check_parse(table, col, parse_float, "invalid_float", "is not a number", sink)
    values = table.column(col)
    for i in sink.capped("number_out_of_range", _hits(values, parse_float, lambda p: not low <= p <= high)):
        sink.error(
            "number_out_of_range",
            f"{col} {values[i].strip()} is outside [{low:g}, {high:g}]",
            table.name,
            table.row(i),
            col,
        )


def _check_enum(table: Table, col: str, allowed: Callable[[int], bool], sink: NoticeCollector) -> None:
    _check_parse(table, col, parse_int, "invalid_integer", "is not an integer", sink)
    values = table.column(col)
    for i in sink.capped("unexpected_enum_value", _hits(values, parse_int, lambda p: not allowed(p))):
        sink.warning(
            "unexpected_enum_value",
            f"{col} {values[i].strip()} is not a value the reference defines",
            table.name,
            table.row(i),
            col,
        )


# --- keys and references --------------------------------------------------------------------


def check_primary_key(table: Table, spec: FileSpec, sink: NoticeCollector) -> None:
    if not spec.key or not table.has(spec.key[0]):
        return
    columns = [table.column(c) for c in spec.key]
    if len(columns) == 1 and len(columns[0].values) == table.size:
        return  # as many distinct values as rows
    keys = _row_keys(columns)
    if not _has_repeats(keys):
        return
    _, first, key = np.unique(keys, return_index=True, return_inverse=True)
    earlier = first[key]  # the first row holding each row's key
    for i in sink.capped("duplicate_key", np.flatnonzero(earlier != np.arange(table.size))):
        shown = ", ".join(f"{c}={col[i]}" for c, col in zip(spec.key, columns, strict=True))
        sink.error(
            "duplicate_key",
            f"{shown} is already defined in row {table.row(int(earlier[i]))}",
            file=table.name,
            row=table.row(i),
            field=",".join(spec.key),
        )


def _row_keys(columns: Sequence[Column]) -> NDArray[np.int64]:
    """One integer per row, equal for two rows exactly when all ``columns`` are."""
    key = columns[0].codes.astype(np.int64)
    span = max(len(columns[0].values), 1)  # key < span
    for col in columns[1:]:
        width = max(len(col.values), 1)
        if span * width >= 1 << 62:  # renumber densely first: the product must not overflow
            key = np.unique(key, return_inverse=True)[1].astype(np.int64)
            span = int(key.max(initial=0)) + 1
        key = key * width + col.codes
        span *= width
    return key


def _has_repeats(keys: NDArray[np.int64]) -> bool:
    ordered = np.sort(keys, kind="stable")  # adaptive: keys of a sorted file are sorted already
    return bool((ordered[1:] == ordered[:-1]).any())


def check_foreign_keys(feed: GtfsTables, sink: NoticeCollector) -> None:
    for fk in FOREIGN_KEYS:
        child = feed.get(fk.file)
        if child is None or not child.has(fk.column):
            continue
        parent = feed.get(fk.parent_file)
        if parent is None and (fk.parent_file in feed.present or fk.parent_file in REQUIRED_FILES):
            continue  # unreadable or missing required parent: reported already, not once per row
        targets = (
            set(parent.column(fk.parent_column).values)
            if parent is not None and parent.has(fk.parent_column)
            else set()
        )
        if (fk.file, fk.column) == ("stop_times.txt", "stop_id"):
            # Drafts of GTFS-Flex (still published, e.g. by OTP's test feeds) name zones and
            # location groups in stop_id; the loader accepts them, so they are not dangling.
            targets |= feed.location_ids or set()
            groups = feed.get("location_groups.txt")
            if groups is not None:
                targets.update(groups.column("location_group_id").values)
        _report_dangling(child, fk.column, targets, f"{fk.parent_file} {fk.parent_column}", sink)
    _check_service_references(feed, sink)
    _check_location_references(feed, sink)


def _report_dangling(child: Table, col: str, targets: set[str], where: str, sink: NoticeCollector) -> None:
    values = child.column(col)
    dangling = values.per_value(lambda v: bool(v) and v not in targets)
    for i in sink.capped("foreign_key_violation", values.rows_where(dangling)):
        sink.error(
            "foreign_key_violation", f"{col} '{values[i]}' is not a {where}", child.name, child.row(i), col
        )


def _check_service_references(feed: GtfsTables, sink: NoticeCollector) -> None:
    trips = feed.get("trips.txt")
    calendars = [feed.get(n) for n in CALENDAR_FILES]
    if trips is None or not trips.has("service_id") or not any(n in feed.present for n in CALENDAR_FILES):
        return
    if any(t is None for t, n in zip(calendars, CALENDAR_FILES, strict=True) if n in feed.present):
        return  # one of them is unreadable: references cannot be judged
    services = {s for t in calendars if t is not None for s in t.column("service_id").values}
    _report_dangling(trips, "service_id", services, "service_id in calendar.txt or calendar_dates.txt", sink)


def _check_location_references(feed: GtfsTables, sink: NoticeCollector) -> None:
    stop_times = feed.get("stop_times.txt")
    if stop_times is None or not stop_times.has("location_id"):
        return
    if "locations.geojson" in feed.present and feed.location_ids is None:
        return  # unreadable, reported
    _report_dangling(
        stop_times, "location_id", feed.location_ids or set(), "feature id in locations.geojson", sink
    )


def read_location_ids(data: Data, sink: NoticeCollector) -> set[str] | None:
    """Feature ids of locations.geojson; None (and a notice) when it is not GeoJSON."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
        features = doc["features"]
        return {str(f["id"]) for f in features if isinstance(f, dict) and "id" in f}
    except (ValueError, KeyError, TypeError) as exc:
        sink.error(
            "malformed_json",
            f"locations.geojson is not a GeoJSON FeatureCollection: {exc}",
            "locations.geojson",
        )
        return None


# --- entities -------------------------------------------------------------------------------


def check_agencies(feed: GtfsTables, sink: NoticeCollector) -> None:
    agency = feed.get("agency.txt")
    if agency is None or agency.size == 0:
        return
    if agency.size > 1:
        _report_blank(agency, "agency_id", sink, "agency_id is required when the feed has several agencies")
        routes = feed.get("routes.txt")
        if routes is not None:
            _report_blank(
                routes, "agency_id", sink, "agency_id is required when the feed has several agencies"
            )
    zones = {v.strip() for v in agency.column("agency_timezone") if v.strip()}
    if len(zones) > 1:
        first = agency.column("agency_timezone")[0].strip()
        for i, v in enumerate(agency.column("agency_timezone")):
            if v.strip() and v.strip() != first:
                sink.error(
                    "inconsistent_agency_timezone",
                    f"agency_timezone {v.strip()} differs from {first} of the first agency",
                    "agency.txt",
                    agency.row(i),
                    "agency_timezone",
                )


def check_stops(feed: GtfsTables, sink: NoticeCollector) -> None:
    """Location types, parent stations and coordinates."""
    stops = feed.get("stops.txt")
    if stops is None or stops.size == 0:
        return
    kind = int_array(stops.column("location_type"), missing=0)
    placed = np.flatnonzero(kind <= 2).tolist()  # stops, stations, entrances need name and position
    for col in ("stop_name", "stop_lat", "stop_lon"):
        if stops.has(col):
            _report_blank(stops, col, sink, f"{col} is required for location_type 0, 1 and 2", placed)
        elif placed:
            sink.error(
                "missing_required_field",
                f"stops.txt has no column {col}, required for location_type 0, 1 and 2 ({len(placed)} rows)",
                "stops.txt",
                stops.row(placed[0]),
                col,
            )
    _check_parents(stops, kind, sink)
    lat = float_array(stops.column("stop_lat"))
    lon = float_array(stops.column("stop_lon"))
    _check_origin_and_poles(stops, lat, lon, "stop_lat", sink)


def _check_parents(stops: Table, kind: np.ndarray, sink: NoticeCollector) -> None:
    parents = stops.column("parent_station")
    index = {s: i for i, s in enumerate(stops.column("stop_id"))}
    # A platform's parent is a station; an entrance's, node's or boarding area's parent is a
    # station (entrances, nodes) or a platform (boarding areas).
    expected = {0: (1,), 2: (1,), 3: (1,), 4: (0,)}
    for i, p in enumerate(parents):
        t = int(kind[i])
        if not p.strip():
            if t in (2, 3, 4):
                sink.error(
                    "missing_required_field",
                    f"parent_station is required for location_type {t}",
                    "stops.txt",
                    stops.row(i),
                    "parent_station",
                )
            continue
        if t == 1:
            sink.error(
                "station_with_parent_station",
                "a station (location_type 1) must not have a parent_station",
                "stops.txt",
                stops.row(i),
                "parent_station",
            )
            continue
        j = index.get(p)
        if j is None:
            continue  # foreign_key_violation
        if t in expected and int(kind[j]) not in expected[t]:
            sink.error(
                "wrong_parent_location_type",
                f"parent_station {p} has location_type {int(kind[j])}, expected {' or '.join(map(str, expected[t]))}",
                "stops.txt",
                stops.row(i),
                "parent_station",
            )


def _check_origin_and_poles(
    table: Table, lat: np.ndarray, lon: np.ndarray, field_: str, sink: NoticeCollector
) -> None:
    with np.errstate(invalid="ignore"):
        origin = np.flatnonzero((np.abs(lat) < 1.0) & (np.abs(lon) < 1.0))
        pole = np.flatnonzero((np.abs(lat) > 89.0) & (np.abs(lat) <= 90.0))
    for i in sink.capped("point_near_origin", origin):
        sink.error(
            "point_near_origin",
            f"({lat[i]:g}, {lon[i]:g}) is at or near (0, 0)",
            table.name,
            table.row(i),
            field_,
        )
    for i in sink.capped("point_near_pole", pole):
        sink.error("point_near_pole", f"latitude {lat[i]:g} is near a pole", table.name, table.row(i), field_)


def check_shape_points(feed: GtfsTables, sink: NoticeCollector) -> None:
    shapes = feed.get("shapes.txt")
    if shapes is None or shapes.size == 0:
        return
    lat = float_array(shapes.column("shape_pt_lat"))
    lon = float_array(shapes.column("shape_pt_lon"))
    _check_origin_and_poles(shapes, lat, lon, "shape_pt_lat", sink)


def check_routes(feed: GtfsTables, sink: NoticeCollector) -> None:
    routes = feed.get("routes.txt")
    if routes is None:
        return
    short, long_ = routes.column("route_short_name"), routes.column("route_long_name")
    unnamed = np.flatnonzero(_blank_rows(short) & _blank_rows(long_))
    for i in sink.capped("route_both_short_and_long_name_missing", unnamed):
        sink.error(
            "route_both_short_and_long_name_missing",
            "route_short_name and route_long_name are both empty",
            "routes.txt",
            routes.row(i),
            "route_short_name",
        )


def check_stop_time_locations(feed: GtfsTables, sink: NoticeCollector) -> None:
    """stop_id is required unless the stop time serves a Flex zone or group."""
    st = feed.get("stop_times.txt")
    if st is None:
        return
    if not (st.has("stop_id") or st.has("location_group_id") or st.has("location_id")):
        sink.error(
            "missing_required_column", "stop_times.txt has no column stop_id", "stop_times.txt", 0, "stop_id"
        )
        return
    if not st.has("stop_id"):
        return
    stop_ids, groups, zones = st.column("stop_id"), st.column("location_group_id"), st.column("location_id")
    nowhere = np.flatnonzero(_blank_rows(stop_ids) & _blank_rows(groups) & _blank_rows(zones))
    for i in sink.capped("missing_required_field", nowhere):
        sink.error(
            "missing_required_field",
            "stop_id is required (no location_group_id or location_id either)",
            "stop_times.txt",
            st.row(i),
            "stop_id",
        )


def check_ranges(feed: GtfsTables, sink: NoticeCollector) -> None:
    """Start before end: calendar and feed_info dates, frequency and pickup-window times
    (a stop time's arrival and departure are checked with the timetable rules)."""
    for name, start_col, end_col in (
        ("calendar.txt", "start_date", "end_date"),
        ("feed_info.txt", "feed_start_date", "feed_end_date"),
    ):
        _check_order(feed.get(name), start_col, end_col, _date_ordinal, sink)
    for name, start_col, end_col in (
        ("frequencies.txt", "start_time", "end_time"),
        ("stop_times.txt", "start_pickup_drop_off_window", "end_pickup_drop_off_window"),
    ):
        _check_order(feed.get(name), start_col, end_col, parse_time, sink)


def _check_order(
    table: Table | None,
    start_col: str,
    end_col: str,
    parse: Callable[[str], int | None],
    sink: NoticeCollector,
) -> None:
    if table is None or not (table.has(start_col) and table.has(end_col)):
        return
    starts, ends = table.column(start_col), table.column(end_col)
    start, has_start = _parsed_ints(starts, parse)
    end, has_end = _parsed_ints(ends, parse)
    reversed_ = np.flatnonzero(has_start & has_end & (start > end))
    for i in sink.capped("start_and_end_range_out_of_order", reversed_):
        sink.error(
            "start_and_end_range_out_of_order",
            f"{start_col} {starts[i]} is after {end_col} {ends[i]}",
            table.name,
            table.row(i),
            end_col,
        )


def _parsed_ints(
    column: Column, parse: Callable[[str], int | None]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Per row: the parsed value of a non-blank value (0 when none) and whether there is one."""
    parsed = [None if is_blank(v) else parse(v) for v in column.values]
    value = np.array([0 if p is None else p for p in parsed], dtype=np.int64)
    ok = np.array([p is not None for p in parsed], dtype=bool)
    return column.mapped(value), column.mapped(ok)


def _blank_rows(column: Column) -> NDArray[np.bool_]:
    """Per row: whether the value is empty or whitespace."""
    return column.mapped(column.per_value(is_blank))


def _date_ordinal(value: str) -> int | None:
    d = parse_date(value)
    return None if d is None else d.toordinal()
