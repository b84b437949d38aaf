"""Service calendars of one feed resolved to a day-by-day matrix.

calendar.txt gives weekdays between start and end dates; calendar_dates.txt adds
(exception_type 1) or removes (2) single days, and alone may define a service
(calendar_dates-only feeds). The matrix spans the feed's declared dates: the first
and last date that either file mentions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from feeds.errors import FeedDataError
from feeds.gtfs.columns import ints, row_numbers, text
from feeds.gtfs.notices import NoticeLog
from feeds.gtfs.tables import WEEKDAYS
from feeds.gtfs.times import BLANK, parse_dates, weekday_of
from feeds.model import Bool
from feeds.quality import Severity


@dataclass(frozen=True)
class FeedCalendar:
    ids: tuple[str, ...]  # local service ids
    first_day: int  # ordinal of column 0
    active: Bool  # (n_services, n_days)


def resolve_calendar(
    calendar: pd.DataFrame | None,
    calendar_dates: pd.DataFrame | None,
    log: NoticeLog,
    where: str,
) -> FeedCalendar:
    cal = _valid_calendar_rows(calendar, log) if calendar is not None else None
    cdates = _valid_date_rows(calendar_dates, log) if calendar_dates is not None else None

    ids: dict[str, int] = {}
    for frame in (cal, cdates):
        if frame is not None:
            for sid in text(frame, "service_id"):
                ids.setdefault(str(sid), len(ids))

    bounds: list[int] = []
    if cal is not None and len(cal):
        bounds += [int(cal["_start"].min()), int(cal["_end"].max())]
    if cdates is not None and len(cdates):
        bounds += [int(cdates["_date"].min()), int(cdates["_date"].max())]
    if not bounds:
        raise FeedDataError(f"{where}: calendar.txt / calendar_dates.txt declare no valid service dates")
    first, last = min(bounds), max(bounds)
    n_days = last - first + 1
    active = np.zeros((len(ids), n_days), dtype=np.bool_)
    day_ordinal = first + np.arange(n_days, dtype=np.int64)

    if cal is not None and len(cal):
        rows = np.array([ids[str(s)] for s in text(cal, "service_id")], dtype=np.int64)
        week = np.stack([ints(cal, d, 0) == 1 for d in WEEKDAYS], axis=1)  # (n, 7)
        start = cal["_start"].to_numpy(dtype=np.int64)[:, None]
        end = cal["_end"].to_numpy(dtype=np.int64)[:, None]
        on = week[:, weekday_of(day_ordinal)] & (day_ordinal >= start) & (day_ordinal <= end)
        active[rows] = on

    if cdates is not None and len(cdates):
        rows = np.array([ids[str(s)] for s in text(cdates, "service_id")], dtype=np.int64)
        days = cdates["_date"].to_numpy(dtype=np.int64) - first
        kind = ints(cdates, "exception_type", 0)
        add, remove = kind == 1, kind == 2
        active[rows[add], days[add]] = True
        active[rows[remove], days[remove]] = False
        odd = ~(add | remove)
        log.rows(
            Severity.ERROR,
            "invalid_exception_type",
            "calendar_dates rows have an exception_type other than 1 or 2 and were ignored",
            file="calendar_dates.txt",
            field="exception_type",
            rows=row_numbers(cdates)[odd],
        )
    return FeedCalendar(tuple(ids), first, active)


def _valid_calendar_rows(df: pd.DataFrame, log: NoticeLog) -> pd.DataFrame:
    start, bad_start = parse_dates(df["start_date"])
    end, bad_end = parse_dates(df["end_date"])
    sid = text(df, "service_id")
    bad = (start == BLANK) | (end == BLANK) | (sid == "")
    log.rows(
        Severity.ERROR,
        "invalid_date",
        "calendar rows have a blank or invalid service_id, start_date or end_date and were ignored",
        file="calendar.txt",
        field="start_date" if bool(bad_start.any()) else ("end_date" if bool(bad_end.any()) else ""),
        rows=row_numbers(df)[bad],
    )
    out = df.assign(_start=start, _end=end)[~bad]
    backwards = out["_end"].to_numpy() < out["_start"].to_numpy()
    log.rows(
        Severity.ERROR,
        "start_and_end_range_out_of_order",
        "calendar rows end before they start (no service days)",
        file="calendar.txt",
        field="end_date",
        rows=row_numbers(out)[backwards],
    )
    dup = text(out, "service_id")
    duplicated = pd.Index(dup).duplicated()
    log.rows(
        Severity.ERROR,
        "duplicate_key",
        "calendar rows repeat a service_id; the first row was kept",
        file="calendar.txt",
        field="service_id",
        rows=row_numbers(out)[duplicated],
        examples=[str(x) for x in dup[duplicated]],
    )
    first: pd.DataFrame = out[~duplicated]
    return first


def _valid_date_rows(df: pd.DataFrame, log: NoticeLog) -> pd.DataFrame:
    date, _ = parse_dates(df["date"])
    bad = (date == BLANK) | (text(df, "service_id") == "")
    log.rows(
        Severity.ERROR,
        "invalid_date",
        "calendar_dates rows have a blank or invalid service_id or date and were ignored",
        file="calendar_dates.txt",
        field="date",
        rows=row_numbers(df)[bad],
    )
    valid: pd.DataFrame = df.assign(_date=date)[~bad]
    return valid
