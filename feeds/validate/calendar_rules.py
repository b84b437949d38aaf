"""Service-date rules: which days each service runs, judged against ``today``.

A service's days come from its calendar.txt row (weekdays between start_date and
end_date) plus calendar_dates.txt additions, minus its removals. Only the first and last
day are needed, so they are found by walking inwards from the ends of the range instead
of expanding every day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from feeds.validate.collector import NoticeCollector
from feeds.validate.fields import parse_date
from feeds.validate.gtfs_rules import GtfsTables
from feeds.validate.schema import WEEKDAYS

_DAY = dt.timedelta(days=1)


@dataclass
class Service:
    service_id: str
    file: str  # where it is defined first (calendar.txt wins), for the notice
    row: int
    column: str
    start: dt.date | None = None
    end: dt.date | None = None
    weekdays: tuple[bool, ...] = (False,) * 7
    added: set[dt.date] = field(default_factory=set)
    removed: set[dt.date] = field(default_factory=set)

    def first_day(self) -> dt.date | None:
        days = [d for d in (self._scan(forward=True), min(self.added - self.removed, default=None)) if d]
        return min(days, default=None)

    def last_day(self) -> dt.date | None:
        days = [d for d in (self._scan(forward=False), max(self.added - self.removed, default=None)) if d]
        return max(days, default=None)

    def _scan(self, *, forward: bool) -> dt.date | None:
        """The first (or last) running day of the calendar.txt range."""
        if self.start is None or self.end is None or not any(self.weekdays):
            return None
        d, stop, step = (self.start, self.end, _DAY) if forward else (self.end, self.start, -_DAY)
        # Every 7 steps meet each weekday once, so this ends within 7 * (removals + 1) steps.
        while (d <= stop) if forward else (d >= stop):
            if self.weekdays[d.weekday()] and d not in self.removed:
                return d
            d += step
        return None


def services(feed: GtfsTables) -> dict[str, Service]:
    out: dict[str, Service] = {}
    cal = feed.get("calendar.txt")
    if cal is not None and cal.has("service_id"):
        days = [cal.column(d) for d in WEEKDAYS]
        starts, ends = cal.column("start_date"), cal.column("end_date")
        for i, sid in enumerate(cal.column("service_id")):
            if sid in out:
                continue  # duplicate_key
            out[sid] = Service(
                sid,
                "calendar.txt",
                cal.row(i),
                "end_date",
                start=parse_date(starts[i]),
                end=parse_date(ends[i]),
                weekdays=tuple(col[i].strip() == "1" for col in days),
            )
    dates = feed.get("calendar_dates.txt")
    if dates is not None and dates.has("service_id"):
        for i, (sid, day, kind) in enumerate(
            zip(dates.column("service_id"), dates.column("date"), dates.column("exception_type"), strict=True)
        ):
            d = parse_date(day)
            if d is None:
                continue  # invalid_date
            svc = out.get(sid)
            if svc is None:
                svc = out[sid] = Service(sid, "calendar_dates.txt", dates.row(i), "date")
            if kind.strip() == "1":
                svc.added.add(d)
            elif kind.strip() == "2":
                svc.removed.add(d)
    return out


def check_service_dates(feed: GtfsTables, today: dt.date, sink: NoticeCollector) -> None:
    """expired_calendar per service; feed_expired / feed_not_yet_valid for the whole feed;
    feed_info's end date closer than 7 / 30 days."""
    active: list[tuple[Service, dt.date, dt.date]] = []
    for svc in services(feed).values():
        first, last = svc.first_day(), svc.last_day()
        if first is not None and last is not None:
            active.append((svc, first, last))
    for svc, _, last in active:
        if last < today:
            sink.warning(
                "expired_calendar",
                f"service {svc.service_id} runs last on {last.isoformat()}, before {today.isoformat()}",
                svc.file,
                svc.row,
                svc.column,
            )
    if active:
        latest = max(active, key=lambda a: a[2])
        earliest = min(active, key=lambda a: a[1])
        if latest[2] < today:
            sink.warning(
                "feed_expired",
                f"no service on or after {today.isoformat()}: the last service day is {latest[2].isoformat()}",
                latest[0].file,
            )
        elif earliest[1] > today:
            sink.warning(
                "feed_not_yet_valid",
                f"no service on or before {today.isoformat()}: the first service day is {earliest[1].isoformat()}",
                earliest[0].file,
            )
    _check_feed_info_end(feed, today, sink)


def _check_feed_info_end(feed: GtfsTables, today: dt.date, sink: NoticeCollector) -> None:
    info = feed.get("feed_info.txt")
    if info is None or info.size == 0 or not info.has("feed_end_date"):
        return
    end = parse_date(info.column("feed_end_date")[0])
    if end is None:
        return
    if end < today:
        code, message = "feed_expiration_date7_days", f"feed_end_date {end.isoformat()} has passed"
    elif end <= today + dt.timedelta(days=7):
        code, message = "feed_expiration_date7_days", f"feed_end_date {end.isoformat()} is within 7 days"
    elif end <= today + dt.timedelta(days=30):
        code, message = "feed_expiration_date30_days", f"feed_end_date {end.isoformat()} is within 30 days"
    else:
        return
    sink.warning(
        code, f"{message} (today is {today.isoformat()})", "feed_info.txt", info.row(0), "feed_end_date"
    )
