"""``validate_gtfs``: read a GTFS zip or directory and run every rule over it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from functools import partial
from pathlib import Path

from feeds.errors import FeedNotFound
from feeds.sources import default_feed_id
from feeds.validate import calendar_rules, gtfs_rules, trip_rules
from feeds.validate.collector import NoticeCollector
from feeds.validate.gtfs_rules import GtfsTables
from feeds.validate.reader import FeedArchive, read_table
from feeds.validate.report import QualityReport
from feeds.validate.schema import SPECS


def validate_gtfs(
    path: str | Path, feed_id: str | None = None, *, today: dt.date | None = None
) -> QualityReport:
    """The quality report of the GTFS feed at ``path`` (a zip or a directory).

    Never raises for a bad feed: every defect is a notice. Raises :class:`FeedNotFound`
    only when ``path`` does not exist. ``today`` (default: the local date) is what
    expiry is judged against. ``feed_id`` defaults to feed_info's feed_id, else the
    file's stem.
    """
    p = Path(path)
    if not p.exists():
        raise FeedNotFound(f"no GTFS feed at {p}")
    today = today or dt.date.today()
    sink = NoticeCollector(feed_id or "")
    feed = GtfsTables()
    archive = FeedArchive.open(p, sink)
    if archive is not None:
        with archive:
            _read(archive, feed, sink)
        _run_rules(feed, today, sink)
    fid = feed_id or _feed_id_of(feed) or default_feed_id(p)
    notices = tuple(n if n.feed_id == fid else dataclasses.replace(n, feed_id=fid) for n in sink.notices)
    return QualityReport(
        feed_id=fid,
        path=str(p),
        notices=notices,
        counts={name: t.size for name, t in sorted(feed.tables.items())},
        dropped=dict(sink.dropped),
    )


def _read(archive: FeedArchive, feed: GtfsTables, sink: NoticeCollector) -> None:
    gtfs_rules.check_files(archive.names, archive.nested, sink)
    for name in archive.names:
        if name in SPECS:
            feed.present.add(name)
            data = archive.read(name, sink)
            if data is None:
                continue
            table = read_table(name, data, sink)
            if table is not None:
                feed.tables[name] = table
        elif name == "locations.geojson":
            feed.present.add(name)
            data = archive.read(name, sink)
            if data is not None:
                feed.location_ids = gtfs_rules.read_location_ids(data, sink)


def _run_rules(feed: GtfsTables, today: dt.date, sink: NoticeCollector) -> None:
    def run(label: str, rule: Callable[[], object]) -> None:
        # A rule that trips over data nobody anticipated must not take the report down.
        try:
            rule()
        except Exception as exc:  # reported; the other rules still run
            sink.error("runtime_exception_in_validator_error", f"{label} failed: {type(exc).__name__}: {exc}")

    for name, table in feed.tables.items():
        spec = SPECS[name]
        run(f"{name}: empty", partial(gtfs_rules.check_not_empty, table, sink))
        run(f"{name}: columns", partial(gtfs_rules.check_columns, table, spec, sink))
        run(f"{name}: required values", partial(gtfs_rules.check_required_values, table, spec, sink))
        run(f"{name}: value formats", partial(gtfs_rules.check_value_formats, table, sink))
        run(f"{name}: primary key", partial(gtfs_rules.check_primary_key, table, spec, sink))
    feed_rules: tuple[Callable[[GtfsTables, NoticeCollector], None], ...] = (
        gtfs_rules.check_foreign_keys,
        gtfs_rules.check_agencies,
        gtfs_rules.check_stops,
        gtfs_rules.check_shape_points,
        gtfs_rules.check_routes,
        gtfs_rules.check_stop_time_locations,
        gtfs_rules.check_ranges,
        _timetable_rules,
    )
    for rule in feed_rules:
        run(rule.__name__, partial(rule, feed, sink))
    run("check_service_dates", partial(calendar_rules.check_service_dates, feed, today, sink))


def _timetable_rules(feed: GtfsTables, sink: NoticeCollector) -> None:
    stops, stop_index = trip_rules.stop_points(feed)
    tt = trip_rules.build_timetable(feed, stop_index)
    trip_rules.check_trip_usage(feed, tt, sink)
    if tt is None:
        return
    trip_rules.check_stop_time_order(tt, sink)
    trip_rules.check_travel_speed(feed, tt, stops, sink)
    trip_rules.check_stops_near_shapes(feed, tt, stops, sink)


def _feed_id_of(feed: GtfsTables) -> str:
    info = feed.get("feed_info.txt")
    if info is None or info.size == 0 or not info.has("feed_id"):
        return ""
    return info.column("feed_id")[0].strip()
