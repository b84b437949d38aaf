"""frequencies.txt: which trips run, and when, once templates are expanded.

A trip named in frequencies.txt is a template: it does not run at its own times but
once per departure ``start_time, start_time + headway, ... < end_time`` of each of its
rows, shifted so its first departure is that time. ``exact_times`` 0 (headway-based)
and 1 (schedule-based) expand alike: a journey planner needs concrete departures either
way, and for 0 the feed promises only the headway, which these keep.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from feeds.gtfs.columns import floats, positions, row_numbers, text
from feeds.gtfs.notices import NoticeLog
from feeds.gtfs.times import BLANK, parse_times
from feeds.model import I64, Bool
from feeds.quality import Severity

FILE = "frequencies.txt"


def plan_trips(
    frequencies: pd.DataFrame | None,
    trip_ids: pd.Index,
    first_departure: I64,
    usable: Bool,
    log: NoticeLog,
) -> tuple[I64, I64, I64]:
    """Output trips as ``(src, shift, freq_start)``, in trips.txt order then by start.

    ``src`` is the trips.txt position the stop times come from, ``shift`` the seconds
    to add to them, ``freq_start`` the departure of an expanded trip (-1 for a
    scheduled one). Only ``usable`` trips run.
    """
    template = np.zeros(len(trip_ids), dtype=np.bool_)
    f_trip = np.zeros(0, dtype=np.int64)
    f_start = f_count = f_headway = np.zeros(0, dtype=np.int64)
    if frequencies is not None and len(frequencies):
        f_trip, f_start, f_count, f_headway = _rows(frequencies, trip_ids, log)
        template[f_trip] = True
        runs = usable[f_trip]
        f_trip, f_start, f_count, f_headway = f_trip[runs], f_start[runs], f_count[runs], f_headway[runs]

    scheduled = np.flatnonzero(usable & ~template).astype(np.int64)
    # One expanded trip per departure: departure j of row r is start[r] + j * headway[r].
    total = int(f_count.sum())
    row = np.repeat(np.arange(len(f_count)), f_count)
    j = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(f_count) - f_count, f_count)
    starts = f_start[row] + j * f_headway[row]
    exp_src = f_trip[row]

    src = np.concatenate((scheduled, exp_src))
    freq_start = np.concatenate((np.full(len(scheduled), -1, dtype=np.int64), starts))
    shift = np.concatenate((np.zeros(len(scheduled), dtype=np.int64), starts - first_departure[exp_src]))
    order = np.lexsort((freq_start, src))
    return src[order], shift[order], freq_start[order]


def _rows(df: pd.DataFrame, trip_ids: pd.Index, log: NoticeLog) -> tuple[I64, I64, I64, I64]:
    """Valid rows as (trip, start, number of departures, headway)."""
    rows = row_numbers(df)
    names = text(df, "trip_id")
    trip = positions(trip_ids, names)
    start, bad_start = parse_times(df["start_time"])
    end, _ = parse_times(df["end_time"])
    headway = floats(df, "headway_secs")
    unknown = trip < 0
    bad_time = ~unknown & ((start == BLANK) | (end == BLANK))
    bad_headway = ~unknown & ~bad_time & ~(headway > 0)
    empty = ~unknown & ~bad_time & ~bad_headway & (end <= start)
    log.rows(
        Severity.ERROR,
        "unknown_trip_id",
        "frequencies rows name a trip_id missing from trips.txt",
        file=FILE,
        field="trip_id",
        rows=rows[unknown],
        examples=list(names[unknown][:3]),
    )
    log.rows(
        Severity.ERROR,
        "invalid_time",
        "frequencies rows have a blank or invalid start_time or end_time",
        file=FILE,
        field="start_time" if bool(bad_start.any()) else "end_time",
        rows=rows[bad_time],
    )
    log.rows(
        Severity.ERROR,
        "invalid_headway",
        "frequencies rows have no positive headway_secs",
        file=FILE,
        field="headway_secs",
        rows=rows[bad_headway],
    )
    log.rows(
        Severity.WARNING,
        "frequency_without_departures",
        "frequencies rows end at or before they start",
        file=FILE,
        field="end_time",
        rows=rows[empty],
    )
    # Rows of known trips stay templates even when invalid (the feed meant them to run by
    # frequency), but only valid ones produce departures.
    valid = ~unknown & ~bad_time & ~bad_headway
    step = np.where(valid, headway, 1.0).astype(np.int64)
    step = np.maximum(step, 1)
    count = np.where(valid & (end > start), -(-(end - start) // step), 0)
    known = ~unknown
    return trip[known], start[known], count[known], step[known]
